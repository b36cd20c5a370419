package bench

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vantageprobe/vantage/probes/probestest"
)

// A soak (Options.Soak) is a bench that also looks for slow trouble: some
// checks probe hostile and flaky targets, alerts go to a receiver that
// counts duplicate notifications, goroutines and RSS are sampled through
// the window, and at the end the run is judged: flat memory and
// goroutines over the last half, no Chromium left behind, every result
// stored, no notification delivered twice.

// soakFarm holds the hostile targets and the alert receiver.
type soakFarm struct {
	HTTP     string // base URL: /hang and /hooks
	ResetTLS string // host:port that resets each connection after the ClientHello
	Refused  string // host:port nobody listens on

	lns []net.Listener
	srv *http.Server
	wg  sync.WaitGroup

	mu            sync.Mutex
	seen          map[string]int // notification key → deliveries
	notifications int
}

func startSoakFarm() (*soakFarm, error) {
	s := &soakFarm{seen: map[string]int{}}
	web, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen on 127.0.0.1: %w", err)
	}
	rst, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		web.Close()
		return nil, fmt.Errorf("listen on 127.0.0.1: %w", err)
	}
	closed, err := freeAddr()
	if err != nil {
		web.Close()
		rst.Close()
		return nil, err
	}
	s.lns = []net.Listener{web, rst}
	s.HTTP, s.ResetTLS, s.Refused = "http://"+web.Addr().String(), rst.Addr().String(), closed
	mux := http.NewServeMux()
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }) // the probe times out
	mux.HandleFunc("POST /hooks", s.hook)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	s.wg.Go(func() { _ = s.srv.Serve(web) })
	s.wg.Go(func() { probestest.ResetAfterHello(rst, nil) })
	return s, nil
}

// hookPayload is what the receiver reads of a webhook notification
// (Alertmanager's webhook format).
type hookPayload struct {
	GroupKey string `json:"groupKey"`
	Status   string `json:"status"`
	Alerts   []struct {
		Status      string    `json:"status"`
		StartsAt    time.Time `json:"startsAt"`
		Fingerprint string    `json:"fingerprint"`
	} `json:"alerts"`
}

