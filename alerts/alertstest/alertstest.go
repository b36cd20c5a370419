// Package alertstest is what the tests of the channel packages under
// alerts/ share: a scripted HTTP receiver on loopback, a logger that
// records, and the checks every channel's tests make (how a failure is
// classified, that no secret leaks, Validate's problems, send_resolved).
package alertstest

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/alerts"
)

// Logger returns a logger that writes every record, debug ones included,
// to w as text; nil when w is nil, for a notifier's own default.
func Logger(w io.Writer) *slog.Logger {
	if w == nil {
		return nil
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// CheckOutcome fails t unless err is nil exactly when ok, is marked
// alerts.Permanent exactly when permanent, and asks for delay
// (alerts.RetryDelay; 0 for none).
func CheckOutcome(t testing.TB, err error, ok, permanent bool, delay time.Duration) {
	t.Helper()
	if (err == nil) != ok || alerts.IsPermanent(err) != permanent || alerts.RetryDelay(err) != delay {
		t.Fatalf("err %v, permanent %v, delay %v; want ok %v, permanent %v, delay %v",
			err, alerts.IsPermanent(err), alerts.RetryDelay(err), ok, permanent, delay)
	}
}

// NoSecrets fails t for every one of secrets that text (an error, a log,
// a printed config) shows.
func NoSecrets(t testing.TB, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("secret %q leaked: %s", s, text)
		}
	}
}

// Printed is v as it may end up printed: with %v, %+v and %#v, as JSON
// and as a slog attribute. A config holding secrets must not show them in
// any of these.
func Printed(v any) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v %+v %#v ", v, v, v)
	if j, err := json.Marshal(v); err == nil {
		b.Write(j)
	}
	slog.New(slog.NewTextHandler(&b, nil)).Info("config", "config", v)
	return b.String()
}

// CheckErrorText fails t unless err's text is want; "" wants nil.
func CheckErrorText(t testing.TB, err error, want string) {
	t.Helper()
	if got := fmt.Sprint(err); (err == nil) != (want == "") || err != nil && got != want {
		t.Fatalf("err\n%s\nwant\n%s", got, want)
	}
}

// CheckProblems fails t unless err, a Validate result, has one line per
// prefix, in order, each starting with it; with no prefixes err must be
// nil.
func CheckProblems(t testing.TB, err error, prefixes ...string) {
	t.Helper()
	var got []string
	if err != nil {
		got = strings.Split(err.Error(), "\n")
	}
	if len(got) != len(prefixes) {
		t.Fatalf("problems %q, want %d", got, len(prefixes))
	}
	for i, p := range prefixes {
		if !strings.HasPrefix(got[i], p) {
			t.Errorf("problem %q, want prefix %q", got[i], p)
		}
	}
}

// CheckSendResolved builds a notifier with send_resolved unset and with
// send_resolved: false, and fails t unless the first wants resolved
// notifications and the second does not.
func CheckSendResolved[N alerts.Notifier](t testing.TB, build func(sendResolved *bool) (N, error)) {
	t.Helper()
	no := false
	for _, tt := range []struct {
		v    *bool
		want bool
	}{{nil, true}, {&no, false}} {
		n, err := build(tt.v)
		if err != nil {
			t.Fatalf("send_resolved %v: %v", tt.v, err)
		}
		if n.SendResolved() != tt.want {
			t.Errorf("send_resolved %v: SendResolved() = %v, want %v", tt.v, n.SendResolved(), tt.want)
		}
	}
}
