package bench

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// usage is a process's CPU time and memory at one instant.
type usage struct {
	cpu      time.Duration // user + system
	rss, hwm int64         // bytes: resident now, peak resident
}

// atClkTck is the auxiliary vector's key of the clock tick rate.
const atClkTck = 17

// clockTicks returns the kernel's USER_HZ (the unit of utime and stime in
// /proc/PID/stat), read from the auxiliary vector as sysconf(_SC_CLK_TCK)
// does; 100 if it cannot be read.
func clockTicks() int64 {
	b, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return 100
	}
	for len(b) >= 16 {
		k, v := binary.NativeEndian.Uint64(b), binary.NativeEndian.Uint64(b[8:])
		if k == atClkTck && v > 0 {
			return int64(v)
		}
		if k == 0 {
			break
		}
		b = b[16:]
	}
	return 100
}

// readUsage reads /proc/PID/stat (utime, stime) and /proc/PID/status
// (VmRSS, VmHWM) of pid ("self" for this process).
func readUsage(pid string, hz int64) (usage, error) {
	var u usage
	stat, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return u, fmt.Errorf("read cpu time: %w", err)
	}
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 || i+2 > len(stat) {
		return u, fmt.Errorf("parse /proc/%s/stat", pid)
	}
	f := strings.Fields(string(stat[i+2:]))
	if len(f) < 13 {
		return u, fmt.Errorf("parse /proc/%s/stat: %d fields", pid, len(f))
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return u, fmt.Errorf("parse /proc/%s/stat: utime %q stime %q", pid, f[11], f[12])
	}
	u.cpu = time.Duration(utime+stime) * time.Second / time.Duration(hz)
	status, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return u, fmt.Errorf("read memory: %w", err)
	}
	for line := range strings.Lines(string(status)) {
		fs := strings.Fields(line)
		if len(fs) < 2 {
			continue
		}
		kib, _ := strconv.ParseInt(fs[1], 10, 64)
		switch fs[0] {
		case "VmRSS:":
			u.rss = kib << 10
		case "VmHWM:":
			u.hwm = kib << 10
		}
	}
	return u, nil
}
