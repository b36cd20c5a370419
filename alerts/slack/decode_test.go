package slack_test

import (
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/alerts/slack"
	"github.com/vantageprobe/vantage/config"
)

// TestDecodeYAML decodes a config block with the project's strict decoder.
func TestDecodeYAML(t *testing.T) {
	src := `
url_file: /run/secrets/slack
title: "{{status}} {{check}}"
text: "{{summary}}"
timeout: 5s
send_resolved: false
`
	var c slack.Config
	_, probs := config.Decode([]byte(src), &c, config.DecodeOptions{ReadFile: func(p string) ([]byte, error) {
		if p == "/run/secrets/slack" {
			return []byte("https://hooks.slack.com/services/T/B/url-token\n"), nil
		}
		return nil, fs.ErrNotExist
	}})
	if len(probs) > 0 {
		t.Fatalf("problems: %v", probs)
	}
	if c.URL.Reveal() != "https://hooks.slack.com/services/T/B/url-token" || c.Title.String() != "{{status}} {{check}}" ||
		c.Text.String() != "{{summary}}" || c.Timeout != 5*time.Second || c.SendResolved == nil || *c.SendResolved {
		t.Errorf("decoded %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
	_, probs = config.Decode([]byte("url: https://x.example\ntitle: \"{{nope}}\"\n"), &c, config.DecodeOptions{})
	if len(probs) != 1 || !strings.Contains(probs[0].Error(), "unknown placeholder {{nope}}") {
		t.Errorf("a bad placeholder: %v", probs)
	}
}
