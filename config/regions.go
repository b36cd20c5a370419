package config

import (
	"crypto/subtle"
	"fmt"
	"regexp"
)

var regionName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// minTokenLen is the shortest agent token accepted.
const minTokenLen = 16

// validateRegions checks the region list, adds the local region when it is
// not listed, and defaults defaults.regions to [local].
func (c *Config) validateRegions(pos Positions) []Problem {
	var ps []Problem
	at := func(path, format string, args ...any) {
		p := pos.Lookup(path)
		ps = append(ps, Problem{Line: p.Line, Column: p.Column, Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	seen := map[string]int{}
	hasLocal := false
	for i, r := range c.Regions {
		path := fmt.Sprintf("regions[%d]", i)
		switch j, dup := seen[r.Name]; {
		case !regionName.MatchString(r.Name):
			at(path+".name", "%q must be 1-63 characters of a-z, 0-9 and -, starting with a letter or digit", r.Name)
		case dup:
			at(path+".name", "%q is already the name of regions[%d]", r.Name, j)
		default:
			seen[r.Name] = i
		}
		switch {
		case r.Name == LocalRegion:
			hasLocal = true
			if r.Token != "" {
				at(path+".token", "the local region is the server itself and has no token")
			}
		case r.Token == "":
			at(path, "needs a token (token or token_file) for its agent")
		case len(r.Token) < minTokenLen:
			at(path+".token", "must be at least %d characters", minTokenLen)
		}
		for k := range i {
			if r.Token != "" && subtle.ConstantTimeCompare([]byte(r.Token), []byte(c.Regions[k].Token)) == 1 {
				at(path+".token", "is the same as the token of regions[%d]: each agent needs its own", k)
			}
		}
	}
	if !hasLocal {
		c.Regions = append([]Region{{Name: LocalRegion}}, c.Regions...)
	}
	if len(c.Defaults.Regions) == 0 {
		c.Defaults.Regions = []string{LocalRegion}
	}
	ps = append(ps, c.checkRegionList(pos, "defaults.regions", c.Defaults.Regions)...)
	return ps
}

// RegionNames returns the names of every region, local first.
func (c *Config) RegionNames() []string {
	out := make([]string, len(c.Regions))
	for i, r := range c.Regions {
		out[i] = r.Name
	}
	return out
}

// checkRegionList reports unknown and repeated regions of a list.
func (c *Config) checkRegionList(pos Positions, path string, list []string) []Problem {
	var ps []Problem
	known := map[string]bool{}
	for _, r := range c.Regions {
		known[r.Name] = true
	}
	seen := map[string]bool{}
	for i, name := range list {
		p := fmt.Sprintf("%s[%d]", path, i)
		q := pos.Lookup(p)
		switch {
		case !known[name]:
			ps = append(ps, Problem{Line: q.Line, Column: q.Column, Path: p, Msg: fmt.Sprintf("unknown region %q (regions: %v)", name, c.RegionNames())})
		case seen[name]:
			ps = append(ps, Problem{Line: q.Line, Column: q.Column, Path: p, Msg: fmt.Sprintf("region %q is listed twice", name)})
		}
		seen[name] = true
	}
	return ps
}

// validateCheckRegions defaults a check's regions and quorum and checks them.
func (c *Config) validateCheckRegions(pos Positions, path string, ch *Check) []Problem {
	if len(ch.Regions) == 0 {
		ch.Regions = append([]string(nil), c.Defaults.Regions...)
	}
	ps := c.checkRegionList(pos, path+".regions", ch.Regions)
	n := len(ch.Regions)
	switch {
	case ch.Quorum == 0:
		ch.Quorum = n/2 + 1
	case ch.Quorum < 0 || ch.Quorum > n:
		q := pos.Lookup(path + ".quorum")
		ps = append(ps, Problem{Line: q.Line, Column: q.Column, Path: path + ".quorum",
			Msg: fmt.Sprintf("must be between 1 and the number of the check's regions (%d), got %d", n, ch.Quorum)})
	}
	return ps
}
