package probes

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// asciiHost returns host as DNS, certificates and SNI carry it: an
// internationalized name (bücher.example) in its ASCII form
// (xn--bcher-kva.example), by the IDNA rules browsers use for lookups.
// ASCII hosts and IP literals come back unchanged.
func asciiHost(host string) (string, error) {
	if isASCII(host) {
		return host, nil
	}
	a, err := idnaLookup.ToASCII(host)
	if err != nil {
		return "", fmt.Errorf("%q is not a valid internationalized host name: %w", host, err)
	}
	return a, nil
}

// idnaLookup is IDNA's lookup profile (what browsers resolve) that also
// refuses empty and over-long labels; read-only.
var idnaLookup = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.VerifyDNSLength(true))

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// asciiName is asciiHost for a DNS name that may end in a dot.
func asciiName(name string) (string, error) {
	trimmed, dot := strings.CutSuffix(name, ".")
	a, err := asciiHost(trimmed)
	if err != nil || !dot {
		return a, err
	}
	return a + ".", nil
}
