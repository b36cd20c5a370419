package server

import (
	"testing"

	"github.com/vantageprobe/vantage/config"
)

// A notification links a check where the link answers: the public URL
// only when the public listener serves the JSON API, else the admin URL,
// else nowhere.
func TestCheckLink(t *testing.T) {
	for _, tc := range []struct {
		srv  config.Server
		want string
	}{
		{config.Server{ExternalURL: "https://status.example.com"}, ""},
		{config.Server{ExternalURL: "https://status.example.com", PublicAPI: true}, "https://status.example.com/api/v1/checks/a%2Fb"},
		{config.Server{ExternalURL: "https://status.example.com", AdminURL: "https://vantage-admin.internal"}, "https://vantage-admin.internal/api/v1/checks/a%2Fb"},
		{config.Server{PublicAPI: true}, ""},
	} {
		if got := checkLink(tc.srv, "a/b"); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.srv, got, tc.want)
		}
	}
}
