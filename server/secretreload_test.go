package server_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// TestSecretFilesRereadOnReload: *_file secrets are read again on reload.
// A rotated agent token takes effect (the old one is refused, the new one
// accepted), and a check sends its rotated bearer token.
func TestSecretFilesRereadOnReload(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]bool{}
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Header.Get("Authorization")] = true
		mu.Unlock()
	}))
	t.Cleanup(target.Close)
	saw := func(auth string) bool {
		mu.Lock()
		defer mu.Unlock()
		return seen[auth]
	}
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("eu.token", "eu-west-token-first-0123456789")
	write("api.token", "api-token-first")
	top := fmt.Sprintf("regions: [{name: eu-west, token_file: %q}]\n", filepath.Join(dir, "eu.token"))
	checks := fmt.Sprintf("  - {name: api, interval: 1s, http: {url: %q, bearer_token_file: %q}}\n", target.URL, filepath.Join(dir, "api.token"))
	e := startWith(t, top, checks)
	agentGet := func(token string) int {
		t.Helper()
		resp, _ := agentRequest(t, http.MethodGet, e.base+"/api/v1/agent/checks", token, nil, nil)
		return resp.StatusCode
	}
	waitFor(t, "the first bearer token sent", func() bool { return saw("Bearer api-token-first") })
	if code := agentGet("eu-west-token-first-0123456789"); code != http.StatusOK {
		t.Fatalf("the first agent token: %d", code)
	}

	write("eu.token", "eu-west-token-second-0123456789")
	write("api.token", "api-token-second")
	if err := e.srv.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	if code := agentGet("eu-west-token-first-0123456789"); code != http.StatusUnauthorized {
		t.Errorf("the old agent token after rotation: %d, want 401", code)
	}
	if code := agentGet("eu-west-token-second-0123456789"); code != http.StatusOK {
		t.Errorf("the new agent token after rotation: %d, want 200", code)
	}
	waitFor(t, "the rotated bearer token sent", func() bool { return saw("Bearer api-token-second") })
}
