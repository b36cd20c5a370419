package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A body is one JSON value: what follows it is refused, not ignored.
func TestDecodeOne(t *testing.T) {
	for body, ok := range map[string]bool{
		`{"a": 1}`:               true,
		"{\"a\": 1}\n\t ":        true,
		`{"a": 1} garbage`:       false,
		`{"a": 1}{"a": 2}`:       false,
		`{"a": 1} {"b": 2}`:      false,
		`{"a": 1}` + "\n" + `[]`: false,
	} {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		var out struct{ A int }
		err := decodeBody(w, r, &out)
		if (err == nil) != ok || ok && out.A != 1 {
			t.Errorf("%q: %v, %+v", body, err, out)
		}
		if !ok && err != nil && !strings.Contains(err.Error(), "data after the JSON value") && !strings.Contains(err.Error(), "unknown field") {
			t.Errorf("%q: %v does not say what is wrong", body, err)
		}
	}
}
