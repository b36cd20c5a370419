package webhook_test

import (
	"io/fs"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/alerts/webhook"
	"github.com/vantageprobe/vantage/config"
)

// TestDecodeYAML decodes a config block with the project's strict decoder:
// every key maps to a field, secrets come from *_file keys.
func TestDecodeYAML(t *testing.T) {
	src := `
url_file: url.txt
headers:
  Authorization: Bearer header-token
max_alerts: 20
timeout: 5s
hmac_secret_file: /run/secrets/hmac
send_resolved: false
`
	files := map[string]string{"/etc/vantage/url.txt": "https://hooks.example.org/url-token\n", "/run/secrets/hmac": "hmac-key\n"}
	var c webhook.Config
	_, probs := config.Decode([]byte(src), &c, config.DecodeOptions{BaseDir: "/etc/vantage", ReadFile: func(p string) ([]byte, error) {
		if s, ok := files[p]; ok {
			return []byte(s), nil
		}
		return nil, fs.ErrNotExist
	}})
	if len(probs) > 0 {
		t.Fatalf("problems: %v", probs)
	}
	if c.URL.Reveal() != "https://hooks.example.org/url-token" || c.Headers["Authorization"].Reveal() != "Bearer header-token" ||
		c.MaxAlerts != 20 || c.Timeout != 5*time.Second || c.HMACSecret.Reveal() != "hmac-key" || c.SendResolved == nil || *c.SendResolved {
		t.Errorf("decoded %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
	if _, probs := config.Decode([]byte("url: https://x.example\nmax_alert: 3\n"), &c, config.DecodeOptions{}); len(probs) != 1 {
		t.Errorf("an unknown key: %v", probs)
	}
}
