// Package telegram delivers notifications through the Telegram Bot API's
// sendMessage as HTML messages, every value from a check escaped.
package telegram

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/vantageprobe/vantage/alerts"
)

// DefaultURL is the Bot API's base URL.
const DefaultURL = "https://api.telegram.org"

var (
	botToken = regexp.MustCompile(`^[0-9]{1,20}:[A-Za-z0-9_-]{20,}$`)
	chatID   = regexp.MustCompile(`^(-?[0-9]{1,20}|@[A-Za-z][A-Za-z0-9_]{3,31})$`)
)

// Config is a Telegram notifier's configuration.
type Config struct {
	// BotToken is the token BotFather gave (or bot_token_file). It is part
	// of the API's URL, so it never appears in errors or logs.
	BotToken Secret `yaml:"bot_token"`
	// ChatID is a chat's number (groups are negative) or a public
	// channel's @username.
	ChatID string `yaml:"chat_id"`
	// MessageThreadID posts into a topic of a forum group (0: none).
	MessageThreadID int64 `yaml:"message_thread_id"`
	// APIURL is the Bot API's base URL; DefaultURL when empty.
	APIURL string `yaml:"api_url"`
	// Message is the text in Telegram's HTML (b, i, u, s, a, code, pre,
	// blockquote, …; every substituted value is escaped); empty: the
	// title in bold and one line per alert with a link to its check.
	Message alerts.Template `yaml:"message"`
	// DisableWebPagePreview hides link previews (default true).
	DisableWebPagePreview *bool `yaml:"disable_web_page_preview"`
	// DisableNotification delivers silently.
	DisableNotification bool `yaml:"disable_notification"`
	// SendResolved sends a message when the group resolves (default true).
	SendResolved *bool `yaml:"send_resolved"`
	// Timeout bounds one delivery attempt (default alerts.DefaultSendTimeout).
	Timeout time.Duration `yaml:"timeout"`
}

// Validate reports every problem of c, each starting with its key.
func (c Config) Validate() error {
	var errs []error
	switch {
	case c.BotToken == "":
		errs = append(errs, errors.New("bot_token: required (or bot_token_file)"))
	case !botToken.MatchString(c.BotToken.Reveal()):
		errs = append(errs, errors.New("bot_token: not a bot token (digits, a colon and letters, as BotFather gives it)"))
	}
	switch {
	case c.ChatID == "":
		errs = append(errs, errors.New("chat_id: required"))
	case !chatID.MatchString(c.ChatID):
		errs = append(errs, fmt.Errorf("chat_id: %q is neither a chat's number nor a channel's @username", c.ChatID))
	}
	if c.MessageThreadID < 0 {
		errs = append(errs, errors.New("message_thread_id: must not be negative"))
	}
	if c.APIURL != "" {
		if err := alerts.ValidateBaseURL(c.APIURL); err != nil {
			errs = append(errs, fmt.Errorf("api_url: %w", err))
		}
	}
	if err := checkHTML(c.Message.String()); err != nil {
		errs = append(errs, fmt.Errorf("message: %w", err))
	}
	if c.Timeout < 0 {
		errs = append(errs, errors.New("timeout: must not be negative"))
	}
	return errors.Join(errs...)
}

// Options are a notifier's dependencies.
type Options struct {
	Logger *slog.Logger // nil: discard
	// HTTPClient sends the requests; nil: a client of the notifier's own
	// with the configured timeout that follows no redirects.
	HTTPClient *http.Client
}

// Notifier sends notifications to one Telegram chat.
type Notifier struct {
	token        string
	endpoint     string // …/bot<token>/sendMessage: never logged
	chat         any    // int64 or "@channel"
	thread       int64
	message      alerts.Template
	noPreview    bool
	silent       bool
	sendResolved bool
	timeout      time.Duration
	http         *http.Client
	log          *slog.Logger
}

