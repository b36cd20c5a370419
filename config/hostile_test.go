package config_test

import (
	"strings"
	"testing"

	"github.com/vantageprobe/vantage/config"
)

// TestHostileValues: check names with path separators or control
// characters, and line breaks in header values, URLs, addresses and
// notifier headers are refused, each with its line and key.
func TestHostileValues(t *testing.T) {
	src := `checks:
  - name: "../etc"
    http: {url: "http://127.0.0.1/"}
  - name: "a\x1b[31mred"
    http: {url: "http://127.0.0.1/"}
  - name: crlf
    http: {url: "http://127.0.0.1/", headers: {X-A: "a\r\nInjected: 1", "X\nB": c}}
  - name: crlf-url
    http: {url: "http://127.0.0.1/a\r\nb"}
  - name: crlf-address
    tcp: {address: "127.0.0.1:25\r\n"}
notifiers:
  - name: hook
    webhook: {url: "http://127.0.0.1/", headers: {X-T: "a\r\nb: c"}}
`
	_, err := config.Parse("v.yaml", []byte(src), nil)
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{
		`v.yaml:2:11: checks[0].name: "../etc" must be`,
		`v.yaml:4:11: checks[1].name: "a\x1b[31mred" must be`,
		`v.yaml:7:47: checks[2].http.headers: "X\nB" is not a valid header name`,
		`v.yaml:7:53: checks[2].http.headers.X-A: value must not contain a line break`,
		`v.yaml:9:17: checks[3].http.url:`,
		`v.yaml:11:20: checks[4].tcp.address:`,
		`v.yaml:14:56: notifiers[0].webhook.headers.X-T: the value has a control character`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "\x1b") || strings.Contains(err.Error(), "\r") {
		t.Errorf("the error carries a raw control character:\n%q", err)
	}
}
