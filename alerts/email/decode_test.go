package email_test

import (
	"io/fs"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/alerts/email"
	"github.com/vantageprobe/vantage/config"
)

// TestDecodeYAML decodes a config block with the project's strict decoder.
func TestDecodeYAML(t *testing.T) {
	src := `
host: smtp.example.org
port: 465
tls: implicit
insecure_skip_verify: false
ca_file: /etc/vantage/ca.pem
hello: vantage.example.org
from: Vantage <alerts@example.org>
to: [ops@example.org, "On Call <oncall@example.org>"]
username: vantage
password_file: /run/secrets/smtp
subject: "[{{status}}] {{check}}"
text: "{{summary}}"
timeout: 15s
send_resolved: false
`
	var c email.Config
	_, probs := config.Decode([]byte(src), &c, config.DecodeOptions{ReadFile: func(p string) ([]byte, error) {
		if p == "/run/secrets/smtp" {
			return []byte(password + "\n"), nil
		}
		return nil, fs.ErrNotExist
	}})
	if len(probs) > 0 {
		t.Fatalf("problems: %v", probs)
	}
	if c.Host != "smtp.example.org" || c.Port != 465 || c.TLS != email.TLSImplicit || c.CAFile != "/etc/vantage/ca.pem" ||
		c.Hello != "vantage.example.org" || c.From != "Vantage <alerts@example.org>" || len(c.To) != 2 || c.Username != "vantage" ||
		c.Password.Reveal() != password || c.Subject.IsZero() || c.Text.IsZero() || c.Timeout != 15*time.Second ||
		c.SendResolved == nil || *c.SendResolved {
		t.Errorf("decoded %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}
