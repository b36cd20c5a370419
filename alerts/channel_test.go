package alerts_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/vantageprobe/vantage/alerts"
)

func TestValidateSecretURL(t *testing.T) {
	tests := []struct {
		raw, want string
	}{
		{"https://hooks.slack.com/services/T0/B0/url-token", ""},
		{"http://127.0.0.1:9000/hook?sig=url-token", ""},
		{"", "required"},
		{"hooks.slack.com/services/url-token", "not an absolute http or https URL"},
		{"ftp://example.org/url-token", "not an absolute http or https URL"},
		{"https:///url-token", "not an absolute http or https URL"},
		{"https://example.org/%zz-url-token", "not a valid URL"},
	}
	for _, tt := range tests {
		err := alerts.ValidateSecretURL(tt.raw)
		if got := fmt.Sprint(err); (err == nil) != (tt.want == "") || err != nil && got != tt.want {
			t.Errorf("ValidateSecretURL(%q) = %v, want %q", tt.raw, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "url-token") {
			t.Errorf("ValidateSecretURL(%q) quotes the URL: %v", tt.raw, err)
		}
	}
}

func TestValidatePublicAndBaseURL(t *testing.T) {
	tests := []struct {
		raw          string
		public, base string // "" valid
	}{
		{"https://api.example.org", "", ""},
		{"https://api.example.org/v2/enqueue?x=1", "", "must not have a query or fragment"},
		{"https://api.example.org/#top", "", "must not have a query or fragment"},
		{"ftp://api.example.org", `scheme "ftp" is not http or https`, `scheme "ftp" is not http or https`},
		{"/relative", `scheme "" is not http or https`, `scheme "" is not http or https`},
		{"https:///path", "has no host", "has no host"},
		{"https://u:p@api.example.org", "must not carry credentials", "must not carry credentials"},
		{"https://api.example.org/%zz", "not a URL", "not a URL"},
	}
	for _, tt := range tests {
		for _, c := range []struct {
			name string
			fn   func(string) error
			want string
		}{{"ValidatePublicURL", alerts.ValidatePublicURL, tt.public}, {"ValidateBaseURL", alerts.ValidateBaseURL, tt.base}} {
			err := c.fn(tt.raw)
			if got := fmt.Sprint(err); (err == nil) != (c.want == "") || err != nil && got != c.want {
				t.Errorf("%s(%q) = %v, want %q", c.name, tt.raw, err, c.want)
			}
		}
	}
	if err := alerts.ValidateBaseURL("http://u@am:9093"); !errors.Is(err, alerts.ErrURLCredentials) {
		t.Errorf("credentials: %v, want ErrURLCredentials", err)
	}
}

func TestValidateKey(t *testing.T) {
	for key, want := range map[string]string{
		"0f1e2d3c-4b5a-6978":  "",
		"":                    "api_key: required (or api_key_file)",
		"with space":          "api_key: must be printable ASCII without spaces",
		"tab\there":           "api_key: must be printable ASCII without spaces",
		"naïve-secret-suffix": "api_key: must be printable ASCII without spaces",
	} {
		err := alerts.ValidateKey("api_key", key)
		if got := fmt.Sprint(err); (err == nil) != (want == "") || err != nil && got != want {
			t.Errorf("ValidateKey(%q) = %v, want %q", key, err, want)
		}
		if err != nil && key != "" && strings.Contains(err.Error(), key) {
			t.Errorf("ValidateKey(%q) quotes the key: %v", key, err)
		}
	}
}

func TestDefaults(t *testing.T) {
	if alerts.SendTimeout(0) != alerts.DefaultSendTimeout || alerts.SendTimeout(3*time.Second) != 3*time.Second {
		t.Error("SendTimeout")
	}
	no, yes := false, true
	if !alerts.DefaultTrue(nil) || !alerts.DefaultTrue(&yes) || alerts.DefaultTrue(&no) {
		t.Error("DefaultTrue")
	}
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, nil))
	if alerts.Logger(l) != l {
		t.Error("Logger replaced a logger")
	}
	alerts.Logger(nil).Error("dropped") // must not panic
	own := &http.Client{}
	if alerts.HTTPClient(own, time.Second) != own || alerts.NoRedirectClient(own, time.Second) != own {
		t.Error("a given client was replaced")
	}
	if c := alerts.HTTPClient(nil, 7*time.Second); c.Timeout != 7*time.Second || c.CheckRedirect != nil {
		t.Errorf("HTTPClient(nil): %+v", c)
	}
}

