package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vantageprobe/vantage/probes/probestest"
)

// TestDemo runs `vantage demo` in-process and checks that every demo
// target gets probed and shows the state it was built for.
func TestDemo(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	var stderr probestest.SyncBuffer
	go func() {
		done <- run(ctx, []string{"demo", "--listen", "127.0.0.1:0", "--log-level", "error"}, pw, &stderr)
		pw.Close()
	}()
	base, inbox := "", ""
	sc := bufio.NewScanner(pr)
	for sc.Scan() && (base == "" || inbox == "") {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 2 && f[0] == "overview":
			base = strings.TrimSuffix(f[1], "/overview")
		case len(f) >= 3 && f[0] == "sent" && f[1] == "alerts":
			inbox = f[2]
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if base == "" {
		t.Fatalf("demo printed no overview address; stderr:\n%s", stderr.String())
	}
	var list struct {
		Checks []struct {
			Name       string
			State      string
			LastResult *struct{ Warning string } `json:"last_result"`
		}
	}
	deadline := time.Now().Add(40 * time.Second)
	for {
		resp, err := http.Get(base + "/api/v1/checks")
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(resp.Body).Decode(&list)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		missing := 0
		for _, c := range list.Checks {
			if c.LastResult == nil {
				missing++
			}
		}
		if missing == 0 && len(list.Checks) == 8 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo checks without results after 40s: %+v", list.Checks)
		}
		time.Sleep(100 * time.Millisecond)
	}
	states := map[string]string{}
	for _, c := range list.Checks {
		states[c.Name] = c.State
	}
	for name, want := range map[string]string{"api": "up", "mail": "up", "dns": "up", "secure-api": "up", "cert": "degraded", "shop-journey": "up"} {
		if states[name] != want {
			t.Errorf("demo check %s is %s, want %s (all: %v)", name, states[name], want, states)
		}
	}
	// Three regions: the server and two in-process agents.
	eventuallyRegions(t, base)
	// The TLS certificate expires in 10 days: the certificates rule (below
	// 14 days) notifies the demo's webhook inbox; the SLOs are evaluated.
	eventually(t, "a certificate notification in the demo inbox", func() bool {
		resp, err := http.Get(inbox)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(b), `"alertname":"certificates"`) && strings.Contains(string(b), "expires in 10 days")
	})
	// The public status page lists the demo's groups and its incident.
	eventually(t, "the status page", func() bool {
		resp, err := http.Get(base + "/")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode == 200 && strings.Contains(string(b), "Vantage Demo Status") && strings.Contains(string(b), "Flaky API returns errors")
	})
	resp, err := http.Get(base + "/api/v1/slo")
	if err != nil {
		t.Fatal(err)
	}
	var slos struct{ SLOs []struct{ Check string } }
	err = json.NewDecoder(resp.Body).Decode(&slos)
	resp.Body.Close()
	if err != nil || len(slos.SLOs) != 3 {
		t.Fatalf("demo SLOs: %v %+v", err, slos)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("demo exited %d after Ctrl-C", code)
	}
}

// eventuallyRegions waits until the api check has a result from each of
// the demo's three regions.
func eventuallyRegions(t *testing.T, base string) {
	t.Helper()
	eventually(t, "results from local, eu-west and us-east", func() bool {
		resp, err := http.Get(base + "/api/v1/checks/api")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var c struct{ Regions []struct{ Region string } }
		if json.NewDecoder(resp.Body).Decode(&c) != nil {
			return false
		}
		var names []string
		for _, r := range c.Regions {
			names = append(names, r.Region)
		}
		return strings.Join(names, ",") == "eu-west,local,us-east"
	})
}
