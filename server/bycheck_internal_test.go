package server

import (
	"slices"
	"testing"

	"github.com/vantageprobe/vantage/results"
)

// byCheck groups by check whether or not the store sorted, and a group
// appended to never writes into the records of another.
func TestByCheck(t *testing.T) {
	rec := func(check, region string) results.Record { return results.Record{Check: check, Region: region} }
	regions := func(rs []results.Record) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Region)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		recs []results.Record
		want map[string][]string
	}{
		{"none", nil, map[string][]string{}},
		{"sorted", []results.Record{rec("a", "eu"), rec("a", "us"), rec("b", "eu"), rec("c", "ap"), rec("c", "eu")},
			map[string][]string{"a": {"eu", "us"}, "b": {"eu"}, "c": {"ap", "eu"}}},
		{"unsorted", []results.Record{rec("a", "eu"), rec("b", "eu"), rec("a", "us"), rec("b", "us"), rec("a", "ap")},
			map[string][]string{"a": {"eu", "us", "ap"}, "b": {"eu", "us"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs := slices.Clone(tc.recs)
			got := byCheck(recs)
			if len(got) != len(tc.want) {
				t.Fatalf("groups %v, want %v", got, tc.want)
			}
			for check, want := range tc.want {
				if g := regions(got[check]); !slices.Equal(g, want) {
					t.Errorf("%s: regions %v, want %v", check, g, want)
				}
				for _, r := range got[check] {
					if r.Check != check {
						t.Errorf("%s holds a record of %s", check, r.Check)
					}
				}
			}
			for i := range recs {
				if recs[i].Check != tc.recs[i].Check || recs[i].Region != tc.recs[i].Region {
					t.Errorf("record %d was changed: %+v", i, recs[i])
				}
			}
		})
	}
}
