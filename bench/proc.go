package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// child is a vantage subprocess (serve or agent).
type child struct {
	name    string
	cmd     *exec.Cmd
	started time.Time
	done    chan struct{} // closed when it exited
	err     error         // its exit, once done

	mu      sync.Mutex
	tail    []string // its last stderr lines, for error messages
	stopped *stopLine
}

// stopLine is the scheduler's "scheduler stopped" log line.
type stopLine struct{ runs, errors, overruns, aborted int64 }

const tailLines = 20

// stopRe matches the line (slog's text format; an agent's logger adds
// its region before the counters).
var stopRe = regexp.MustCompile(`msg="scheduler stopped" .*\bruns=(\d+) errors=(\d+) overruns=(\d+) aborted=(\d+)`)

// start runs cmd (built by Options.Command) with its stderr read line by
// line. It gets SIGKILL should the bench die, and a process group of its
// own: Ctrl-C reaches the bench only, which stops the children in order.
func start(name string, cmd *exec.Cmd, log *slog.Logger) (*child, error) {
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	cmd.Stdout = io.Discard
	setProcAttr(cmd)
	c := &child{name: name, cmd: cmd, done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c.started = time.Now()
	log.Debug("started", "kind", name, "pid", cmd.Process.Pid)
	go func() {
		c.read(stderr)
		c.err = cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

func (c *child) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		c.mu.Lock()
		if m := stopRe.FindStringSubmatch(line); m != nil {
			n := func(i int) int64 { v, _ := strconv.ParseInt(m[i], 10, 64); return v }
			c.stopped = &stopLine{runs: n(1), errors: n(2), overruns: n(3), aborted: n(4)}
		}
		if c.tail = append(c.tail, line); len(c.tail) > tailLines {
			c.tail = c.tail[1:]
		}
		c.mu.Unlock()
	}
	_, _ = io.Copy(io.Discard, r)
}

// exited reports whether the child has exited.
func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// failure describes a child that exited early: its exit and last lines.
func (c *child) failure() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return fmt.Errorf("%s exited: %v; its last output:\n%s", c.name, c.err, joinLines(c.tail))
}

func joinLines(ls []string) string {
	var s string
	for _, l := range ls {
		s += "  " + l + "\n"
	}
	return s
}

// stop sends SIGTERM and waits up to grace, then kills. It returns the
// final scheduler counters the child logged (nil if it logged none).
func (c *child) stop(grace time.Duration) (*stopLine, error) {
	var err error
	if !c.exited() {
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
		t := time.NewTimer(grace)
		select {
		case <-c.done:
		case <-t.C:
			_ = c.cmd.Process.Kill()
			<-c.done
			err = fmt.Errorf("%s did not stop within %s after SIGTERM: killed", c.name, grace)
		}
		t.Stop()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil && c.err != nil {
		var ee *exec.ExitError
		if !errors.As(c.err, &ee) || ee.ExitCode() != 0 {
			err = fmt.Errorf("%s: %w; its last output:\n%s", c.name, c.err, joinLines(c.tail))
		}
	}
	return c.stopped, err
}

// waitFor polls cond every 50 ms until it holds, the child exits, ctx
// ends or limit passes.
func (c *child) waitFor(ctx context.Context, what string, limit time.Duration, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for !cond() {
		if c.exited() {
			return c.failure()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not within %s", what, limit)
		}
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}
