package alerts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultSendTimeout bounds one delivery attempt over HTTP or SMTP.
const DefaultSendTimeout = 10 * time.Second

// maxAnswer is how much of a provider's answer is read (and quoted in an
// error).
const maxAnswer = 64 << 10

// permanentError is a failure that retrying cannot fix.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent marks err as not worth retrying: the outbox gives the
// notification up and logs it.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent reports whether err was marked by Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

// retryAfterError is a retryable failure with the provider's requested delay.
type retryAfterError struct {
	err   error
	after time.Duration
}

func (e retryAfterError) Error() string { return e.err.Error() }
func (e retryAfterError) Unwrap() error { return e.err }

// RetryAfter marks err as retryable no sooner than after d.
func RetryAfter(err error, d time.Duration) error {
	if err == nil {
		return nil
	}
	return retryAfterError{err, d}
}

// RetryDelay returns the delay a failure asked for (0 when none).
func RetryDelay(err error) time.Duration {
	var r retryAfterError
	if errors.As(err, &r) {
		return r.after
	}
	return 0
}

// Request is one HTTP delivery.
type Request struct {
	Method string // default POST
	URL    string
	Header http.Header
	Body   []byte
}

// Send performs req with client and classifies the answer as every HTTP
// channel needs: 2xx is delivered (the body is returned); 429 and 5xx are
// retryable, honouring Retry-After; other statuses are Permanent. Network
// errors are retryable. The URL, which often is the secret itself (Slack,
// Discord, Teams webhooks), appears in errors only as scheme://host.
func Send(ctx context.Context, client *http.Client, req Request) ([]byte, error) {
	if client == nil {
		client = &http.Client{Timeout: DefaultSendTimeout}
	}
	method := req.Method
	if method == "" {
		method = http.MethodPost
	}
	where := RedactURL(req.URL)
	hreq, err := http.NewRequestWithContext(ctx, method, req.URL, bytes.NewReader(req.Body))
	if err != nil {
		return nil, Permanent(fmt.Errorf("request to %s: %w", where, redactErr(err)))
	}
	for k, v := range req.Header {
		hreq.Header[k] = v
	}
	resp, err := client.Do(hreq)
	if err != nil {
		return nil, fmt.Errorf("send to %s: %w", where, redactErr(err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return body, nil
	case code == http.StatusTooManyRequests || code >= 500:
		err := fmt.Errorf("send to %s: %s: %s", where, resp.Status, clip(body))
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return body, RetryAfter(err, d)
		}
		return body, err
	default:
		return body, Permanent(fmt.Errorf("send to %s: %s: %s", where, resp.Status, clip(body)))
	}
}

// retryAfter parses a Retry-After header: seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// RedactURL shows only the scheme and host of a URL: webhook URLs carry
// their secret in the path or query.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "<url redacted>"
	}
	if u.Path == "" && u.RawQuery == "" && u.User == nil {
		return u.Scheme + "://" + u.Host
	}
	return u.Scheme + "://" + u.Host + "/<redacted>"
}

// redactErr drops net/http's quoting of the URL from an error: the
// inner error names at most the host.
func redactErr(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err
	}
	return err
}

// clip shortens a provider's answer for an error message.
func clip(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// scrubbed is an error whose text has a notifier's secrets blanked out,
// in case a provider echoes them; it unwraps to the original, so
// IsPermanent and RetryDelay still see its classification.
type scrubbed struct {
	err     error
	secrets []string
}

func (e scrubbed) Error() string {
	s := e.err.Error()
	for _, v := range e.secrets {
		if v != "" {
			s = strings.ReplaceAll(s, v, "<redacted>")
		}
	}
	return s
}

func (e scrubbed) Unwrap() error { return e.err }

// Scrub wraps err so that none of secrets appears in its text.
func Scrub(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	return scrubbed{err, secrets}
}
