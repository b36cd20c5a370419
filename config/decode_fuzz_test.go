package config

import (
	"cmp"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// fuzzTree is recursive, so that alias cycles can expand forever.
type fuzzTree struct {
	Name string     `yaml:"name"`
	Kids []fuzzTree `yaml:"kids"`
}

// fuzzTarget takes the test config, every level of billionLaughs and a tree.
type fuzzTarget struct {
	Config testConfig `yaml:",inline"`
	Bomb   bombTarget `yaml:",inline"`
	Tree   *fuzzTree  `yaml:"tree"`
}

func FuzzDecode(f *testing.F) {
	seeds := []string{
		"",
		"---\n",
		"checks:\n  - name: web\n    interval: 30s\n    team: sre\n    http:\n      url: https://${HOST}/\n      expect: {status: [200], body: ok}\n",
		"numbers: {i8: -128, u64: 18446744073709551615, f32: 1.5, dur: 1d12h, ptr: ~}\n",
		"labels: {a: b, \"c d\": e}\nnested: {x: [1, 2]}\n",
		"password_file: pw\nport_file: bad\nchecks: [{http: {token_file: ${DIR}/x}}]\n",
		"password: a\npassword_file: pw\n",
		"tree: &t {name: a, kids: [*t, *t]}\n",
		"base: &b {name: x}\nchecks: [{<<: *b}]\n",
		"port: 1\n---\nport: 2\n",
		"port: 1\nport: 2\n? [a]\n: 1\n",
		"labels:\n  a: b\n    c: d\n",
		"port: *nope\n",
		"a: ${\nb: ${}\nc: ${1}\nd: $${X}\ne: ${X:-y}\n",
		"numbers: {bool: yes, int: 1.5, u8: -1, dur: 30, f64: .nan}\n",
		"- a\n- b\n",
		"\xff\xfe",
		"{{{{[[[[",
		billionLaughs,
	}
	for _, s := range seeds {
		f.Add(s)
	}
	opts := DecodeOptions{
		LookupEnv: env(map[string]string{"HOST": "example.com", "DIR": "/secrets", "EMPTY": ""}),
		ReadFile: func(name string) ([]byte, error) { // never touch real files
			if strings.HasSuffix(name, "pw") {
				return []byte("s3cret\n"), nil
			}
			return nil, errors.New("open " + name + ": no such file or directory")
		},
		BaseDir: "/etc/vantage",
	}
	f.Fuzz(func(t *testing.T, src string) {
		var out fuzzTarget
		start := time.Now()
		pos, probs := Decode([]byte(src), &out, opts)
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Decode took %v", d)
		}
		for _, p := range probs {
			if p.Line < 0 || p.Column < 0 || p.Msg == "" {
				t.Errorf("bad problem %+v", p)
			}
		}
		if !slices.IsSortedFunc(probs, func(a, b Problem) int {
			return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
		}) {
			t.Errorf("problems not sorted: %s", fmtProblems(probs))
		}
		for path, p := range pos {
			if p.Line < 0 || p.Column < 0 {
				t.Errorf("bad position %v for %q", p, path)
			}
		}
	})
}
