package config_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/vantageprobe/vantage/config"
	"github.com/vantageprobe/vantage/probes"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		target string
		opts   config.TargetOptions
		check  func(c config.Check) bool
		err    string
	}{
		{target: "https://example.com/health", check: func(c config.Check) bool { return c.HTTP != nil && c.HTTP.URL == "https://example.com/health" }},
		{target: "http://127.0.0.1:8080/", opts: config.TargetOptions{Method: "post", Data: "x", Headers: []string{"X-A: 1", "Host:h"}, NoFollow: true, ExpectStatus: "200,3xx", IPVersion: "4"},
			check: func(c config.Check) bool {
				h := c.HTTP
				return h.Method == "POST" && h.Body == "x" && h.Headers["X-A"] == "1" && h.Headers["Host"] == "h" &&
					!*h.FollowRedirects && len(h.Expect.Status) == 2 && h.Expect.Status[1].Hi == 399 && h.IPVersion == probes.IPv4
			}},
		{target: "tcp://db.internal:5432", check: func(c config.Check) bool { return c.TCP != nil && c.TCP.Address == "db.internal:5432" }},
		{target: "tcp://[::1]:25", opts: config.TargetOptions{Data: "EHLO x\r\n", ExpectBody: "^250"},
			check: func(c config.Check) bool {
				return c.TCP.Address == "[::1]:25" && c.TCP.Send == "EHLO x\r\n" && c.TCP.Expect.String() == "^250"
			}},
		{target: "tls://example.com:443", opts: config.TargetOptions{Insecure: true},
			check: func(c config.Check) bool {
				return c.TLS.Address == "example.com:443" && c.TLS.TLSOptions.InsecureSkipVerify
			}},
		{target: "dns://127.0.0.1:5353/example.com?type=MX", check: func(c config.Check) bool {
			return c.DNS.Server == "127.0.0.1:5353" && c.DNS.Name == "example.com" && c.DNS.Type.String() == "MX"
		}},
		{target: "dns://127.0.0.1/example.com?TYPE=aaaa;CLASS=IN", check: func(c config.Check) bool { return c.DNS.Type.String() == "AAAA" && c.DNS.Server == "127.0.0.1" }},
		{target: "dns:example.com?type=A", check: func(c config.Check) bool { return c.DNS.Server == "" && c.DNS.Name == "example.com" }},
		{target: "dns://9.9.9.9/example.com?transport=tcp-tls", check: func(c config.Check) bool { return c.DNS.Transport == probes.DNSTCPTLS }},
		{target: "example.com", err: "missing scheme"},
		{target: "ftp://example.com/", err: `unsupported scheme "ftp"`},
		{target: "tcp://example.com", err: "missing port"},
		{target: "tcp://example.com:80/path", err: `unexpected path "/path"`},
		{target: "tls://:443", err: "has no host"},
		{target: "dns://127.0.0.1/", err: "want dns://SERVER[:PORT]/NAME?type=TYPE"},
		{target: "dns://127.0.0.1/example.com?type=AXFR", err: `"AXFR" is not a supported DNS type`},
		{target: "dns://127.0.0.1/example.com?class=CH", err: "only IN is supported"},
		{target: "dns://127.0.0.1/example.com?foo=1", err: `unknown query parameter "foo"`},
		{target: "http://x/", opts: config.TargetOptions{ExpectStatus: "99"}, err: "--expect-status: 99 is not an HTTP status"},
		{target: "http://x/", opts: config.TargetOptions{Headers: []string{"nocolon"}}, err: `--header "nocolon"`},
		{target: "http://x/", opts: config.TargetOptions{IPVersion: "5"}, err: "--ip:"},
		{target: "http://x/", opts: config.TargetOptions{ExpectBody: "("}, err: "--expect-body: invalid regular expression"},
		{target: "http://%zz/", err: "invalid URL escape"},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			c, err := config.ParseTarget(tt.target, tt.opts)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Fatalf("check = %+v", c)
			}
		})
	}
}

// FuzzParseTarget: any input either fails with an error naming the
// target, or yields exactly one valid probe block whose prober builds.
func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"https://example.com/", "tcp://h:1", "tls://[::1]:443", "dns://1.1.1.1/x.com?type=A", "dns:x?type=MX;class=IN",
		"http://[::1", "dns://a/b/c", "tcp://:0", "dns://h:99999/n", "HTTP://X:/", "dns:?type=A", "http://x/%00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, target string) {
		c, err := config.ParseTarget(target, config.TargetOptions{})
		if err != nil {
			if utf8.ValidString(target) && !strings.Contains(err.Error(), "target") && !strings.Contains(err.Error(), "--") {
				t.Fatalf("error %q does not name the target", err)
			}
			return
		}
		if c.Kind() == "" {
			t.Fatalf("no probe block for %q", target)
		}
		if _, err := c.Prober(nil); err != nil && !strings.Contains(err.Error(), "resolv.conf") {
			t.Fatalf("valid target %q does not build: %v", target, err)
		}
	})
}
