package twilio_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/vantageprobe/vantage/alerts"
	"github.com/vantageprobe/vantage/alerts/alertstest"
	"github.com/vantageprobe/vantage/alerts/twilio"
	"github.com/vantageprobe/vantage/config"
)

const (
	accountSID = "AC0123456789abcdef0123456789abcdef"
	authToken  = "t0ken-t0ken-t0ken-t0ken-t0ken-42"
	keySID     = "SKfedcba9876543210fedcba9876543210"
	keySecret  = "k3y-s3cret-k3y-s3cret"
	serviceSID = "MG00112233445566778899aabbccddeeff"
	from       = "+14155550100"
	alice      = "+447700900123"
	bob        = "+4915112345678"
	hostile    = `<b>x</b> & <script>alert(1)</script>`
)

var e164 = regexp.MustCompile(`^\+[1-9]\d{1,14}$`)

// message is one request as the fake Messages API decoded it.
type message struct {
	method, path, user, pass, contentType string
	form                                  url.Values
}

// fakeTwilio is a fake Messages API.
type fakeTwilio struct{ *alertstest.Server }

// newFake starts a fake Messages API that plays answers (none: 201 and a
// queued message).
func newFake(t *testing.T, answers ...alertstest.Answer) *fakeTwilio {
	t.Helper()
	if len(answers) == 0 {
		answers = []alertstest.Answer{{Status: http.StatusCreated, Body: `{"sid":"SM0123","status":"queued","error_code":null}`}}
	}
	return &fakeTwilio{alertstest.NewServer(t, answers...)}
}

// messages decodes the requests received so far.
func (f *fakeTwilio) messages() []message {
	var out []message
	for _, r := range f.Requests() {
		user, pass, _ := r.BasicAuth()
		out = append(out, message{r.Method, r.URL.Path, user, pass, r.Header.Get("Content-Type"), r.Form()})
	}
	return out
}

// check checks what the Messages API requires of every request.
func check(t *testing.T, m message, user, pass string) {
	t.Helper()
	if m.method != http.MethodPost || m.path != "/2010-04-01/Accounts/"+accountSID+"/Messages.json" {
		t.Errorf("request %s %s", m.method, m.path)
	}
	if m.user != user || m.pass != pass {
		t.Errorf("basic auth %q:%q, want %q:%q", m.user, m.pass, user, pass)
	}
	if m.contentType != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type %q", m.contentType)
	}
	if !e164.MatchString(m.form.Get("To")) {
		t.Errorf("To %q", m.form.Get("To"))
	}
	if (m.form.Get("From") == "") == (m.form.Get("MessagingServiceSid") == "") {
		t.Errorf("want exactly one of From and MessagingServiceSid: %v", m.form)
	}
	body := m.form.Get("Body")
	if body == "" || utf8.RuneCountInString(body) > 1600 || strings.Contains(body, "\n") {
		t.Errorf("Body %q", body)
	}
	for _, s := range []string{authToken, keySecret} {
		if strings.Contains(body, s) {
			t.Errorf("Body carries a secret: %q", body)
		}
	}
}

func firing() alerts.Notification {
	return alerts.Notification{
		Key: "n-1", GroupKey: "g", Receiver: "sms", Status: alerts.StatusFiring, Rule: "api-down",
		Severity: alerts.SeverityPage, Reason: "new",
		Alerts: []alerts.Alert{
			{Status: alerts.StatusFiring, Check: "api", State: "down", Summary: "api is down:\n" + hostile, Error: hostile},
			{Status: alerts.StatusFiring, Check: "web", State: "down", Summary: "web is down"},
		},
	}
}

func base(f *fakeTwilio) twilio.Config {
	return twilio.Config{AccountSID: accountSID, AuthToken: authToken, From: from, To: []string{alice, bob}, URL: f.URL}
}

func newNotifier(t *testing.T, c twilio.Config, logs io.Writer) *twilio.Notifier {
	t.Helper()
	n, err := twilio.New(c, twilio.Options{Logger: alertstest.Logger(logs)})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return n
}

