package statuspage

import "slices"

// visibility is the one place that decides what is public. Every public
// endpoint renders from a snapshot, and every name, state, number and text
// in a snapshot went through it: checks not listed in the config's groups,
// their incidents and maintenance, and error text (unless show.errors)
// never get in. Targets and hostnames are not even in the Source's types.
type visibility struct {
	public map[string]bool
	order  []string // public checks in page order
	errors bool
}

func newVisibility(cfg Config) visibility {
	v := visibility{public: map[string]bool{}, errors: cfg.Show.Errors}
	for _, name := range cfg.Checks() {
		if !v.public[name] {
			v.public[name] = true
			v.order = append(v.order, name)
		}
	}
	return v
}

// check reports whether the named check is public.
func (v visibility) check(name string) bool { return v.public[name] }

// checks returns the public checks among names, in their order.
func (v visibility) checks(names []string) []string {
	var out []string
	for _, n := range names {
		if v.public[n] && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// incident returns the public checks an incident affects, and whether the
// incident is public at all: one that names no check is page-wide (public);
// one that names checks of which none is public is private.
func (v visibility) incident(in Incident) ([]string, bool) {
	if len(in.Checks) == 0 {
		return nil, true
	}
	pub := v.checks(in.Checks)
	return pub, len(pub) > 0
}

// maintenance returns the public checks a maintenance window covers, and
// whether it is public (it covers at least one public check).
func (v visibility) maintenance(m Maintenance) ([]string, bool) {
	if m.All {
		return v.order, len(v.order) > 0
	}
	pub := v.checks(m.Checks)
	return pub, len(pub) > 0
}

// errorText is msg when error text is public, else "".
func (v visibility) errorText(msg string) string {
	if !v.errors {
		return ""
	}
	return msg
}
