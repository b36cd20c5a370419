package statuspage

// View models: plain values the templates render. Everything in them is
// public (built through visibility) and already formatted; templates read
// no clock and query nothing.

// layoutView is what every HTML page shares.
type layoutView struct {
	SiteTitle   string
	Description string
	Heading     string // the <title> before the site title; "" on the index
	Home        string // href of the page root
	CSS         string // href of the stylesheet
	AtomHref    string
	RSSHref     string
	JSONHref    string
	HistoryHref string
	TimeZone    string
	Updated     timeView
}

// timeView is a time as <time datetime=…>text</time>.
type timeView struct {
	ISO  string // RFC 3339 UTC
	Text string // in the page's time zone
}

type indexView struct {
	Layout       layoutView
	Banner       bannerView
	Active       []maintView
	Upcoming     []maintView
	Open         []incidentView
	Groups       []groupView
	ShowRegions  bool
	ShowResponse bool
}

type bannerView struct {
	Text, Class string
}

type groupView struct {
	Name       string
	ID         string // anchor
	Components []componentView
}

type componentView struct {
	Name        string
	Href        string // the component's page
	Status      string // word
	Class       string // status class
	Uptime      string // 90 days, "99.95%", or "No data"
	Bars        []barView
	BarsText    string // accessible summary of the 90 days
	Regions     []regionView
	Chart       chartView // on the index: p50 and p95 of all regions
	DetailChart chartView // on the component's page: p50 and p95 of each region
	WeekChart   chartView // on the component's page: the same over 7 days
	Days        []dayView // newest first; the component page only
}

// barView is the strokes of one colour of day bars, in a <g> when there
// are several.
type barView struct {
	Class string
	Paths []barPath
}

// barPath is one stroke and its tooltip ("" for none).
type barPath struct {
	D, Title string
}

type regionView struct {
	Name, Status, Class string
	Line                string // CSS class of its chart lines
	P50, P95            string // last 24 h; "" when response times are hidden or unknown
	Error               string // only with show.errors
}

type chartView struct {
	Lines []lineView
	Label string // accessible description
	Max   string // value at the top of the chart
	Span  string // "24 h", "7 days"
	Width int    // viewBox width: the points − 1
	Empty bool
}

type lineView struct {
	Class, D string
}

type dayView struct {
	Date      timeView
	Uptime    string
	Downtime  string
	Class     string
	Note      string // degraded, maintenance
	Incidents []linkView
}

type linkView struct {
	Text, Href string
}

type incidentView struct {
	ID         string
	Href       string
	Title      string
	Status     string
	StatusKey  string // investigating … resolved, for the CSS class
	Impact     string
	ImpactKey  string
	Components []string
	Created    timeView
	Updated    timeView
	Resolved   timeView     // zero ISO while open
	Updates    []updateView // newest first
	Open       bool
}

type updateView struct {
	Status string
	At     timeView
	Body   []segment
}

// segment is a piece of an update body: text, or a link when URL is set
// (only http and https URLs ever become links).
type segment struct {
	Text, URL string
}

type maintView struct {
	ID          string
	Name        string
	Description string
	Components  []string
	Start, End  timeView
	Status      string // Scheduled, In progress, Completed
}

type historyView struct {
	Layout      layoutView
	Months      []monthView
	Maintenance []maintView
}

type monthView struct {
	Name      string
	Incidents []incidentView
}

type incidentPageView struct {
	Layout   layoutView
	Incident incidentView
}

type componentPageView struct {
	Layout       layoutView
	Component    componentView
	ShowRegions  bool
	ShowResponse bool
}

type errorView struct {
	Layout  layoutView
	Message string
}
