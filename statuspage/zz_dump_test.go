package statuspage_test

import (
	"os"
	"testing"
)

func TestDumpBig(t *testing.T) {
	_, h := benchPage(t)
	w := serveIndex(t, h, false)
	os.WriteFile("/tmp/big.html", w.Body.Bytes(), 0o644)
}
