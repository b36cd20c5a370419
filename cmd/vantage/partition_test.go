package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// netns is a network namespace made for a test, joined to the host by a
// veth pair: the host side has hostIP; inside, only the peer and the
// namespace's own loopback exist, so the host's 127.0.0.1 is out of reach.
type netns struct {
	name, hostIP string
}

func newNetns(t *testing.T) netns {
	t.Helper()
	if os.Getuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("the partition test needs root (CI runs as root)")
		}
		t.Skip("needs root for a network namespace")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Fatalf("iproute2's ip is missing (make test installs it): %v", err)
	}
	id := os.Getpid() % 100000
	n := netns{name: fmt.Sprintf("vantage-test-%d", id), hostIP: fmt.Sprintf("10.213.%d.1", id%250)}
	host, peer := fmt.Sprintf("vth%da", id), fmt.Sprintf("vth%db", id)
	nsIP := fmt.Sprintf("10.213.%d.2/30", id%250)
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	t.Cleanup(func() {
		_ = exec.Command("ip", "netns", "del", n.name).Run()
		_ = exec.Command("ip", "link", "del", host).Run()
	})
	ip("netns", "add", n.name)
	ip("link", "add", host, "type", "veth", "peer", "name", peer)
	ip("link", "set", peer, "netns", n.name)
	ip("addr", "add", n.hostIP+"/30", "dev", host)
	ip("link", "set", host, "up")
	ip("netns", "exec", n.name, "ip", "addr", "add", nsIP, "dev", peer)
	ip("netns", "exec", n.name, "ip", "link", "set", peer, "up")
	ip("netns", "exec", n.name, "ip", "link", "set", "lo", "up")
	return n
}

// TestPartition: an agent in a network namespace cannot reach the target
// (its 127.0.0.1 is not the host's) while the server and another agent
// can: the check is degraded, not down. When the target goes away for
// every region, a quorum fails and it is down.
func TestPartition(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process test")
	}
	ns := newNetns(t)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(target.Close)
	dir := t.TempDir()
	ln, err := net.Listen("tcp", ns.hostIP+":0")
	if err != nil {
		t.Fatal(err)
	}
	listen := ln.Addr().String()
	ln.Close()
	cfg, base, agentArgs := twoRegions(t, dir, listen, "local, eu-west, us-east", target.URL)
	subprocess(t, "serve", "-c", cfg, "--log-level", "error")
	subprocessIn(t, []string{"ip", "netns", "exec", ns.name}, agentArgs("eu-west", "eu")...)
	subprocess(t, agentArgs("us-east", "us")...)

	want := func(state string, regions map[string]string) func() bool {
		return func() bool {
			resp, err := http.Get(base + "/api/v1/checks/api")
			if err != nil {
				return false
			}
			defer resp.Body.Close()
			var c struct {
				State   string
				Regions []struct{ Region, State string }
			}
			if json.NewDecoder(resp.Body).Decode(&c) != nil || c.State != state {
				return false
			}
			got := map[string]string{}
			for _, r := range c.Regions {
				got[r.Region] = r.State
			}
			return fmt.Sprint(got) == fmt.Sprint(regions)
		}
	}
	eventually(t, "degraded: only the partitioned region fails", want("degraded", map[string]string{"eu-west": "down", "local": "up", "us-east": "up"}))
	target.Close()
	eventually(t, "down: every region fails", want("down", map[string]string{"eu-west": "down", "local": "down", "us-east": "down"}))
}
