package statuspage

// compStatus is a component's status in Statuspage's terms, plus unknown.
type compStatus int

// Component statuses, best first; unknown is neither good nor bad.
const (
	statusOperational compStatus = iota
	statusMaintenance
	statusDegraded
	statusPartial
	statusMajor
	statusUnknown
)

// componentStatus derives a component's status from the check's state: an
// active maintenance window or the maintenance state → under maintenance;
// down (a quorum of regions failing) → major outage; degraded with a region
// down (a minority failing) → partial outage; degraded otherwise (latency,
// certificate warnings) → degraded performance.
func componentStatus(st CheckState, known, inMaintenance bool) compStatus {
	switch {
	case inMaintenance || st.State == StateMaintenance:
		return statusMaintenance
	case !known:
		return statusUnknown
	case st.State == StateDown:
		return statusMajor
	case st.State == StateDegraded:
		for _, r := range st.Regions {
			if r.State == StateDown {
				return statusPartial
			}
		}
		return statusDegraded
	case st.State == StateUp:
		return statusOperational
	}
	return statusUnknown
}

// word is how the page says the status.
func (s compStatus) word() string {
	return [...]string{"Operational", "Under maintenance", "Degraded performance", "Partial outage", "Major outage", "No data"}[s]
}

// class is the CSS class of the status (colour and icon).
func (s compStatus) class() string {
	return [...]string{"s-op", "s-mt", "s-dg", "s-pa", "s-ma", "s-un"}[s]
}

// apiStatus is the Statuspage component status. Statuspage has no
// "unknown": a component without fresh data reports operational, since no
// data is no evidence of an outage (the HTML page says "No data").
func (s compStatus) apiStatus() string {
	return [...]string{"operational", "under_maintenance", "degraded_performance", "partial_outage", "major_outage", "operational"}[s]
}

// indicator is the page indicator a component status raises.
func (s compStatus) indicator() indicator {
	return [...]indicator{indNone, indMaintenance, indMinor, indMajor, indCritical, indNone}[s]
}

// regionWord is how the page says a region's state.
func regionWord(s State) (word, class string) {
	switch s {
	case StateUp:
		return "Operational", "s-op"
	case StateDegraded:
		return "Degraded", "s-dg"
	case StateDown:
		return "Down", "s-ma"
	case StateMaintenance:
		return "Maintenance", "s-mt"
	}
	return "No data", "s-un"
}

// indicator is Statuspage's page indicator, least severe first.
type indicator int

const (
	indNone indicator = iota
	indMaintenance
	indMinor
	indMajor
	indCritical
)

func (i indicator) String() string {
	return [...]string{"none", "maintenance", "minor", "major", "critical"}[i]
}

// banner is the headline for the indicator.
func (i indicator) banner() string {
	return [...]string{"All systems operational", "Under maintenance", "Degraded performance", "Partial outage", "Major outage"}[i]
}

func (i indicator) class() string {
	return [...]string{"s-op", "s-mt", "s-dg", "s-pa", "s-ma"}[i]
}

// impactIndicator is the indicator an open incident of impact raises.
func impactIndicator(im Impact) indicator {
	switch im {
	case ImpactMinor:
		return indMinor
	case ImpactMajor:
		return indMajor
	case ImpactCritical:
		return indCritical
	}
	return indNone
}

// statusWord is an incident status for people.
func statusWord(s IncidentStatus) string {
	switch s {
	case Investigating:
		return "Investigating"
	case Identified:
		return "Identified"
	case Monitoring:
		return "Monitoring"
	case Resolved:
		return "Resolved"
	}
	return "Update"
}

// impactWord is an incident impact for people.
func impactWord(im Impact) string {
	switch im {
	case ImpactMinor:
		return "Minor impact"
	case ImpactMajor:
		return "Major impact"
	case ImpactCritical:
		return "Critical impact"
	}
	return "No impact"
}
