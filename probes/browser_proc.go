package probes

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Chromium is a tree of processes (browser, zygotes, renderers, GPU and
// network utilities) plus two crash handlers it starts outside the tree.
// These helpers find them in /proc: by parentage from the browser's PID, and
// by the profile dir in their command lines: every Chromium process gets
// --user-data-dir=DIR, and the crash handlers --database=DIR/... (HOME is
// DIR). The dir is a fresh temporary one, so this also finds the orphans of
// a crashed browser.

// chromiumTree returns the number of live processes in the tree rooted at
// pid and their memory in bytes (see residentBytes).
func chromiumTree(pid int) (n int, rss int64) {
	for _, p := range descendants(pid) {
		if r, ok := residentBytes(p); ok {
			n++
			rss += r
		}
	}
	return n, rss
}

// chromiumProcesses counts the tree of pid plus any process that mentions
// the profile dir in its command line (crash handlers, which Chromium
// starts outside its tree, and orphans of a crash), each once.
func chromiumProcesses(pid int, dir string) (n int, rss int64) {
	seen := map[int]bool{}
	for _, p := range descendants(pid) {
		seen[p] = true
	}
	for _, p := range processesUsing(dir) {
		seen[p] = true
	}
	for p := range seen {
		if r, ok := residentBytes(p); ok {
			n++
			rss += r
		}
	}
	return n, rss
}

// descendants returns pid and all its descendants, from the children lists
// the kernel keeps per thread (/proc/PID/task/TID/children).
func descendants(pid int) []int {
	if pid <= 0 {
		return nil
	}
	out := []int{pid}
	for i := 0; i < len(out); i++ {
		tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(out[i]) + "/task/*/children")
		for _, t := range tasks {
			b, err := os.ReadFile(t)
			if err != nil {
				continue
			}
			for _, f := range strings.Fields(string(b)) {
				if c, err := strconv.Atoi(f); err == nil {
					out = append(out, c)
				}
			}
		}
	}
	return out
}

// residentBytes is a process's proportional set size (/proc/PID/smaps_rollup
// Pss): its private resident pages plus its share of the pages it shares.
// Chromium's processes share much of their memory (the binary, shared
// memory segments), so summing their plain RSS would count it many times
// over; the sum of PSS is the tree's real footprint. ok is false when the
// process is gone or a zombie.
func residentBytes(pid int) (int64, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/smaps_rollup")
	if err != nil || len(b) == 0 {
		return 0, false
	}
	for line := range bytes.SplitSeq(b, []byte{'\n'}) {
		rest, ok := bytes.CutPrefix(line, []byte("Pss:"))
		if !ok {
			continue
		}
		f := strings.Fields(string(rest)) // "123 kB"
		if len(f) == 0 {
			break
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			break
		}
		return kb << 10, !isZombie(pid)
	}
	return 0, false
}

func isZombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] == 'Z'
}

// processesUsing returns the processes started with the profile dir dir.
// Zygote children rewrite their command line with spaces for NULs, so the
// flags are matched as substrings ending at a separator.
func processesUsing(dir string) []int {
	if dir == "" {
		return nil
	}
	flags := [][]byte{[]byte("--user-data-dir=" + dir), []byte("--database=" + dir)}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && (mentions(cmdline, flags[0]) || mentions(cmdline, flags[1])) {
			out = append(out, pid)
		}
	}
	return out
}

// mentions reports whether cmdline holds flag followed by a separator or
// a path below it.
func mentions(cmdline, flag []byte) bool {
	for len(cmdline) > 0 {
		i := bytes.Index(cmdline, flag)
		if i < 0 {
			return false
		}
		cmdline = cmdline[i+len(flag):]
		if len(cmdline) == 0 || cmdline[0] == 0 || cmdline[0] == ' ' || cmdline[0] == '/' {
			return true
		}
	}
	return false
}

// killLeftovers SIGKILLs every process still using the profile dir, looking
// again until three passes in a row find none (a child can fork while its
// parent dies), for at most two seconds.
func killLeftovers(dir string) {
	deadline := time.Now().Add(2 * time.Second)
	for quiet := 0; quiet < 3 && time.Now().Before(deadline); {
		pids := processesUsing(dir)
		for _, p := range pids {
			_ = syscall.Kill(p, syscall.SIGKILL)
		}
		if len(pids) == 0 {
			quiet++
		} else {
			quiet = 0
		}
		pause(10 * time.Millisecond)
	}
}

// removeAllRetry removes dir, retrying for a few seconds: a dying Chromium
// child can still write into it.
func removeAllRetry(dir string) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := os.RemoveAll(dir)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		pause(20 * time.Millisecond)
	}
}

// pause waits d; it is used only while cleaning up after a process.
func pause(d time.Duration) {
	t := time.NewTimer(d)
	<-t.C
}
