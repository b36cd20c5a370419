package server

import (
	"testing"
	"time"

	"github.com/vantageprobe/vantage/config"
	"github.com/vantageprobe/vantage/results"
)

func TestCheckState(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	check := config.Check{Name: "api", Interval: 30 * time.Second, Regions: []string{"local", "eu", "us"}, Quorum: 2}
	rec := func(region string, ok, degraded bool, age time.Duration) results.Record {
		return results.Record{Check: "api", Region: region, OK: ok, Degraded: degraded, Started: now.Add(-age)}
	}
	const fresh, stale = 10 * time.Second, 2 * time.Minute
	tests := []struct {
		name   string
		latest []results.Record
		want   string
	}{
		{"no data", nil, StateUnknown},
		{"all up", []results.Record{rec("local", true, false, fresh), rec("eu", true, false, fresh), rec("us", true, false, fresh)}, StateUp},
		{"one region fails: below quorum", []results.Record{rec("local", true, false, fresh), rec("eu", false, false, fresh), rec("us", true, false, fresh)}, StateDegraded},
		{"quorum fails", []results.Record{rec("local", false, false, fresh), rec("eu", false, false, fresh), rec("us", true, false, fresh)}, StateDown},
		{"degraded result", []results.Record{rec("local", true, true, fresh), rec("eu", true, false, fresh)}, StateDegraded},
		{"offline regions do not count as failing", []results.Record{rec("local", false, false, fresh), rec("eu", false, false, stale), rec("us", false, false, stale)}, StateDegraded},
		{"only stale data", []results.Record{rec("local", false, false, stale)}, StateUnknown},
		{"a region the check no longer uses is ignored", []results.Record{rec("local", true, false, fresh), rec("ap", false, false, fresh), rec("old", false, false, fresh)}, StateUp},
	}
	for _, tt := range tests {
		if got := checkState(check, tt.latest, now); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
	single := config.Check{Name: "db", Interval: time.Minute, Regions: []string{"local"}, Quorum: 1}
	if got := checkState(single, []results.Record{{Region: "local", Started: now}}, now); got != StateDown {
		t.Errorf("single region failing: %s, want down", got)
	}
}
