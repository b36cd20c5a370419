package alertstest

import (
	"cmp"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// Answer is one scripted reply of a Server.
type Answer struct {
	Status int               // 0: 200
	Body   string            // written as it is
	Header map[string]string // empty values are not sent
	// Reset closes the connection with a TCP reset instead of answering.
	Reset bool
}

// Request is one request a Server received.
type Request struct {
	Method string
	URL    *url.URL
	Header http.Header
	Body   []byte
}

// Form is the request's body decoded as an HTML form (nil if it is none).
func (r Request) Form() url.Values {
	form, _ := url.ParseQuery(string(r.Body))
	return form
}

// BasicAuth returns the credentials of the request's Authorization
// header, as http.Request.BasicAuth does.
func (r Request) BasicAuth() (user, pass string, ok bool) {
	return (&http.Request{Header: r.Header}).BasicAuth()
}

// Server is an HTTP receiver on 127.0.0.1 that records every request and
// plays its answers in order, the last one repeating (none: 200 and no
// body). It closes when the test ends.
type Server struct {
	// URL is the server's base URL, http://127.0.0.1:port.
	URL string

	srv     *httptest.Server
	mu      sync.Mutex
	reqs    []Request
	answers []Answer
}

// NewServer starts a Server that plays answers.
func NewServer(t testing.TB, answers ...Answer) *Server {
	t.Helper()
	s := &Server{answers: answers}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	if !strings.HasPrefix(s.srv.URL, "http://127.0.0.1:") {
		t.Fatalf("not on loopback: %s", s.srv.URL)
	}
	s.URL = s.srv.URL
	return s
}

// Client returns a client for the server.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Close shuts the server down, so that the next request to it fails.
func (s *Server) Close() { s.srv.Close() }

// Requests returns the requests received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Last returns the latest request, failing t if there is none.
func (s *Server) Last(t testing.TB) Request {
	t.Helper()
	reqs := s.Requests()
	if len(reqs) == 0 {
		t.Fatal("no request received")
	}
	return reqs[len(reqs)-1]
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	a := s.record(Request{Method: r.Method, URL: r.URL, Header: r.Header.Clone(), Body: body})
	if a.Reset {
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			if tcp, ok := conn.(*net.TCPConn); ok {
				_ = tcp.SetLinger(0)
			}
			conn.Close()
		}
		return
	}
	for k, v := range a.Header {
		if v != "" {
			w.Header().Set(k, v)
		}
	}
	w.WriteHeader(cmp.Or(a.Status, http.StatusOK))
	_, _ = io.WriteString(w, a.Body)
}

// record keeps r and returns the answer to play.
func (s *Server) record(r Request) Answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = append(s.reqs, r)
	var a Answer
	if len(s.answers) > 0 {
		a = s.answers[0]
		if len(s.answers) > 1 {
			s.answers = s.answers[1:]
		}
	}
	return a
}
