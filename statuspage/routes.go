package statuspage

import (
	"bytes"
	"context"
	"fmt"
	"net/http"

	"github.com/a-h/templ"
)

// routes are the public endpoints; every one renders from the current
// snapshot, so every one shows only what visibility let in.
func (p *Page) routes() http.Handler {
	mux := http.NewServeMux()
	page := func(key string, render func(context.Context, *snapshot) (*response, error)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { p.respond(w, r, key, render) }
	}
	mux.HandleFunc("GET /{$}", page("index", p.renderIndex))
	mux.HandleFunc("GET /history", page("history", p.renderHistory))
	mux.HandleFunc("GET /incidents/{id}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		p.respond(w, r, "incident/"+id, func(ctx context.Context, s *snapshot) (*response, error) { return p.renderIncident(ctx, s, id) })
	})
	mux.HandleFunc("GET /components/{check}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("check")
		p.respond(w, r, "component/"+name, func(ctx context.Context, s *snapshot) (*response, error) {
			return p.renderComponent(ctx, s, name)
		})
	})
	mux.HandleFunc("GET /feed.atom", page("atom", p.renderAtom))
	mux.HandleFunc("GET /feed.rss", page("rss", p.renderRSS))
	for path, view := range apiViews {
		mux.HandleFunc("GET /api/v2/"+path, page("api/"+path, func(_ context.Context, s *snapshot) (*response, error) { return p.renderAPI(s, view) }))
	}
	mux.HandleFunc("GET /badge/{check}/{kind}", p.serveBadge)
	mux.HandleFunc("GET /static/{name}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("name") != p.cssName {
			serve(w, r, p.notFound)
			return
		}
		serve(w, r, p.css)
	})
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) { serve(w, r, p.notFound) })
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The mux's own answers (405) get the headers too; serve replaces them.
		securityHeaders(w.Header(), "text/plain")
		mux.ServeHTTP(w, r)
	})
}

// respond serves the response of key from the current snapshot; a render
// that returns nil, nil means "not found" (unknown or private).
func (p *Page) respond(w http.ResponseWriter, r *http.Request, key string, render func(context.Context, *snapshot) (*response, error)) {
	s, err := p.current(r.Context())
	if err != nil {
		p.unavailable(w, r)
		return
	}
	// A render is kept for every later visitor: it does not stop when
	// this one leaves.
	ctx := context.WithoutCancel(r.Context())
	resp, err := s.get(key, func() (*response, error) { return render(ctx, s) })
	switch {
	case err != nil:
		p.log.Error("status page render failed", "kind", key, "err", err)
		p.unavailable(w, r)
	case resp == nil:
		serve(w, r, p.notFound)
	default:
		serve(w, r, resp)
	}
}

func (p *Page) unavailable(w http.ResponseWriter, r *http.Request) {
	resp, err := p.renderError(r.Context(), http.StatusServiceUnavailable, "Status temporarily unavailable")
	if err != nil {
		http.Error(w, "status temporarily unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Retry-After", "5")
	serve(w, r, resp)
}

// html renders c into an HTML response of s.
func renderHTML(ctx context.Context, s *snapshot, c templ.Component) (*response, error) {
	var b bytes.Buffer
	if err := c.Render(ctx, &b); err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	return newResponse(http.StatusOK, "text/html; charset=utf-8", cacheHTML, b.Bytes(), s.built), nil
}

func (p *Page) renderIndex(ctx context.Context, s *snapshot) (*response, error) {
	return renderHTML(ctx, s, indexPage(s.index))
}

func (p *Page) renderHistory(ctx context.Context, s *snapshot) (*response, error) {
	return renderHTML(ctx, s, historyPage(p.historyView(s)))
}

func (p *Page) renderIncident(ctx context.Context, s *snapshot, id string) (*response, error) {
	in, ok := s.incViews[id]
	if !ok {
		return nil, nil
	}
	l := s.layout
	l.Heading = in.Title
	return renderHTML(ctx, s, incidentPage(incidentPageView{Layout: l, Incident: in}))
}

func (p *Page) renderComponent(ctx context.Context, s *snapshot, name string) (*response, error) {
	c := s.components[name]
	if c == nil {
		return nil, nil
	}
	l := s.layout
	l.Heading = c.name
	cv := c.view
	for i := len(c.days) - 1; i >= 0; i-- {
		cv.Days = append(cv.Days, p.dayView(c.days[i]))
	}
	if p.cfg.Show.responseTimes() {
		cv.WeekChart = p.weekChart(ctx, c, s.built)
	}
	return renderHTML(ctx, s, componentPage(componentPageView{
		Layout: l, Component: cv, ShowRegions: p.cfg.Show.regions(),
		ShowResponse: p.cfg.Show.responseTimes(),
	}))
}
