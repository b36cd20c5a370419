package email

import "log/slog"

// Secret is a credential from the config (set directly or through the
// matching _file key). It never prints: in errors, logs, JSON and %v it
// shows as <redacted>; Reveal returns the value.
//
// It mirrors probes.Secret, which DESIGN.md does not let a channel package
// import; it becomes an alias once package alerts offers one.
type Secret string

// Reveal returns the secret value.
func (s Secret) Reveal() string { return string(s) }

// String returns <redacted> (or "" when unset).
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "<redacted>"
}

// GoString returns <redacted>, so %#v does not leak either.
func (s Secret) GoString() string { return s.String() }

// MarshalText returns <redacted>, so encoders do not leak it.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText stores the value.
func (s *Secret) UnmarshalText(b []byte) error { *s = Secret(b); return nil }

// LogValue keeps the secret out of slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }
