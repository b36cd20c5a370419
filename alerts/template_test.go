package alerts_test

import (
	"html"
	"strings"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/alerts"
)

func sample() alerts.Notification {
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	return alerts.Notification{
		Status: alerts.StatusFiring, Rule: "api-down", Severity: alerts.SeverityPage, Reason: "new",
		Alerts: []alerts.Alert{
			{Check: "api", Status: alerts.StatusFiring, State: "down", Regions: []string{"eu", "us"}, StartsAt: start,
				Summary: "api is down in 2 of 3 regions", Error: `<script>alert("x")</script> {{rule}}`, Target: "https://api.example.com"},
			{Check: "web", Status: alerts.StatusResolved, State: "up"},
			{Check: "api", Status: alerts.StatusFiring, State: "down"},
		},
	}
}

func TestTemplateRender(t *testing.T) {
	tmpl, err := alerts.ParseTemplate("[{{status}}] {{ rule }} ({{severity}}): {{checks}} x{{count}} in {{regions}} since {{starts_at}}: {{error}}")
	if err != nil {
		t.Fatal(err)
	}
	got := tmpl.Render(sample(), html.EscapeString)
	want := `[FIRING] api-down (page): api, web x3 in eu, us since 2026-11-25T10:00:00Z: &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; {{rule}}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	// A placeholder inside a value is not expanded again.
	if raw := tmpl.Render(sample(), nil); !strings.Contains(raw, `</script> {{rule}}`) {
		t.Fatalf("value re-expanded: %s", raw)
	}
}

func TestTemplateErrors(t *testing.T) {
	for src, want := range map[string]string{
		"{{nope}}":            "unknown placeholder {{nope}}",
		"x {{check":           "unclosed {{",
		"{{check | upper}}":   "unknown placeholder",
		`{{ printf "%s" 1 }}`: "unknown placeholder",
	} {
		if _, err := alerts.ParseTemplate(src); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", src, err, want)
		}
	}
	var tmpl alerts.Template
	if err := tmpl.UnmarshalText([]byte("{{check}} is {{state}}")); err != nil || tmpl.String() != "{{check}} is {{state}}" {
		t.Fatalf("UnmarshalText: %v %q", err, tmpl.String())
	}
}

func TestTitleAndLines(t *testing.T) {
	n := sample()
	if got := alerts.Title(n); got != "[FIRING] api-down: api, web" {
		t.Fatalf("title %q", got)
	}
	lines := alerts.Lines(n)
	if len(lines) != 3 || lines[0] != "api is down in 2 of 3 regions" || lines[2] != "resolved: web is up" {
		t.Fatalf("lines %q", lines)
	}
}