// TestOneMessagePerNumber texts each recipient one line: the title and
// the first alert, the alert's text unchanged but for line breaks.
func TestOneMessagePerNumber(t *testing.T) {
	tw := newFake(t)
	c := base(tw)
	c.MaxLength = 1600
	n := newNotifier(t, c, nil)
	if !n.SendResolved() {
		t.Error("send_resolved must default to true")
	}
	if err := n.Notify(t.Context(), firing()); err != nil {
		t.Fatal(err)
	}
	msgs := tw.messages()
	if len(msgs) != 2 || msgs[0].form.Get("To") != alice || msgs[1].form.Get("To") != bob {
		t.Fatalf("messages %+v", msgs)
	}
	want := "[FIRING] api-down: api, web - api is down: " + hostile + " (+1 more)"
	for _, m := range msgs {
		check(t, m, accountSID, authToken)
		if got := m.form.Get("Body"); got != want {
			t.Errorf("Body %q, want %q", got, want)
		}
		if m.form.Get("From") != from {
			t.Errorf("From %q", m.form.Get("From"))
		}
	}
	res := firing()
	res.Key, res.Status = "n-2", alerts.StatusResolved
	res.Alerts = []alerts.Alert{{Status: alerts.StatusResolved, Check: "api", Summary: "api is down"}}
	if err := n.Notify(t.Context(), res); err != nil {
		t.Fatal(err)
	}
	if got := tw.messages()[2].form.Get("Body"); got != "[RESOLVED] api-down: api" {
		t.Errorf("resolved Body %q", got)
	}
}

// TestAPIKeyAndMessagingService authenticates with an API key and sends
// through a messaging service: the account stays in the path.
func TestAPIKeyAndMessagingService(t *testing.T) {
	tw := newFake(t)
	tmpl, err := alerts.ParseTemplate("{{status}} {{check}}: {{error}}")
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	n := newNotifier(t, twilio.Config{
		AccountSID: accountSID, APIKeySID: keySID, APIKeySecret: keySecret,
		MessagingServiceSID: serviceSID, To: []string{alice}, URL: tw.URL + "/", Message: tmpl,
	}, &logs)
	notif := firing()
	notif.Alerts[0].Error = strings.Repeat("é", 500)
	if err := n.Notify(t.Context(), notif); err != nil {
		t.Fatal(err)
	}
	m := tw.messages()[0]
	check(t, m, keySID, keySecret)
	if m.form.Get("MessagingServiceSid") != serviceSID || m.form.Has("From") {
		t.Errorf("form %v", m.form)
	}
	body := m.form.Get("Body")
	if utf8.RuneCountInString(body) != twilio.DefaultMaxLength || !strings.HasPrefix(body, "FIRING api: éé") || !strings.HasSuffix(body, "...") {
		t.Errorf("Body %q: want the template cut at %d runes", body, twilio.DefaultMaxLength)
	}
	if !strings.Contains(logs.String(), "sms text cut") || strings.Contains(logs.String(), keySecret) {
		t.Errorf("log %q", logs.String())
	}
}

// TestRetrySkipsDelivered: when one recipient fails, a retry of the same
// notification texts only that one; a new notification texts everyone.
func TestRetrySkipsDelivered(t *testing.T) {
	tw := newFake(t, alertstest.Answer{Status: 201, Body: `{"sid":"SM1"}`}, alertstest.Answer{Status: 503, Body: `{"code":20500}`}, alertstest.Answer{Status: 201})
	n := newNotifier(t, base(tw), nil)
	notif := firing()
	err := n.Notify(t.Context(), notif)
	if err == nil || alerts.IsPermanent(err) {
		t.Fatalf("first attempt: %v, want a retryable error", err)
	}
	if strings.Contains(err.Error(), bob) || !strings.Contains(err.Error(), "+4915*******78") {
		t.Errorf("error %q: want the number masked", err)
	}
	if err := n.Notify(t.Context(), notif); err != nil {
		t.Fatalf("retry: %v", err)
	}
	msgs := tw.messages()
	if len(msgs) != 3 || msgs[2].form.Get("To") != bob {
		t.Fatalf("retry texted %d messages, last to %s", len(msgs), msgs[len(msgs)-1].form.Get("To"))
	}
	notif.Key = "n-next"
	if err := n.Notify(t.Context(), notif); err != nil || len(tw.messages()) != 5 {
		t.Errorf("a new notification: %v, %d messages", err, len(tw.messages()))
	}
	notif.Key = "" // no idempotency key: nothing to recognise a retry by
	for range 2 {
		if err := n.Notify(t.Context(), notif); err != nil {
			t.Fatal(err)
		}
	}
	if len(tw.messages()) != 9 {
		t.Errorf("%d messages, want every keyless notification texted to both", len(tw.messages()))
	}
}

