package probes

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"
)

// Sentinels wrapped by Result.Err (and Result.Warning). Callers branch on
// them with errors.Is; ErrorClass turns them into a short stable name.
var (
	ErrTimeout          = errors.New("timeout")
	ErrResolve          = errors.New("resolve failed")
	ErrConnRefused      = errors.New("connection refused")
	ErrConnect          = errors.New("connect failed")
	ErrTLSHandshake     = errors.New("tls handshake failed")
	ErrCertInvalid      = errors.New("certificate invalid")
	ErrCertExpiring     = errors.New("certificate expiring")
	ErrTLSVersion       = errors.New("tls version too low")
	ErrProtocol         = errors.New("protocol error")
	ErrRedirect         = errors.New("redirect error")
	ErrUnexpectedStatus = errors.New("unexpected status")
	ErrBodyMismatch     = errors.New("body mismatch")
	ErrHeaderMismatch   = errors.New("header mismatch")
	ErrJSONMismatch     = errors.New("json mismatch")
	ErrExpectMismatch   = errors.New("expect mismatch")
	ErrTooSlow          = errors.New("too slow")
	ErrDNSRcode         = errors.New("unexpected dns rcode")
	ErrDNSAnswer        = errors.New("unexpected dns answer")
	ErrBrowserStep      = errors.New("browser step failed")
	ErrJSError          = errors.New("javascript error")
	ErrFailedRequest    = errors.New("failed request")
	ErrBlockedURL       = errors.New("blocked url")
	ErrSlowVitals       = errors.New("web vitals over limit")
)

// ErrNoBrowser means no Chromium executable was found. It is an error of the
// prober (a bad install), never a failure of the target.
var ErrNoBrowser = errors.New("no browser")

// classes maps each sentinel to its class name (metrics label values, JSON).
var classes = []struct {
	err   error
	class string
}{
	{ErrTimeout, "timeout"},
	{ErrResolve, "resolve"},
	{ErrConnRefused, "conn_refused"},
	{ErrConnect, "connect"},
	{ErrCertInvalid, "cert_invalid"},
	{ErrCertExpiring, "cert_expiring"},
	{ErrTLSVersion, "tls_version"},
	{ErrTLSHandshake, "tls"},
	{ErrRedirect, "redirect"},
	{ErrUnexpectedStatus, "status"},
	{ErrBodyMismatch, "body"},
	{ErrHeaderMismatch, "header"},
	{ErrJSONMismatch, "json"},
	{ErrExpectMismatch, "expect"},
	{ErrTooSlow, "too_slow"},
	{ErrDNSRcode, "dns_rcode"},
	{ErrDNSAnswer, "dns_answer"},
	{ErrBlockedURL, "blocked_url"},
	{ErrBrowserStep, "step"},
	{ErrJSError, "js_error"},
	{ErrFailedRequest, "failed_request"},
	{ErrSlowVitals, "vitals"},
	{ErrProtocol, "protocol"},
	{ErrAddressDenied, "address_denied"},
}

// ErrorClass returns a short, stable name for the kind of failure in err:
// "" for nil, "other" when err wraps no known sentinel.
func ErrorClass(err error) string {
	if err == nil {
		return ""
	}
	for _, c := range classes {
		if errors.Is(err, c.err) {
			return c.class
		}
	}
	return "other"
}

// netError classifies an error from resolving, dialling, a handshake or
// reading: it wraps err with the matching sentinel, naming the phase.
// ctx is the probe's context: its expiry makes any error a timeout.
func netError(ctx context.Context, phase string, err error) error {
	if err == nil {
		return nil
	}
	var ne net.Error
	deadline, hasDeadline := ctx.Deadline()
	switch {
	case hasDeadline && !time.Now().Before(deadline), // the connection's deadline may fire before ctx's timer
		ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded),
		errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("%w during %s", ErrTimeout, phase)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%w: %w", ErrConnRefused, err)
	case isCertError(err):
		return fmt.Errorf("%w: %w", ErrCertInvalid, err)
	}
	switch phase {
	case PhaseResolve:
		return fmt.Errorf("%w: %w", ErrResolve, err)
	case PhaseConnect:
		return fmt.Errorf("%w: %w", ErrConnect, err)
	case PhaseTLS:
		return fmt.Errorf("%w: %w", ErrTLSHandshake, err)
	}
	return fmt.Errorf("%w during %s: %w", ErrProtocol, phase, err)
}

// isCertError reports whether err is a certificate verification failure.
func isCertError(err error) bool {
	var (
		cve *tls.CertificateVerificationError
		hn  x509.HostnameError
		ua  x509.UnknownAuthorityError
		ci  x509.CertificateInvalidError
	)
	return errors.As(err, &cve) || errors.As(err, &hn) || errors.As(err, &ua) || errors.As(err, &ci)
}
