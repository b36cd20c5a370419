package server

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
)

// TestMemberWriter: whatever is written comes back byte for byte from a
// plain gzip reader, at every size around the member boundary; a failing
// destination stops the writer with its error.
func TestMemberWriter(t *testing.T) {
	var pool, chunks sync.Pool
	for _, n := range []int{0, 1, memberSize - 1, memberSize, memberSize + 1, 3*memberSize + 12345} {
		in := make([]byte, n)
		for i := range in {
			in[i] = "abcdefgh\n"[rand.IntN(9)]
		}
		var out bytes.Buffer
		mw := newMemberWriter(&out, &pool, &chunks)
		for rest := in; len(rest) > 0; {
			k := min(len(rest), 1+rand.IntN(100000))
			if _, err := mw.Write(rest[:k]); err != nil {
				t.Fatal(err)
			}
			rest = rest[k:]
		}
		if err := mw.Close(); err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(&out)
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		got, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(got, in) {
			t.Fatalf("%d bytes: read back %d bytes, err %v", n, len(got), err)
		}
	}
	boom := errors.New("scraper gone")
	mw := newMemberWriter(failingWriter{boom}, &pool, &chunks)
	var err error
	for range 10 {
		if _, err = mw.Write(make([]byte, memberSize)); err != nil {
			break
		}
	}
	if cerr := mw.Close(); !errors.Is(cerr, boom) {
		t.Fatalf("Close after a failed write: %v (write: %v)", cerr, err)
	}
}

type failingWriter struct{ err error }

func (f failingWriter) Write([]byte) (int, error) { return 0, f.err }
