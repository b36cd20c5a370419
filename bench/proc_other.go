//go:build !linux

package bench

import (
	"errors"
	"os/exec"
	"time"
)

func setProcAttr(*exec.Cmd) {}

type usage struct {
	cpu      time.Duration
	rss, hwm int64
}

func clockTicks() int64 { return 100 }

func readUsage(string, int64) (usage, error) {
	return usage{}, errors.New("vantage bench reads /proc: it runs on Linux only")
}
