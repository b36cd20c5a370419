package probes

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// TCPStep is one step of a line-based TCP dialogue, run in order: wait for
// a line matching Expect (if set), write Send (if set), then upgrade to TLS
// (if StartTLS).
type TCPStep struct {
	// Expect reads lines (without their line ending) until one matches; the
	// connection closing first fails the check.
	Expect Pattern `yaml:"expect"`
	// Send is written as is. After an Expect, $1, ${1} and ${name} in it
	// stand for the groups of the matching line ($$ for a literal $).
	Send string `yaml:"send"`
	// StartTLS makes the client handshake TLS on the connection (tls_config
	// applies), as for SMTP's STARTTLS once the server agreed.
	StartTLS bool `yaml:"starttls"`
}

// maxLineBytes bounds a line read while waiting for a step's expect.
const maxLineBytes = 64 << 10

func (s TCPSpec) startTLS() bool {
	for _, st := range s.Dialogue {
		if st.StartTLS {
			return true
		}
	}
	return false
}

func (s TCPSpec) validateDialogue() []error {
	if len(s.Dialogue) == 0 {
		return nil
	}
	var errs []error
	if s.Send != "" || !s.Expect.IsZero() {
		errs = append(errs, errors.New("dialogue: set either send and expect or a dialogue, not both"))
	}
	for i, st := range s.Dialogue {
		switch {
		case st.Expect.IsZero() && st.Send == "" && !st.StartTLS:
			errs = append(errs, fmt.Errorf("dialogue[%d]: set expect, send or starttls", i))
		case st.StartTLS && s.TLS:
			errs = append(errs, fmt.Errorf("dialogue[%d].starttls: the connection already uses TLS (tls: true)", i))
		}
	}
	return errs
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n *int
}

func (c countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	*c.n += n
	return n, err
}

// runDialogue runs the dialogue steps on conn, recording TLS upgrades.
func (p *TCPProber) runDialogue(ctx context.Context, conn net.Conn, r *Result) {
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	start := time.Now()
	var tlsTime time.Duration
	defer func() { r.Phases.Processing = time.Since(start) - tlsTime }()
	lines := newLineScanner(countingReader{conn, &r.TCP.Received})
	for i, st := range p.spec.Dialogue {
		send := []byte(st.Send)
		if !st.Expect.IsZero() {
			line, match, err := expectLine(lines, st.Expect)
			if err != nil {
				r.fail(dialogueError(ctx, i, err))
				return
			}
			send = st.Expect.re.Expand(nil, send, line, match)
		}
		if len(send) > 0 {
			if _, err := conn.Write(send); err != nil {
				r.fail(dialogueError(ctx, i, err))
				return
			}
		}
		if st.StartTLS {
			tc, took, err := p.startTLS(ctx, conn, r)
			conn = tc
			tlsTime += took
			if err != nil {
				r.fail(err)
				return
			}
			lines = newLineScanner(countingReader{conn, &r.TCP.Received})
		}
	}
}

func newLineScanner(r io.Reader) *bufio.Scanner {
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 0, 4096), maxLineBytes)
	return s
}

// errNoLine means the connection ended before a line matched.
var errNoLine = errors.New("no line matched")

// expectLine reads lines until one matches p; it returns the line and the
// submatch indexes.
func expectLine(lines *bufio.Scanner, p Pattern) ([]byte, []int, error) {
	var last []byte
	for lines.Scan() {
		last = lines.Bytes()
		if m := p.re.FindSubmatchIndex(last); m != nil {
			return last, m, nil
		}
	}
	if err := lines.Err(); err != nil {
		return nil, nil, err
	}
	return nil, nil, fmt.Errorf("%w %q before the connection closed (last line %q)", errNoLine, p, truncate(string(last), 100))
}

// dialogueError classifies the failure of dialogue step i.
func dialogueError(ctx context.Context, i int, err error) error {
	if errors.Is(err, errNoLine) {
		return fmt.Errorf("%w: dialogue[%d]: %w", ErrExpectMismatch, i, err)
	}
	return fmt.Errorf("dialogue[%d]: %w", i, netError(ctx, PhaseProcessing, err))
}