// New builds a notifier from a valid configuration.
func New(c Config, o Options) (*Notifier, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	timeout := alerts.SendTimeout(c.Timeout)
	n := &Notifier{
		token:        c.BotToken.Reveal(),
		endpoint:     strings.TrimSuffix(cmp.Or(c.APIURL, DefaultURL), "/") + "/bot" + c.BotToken.Reveal() + "/sendMessage",
		chat:         c.ChatID,
		thread:       c.MessageThreadID,
		message:      c.Message,
		noPreview:    alerts.DefaultTrue(c.DisableWebPagePreview),
		silent:       c.DisableNotification,
		sendResolved: alerts.DefaultTrue(c.SendResolved),
		timeout:      timeout,
		http:         alerts.NoRedirectClient(o.HTTPClient, timeout),
		log:          alerts.Logger(o.Logger),
	}
	if id, err := strconv.ParseInt(c.ChatID, 10, 64); err == nil {
		n.chat = id
	}
	return n, nil
}

// SendResolved reports whether resolved groups are sent.
func (n *Notifier) SendResolved() bool { return n.sendResolved }

// sendMessage is the body of a sendMessage call.
type sendMessage struct {
	ChatID                any          `json:"chat_id"`
	MessageThreadID       int64        `json:"message_thread_id,omitempty"`
	Text                  string       `json:"text"`
	ParseMode             string       `json:"parse_mode"`
	DisableWebPagePreview bool         `json:"disable_web_page_preview,omitempty"`
	LinkPreviewOptions    *linkPreview `json:"link_preview_options,omitempty"`
	DisableNotification   bool         `json:"disable_notification,omitempty"`
}

type linkPreview struct {
	IsDisabled bool `json:"is_disabled"`
}

// answer is the Bot API's reply.
type answer struct {
	OK          bool   `json:"ok"`
	Description string `json:"description"`
	Parameters  struct {
		RetryAfter      int   `json:"retry_after"`
		MigrateToChatID int64 `json:"migrate_to_chat_id"`
	} `json:"parameters"`
}

// Notify sends notif as one message. A 429 waits for the retry_after
// Telegram names; other 4xx answers (chat not found, bot blocked, bad
// token) are permanent.
func (n *Notifier) Notify(ctx context.Context, notif alerts.Notification) error {
	msg := sendMessage{ChatID: n.chat, MessageThreadID: n.thread, Text: n.text(notif), ParseMode: "HTML", DisableNotification: n.silent}
	if n.noPreview {
		msg.DisableWebPagePreview = true
		msg.LinkPreviewOptions = &linkPreview{IsDisabled: true}
	}
	body, err := json.Marshal(msg)
	if err != nil {
		return alerts.Permanent(fmt.Errorf("telegram sendMessage: %w", err))
	}
	ctx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	reply, err := alerts.Send(ctx, n.http, alerts.Request{
		URL:    n.endpoint,
		Header: http.Header{"Content-Type": {"application/json"}},
		Body:   body,
	})
	return alerts.Scrub(n.classify(reply, err), n.token)
}

// classify reads Telegram's reply into the error the outbox acts on.
func (n *Notifier) classify(reply []byte, err error) error {
	var a answer
	parsed := json.Unmarshal(reply, &a) == nil
	switch {
	case err == nil && parsed && !a.OK:
		return alerts.Permanent(fmt.Errorf("telegram sendMessage: not ok: %s", a.Description))
	case err == nil:
		return nil
	case parsed && a.Parameters.RetryAfter > 0:
		return alerts.RetryAfter(fmt.Errorf("telegram sendMessage: %w", err), time.Duration(a.Parameters.RetryAfter)*time.Second)
	case parsed && a.Parameters.MigrateToChatID != 0:
		return fmt.Errorf("telegram sendMessage: the group became supergroup %d, set chat_id to it: %w", a.Parameters.MigrateToChatID, err)
	}
	return fmt.Errorf("telegram sendMessage: %w", err)
}
