package config

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/vantageprobe/vantage/alerts"
	"github.com/vantageprobe/vantage/alerts/alertmanager"
	"github.com/vantageprobe/vantage/alerts/discord"
	"github.com/vantageprobe/vantage/alerts/email"
	"github.com/vantageprobe/vantage/alerts/opsgenie"
	"github.com/vantageprobe/vantage/alerts/pagerduty"
	"github.com/vantageprobe/vantage/alerts/slack"
	"github.com/vantageprobe/vantage/alerts/teams"
	"github.com/vantageprobe/vantage/alerts/telegram"
	"github.com/vantageprobe/vantage/alerts/twilio"
	"github.com/vantageprobe/vantage/alerts/webhook"
)

// Notifier is one named notification channel: exactly one channel block.
type Notifier struct {
	Name         string               `yaml:"name"`
	Email        *email.Config        `yaml:"email"`
	Webhook      *webhook.Config      `yaml:"webhook"`
	Slack        *slack.Config        `yaml:"slack"`
	Discord      *discord.Config      `yaml:"discord"`
	Teams        *teams.Config        `yaml:"teams"`
	PagerDuty    *pagerduty.Config    `yaml:"pagerduty"`
	Opsgenie     *opsgenie.Config     `yaml:"opsgenie"`
	Twilio       *twilio.Config       `yaml:"twilio"`
	Telegram     *telegram.Config     `yaml:"telegram"`
	Alertmanager *alertmanager.Config `yaml:"alertmanager"`
}

// channel is one configured channel block: its key, validation and
// constructor.
type channel struct {
	key      string
	validate func() error
	build    func(*slog.Logger) (alerts.Notifier, error)
}

// channels lists the blocks that are set.
func (n Notifier) channels() []channel {
	var out []channel
	add := func(set bool, key string, validate func() error, build func(*slog.Logger) (alerts.Notifier, error)) {
		if set {
			out = append(out, channel{key, validate, build})
		}
	}
	add(n.Email != nil, "email", func() error { return n.Email.Validate() },
		func(l *slog.Logger) (alerts.Notifier, error) { return email.New(*n.Email, email.Options{Logger: l}) })
	add(n.Webhook != nil, "webhook", func() error { return n.Webhook.Validate() },
		func(l *slog.Logger) (alerts.Notifier, error) {
			return webhook.New(*n.Webhook, webhook.Options{Logger: l})
		})
	add(n.Slack != nil, "slack", func() error { return n.Slack.Validate() },
		func(l *slog.Logger) (alerts.Notifier, error) { return slack.New(*n.Slack, slack.Options{Logger: l}) })
	add(n.Discord != nil, "discord", func() error { return n.Discord.Validate() },
		func(l *slog.Logger) (alerts.Notifier, error) {
			return discord.New(*n.Discord, discord.Options{Logger: l})
		})
	add(n.Teams != nil, "teams", func() error { return n.Teams.Validate() },
		func(l *slog.Logger) (alerts.Notifier, error) { return teams.New(*n.Teams, teams.Options{Logger: l}) })
	add(n.PagerDuty != nil, "pagerduty", func() error { return n.PagerDuty.Validate() },
		func(l *slog.Logger) (alerts.Notifier, error) {
			return pagerduty.New(*n.PagerDuty, pagerduty.Options{Logger: l})
		})
	add(n.Opsgenie != nil, "opsgenie", func() error { return n.Opsgenie.Validate() },
		func(l *slog.Logger) (alerts.Notifier, error) {
			return opsgenie.New(*n.Opsgenie, opsgenie.Options{Logger: l})
		})
	add(n.Twilio != nil, "twilio", func() error { return n.Twilio.Validate() },
		func(l *slog.Logger) (alerts.Notifier, error) { return twilio.New(*n.Twilio, twilio.Options{Logger: l}) })
	add(n.Telegram != nil, "telegram", func() error { return n.Telegram.Validate() },
		func(l *slog.Logger) (alerts.Notifier, error) {
			return telegram.New(*n.Telegram, telegram.Options{Logger: l})
		})
	add(n.Alertmanager != nil, "alertmanager", func() error { return n.Alertmanager.Validate() },
		func(l *slog.Logger) (alerts.Notifier, error) {
			return alertmanager.New(*n.Alertmanager, alertmanager.Options{Logger: l})
		})
	return out
}

// Build makes the notifier's channel.
func (n Notifier) Build(log *slog.Logger) (alerts.Notifier, error) {
	chs := n.channels()
	if len(chs) != 1 {
		return nil, errors.New("needs exactly one channel block")
	}
	nt, err := chs[0].build(log)
	if err != nil {
		return nil, fmt.Errorf("notifier %s: %w", n.Name, err)
	}
	return nt, nil
}

// Notifiers builds every configured notifier, by name.
func (c *Config) BuildNotifiers(log *slog.Logger) (map[string]alerts.Notifier, error) {
	out := make(map[string]alerts.Notifier, len(c.Notifiers))
	for _, n := range c.Notifiers {
		nt, err := n.Build(log)
		if err != nil {
			return nil, err
		}
		out[n.Name] = nt
	}
	return out, nil
}

// validateNotifiers checks names and channel blocks.
func (c *Config) validateNotifiers(pos Positions) []Problem {
	var ps []Problem
	at := func(path, msg string) {
		p := pos.Lookup(path)
		ps = append(ps, Problem{Line: p.Line, Column: p.Column, Path: path, Msg: msg})
	}
	seen := map[string]int{}
	for i, n := range c.Notifiers {
		path := fmt.Sprintf("notifiers[%d]", i)
		switch j, dup := seen[n.Name]; {
		case n.Name == "":
			at(path+".name", "required")
		case !checkName.MatchString(n.Name):
			at(path+".name", fmt.Sprintf("%q must be 1-63 characters of a-z, 0-9, _ and -", n.Name))
		case dup:
			at(path+".name", fmt.Sprintf("%q is already the name of notifiers[%d]", n.Name, j))
		default:
			seen[n.Name] = i
		}
		chs := n.channels()
		switch len(chs) {
		case 0:
			at(path, "needs exactly one channel: email, webhook, slack, discord, teams, pagerduty, opsgenie, twilio, telegram or alertmanager")
			continue
		case 1:
		default:
			at(path+"."+chs[1].key, "a notifier has exactly one channel, this one already has "+chs[0].key)
			continue
		}
		for _, e := range splitErrors(chs[0].validate()) {
			field, msg := splitField(e.Error())
			p := path + "." + chs[0].key
			if field != "" {
				p += "." + field
			}
			at(p, msg)
		}
	}
	return ps
}
