package discord

import "github.com/vantageprobe/vantage/alerts"

// Secret is a credential from the config (set directly or through the
// matching _file key); it never prints.
type Secret = alerts.Secret