// TestNoRedirectClient: the notifier's own client stops at a redirect and
// answers with it; HTTPClient's follows it.
func TestNoRedirectClient(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/elsewhere" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	for _, tt := range []struct {
		name   string
		client *http.Client
		want   int
	}{
		{"no redirect", alerts.NoRedirectClient(nil, 5*time.Second), http.StatusFound},
		{"follows", alerts.HTTPClient(nil, 5*time.Second), http.StatusNoContent},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.client.Timeout != 5*time.Second {
				t.Errorf("timeout %v", tt.client.Timeout)
			}
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/api", nil)
			resp, err := tt.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"short", 5, "short"},
		{"ééééé", 4, "ééé…"},
		{"字字字", 1, "…"},
		{"abc", 0, ""},
	}
	for _, tt := range tests {
		if got := alerts.Truncate(tt.s, tt.n); got != tt.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
	if s := alerts.Truncate(strings.Repeat("ü", 300), 130); utf8.RuneCountInString(s) != 130 || !utf8.ValidString(s) {
		t.Errorf("Truncate: %d runes", utf8.RuneCountInString(s))
	}
}

func TestTruncateMarkdown(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{`a\*b`, 4, `a\*b`},
		{`ab\*cd`, 4, `ab…`},    // the lone backslash goes
		{`a\\*cd`, 4, `a\\…`},   // an escaped backslash stays
		{`ab\\\*d`, 6, `ab\\…`}, // three: the last one goes
		{"éé\\*", 3, "éé…"},
	}
	for _, tt := range tests {
		if got := alerts.TruncateMarkdown(tt.s, tt.n); got != tt.want {
			t.Errorf("TruncateMarkdown(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}

func TestOneLineAndWebURL(t *testing.T) {
	if got := alerts.OneLine("a\nb\r\n\tc\x7fd  e"); got != "a b   c d  e" {
		t.Errorf("OneLine = %q", got)
	}
	for raw, want := range map[string]string{
		"https://vantage.example.org/checks/api": "https://vantage.example.org/checks/api",
		"http://127.0.0.1:8080":                  "http://127.0.0.1:8080",
		"javascript:alert(1)":                    "",
		"/checks/api":                            "",
		"":                                       "",
	} {
		if got := alerts.WebURL(raw); got != want {
			t.Errorf("WebURL(%q) = %q, want %q", raw, got, want)
		}
	}
}

func TestJoinAll(t *testing.T) {
	rejected := alerts.Permanent(errors.New("rejected number"))
	down := errors.New("service unavailable")
	tests := []struct {
		name      string
		errs      []error
		ok        bool
		permanent bool
	}{
		{"none", nil, true, false},
		{"one permanent", []error{rejected}, false, true},
		{"one retryable", []error{down}, false, false},
		{"all permanent", []error{rejected, alerts.Permanent(errors.New("bad credentials"))}, false, true},
		{"mixed", []error{rejected, down}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := alerts.JoinAll(tt.errs)
			if (err == nil) != tt.ok || alerts.IsPermanent(err) != tt.permanent {
				t.Fatalf("err %v, permanent %v", err, alerts.IsPermanent(err))
			}
			for _, e := range tt.errs {
				if !strings.Contains(err.Error(), e.Error()) {
					t.Errorf("%q does not name %q", err, e)
				}
			}
		})
	}
	if err := alerts.JoinAll([]error{rejected, down}); !errors.Is(err, down) {
		t.Errorf("mixed: %v does not unwrap to the retryable failure", err)
	}
}

func TestLink(t *testing.T) {
	server := "https://vantage.example.org"
	tests := []struct {
		name     string
		external string
		alerts   []alerts.Alert
		want     string
	}{
		{"first alert's check", server, []alerts.Alert{{URL: server + "/checks/api"}, {URL: server + "/checks/web"}}, server + "/checks/api"},
		{"the server without a check URL", server, []alerts.Alert{{Check: "api"}}, server},
		{"no alerts", server, nil, server},
		{"not http", "", []alerts.Alert{{URL: "javascript:alert(1)"}}, ""},
		{"relative", "", []alerts.Alert{{URL: "/checks/api"}}, ""},
		{"nothing", "", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := alerts.Link(alerts.Notification{ExternalURL: tt.external, Alerts: tt.alerts}); got != tt.want {
				t.Errorf("Link = %q, want %q", got, tt.want)
			}
		})
	}
}
