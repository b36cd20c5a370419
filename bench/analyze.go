package bench

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/vantageprobe/vantage/results"
	"github.com/vantageprobe/vantage/results/sqlite"
	"github.com/vantageprobe/vantage/scheduler"
)

// analysis is what the stored results say, read once the server stopped.
type analysis struct {
	stored          map[string]int64 // by region, the whole run
	probes, failed  int64            // started in the window
	failures        map[string]int64 // failed in the window, by error class
	lags, gaps      []time.Duration  // of runs started in the window
	delayed         []time.Duration  // durations of passed probes of the 50 ms target in the window
	delayedParts    delayedParts     // the same probes' durations, in parts
	allRunningAfter time.Duration    // longest time from a process's start to a check's first run there
	missing         int              // check × region pairs that never ran
}

// maxRecords bounds one check's results read back (every region, the
// whole run).
const maxRecords = 1 << 22

// analyze reads every check's results from the database at path.
func analyze(ctx context.Context, path string, checks []check, o Options, from, to time.Time, starts map[string]time.Time) (*analysis, error) {
	st, err := sqlite.Open(ctx, sqlite.Options{Path: path, MaxResults: maxRecords, PruneInterval: -1, ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("open results: %w", err)
	}
	defer st.Close()
	a := &analysis{stored: map[string]int64{}, failures: map[string]int64{}}
	for _, c := range checks {
		recs, err := st.Results(ctx, results.Query{Check: c.name, Limit: maxRecords})
		if err != nil {
			return nil, fmt.Errorf("read results of %s: %w", c.name, err)
		}
		a.add(c, recs, o, from, to, starts)
	}
	return a, nil
}

// add folds one check's records (every region) into a.
func (a *analysis) add(c check, recs []results.Record, o Options, from, to time.Time, starts map[string]time.Time) {
	byRegion := map[string][]time.Time{}
	for _, rec := range recs {
		a.stored[rec.Region]++
		byRegion[rec.Region] = append(byRegion[rec.Region], rec.Started)
		if rec.Started.Before(from) || !rec.Started.Before(to) {
			continue
		}
		a.probes++
		if !rec.OK {
			a.failed++
			a.failures[rec.ErrorClass]++
		} else if c.delayed {
			a.delayed = append(a.delayed, rec.Duration)
			a.delayedParts.add(rec)
		}
		a.lags = append(a.lags, rec.Started.Sub(scheduler.Slot(c.name, rec.Region, o.Interval, rec.Started)))
	}
	for _, region := range o.regions() {
		ts := byRegion[region]
		if len(ts) == 0 {
			a.missing++
			continue
		}
		slices.SortFunc(ts, time.Time.Compare)
		a.allRunningAfter = max(a.allRunningAfter, ts[0].Sub(starts[region]))
		for i := 1; i < len(ts); i++ {
			if !ts[i].Before(from) && ts[i].Before(to) {
				a.gaps = append(a.gaps, ts[i].Sub(ts[i-1]))
			}
		}
	}
}

// delayedParts splits the 50 ms target's durations, to tell the prober's
// share of an overshoot from the target's: processing (request written →
// first byte, stamped by the kernel on arrival) is the target's wait and
// its own wake-up; connect and the rest (building and writing the request,
// reading the body) are the prober's side.
type delayedParts struct {
	processing, connect, rest []time.Duration
}

func (d *delayedParts) add(rec results.Record) {
	ph := rec.Phases
	d.processing = append(d.processing, ph.Processing)
	d.connect = append(d.connect, ph.Connect)
	d.rest = append(d.rest, rec.Duration-ph.Resolve-ph.Connect-ph.TLS-ph.Processing)
}

// quantile returns the q-quantile of ds (nearest rank); ds gets sorted.
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(q*float64(len(ds))+0.5) - 1
	return ds[min(max(i, 0), len(ds)-1)]
}
