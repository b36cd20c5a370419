package tracing

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/vantageprobe/vantage/probes"
)

// Defaults of the tracing block.
const (
	DefaultServiceName = "vantage"
	DefaultTimeout     = 10 * time.Second
)

// Config is the `tracing:` block of vantage.yaml. Tracing is off unless at
// least one exporter (otlp, zipkin) is configured.
type Config struct {
	// ServiceName is the service.name of the exported spans (default "vantage").
	ServiceName string        `yaml:"service_name"`
	OTLP        *OTLPConfig   `yaml:"otlp"`
	Zipkin      *ZipkinConfig `yaml:"zipkin"`
	// ResourceAttributes are added to the resource of every span
	// (deployment.environment, service.namespace …).
	ResourceAttributes map[string]string `yaml:"resource_attributes"`
}

// OTLPConfig exports spans over OTLP/HTTP (protobuf).
type OTLPConfig struct {
	// Endpoint is the full URL spans are posted to, path included:
	// http://collector:4318/v1/traces.
	Endpoint string `yaml:"endpoint"`
	// Headers are sent with every export (API keys, tenant ids).
	Headers     map[string]probes.Secret `yaml:"headers"`
	Timeout     time.Duration            `yaml:"timeout"`     // per request; default 10s
	Compression Compression              `yaml:"compression"` // default gzip
	TLS         TLSConfig                `yaml:"tls"`
}

// ZipkinConfig exports spans as Zipkin v2 JSON.
type ZipkinConfig struct {
	// Endpoint is the full URL spans are posted to:
	// http://zipkin:9411/api/v2/spans.
	Endpoint string                   `yaml:"endpoint"`
	Headers  map[string]probes.Secret `yaml:"headers"`
	Timeout  time.Duration            `yaml:"timeout"` // per request; default 10s
	TLS      TLSConfig                `yaml:"tls"`
}

// TLSConfig configures the connection to an https endpoint.
type TLSConfig struct {
	CAFile             string `yaml:"ca_file"` // PEM roots to trust instead of the system's
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

// Compression is the compression of OTLP requests.
type Compression string

// Compressions. The zero value means CompressionGzip.
const (
	CompressionGzip Compression = "gzip"
	CompressionNone Compression = "none"
)

// UnmarshalText accepts gzip and none.
func (c *Compression) UnmarshalText(b []byte) error {
	v := Compression(strings.ToLower(string(b)))
	if !v.valid() {
		return fmt.Errorf("%q is not a compression (gzip or none)", b)
	}
	*c = v
	return nil
}

func (c Compression) valid() bool {
	return c == "" || c == CompressionGzip || c == CompressionNone
}

// Enabled reports whether any exporter is configured.
func (c Config) Enabled() bool { return c.OTLP != nil || c.Zipkin != nil }

// Validate reports every problem of the block, each starting with its field.
func (c Config) Validate() error {
	var errs []error
	if c.ServiceName != "" && strings.TrimSpace(c.ServiceName) == "" {
		errs = append(errs, errors.New("service_name: must not be blank"))
	}
	if c.OTLP != nil {
		errs = append(errs, c.OTLP.validate("otlp")...)
	}
	if c.Zipkin != nil {
		errs = append(errs, c.Zipkin.validate("zipkin")...)
	}
	keys := make([]string, 0, len(c.ResourceAttributes))
	for k := range c.ResourceAttributes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		switch {
		case strings.TrimSpace(k) == "":
			errs = append(errs, errors.New("resource_attributes: a key must not be empty"))
		case k == "service.name":
			errs = append(errs, fmt.Errorf("resource_attributes[%q]: set service_name instead", k))
		}
	}
	return errors.Join(errs...)
}

func (o OTLPConfig) validate(field string) []error {
	errs := validateEndpoint(field, o.Endpoint, "/v1/traces")
	errs = append(errs, validateCommon(field, o.Endpoint, o.Headers, o.Timeout, o.TLS)...)
	if !o.Compression.valid() {
		errs = append(errs, fmt.Errorf("%s.compression: %q is not a compression (gzip or none)", field, string(o.Compression)))
	}
	return errs
}

func (z ZipkinConfig) validate(field string) []error {
	errs := validateEndpoint(field, z.Endpoint, "/api/v2/spans")
	return append(errs, validateCommon(field, z.Endpoint, z.Headers, z.Timeout, z.TLS)...)
}

// validateEndpoint checks an exporter URL: http(s), a host, a path, and no
// credentials (those belong in headers, which are secrets).
func validateEndpoint(field, raw, path string) []error {
	field += ".endpoint"
	if raw == "" {
		return []error{fmt.Errorf("%s: required (e.g. http://collector%s)", field, path)}
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return []error{fmt.Errorf("%s: %q is not a URL: %w", field, redactURL(raw), errors.Unwrap(err))}
	case u.Scheme != "http" && u.Scheme != "https":
		return []error{fmt.Errorf("%s: %q: scheme must be http or https", field, redactURL(raw))}
	case u.Hostname() == "":
		return []error{fmt.Errorf("%s: %q has no host", field, redactURL(raw))}
	case u.User != nil:
		return []error{fmt.Errorf("%s: %q: credentials in the URL would show in logs; send them in headers", field, redactURL(raw))}
	case u.Path == "" || u.Path == "/":
		return []error{fmt.Errorf("%s: %q has no path (spans are posted to the full URL, such as %s)", field, redactURL(raw), path)}
	}
	return nil
}

func validateCommon(field, endpoint string, headers map[string]probes.Secret, timeout time.Duration, t TLSConfig) []error {
	var errs []error
	names := make([]string, 0, len(headers))
	for k := range headers {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		v := headers[k].Reveal()
		switch {
		case !httpguts.ValidHeaderFieldName(k):
			errs = append(errs, fmt.Errorf("%s.headers: %q is not a valid header name", field, k))
		case strings.ContainsAny(v, "\r\n"):
			errs = append(errs, fmt.Errorf("%s.headers.%s: value must not contain a line break", field, k))
		case !httpguts.ValidHeaderFieldValue(v):
			errs = append(errs, fmt.Errorf("%s.headers.%s: value contains a control character", field, k))
		}
	}
	if timeout < 0 {
		errs = append(errs, fmt.Errorf("%s.timeout: must not be negative (0 means the default, %s), got %s", field, DefaultTimeout, timeout))
	}
	if u, err := url.Parse(endpoint); err == nil && u.Scheme == "http" && t != (TLSConfig{}) {
		errs = append(errs, fmt.Errorf("%s.tls: set, but the endpoint is plain http://", field))
	}
	return errs
}

// httpClient builds the client an exporter posts with: its own transport
// (never http.DefaultClient), the TLS options, the per-request timeout.
func httpClient(timeout time.Duration, t TLSConfig) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: t.InsecureSkipVerify, //nolint:gosec // the operator asked for it
	}
	if t.CAFile != "" {
		pem, err := probes.ReadPEMFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s: no PEM certificates found", t.CAFile)
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	return &http.Client{Transport: tr, Timeout: timeout}, nil
}

// revealHeaders returns the header values to send.
func revealHeaders(h map[string]probes.Secret) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		out[k] = v.Reveal()
	}
	return out
}