// TestAnswers classifies Twilio's answers for one recipient; neither the
// token nor the Authorization header shows in errors or logs.
func TestAnswers(t *testing.T) {
	tests := []struct {
		name      string
		answer    alertstest.Answer
		ok        bool
		permanent bool
		delay     time.Duration
	}{
		{"201", alertstest.Answer{Status: 201, Body: `{"sid":"SM1","status":"queued"}`}, true, false, 0},
		{"400 invalid to", alertstest.Answer{Status: 400, Body: `{"code":21211,"message":"Invalid 'To' Phone Number","status":400}`}, false, true, 0},
		{"401 auth", alertstest.Answer{Status: 401, Body: `{"code":20003,"message":"Authenticate ` + authToken + `","status":401}`}, false, true, 0},
		{"20003 with 503", alertstest.Answer{Status: 503, Body: `{"code":20003,"message":"Authenticate"}`}, false, true, 0},
		{"429", alertstest.Answer{Status: 429, Body: `{"code":20429,"message":"Too Many Requests"}`, Header: map[string]string{"Retry-After": "5"}}, false, false, 5 * time.Second},
		{"500", alertstest.Answer{Status: 500, Body: `{"code":20500}`}, false, false, 0},
		{"reset", alertstest.Answer{Reset: true}, false, false, 0},
	}
	auth := base64.StdEncoding.EncodeToString([]byte(accountSID + ":" + authToken))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tw := newFake(t, tt.answer)
			c := base(tw)
			c.To = []string{alice}
			var logs bytes.Buffer
			n := newNotifier(t, c, &logs)
			err := n.Notify(t.Context(), firing())
			alertstest.CheckOutcome(t, err, tt.ok, tt.permanent, tt.delay)
			out := logs.String()
			if err != nil {
				out += err.Error()
				if !strings.HasPrefix(err.Error(), "twilio sms to +4477******23: ") {
					t.Errorf("error %q", err)
				}
			}
			alertstest.NoSecrets(t, out, authToken, auth, accountSID)
		})
	}
}

// TestMixedFailures: a rejected number and an unavailable API make a
// retryable error naming both.
func TestMixedFailures(t *testing.T) {
	tw := newFake(t, alertstest.Answer{Status: 400, Body: `{"code":21211}`}, alertstest.Answer{Status: 500, Body: `{"code":20500}`})
	n := newNotifier(t, base(tw), nil)
	err := n.Notify(t.Context(), firing())
	if err == nil || alerts.IsPermanent(err) || !strings.Contains(err.Error(), "21211") || !strings.Contains(err.Error(), "20500") {
		t.Fatalf("err %v (permanent %v)", err, alerts.IsPermanent(err))
	}
	tw2 := newFake(t, alertstest.Answer{Status: 400, Body: `{"code":21211}`})
	n2 := newNotifier(t, base(tw2), nil)
	if err := n2.Notify(t.Context(), firing()); !alerts.IsPermanent(err) {
		t.Fatalf("every number rejected: %v, want permanent", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		c    twilio.Config
		want []string
	}{
		{"ok", twilio.Config{AccountSID: accountSID, AuthToken: authToken, From: "Vantage", To: []string{alice}}, nil},
		{"ok key", twilio.Config{AccountSID: accountSID, APIKeySID: keySID, APIKeySecret: keySecret, MessagingServiceSID: serviceSID, To: []string{alice}}, nil},
		{"empty", twilio.Config{}, []string{"account_sid: ", "auth_token: required", "from: set exactly one", "to: at least one"}},
		{"everything wrong", twilio.Config{
			AccountSID: "AC123", AuthToken: authToken, APIKeySID: keySID, From: "+0123", To: []string{"0044770", alice, alice},
			URL: "http://user:pw@api.example.org", MaxLength: 1601, Timeout: -1,
		}, []string{"account_sid: ", "auth_token: set either", "from: ", "to[0]: ", "to[2]: ", "url: must not carry credentials", "max_length: ", "timeout: "}},
		{"key without secret", twilio.Config{AccountSID: accountSID, APIKeySID: keySID, From: from, MessagingServiceSID: serviceSID, To: []string{alice}},
			[]string{"api_key_secret: required", "from: set exactly one"}},
		{"bad sids", twilio.Config{AccountSID: accountSID, APIKeySID: "SK1", APIKeySecret: keySecret, MessagingServiceSID: "MG1", To: []string{alice}},
			[]string{"api_key_sid: ", "messaging_service_sid: "}},
		{"sender id too long", twilio.Config{AccountSID: accountSID, AuthToken: authToken, From: "VantageAlerts", To: []string{alice}}, []string{"from: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.c.Validate()
			alertstest.CheckProblems(t, err, tt.want...)
			alertstest.NoSecrets(t, fmt.Sprint(err), authToken, keySecret)
		})
	}
}

func TestDecode(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte(authToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := "account_sid: " + accountSID + "\nauth_token_file: token\nfrom: '" + from + "'\nto: ['" + alice + "', '" + bob + "']\nmax_length: 320\n"
	var c twilio.Config
	if _, probs := config.Decode([]byte(src), &c, config.DecodeOptions{BaseDir: dir}); len(probs) > 0 {
		t.Fatalf("decode: %v", probs)
	}
	if c.AuthToken.Reveal() != authToken || c.From != from || len(c.To) != 2 || c.MaxLength != 320 {
		t.Errorf("decoded %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}