// hook counts a notification; the same group, status and alerts (each
// with its start) delivered again is a duplicate.
func (s *soakFarm) hook(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	var p hookPayload
	if err == nil {
		err = json.Unmarshal(body, &p)
	}
	if err != nil {
		http.Error(w, "want an Alertmanager webhook payload", http.StatusBadRequest)
		return
	}
	parts := []string{p.GroupKey, p.Status}
	for _, a := range p.Alerts {
		parts = append(parts, a.Fingerprint+"/"+a.Status+"/"+a.StartsAt.UTC().Format(time.RFC3339Nano))
	}
	slices.Sort(parts[2:])
	key := strings.Join(parts, "|")
	s.mu.Lock()
	s.seen[key]++
	s.notifications++
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// counts returns the notifications received and how many were repeats.
func (s *soakFarm) counts() (notifications, duplicates int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.seen {
		duplicates += n - 1
	}
	return s.notifications, duplicates
}

func (s *soakFarm) Close() error {
	var errs []error
	errs = append(errs, s.srv.Close())
	for _, ln := range s.lns[1:] {
		errs = append(errs, ln.Close())
	}
	s.wg.Wait()
	if err := errors.Join(errs...); err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

// hostileEvery: with Soak, every tenth check (offset 5) probes a hostile
// or flaky target instead, cycling through soakTarget's variants.
const hostileEvery = 10

// soakTarget returns the probe block of hostile check number n.
func soakTarget(n int, f *farm, s *soakFarm) string {
	switch n % 4 {
	case 0: // fails about one run in five
		return fmt.Sprintf("http: {url: %s}", q(f.HTTP+"/flaky"))
	case 1: // never answers: timeouts
		return fmt.Sprintf("http: {url: %s}", q(s.HTTP+"/hang"))
	case 2: // resets the TLS handshake
		return fmt.Sprintf("tls: {address: %s}", q(s.ResetTLS))
	default: // connection refused
		return fmt.Sprintf("tcp: {address: %s}", q(s.Refused))
	}
}

// sampleAt is one sample of the window, for the soak's verdict.
type sampleAt struct {
	at         time.Time
	rss        map[string]int64 // bytes, by process
	goroutines float64          // the server's
}

// Soak is a soak's verdict.
type Soak struct {
	Samples          int                `json:"samples"`
	RSSGrowthMiB     map[string]float64 `json:"rss_growth_mib"` // last quarter's median − second quarter's, by process
	RSSJudged        bool               `json:"rss_judged"`     // false in a race build
	Goroutines       [2]float64         `json:"goroutines"`     // the server's, medians of the second and of the last quarter
	HostileChecks    int                `json:"hostile_checks"`
	Notifications    int                `json:"notifications"`
	Duplicates       int                `json:"duplicate_notifications"`
	ChromiumBefore   int                `json:"chromium_before"`
	ChromiumAfter    int                `json:"chromium_after"`
	Problems         []string           `json:"problems"` // empty: passed
	RSSAllowanceMiB  float64            `json:"rss_allowance_mib"`
	GoroutineAllowed float64            `json:"goroutines_allowed"`
}

// Passed reports whether the soak found nothing.
func (s *Soak) Passed() bool { return s == nil || len(s.Problems) == 0 }

// judge compares the last quarter of the window with the second: memory
// and goroutines that are still climbing at the end are a leak; a process
// warming its caches climbs in the first half. Each quarter counts by its
// median, so that a passing spike (a scrape, a page rebuild, a retention
// pass) is not taken for growth. Under the race detector, whose shadow
// memory grows with every allocation, RSS is reported but not judged.
func judge(samples []sampleAt, soak *Soak) {
	soak.Samples = len(samples)
	soak.RSSGrowthMiB = map[string]float64{}
	soak.RSSJudged = !raceBuild
	if len(samples) < 8 {
		soak.Problems = append(soak.Problems, fmt.Sprintf("only %d samples: run the soak for at least 16 s", len(samples)))
		return
	}
	q := len(samples) / 4
	second, last := samples[q:2*q], samples[len(samples)-q:]
	median := func(ss []sampleAt, f func(sampleAt) float64) float64 {
		v := make([]float64, len(ss))
		for i, s := range ss {
			v[i] = f(s)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	for name := range samples[0].rss {
		rss := func(s sampleAt) float64 { return float64(s.rss[name]) / (1 << 20) }
		a, b := median(second, rss), median(last, rss)
		soak.RSSGrowthMiB[name] = b - a
		allow := max(5, a*0.10)
		soak.RSSAllowanceMiB = max(soak.RSSAllowanceMiB, allow)
		if b-a > allow && soak.RSSJudged {
			soak.Problems = append(soak.Problems, fmt.Sprintf("%s: RSS grew from %.1f to %.1f MiB (medians of the second and the last quarter)", name, a, b))
		}
	}
	gor := func(s sampleAt) float64 { return s.goroutines }
	a, b := median(second, gor), median(last, gor)
	soak.Goroutines = [2]float64{a, b}
	soak.GoroutineAllowed = a + max(10, a*0.2)
	if b > soak.GoroutineAllowed {
		soak.Problems = append(soak.Problems, fmt.Sprintf("server goroutines grew from %.0f to %.0f (medians of the second and the last quarter)", a, b))
	}
}

// chromiumProcesses counts the running processes whose command is a
// Chromium (what browser checks start).
func chromiumProcesses() int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range entries {
		comm, err := os.ReadFile("/proc/" + e.Name() + "/comm")
		if err != nil {
			continue
		}
		c := strings.TrimSpace(string(comm))
		if strings.HasPrefix(c, "chromium") || strings.HasPrefix(c, "chrome") || c == "headless_shell" {
			n++
		}
	}
	return n
}

// finishSoak completes the verdict once everything has stopped.
func finishSoak(soak *Soak, s *soakFarm, equal bool) {
	soak.Notifications, soak.Duplicates = s.counts()
	soak.ChromiumAfter = chromiumProcesses()
	if soak.Duplicates > 0 {
		soak.Problems = append(soak.Problems, fmt.Sprintf("%d of %d notifications delivered twice", soak.Duplicates, soak.Notifications))
	}
	if soak.ChromiumAfter > soak.ChromiumBefore {
		soak.Problems = append(soak.Problems, fmt.Sprintf("%d Chromium processes left behind", soak.ChromiumAfter-soak.ChromiumBefore))
	}
	if !equal {
		soak.Problems = append(soak.Problems, "results were lost (stored ≠ produced)")
	}
	slices.SortStableFunc(soak.Problems, func(a, b string) int { return cmp.Compare(a, b) })
}
