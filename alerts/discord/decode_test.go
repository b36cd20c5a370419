package discord_test

import (
	"testing"
	"time"

	"github.com/vantageprobe/vantage/alerts/discord"
	"github.com/vantageprobe/vantage/config"
)

// TestDecodeYAML decodes a config block with the project's strict decoder.
func TestDecodeYAML(t *testing.T) {
	src := `
url: ${DISCORD_URL}
username: Vantage
title: "{{status}} {{check}}"
text: "{{summary}}"
content: "{{checks}}"
timeout: 5s
send_resolved: false
`
	var c discord.Config
	_, probs := config.Decode([]byte(src), &c, config.DecodeOptions{LookupEnv: func(k string) (string, bool) {
		return "https://discord.com/api/webhooks/1/url-token", k == "DISCORD_URL"
	}})
	if len(probs) > 0 {
		t.Fatalf("problems: %v", probs)
	}
	if c.URL.Reveal() != "https://discord.com/api/webhooks/1/url-token" || c.Username != "Vantage" || c.Content.String() != "{{checks}}" ||
		c.Title.IsZero() || c.Text.IsZero() || c.Timeout != 5*time.Second || c.SendResolved == nil || *c.SendResolved {
		t.Errorf("decoded %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}
