package alertmanager

import (
	"log/slog"
	"strings"
)

// Secret is a string that never prints: in logs, JSON and %v it shows as
// <redacted>. It mirrors probes.Secret, which DESIGN.md does not let an
// alerts/<channel> package import; it gives way to an alerts.Secret alias
// once the alerts package exports one.
type Secret string

const redacted = "<redacted>"

// Reveal returns the secret value.
func (s Secret) Reveal() string { return string(s) }

// String returns <redacted> (or "" when unset).
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString returns <redacted>, so %#v does not leak either.
func (s Secret) GoString() string { return s.String() }

// MarshalText returns <redacted>, so encoders do not leak it.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText stores the value.
func (s *Secret) UnmarshalText(b []byte) error { *s = Secret(b); return nil }

// LogValue keeps the secret out of slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// scrubbed is an error whose text has the notifier's secrets blanked out,
// in case a provider echoes them; it unwraps to the original, so
// alerts.IsPermanent and alerts.RetryDelay still see its classification.
type scrubbed struct {
	err     error
	secrets []string
}

func (e scrubbed) Error() string {
	s := e.err.Error()
	for _, v := range e.secrets {
		if v != "" {
			s = strings.ReplaceAll(s, v, redacted)
		}
	}
	return s
}

func (e scrubbed) Unwrap() error { return e.err }

// scrub wraps err so that none of secrets appears in its text.
func scrub(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	return scrubbed{err, secrets}
}
