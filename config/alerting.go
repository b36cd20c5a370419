package config

import (
	"fmt"
	"slices"
	"time"

	"github.com/vantageprobe/vantage/alerts"
)

// validateAlerting checks the SLOs, alert rules, silences and maintenance
// windows, and what they refer to.
func (c *Config) validateAlerting(pos Positions) []Problem {
	var ps []Problem
	at := func(path, format string, args ...any) {
		p := pos.Lookup(path)
		ps = append(ps, Problem{Line: p.Line, Column: p.Column, Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	component := func(path string, err error) {
		for _, e := range splitErrors(err) {
			field, msg := splitField(e.Error())
			p := path
			if field != "" {
				p += "." + field
			}
			at(p, "%s", msg)
		}
	}
	component("alert_defaults", c.AlertDefaults.Validate())
	checks := map[string]Check{}
	for i, ch := range c.Checks {
		checks[ch.Name] = ch
		if ch.Alerting != nil {
			component(fmt.Sprintf("checks[%d].alerting", i), ch.Alerting.Validate())
		}
		if ch.SLO == nil {
			continue
		}
		path := fmt.Sprintf("checks[%d].slo", i)
		*c.Checks[i].SLO = ch.SLO.WithDefaults()
		component(path, c.Checks[i].SLO.Validate())
		if s := c.Checks[i].SLO; s.SLI == "latency" && s.Window > c.Storage.Retention.Raw {
			at(path+".window", "a latency SLO counts raw results: %s is longer than storage.retention.raw %s", fmtDays(s.Window), fmtDays(c.Storage.Retention.Raw))
		}
	}
	names := map[string]int{}
	for i := range c.Alerts {
		r := &c.Alerts[i]
		path := fmt.Sprintf("alerts[%d]", i)
		if r.Name == "" {
			at(path+".name", "required")
		} else if j, dup := names[r.Name]; dup {
			at(path+".name", "%q is already the name of alerts[%d]", r.Name, j)
		} else {
			names[r.Name] = i
		}
		component(path, r.Validate())
		for j, name := range r.Checks {
			ch, ok := checks[name]
			switch {
			case !ok:
				at(fmt.Sprintf("%s.checks[%d]", path, j), "no check is named %q", name)
			case r.SLOBurn && ch.SLO == nil:
				at(fmt.Sprintf("%s.checks[%d]", path, j), "slo_burn needs an slo on check %q", name)
			}
		}
		c.checkNotifiers(path, r.Notify, r.NotifyBySeverity, at)
	}
	for i := range c.Silences {
		component(fmt.Sprintf("silences[%d]", i), c.Silences[i].Validate())
	}
	ids := map[string]int{}
	for i := range c.Incidents {
		path := fmt.Sprintf("incidents[%d]", i)
		inc := &c.Incidents[i]
		component(path, inc.Validate())
		if j, dup := ids[inc.ID]; dup && inc.ID != "" {
			at(path+".id", "%q is already the id of incidents[%d]", inc.ID, j)
		} else {
			ids[inc.ID] = i
		}
		for j, name := range inc.Checks {
			if _, ok := checks[name]; !ok {
				at(fmt.Sprintf("%s.checks[%d]", path, j), "no check is named %q", name)
			}
		}
	}
	if sp := c.StatusPage; sp != nil {
		component("status_page", sp.Validate())
		for gi, g := range sp.Groups {
			for j, name := range g.Checks {
				if _, ok := checks[name]; !ok {
					at(fmt.Sprintf("status_page.groups[%d].checks[%d]", gi, j), "no check is named %q", name)
				}
			}
		}
	}
	for i := range c.Maintenance {
		path := fmt.Sprintf("maintenance[%d]", i)
		m := &c.Maintenance[i]
		component(path, m.Validate())
		for j, name := range m.Checks {
			if _, ok := checks[name]; !ok {
				at(fmt.Sprintf("%s.checks[%d]", path, j), "no check is named %q", name)
			}
		}
	}
	return ps
}

// checkNotifiers reports rule notifiers that are not configured.
func (c *Config) checkNotifiers(path string, notify []string, bySeverity map[alerts.Severity][]string,
	at func(path, format string, args ...any)) {
	known := make([]string, 0, len(c.Notifiers))
	for _, n := range c.Notifiers {
		known = append(known, n.Name)
	}
	for j, name := range notify {
		if !slices.Contains(known, name) {
			at(fmt.Sprintf("%s.notify[%d]", path, j), "no notifier is named %q", name)
		}
	}
	for sev, list := range bySeverity {
		for j, name := range list {
			if !slices.Contains(known, name) {
				at(fmt.Sprintf("%s.notify_by_severity.%s[%d]", path, sev, j), "no notifier is named %q", name)
			}
		}
	}
}

// fmtDays writes 30d for whole days, else the duration.
func fmtDays(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

// AlertOverrides returns the checks' alerting overrides, by check.
func (c *Config) AlertOverrides() map[string]alerts.CheckOverrides {
	out := map[string]alerts.CheckOverrides{}
	for _, ch := range c.Checks {
		if ch.Alerting != nil {
			out[ch.Name] = *ch.Alerting
		}
	}
	return out
}
