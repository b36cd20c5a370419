package teams_test

import (
	"testing"
	"time"

	"github.com/vantageprobe/vantage/alerts/teams"
	"github.com/vantageprobe/vantage/config"
)

// TestDecodeYAML decodes a config block with the project's strict decoder.
func TestDecodeYAML(t *testing.T) {
	src := `
url: "https://prod.westeurope.logic.azure.com/workflows/x/triggers/manual/paths/invoke?sig=url-sig"
title: "{{status}} {{check}}"
text: "{{summary}}"
timeout: 5s
send_resolved: false
`
	var c teams.Config
	if _, probs := config.Decode([]byte(src), &c, config.DecodeOptions{}); len(probs) > 0 {
		t.Fatalf("problems: %v", probs)
	}
	if c.URL.Reveal() == "" || c.Title.IsZero() || c.Text.IsZero() || c.Timeout != 5*time.Second || c.SendResolved == nil || *c.SendResolved {
		t.Errorf("decoded %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}
