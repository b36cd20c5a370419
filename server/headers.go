package server

import "net/http"

// defaultCSP is the Content-Security-Policy of every response that does
// not set its own: JSON, text and the profiler load nothing and may not be
// framed. The HTML pages (status page, overview, admin view) set theirs.
const defaultCSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// secureHeaders sets the security headers every response carries before
// next runs; a handler may replace the policy with its own.
func secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", defaultCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}
