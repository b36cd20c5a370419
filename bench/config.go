package bench

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// check is one generated check.
type check struct {
	name    string
	kind    string
	delayed bool // an HTTP check of the 50 ms target
	hostile int  // with Soak: the hostile target's number (soakTarget); -1: none
}

// delayedEvery: every tenth HTTP check probes the 50 ms target.
const delayedEvery = 10

// plan names the checks: kinds round-robin over the mix.
func plan(o Options) []check {
	cs := make([]check, o.Checks)
	nHTTP := 0
	for i := range cs {
		k := o.Mix[i%len(o.Mix)]
		c := check{kind: k, name: fmt.Sprintf("%s-%05d", k, i), hostile: -1}
		if o.Soak && i%hostileEvery == hostileEvery/2 {
			c.hostile, c.name = i/hostileEvery, fmt.Sprintf("hostile-%05d", i)
			cs[i] = c
			continue
		}
		if k == "http" {
			c.delayed = nHTTP%delayedEvery == 0
			if c.delayed {
				c.name = fmt.Sprintf("http50-%05d", i)
			}
			nHTTP++
		}
		cs[i] = c
	}
	return cs
}

// timeout is the checks' timeout: the interval, at most 5 s.
func timeout(interval time.Duration) time.Duration { return min(interval, 5*time.Second) }

// q quotes s as a YAML double-quoted scalar.
func q(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b)
}

// token returns a fresh random agent token.
func token() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// writeConfig writes the server's config and the agents' token files
// into dir and returns the config's path and each agent region's token
// file. An alert rule over every check keeps alert evaluation on.
// admin is the admin listener's address (reload, /debug/pprof/).
func writeConfig(o Options, f *farm, s *soakFarm, checks []check, listen, admin, dir string) (string, map[string]string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "# vantage bench: %d checks every %s\nserver: {listen: %s, admin_listen: %s, public_api: true}\nstorage: {path: %s}\n",
		o.Checks, o.Interval, q(listen), q(admin), q(filepath.Join(dir, "bench.db")))
	tokens := map[string]string{}
	regions := o.regions()
	if len(regions) > 1 {
		b.WriteString("regions:\n")
		for _, r := range regions[1:] {
			tok := token()
			file := filepath.Join(dir, r+".token")
			if err := os.WriteFile(file, []byte(tok+"\n"), 0o600); err != nil {
				return "", nil, fmt.Errorf("write token file: %w", err)
			}
			tokens[r] = file
			fmt.Fprintf(&b, "  - {name: %s, token: %s}\n", r, q(tok))
		}
	}
	fmt.Fprintf(&b, "defaults: {interval: %s, timeout: %s, regions: [%s]}\n", o.Interval, timeout(o.Interval), strings.Join(regions, ", "))
	hooks := f.HTTP + "/hooks/alerts"
	if s != nil {
		hooks = s.HTTP + "/hooks" // counts duplicates
	}
	fmt.Fprintf(&b, "notifiers:\n  - name: farm\n    webhook: {url: %s}\n", q(hooks))
	b.WriteString("alerts:\n  - {name: down, all: true, consecutive_failures: 3, notify: [farm]}\nchecks:\n")
	tlsAddr := strings.TrimPrefix(f.HTTPS, "https://")
	for _, c := range checks {
		fmt.Fprintf(&b, "  - {name: %s, ", c.name)
		switch {
		case c.hostile >= 0:
			fmt.Fprintf(&b, "%s}\n", soakTarget(c.hostile, f, s))
		case c.delayed:
			fmt.Fprintf(&b, "http: {url: %s}}\n", q(f.Delayed))
		case c.kind == "http":
			fmt.Fprintf(&b, "http: {url: %s}}\n", q(f.HTTP+"/api/health"))
		case c.kind == "tcp":
			fmt.Fprintf(&b, "tcp: {address: %s, expect: \"^220 \"}}\n", q(f.TCP))
		case c.kind == "dns":
			fmt.Fprintf(&b, "dns: {server: %s, name: www.demo.test, type: A}}\n", q(f.DNS))
		case c.kind == "tls":
			fmt.Fprintf(&b, "tls: {address: %s, ca_file: %s, min_days_left: 1}}\n", q(tlsAddr), q(f.CAFile))
		}
	}
	path := filepath.Join(dir, "vantage-bench.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return "", nil, fmt.Errorf("write config: %w", err)
	}
	return path, tokens, nil
}
