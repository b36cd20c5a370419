package probestest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// InNamespace runs body in a child of this test binary that has a user
// and mount namespace of its own (unshare -rm), where it can mount a
// tmpfs, fill it and remount it, as root or not. test is the name of the
// calling test, which the child runs; it skips where unshare or the
// namespaces are missing.
func InNamespace(t *testing.T, test string, body func(*testing.T)) {
	if os.Getenv("VANTAGE_NAMESPACE_CHILD") == test {
		body(t)
		return
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("unshare (util-linux) is missing")
	}
	if out, err := exec.Command(unshare, "-rm", "true").CombinedOutput(); err != nil {
		t.Skipf("no user and mount namespaces here (%v: %s)", err, out)
	}
	cmd := exec.CommandContext(t.Context(), unshare, "-rm", os.Args[0], "-test.run=^"+test+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "VANTAGE_NAMESPACE_CHILD="+test)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+test) {
		t.Fatalf("child: %v\n%s", err, out)
	}
	t.Logf("child:\n%s", out)
}
