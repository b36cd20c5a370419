package probes

// vitalsBinding is the name of the DevTools binding (Runtime.addBinding)
// through which the page reports its Web Vitals to the prober.
const vitalsBinding = "__vantageVitals"

// vitalsJS runs in the top frame of every new document before any page
// script (Page.addScriptToEvaluateOnNewDocument). It observes the buffered
// paint, largest-contentful-paint and layout-shift entries, keeps FCP, LCP
// and CLS (the largest session window: gaps under 1 s, at most 5 s, shifts
// right after input ignored), and reports every change through the binding,
// tagged with the document's timeOrigin. __vantageFlush waits until the
// page's images are decoded and then four animation frames and a task (300 ms
// at most, for a page that gets no frames), so that pending entries are
// delivered, and returns the state as JSON. Paint entries arrive with the
// frame's presentation feedback, which in headless Chromium lags the
// animation frame that painted by two to four frames: two frames miss the
// LCP of an image painted just before the flush about half of the time.
const vitalsJS = `(() => {
  if (window !== window.top) return;
  const st = {o: performance.timeOrigin, fcp: 0, lcp: 0, cls: 0};
  const report = () => {
    const send = window["` + vitalsBinding + `"];
    if (typeof send === "function") send(JSON.stringify(st));
  };
  const observe = (type, fn) => {
    try {
      new PerformanceObserver((list) => { list.getEntries().forEach(fn); report(); })
        .observe({type, buffered: true});
    } catch (e) {}
  };
  observe("paint", (e) => { if (e.name === "first-contentful-paint") st.fcp = e.startTime; });
  observe("largest-contentful-paint", (e) => { st.lcp = e.startTime; });
  let win = 0, first = 0, last = 0;
  observe("layout-shift", (e) => {
    if (e.hadRecentInput) return;
    if (win > 0 && e.startTime - last < 1000 && e.startTime - first < 5000) {
      win += e.value;
    } else {
      win = e.value;
      first = e.startTime;
    }
    last = e.startTime;
    if (win > st.cls) st.cls = win;
  });
  Object.defineProperty(window, "__vantageFlush", {value: () => new Promise((resolve) => {
    let done = false;
    const finish = () => { if (!done) { done = true; report(); resolve(JSON.stringify(st)); } };
    let n = 0;
    const frame = () => { if (++n >= 4) setTimeout(finish, 0); else requestAnimationFrame(frame); };
    Promise.all(Array.from(document.images, (i) => i.decode().catch(() => {})))
      .then(() => requestAnimationFrame(frame));
    setTimeout(finish, 300);
  })});
})()`

// flushVitalsJS asks the current document for its vitals ("" when the
// document was not instrumented, e.g. an error page).
const flushVitalsJS = `typeof window.__vantageFlush === "function" ? window.__vantageFlush() : ""`

// navTimingJS reads the Navigation Timing entry of the current document, in
// milliseconds from the start of its navigation.
const navTimingJS = `(() => {
  const e = performance.getEntriesByType("navigation")[0];
  if (!e) return null;
  return {o: performance.timeOrigin, ds: e.domainLookupStart, de: e.domainLookupEnd,
    cs: e.connectStart, ce: e.connectEnd, ss: e.secureConnectionStart,
    rq: e.requestStart, rs: e.responseStart, re: e.responseEnd,
    dcl: e.domContentLoadedEventStart, load: e.loadEventStart};
})()`

// navTiming is the result of navTimingJS.
type navTiming struct {
	Origin float64 `json:"o"`
	DS     float64 `json:"ds"`
	DE     float64 `json:"de"`
	CS     float64 `json:"cs"`
	CE     float64 `json:"ce"`
	SS     float64 `json:"ss"`
	RQ     float64 `json:"rq"`
	RS     float64 `json:"rs"`
	RE     float64 `json:"re"`
	DCL    float64 `json:"dcl"`
	Load   float64 `json:"load"`
}

// vitals are what vitalsJS reports.
type vitals struct {
	Origin float64 `json:"o"`
	FCP    float64 `json:"fcp"`
	LCP    float64 `json:"lcp"`
	CLS    float64 `json:"cls"`
}
