package tracing

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vantageprobe/vantage/probes"
)

func TestValidate(t *testing.T) {
	otlp := func(mod func(*OTLPConfig)) Config {
		c := OTLPConfig{Endpoint: "http://collector:4318/v1/traces"}
		mod(&c)
		return Config{OTLP: &c}
	}
	zip := func(mod func(*ZipkinConfig)) Config {
		c := ZipkinConfig{Endpoint: "http://zipkin:9411/api/v2/spans"}
		mod(&c)
		return Config{Zipkin: &c}
	}
	tests := []struct {
		name string
		cfg  Config
		want []string // each line of the error starts with one, in order; nil: valid
	}{
		{"off", Config{}, nil},
		{"full", Config{
			ServiceName:        "synthetics",
			ResourceAttributes: map[string]string{"deployment.environment": "prod"},
			OTLP: &OTLPConfig{Endpoint: "https://otlp.example.com/v1/traces", Headers: map[string]probes.Secret{"Authorization": "Bearer x"},
				Timeout: 5 * time.Second, Compression: CompressionNone, TLS: TLSConfig{CAFile: "ca.pem"}},
			Zipkin: &ZipkinConfig{Endpoint: "http://zipkin:9411/api/v2/spans", Timeout: time.Second},
		}, nil},
		{"otlp endpoint missing", otlp(func(c *OTLPConfig) { c.Endpoint = "" }), []string{"otlp.endpoint: required"}},
		{"otlp endpoint scheme", otlp(func(c *OTLPConfig) { c.Endpoint = "grpc://collector:4317/v1/traces" }), []string{"otlp.endpoint: "}},
		{"otlp endpoint no path", otlp(func(c *OTLPConfig) { c.Endpoint = "http://collector:4318" }), []string{"otlp.endpoint: "}},
		{"otlp endpoint no host", otlp(func(c *OTLPConfig) { c.Endpoint = "http:///v1/traces" }), []string{"otlp.endpoint: "}},
		{"otlp endpoint credentials", otlp(func(c *OTLPConfig) { c.Endpoint = "http://u:hunter2@collector:4318/v1/traces" }), []string{"otlp.endpoint: "}},
		{"otlp timeout", otlp(func(c *OTLPConfig) { c.Timeout = -time.Second }), []string{"otlp.timeout: "}},
		{"otlp compression", otlp(func(c *OTLPConfig) { c.Compression = "br" }), []string{"otlp.compression: "}},
		{"otlp header name", otlp(func(c *OTLPConfig) { c.Headers = map[string]probes.Secret{"Bad Name": "x"} }), []string{"otlp.headers: "}},
		{"otlp header value", otlp(func(c *OTLPConfig) { c.Headers = map[string]probes.Secret{"X-Key": "a\r\nInjected: 1"} }), []string{"otlp.headers.X-Key: "}},
		{"otlp tls over http", otlp(func(c *OTLPConfig) { c.TLS.InsecureSkipVerify = true }), []string{"otlp.tls: "}},
		{"zipkin endpoint missing", zip(func(c *ZipkinConfig) { c.Endpoint = "" }), []string{"zipkin.endpoint: required"}},
		{"zipkin timeout", zip(func(c *ZipkinConfig) { c.Timeout = -1 }), []string{"zipkin.timeout: "}},
		{"zipkin tls over http", zip(func(c *ZipkinConfig) { c.TLS.CAFile = "ca.pem" }), []string{"zipkin.tls: "}},
		{"blank service name", Config{ServiceName: "  "}, []string{"service_name: "}},
		{"resource service.name", Config{ResourceAttributes: map[string]string{"service.name": "x"}}, []string{`resource_attributes["service.name"]: `}},
		{"resource empty key", Config{ResourceAttributes: map[string]string{"": "x"}}, []string{"resource_attributes: "}},
		{"every problem at once", Config{
			ServiceName: " ",
			OTLP:        &OTLPConfig{Timeout: -1},
			Zipkin:      &ZipkinConfig{Endpoint: "zipkin:9411"},
		}, []string{"service_name: ", "otlp.endpoint: ", "otlp.timeout: ", "zipkin.endpoint: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate passed, want %q", tt.want)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("Validate: %d problems, want %d:\n%v", len(lines), len(tt.want), err)
			}
			for i, line := range lines {
				if !strings.HasPrefix(line, tt.want[i]) {
					t.Errorf("problem %q, want it to start with %q", line, tt.want[i])
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error shows a password: %v", err)
			}
		})
	}
}

func TestEnabled(t *testing.T) {
	if (Config{ServiceName: "x"}).Enabled() {
		t.Error("a config without exporters is enabled")
	}
	if !(Config{OTLP: &OTLPConfig{}}).Enabled() || !(Config{Zipkin: &ZipkinConfig{}}).Enabled() {
		t.Error("a config with an exporter is not enabled")
	}
}

func TestCompressionUnmarshalText(t *testing.T) {
	for in, want := range map[string]Compression{"gzip": CompressionGzip, "GZIP": CompressionGzip, "none": CompressionNone} {
		var c Compression
		if err := c.UnmarshalText([]byte(in)); err != nil || c != want {
			t.Errorf("%q: %q, %v; want %q", in, c, err, want)
		}
	}
	var c Compression
	if err := c.UnmarshalText([]byte("zstd")); err == nil {
		t.Error("zstd accepted")
	}
}

// docsExample is the example of the tracing block in docs/configuration.md.
const docsExample = `
service_name: vantage
resource_attributes:
  deployment.environment: production
otlp:
  endpoint: https://otlp.example.com/v1/traces
  headers:
    Authorization: Bearer abc
  timeout: 10s
  compression: gzip
  tls:
    ca_file: /etc/vantage/collector-ca.pem
    insecure_skip_verify: false
zipkin:
  endpoint: http://zipkin:9411/api/v2/spans
  headers:
    X-Tenant: team-a
  timeout: 5s
  tls:
    ca_file: ""
    insecure_skip_verify: false
`

// TestConfigKeys decodes the documented example strictly: every key the
// docs name is a yaml tag of Config.
func TestConfigKeys(t *testing.T) {
	dec := yaml.NewDecoder(bytes.NewReader([]byte(docsExample)))
	dec.KnownFields(true)
	var c Config
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.OTLP.Headers["Authorization"].Reveal() != "Bearer abc" || c.OTLP.Timeout != 10*time.Second ||
		c.OTLP.Compression != CompressionGzip || c.OTLP.TLS.CAFile == "" || c.Zipkin.Timeout != 5*time.Second ||
		c.ResourceAttributes["deployment.environment"] != "production" {
		t.Errorf("decoded %+v %+v", *c.OTLP, *c.Zipkin)
	}
}

func TestScrub(t *testing.T) {
	tests := []struct{ text, target, want string }{
		{`Get "http://h:1/p?token=abc": refused`, "http://h:1/p?token=abc", `Get "http://h:1/p": refused`},
		{`Get "https://u:***@h/p?x=1#f": EOF`, "https://u:pw@h/p?x=1#f", `Get "https://h/p": EOF`},
		{"redirect loop: http://a/x?s=1 -> http://b/y?s=2", "", "redirect loop: http://a/x -> http://b/y"},
		{"unexpected status: got 500", "http://h/", "unexpected status: got 500"},
		{"bad %zz http://u:p@h/%zz?k=v", "", "bad %zz http://h/%zz"},
	}
	for _, tt := range tests {
		if got := scrub(tt.text, tt.target); got != tt.want {
			t.Errorf("scrub(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}
