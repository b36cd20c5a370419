// Package statuspage is the public status page: the HTML page with
// 90-day uptime bars and response-time charts, incident and maintenance
// pages, Atom and RSS feeds, Statuspage-compatible JSON and SVG badges.
//
// It reads everything through a Source (current states, rollups,
// incidents, maintenance) and shows only the checks its Config lists.
package statuspage

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Config is the `status_page:` block of the configuration.
type Config struct {
	Title       string `yaml:"title"`       // default "Status"
	Description string `yaml:"description"` // optional
	// URL is where the page is published, for absolute links in feeds
	// and JSON; without it they are root-relative.
	URL      string `yaml:"url"`
	TimeZone string `yaml:"time_zone"` // IANA name for displayed times; default UTC
	// Groups list the public checks; a check not listed here never appears
	// on any public endpoint.
	Groups []Group `yaml:"groups"`
	Show   Show    `yaml:"show"`
}

// Group is a titled list of checks (components).
type Group struct {
	Name   string   `yaml:"name"`
	Checks []string `yaml:"checks"`
}

// Show says which details are public.
type Show struct {
	Regions       *bool `yaml:"regions"`        // per-region states and lines; default true
	ResponseTimes *bool `yaml:"response_times"` // charts and latency badges; default true
	Errors        bool  `yaml:"errors"`         // error text of failing regions; default false
}

// DefaultTitle is the page title when none is configured.
const DefaultTitle = "Status"

func (s Show) regions() bool       { return s.Regions == nil || *s.Regions }
func (s Show) responseTimes() bool { return s.ResponseTimes == nil || *s.ResponseTimes }

// Validate checks the block; every problem starts with its field (relative
// to status_page).
func (c Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.URL != "" {
		if err := validateURL(c.URL); err != nil {
			add("url: %v", err)
		}
	}
	if c.TimeZone != "" {
		if _, err := time.LoadLocation(c.TimeZone); err != nil {
			add("time_zone: %q is not a time zone (e.g. Europe/Berlin)", c.TimeZone)
		}
	}
	if len(c.Groups) == 0 {
		add("groups: at least one group of public checks")
	}
	seen := map[string]string{}
	for i, g := range c.Groups {
		if strings.TrimSpace(g.Name) == "" {
			add("groups[%d].name: required", i)
		}
		if len(g.Checks) == 0 {
			add("groups[%d].checks: at least one check", i)
		}
		for j, ch := range g.Checks {
			switch prev, dup := seen[ch]; {
			case strings.TrimSpace(ch) == "":
				add("groups[%d].checks[%d]: empty check name", i, j)
			case dup:
				add("groups[%d].checks[%d]: %s is already listed in group %q", i, j, ch, prev)
			default:
				seen[ch] = g.Name
			}
		}
	}
	return errors.Join(errs...)
}

// validateURL accepts an absolute http(s) URL without credentials, query
// or fragment.
func validateURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Errorf("%q is not a URL", s)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%q must be an http:// or https:// URL", s)
	case u.Host == "":
		return fmt.Errorf("%q has no host", s)
	case u.User != nil:
		return fmt.Errorf("%q must not contain credentials", s)
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("%q must not have a query or fragment", s)
	}
	return nil
}

// Checks lists the public checks, in page order.
func (c Config) Checks() []string {
	var out []string
	for _, g := range c.Groups {
		out = append(out, g.Checks...)
	}
	return out
}
