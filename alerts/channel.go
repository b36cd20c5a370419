package alerts

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vantageprobe/vantage/probes"
)

// This file holds what the channel packages under alerts/ share: checks
// of their config, the defaults their constructors apply, and helpers
// that shape a message or join its failures.

// ErrURLCredentials is the problem of a URL with a user or password in
// it; a channel with its own way to authenticate may add it to the
// message.
var ErrURLCredentials = errors.New("must not carry credentials")

// ValidateSecretURL checks a URL that is itself the credential (a Slack,
// Discord or Teams webhook): set, absolute, http or https. Its errors never
// quote the URL.
func ValidateSecretURL(raw string) error {
	if raw == "" {
		return errors.New("required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return errors.New("not an absolute http or https URL")
	}
	return nil
}

// ValidatePublicURL checks a URL that is no secret (an API endpoint, a
// link): absolute http or https, with a host and without credentials
// (ErrURLCredentials).
func ValidatePublicURL(raw string) error {
	_, err := parsePublicURL(raw)
	return err
}

// ValidateBaseURL checks a URL that paths are appended to (an API's base
// URL): a public URL (ValidatePublicURL) without query or fragment.
func ValidateBaseURL(raw string) error {
	u, err := parsePublicURL(raw)
	if err != nil {
		return err
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return errors.New("must not have a query or fragment")
	}
	return nil
}

// parsePublicURL parses raw and checks it as ValidatePublicURL does.
func parsePublicURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, errors.New("not a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("scheme %q is not http or https", u.Scheme)
	case u.Host == "":
		return nil, errors.New("has no host")
	case u.User != nil:
		return nil, ErrURLCredentials
	}
	return u, nil
}

// ValidateKey checks an API key sent as it is, in a header or a body: set
// (directly or through field_file) and printable ASCII without spaces.
// Its errors start with field and never quote the key.
func ValidateKey(field, key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%s: required (or %s_file)", field, field)
	case strings.ContainsFunc(key, func(r rune) bool { return r <= ' ' || r > '~' }):
		return fmt.Errorf("%s: must be printable ASCII without spaces", field)
	}
	return nil
}

// SendTimeout is the bound of one delivery attempt a channel's timeout
// key sets: d, or DefaultSendTimeout when d is 0.
func SendTimeout(d time.Duration) time.Duration {
	return cmp.Or(d, DefaultSendTimeout)
}

// ReadPEMFile reads a channel's ca_file with the probes' size limit.
func ReadPEMFile(path string) ([]byte, error) { return probes.ReadPEMFile(path) }

// DefaultTrue reads an optional flag that is on unless set to false, such
// as every channel's send_resolved.
func DefaultTrue(flag *bool) bool {
	return flag == nil || *flag
}

// HTTPClient returns c, or when c is nil a client of the notifier's own
// whose requests give up after timeout.
func HTTPClient(c *http.Client, timeout time.Duration) *http.Client {
	if c != nil {
		return c
	}
	return &http.Client{Timeout: timeout}
}

// NoRedirectClient returns c, or when c is nil a client of the
// notifier's own whose requests give up after timeout and that follows no
// redirect: a 3xx answer is the answer, so an API's credentials go
// nowhere else.
func NoRedirectClient(c *http.Client, timeout time.Duration) *http.Client {
	if c != nil {
		return c
	}
	return &http.Client{
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Logger returns l, or when l is nil a logger that discards everything.
func Logger(l *slog.Logger) *slog.Logger {
	if l != nil {
		return l
	}
	return slog.New(slog.DiscardHandler)
}

// Truncate cuts s to at most n runes (characters), ending with "…" when
// it is cut.
func Truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	return string([]rune(s)[:n-1]) + "…"
}

// TruncateMarkdown is Truncate for text whose markup is escaped with
// backslashes (Discord's and Teams' markdown): a cut never leaves a lone
// backslash to escape the "…".
func TruncateMarkdown(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	s = string([]rune(s)[:n-1])
	if trailing := len(s) - len(strings.TrimRight(s, `\`)); trailing%2 == 1 {
		s = s[:len(s)-1]
	}
	return s + "…"
}

// OneLine replaces line breaks and the other control characters of s
// with spaces.
func OneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// WebURL returns raw if it is an absolute http or https URL (one a
// message may link to), else "".
func WebURL(raw string) string {
	if u, err := url.Parse(raw); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		return raw
	}
	return ""
}

// Link is the page a message about n links to: its first alert's check,
// else the server; normalised, and "" unless it is an absolute http or
// https URL.
func Link(n Notification) string {
	raw := n.ExternalURL
	if len(n.Alerts) > 0 && n.Alerts[0].URL != "" {
		raw = n.Alerts[0].URL
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return u.String()
}

// JoinAll joins the failures of one notification's several deliveries
// (to each recipient, to each Alertmanager): nil when there are none, the
// failure itself when there is one. The result is Permanent only when
// every failure is, so that the outbox retries while any could succeed.
func JoinAll(errs []error) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	var retry []error
	for _, err := range errs {
		if !IsPermanent(err) {
			retry = append(retry, err)
		}
	}
	if len(retry) == 0 {
		return errors.Join(errs...)
	}
	return joined{all: errs, retry: retry}
}

// joined names every failure but unwraps only to the retryable ones, so
// that IsPermanent does not find a permanent one among them.
type joined struct{ all, retry []error }

func (e joined) Error() string { return errors.Join(e.all...).Error() }

func (e joined) Unwrap() []error { return e.retry }
