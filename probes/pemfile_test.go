package probes_test

import (
	"os"
	"strings"
	"testing"

	"github.com/vantageprobe/vantage/probes"
)

// A ca_file, cert_file or key_file that is not one (/dev/zero, a log) is
// an error once past the limit, not a hang or an out-of-memory kill.
func TestReadPEMFileLimit(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	if _, err := probes.ReadPEMFile("/dev/zero"); err == nil || !strings.Contains(err.Error(), "more than 8388608 bytes") {
		t.Fatalf("ReadPEMFile(/dev/zero): %v", err)
	}
	if _, err := probes.ReadPEMFile("/nonexistent/ca.pem"); err == nil {
		t.Fatal("a missing file read")
	}
}
