package config

import (
	"slices"
	"testing"
)

func TestExpandEnv(t *testing.T) {
	vars := env(map[string]string{"A": "1", "B_2": "two", "EMPTY": "", "REF": "${A}"})
	tests := []struct {
		in   string
		want string
		errs []string
	}{
		{in: "plain $A $ {A}", want: "plain $A $ {A}"},
		{in: "${A}", want: "1"},
		{in: "x${A}y${B_2}z", want: "x1ytwoz"},
		{in: "${REF}", want: "${A}"}, // values are not expanded again
		{in: "${EMPTY}", want: ""},
		{in: "${EMPTY:-d}", want: "d"},
		{in: "${UNSET:-d e}", want: "d e"},
		{in: "${A:-d}", want: "1"},
		{in: "${UNSET:-}", want: ""},
		{in: "${UNSET:-${A}}", want: "${A}"}, // the default ends at the first "}"
		{in: "$${A}", want: "${A}"},
		{in: "$$${A}", want: "$${A}"},
		{in: "$${A}${A}", want: "${A}1"},
		{in: "${UNSET}", want: "", errs: []string{`environment variable "UNSET" is not set`}},
		{in: "${U1} ${U2}", want: " ", errs: []string{
			`environment variable "U1" is not set`,
			`environment variable "U2" is not set`,
		}},
		{in: "a ${A", want: "a ${A", errs: []string{`unterminated "${" (write "$${" for a literal "${")`}},
		{in: "${}", want: "", errs: []string{`invalid variable reference "${}": the name is empty`}},
		{in: "${:-x}", want: "", errs: []string{`invalid variable reference "${:-x}": the name is empty`}},
		{in: "${9A}", want: "", errs: []string{`invalid variable reference "${9A}": names are letters, digits and underscores, not starting with a digit`}},
		{in: "${A B}", want: "", errs: []string{`invalid variable reference "${A B}": names are letters, digits and underscores, not starting with a digit`}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, errs := expandEnv(tt.in, vars)
			if got != tt.want || !slices.Equal(errs, tt.errs) {
				t.Errorf("expandEnv(%q) = %q, %q; want %q, %q", tt.in, got, errs, tt.want, tt.errs)
			}
		})
	}
}

func TestValidEnvName(t *testing.T) {
	for name, want := range map[string]bool{
		"A": true, "_": true, "a_B9": true, "_1": true,
		"": false, "1A": false, "A-B": false, "A.B": false, "É": false,
	} {
		if got := validEnvName(name); got != want {
			t.Errorf("validEnvName(%q) = %v, want %v", name, got, want)
		}
	}
}
