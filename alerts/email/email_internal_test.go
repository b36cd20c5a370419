package email

import "testing"

func TestModeAndPort(t *testing.T) {
	tests := []struct {
		tls      TLSMode
		port     int
		wantMode TLSMode
		wantPort int
	}{
		{"", 0, TLSStartTLS, 587},
		{"", 465, TLSImplicit, 465},
		{"", 25, TLSStartTLS, 25},
		{TLSImplicit, 0, TLSImplicit, 465},
		{TLSImplicit, 2465, TLSImplicit, 2465},
		{TLSStartTLS, 465, TLSStartTLS, 465},
		{TLSNone, 0, TLSNone, 25},
	}
	for _, tt := range tests {
		c := Config{TLS: tt.tls, Port: tt.port}
		if c.mode() != tt.wantMode || c.port() != tt.wantPort {
			t.Errorf("tls %q port %d: got %s:%d, want %s:%d", tt.tls, tt.port, c.mode(), c.port(), tt.wantMode, tt.wantPort)
		}
	}
}
