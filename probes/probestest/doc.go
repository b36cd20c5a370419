// Package probestest provides loopback servers for probe tests: TLS servers
// with chosen certificates, an authoritative DNS server, and hostile TCP and
// HTTP endpoints (hanging, trickling, refusing, endless, redirect loops).
//
// Every constructor takes a testing.TB first, binds to 127.0.0.1 only,
// registers its shutdown with t.Cleanup and fails the test with t.Fatal when
// it cannot be set up. After cleanup no goroutine started by this package is
// left running.
package probestest
