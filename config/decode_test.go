package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// secret is a named string type with UnmarshalText, like a Secret type.
type secret string

func (s *secret) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		return errors.New("secret is empty")
	}
	*s = secret(b)
	return nil
}

// pattern rejects values that are not regular expressions while decoding.
type pattern string

func (p *pattern) UnmarshalText(b []byte) error {
	if _, err := regexp.Compile(string(b)); err != nil {
		return fmt.Errorf("invalid pattern: %w", err)
	}
	*p = pattern(b)
	return nil
}

// method is a named string type without UnmarshalText.
type method string

type expectSpec struct {
	Status  []int              `yaml:"status"`
	Body    pattern            `yaml:"body"`
	Headers map[string]pattern `yaml:"headers"`
}

type httpSpec struct {
	URL      string     `yaml:"url"`
	Method   method     `yaml:"method,omitempty"`
	Expect   expectSpec `yaml:"expect"`
	Password secret     `yaml:"password"`
	Token    *secret    `yaml:"token"`
	CA       string     `yaml:"ca"`
	CAFile   string     `yaml:"ca_file"` // a real field: "ca_file" is not a secret file
}

// Common is inlined by value; its Name is shadowed by check.Name.
type Common struct {
	Timeout time.Duration `yaml:"timeout"`
	Name    string        `yaml:"name"`
}

type owner struct {
	Team string `yaml:"team"`
}

type check struct {
	Common   `yaml:",inline"`
	Name     string        `yaml:"name"`
	Interval time.Duration `yaml:"interval"`
	Enabled  *bool         `yaml:"enabled"`
	HTTP     *httpSpec     `yaml:"http"`
	Owner    *owner        `yaml:",inline"`
	Tags     []string      `yaml:"tags"`
	Untagged string
	Skipped  string `yaml:"-"`
}

type numbers struct {
	Int   int           `yaml:"int"`
	I8    int8          `yaml:"i8"`
	I16   int16         `yaml:"i16"`
	I32   int32         `yaml:"i32"`
	I64   int64         `yaml:"i64"`
	Uint  uint          `yaml:"uint"`
	U8    uint8         `yaml:"u8"`
	U16   uint16        `yaml:"u16"`
	U32   uint32        `yaml:"u32"`
	U64   uint64        `yaml:"u64"`
	F32   float32       `yaml:"f32"`
	F64   float64       `yaml:"f64"`
	Bool  bool          `yaml:"bool"`
	Str   string        `yaml:"str"`
	Dur   time.Duration `yaml:"dur"`
	Ptr   *int          `yaml:"ptr"`
	Ints  []int         `yaml:"ints"`
	Table map[string]int
}

type testConfig struct {
	Checks   []check           `yaml:"checks"`
	Labels   map[string]string `yaml:"labels"`
	Numbers  numbers           `yaml:"numbers"`
	Password secret            `yaml:"password"`
	Port     int               `yaml:"port"`
	Nested   map[string][]int  `yaml:"nested"`
}

func env(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

// decodeString decodes src into a fresh testConfig.
func decodeString(src string, opts DecodeOptions) (testConfig, Positions, []Problem) {
	var c testConfig
	pos, probs := Decode([]byte(src), &c, opts)
	return c, pos, probs
}

func checkProblems(t *testing.T, got, want []Problem) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n got %s\nwant %s", fmtProblems(got), fmtProblems(want))
	}
}

func fmtProblems(ps []Problem) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "\n\t{%d, %d, %q, %q}", p.Line, p.Column, p.Path, p.Msg)
	}
	if b.Len() == 0 {
		return "none"
	}
	return b.String()
}

func TestDecodeValues(t *testing.T) {
	tests := []struct {
		name string
		src  string
		env  map[string]string
		want testConfig
	}{
		{name: "empty document", src: ""},
		{name: "only comments", src: "# nothing here\n\n"},
		{name: "only a document marker", src: "---\n"},
		{name: "null root", src: "~\n"},
		{
			name: "nested structs, slices, pointers and inline fields",
			src: `checks:
  - name: web
    interval: 1m30s
    timeout: 5s
    enabled: false
    team: sre
    tags: [a, b]
    http:
      url: https://example.com
      method: POST
      password: hunter2
      token: t0k
      expect:
        status: [200, 204]
        body: "ok|fine"
        headers: {content-type: "^text/"}
  - name: bare
    enabled: true
`,
			want: testConfig{Checks: []check{
				{
					Common:   Common{Timeout: 5 * time.Second},
					Name:     "web",
					Interval: 90 * time.Second,
					Enabled:  new(false),
					Owner:    &owner{Team: "sre"},
					Tags:     []string{"a", "b"},
					HTTP: &httpSpec{
						URL: "https://example.com", Method: "POST", Password: "hunter2", Token: new(secret("t0k")),
						Expect: expectSpec{
							Status: []int{200, 204}, Body: "ok|fine",
							Headers: map[string]pattern{"content-type": "^text/"},
						},
					},
				},
				{Name: "bare", Enabled: new(true)},
			}},
		},
		{
			name: "null leaves pointers nil and other fields zero",
			src:  "checks:\n  - name:\n    http: ~\n    enabled: null\n    tags:\n",
			want: testConfig{Checks: []check{{}}},
		},
		{
			name: "every scalar kind at its limits",
			src: `numbers:
  int: -42
  i8: -128
  i16: 32767
  i32: -2147483648
  i64: 9223372036854775807
  uint: 0x10
  u8: 255
  u16: 0o17
  u32: 4294967295
  u64: 18446744073709551615
  f32: 1.5
  f64: -2e-3
  bool: true
  str: 123
  dur: 250ms
  ptr: 7
  ints: []
`,
			want: testConfig{Numbers: numbers{
				Int: -42, I8: -128, I16: 32767, I32: -2147483648, I64: 9223372036854775807,
				Uint: 16, U8: 255, U16: 15, U32: 4294967295, U64: 18446744073709551615,
				F32: 1.5, F64: -2e-3, Bool: true, Str: "123", Dur: 250 * time.Millisecond,
				Ptr: new(7), Ints: []int{},
			}},
		},
		{name: "leading zero is decimal", src: "port: 010\n", want: testConfig{Port: 10}},
		{name: "quoted number", src: `port: "8080"`, want: testConfig{Port: 8080}},
		{name: "false", src: "numbers: {bool: false}", want: testConfig{Numbers: numbers{Bool: false}}},
		{name: "days", src: "numbers: {dur: 7d}", want: testConfig{Numbers: numbers{Dur: 7 * 24 * time.Hour}}},
		{name: "days and hours", src: "numbers: {dur: 1d12h}", want: testConfig{Numbers: numbers{Dur: 36 * time.Hour}}},
		{name: "zero duration needs no unit", src: "numbers: {dur: 0}", want: testConfig{Numbers: numbers{}}},
		{
			name: "maps of strings and of lists",
			src:  "labels: {team: sre, \"a b\": c}\nnested: {x: [1, 2], y: []}\n",
			want: testConfig{
				Labels: map[string]string{"team": "sre", "a b": "c"},
				Nested: map[string][]int{"x": {1, 2}, "y": {}},
			},
		},
		{
			name: "anchors and aliases",
			src:  "labels: &l {team: sre}\nchecks:\n  - name: &n web\n    tags: [*n, *n]\n    team: *n\n",
			want: testConfig{
				Labels: map[string]string{"team": "sre"},
				Checks: []check{{Name: "web", Tags: []string{"web", "web"}, Owner: &owner{Team: "web"}}},
			},
		},
		{
			name: "environment variables before type conversion",
			src: `checks:
  - name: ${NAME}-$${NOT}-${MISSING:-dflt}-${EMPTY:-e}
    interval: ${IV}
    http: {url: "https://${HOST}/x", password: "${PW}"}
port: ${PORT}
labels: {"${KEY}": "$HOME $${HOME}"}
`,
			env: map[string]string{"NAME": "api", "EMPTY": "", "IV": "45s", "HOST": "example.com", "PW": "${X}", "PORT": "9090"},
			want: testConfig{
				Port:   9090,
				Labels: map[string]string{"${KEY}": "$HOME ${HOME}"},
				Checks: []check{{
					Name: "api-${NOT}-dflt-e", Interval: 45 * time.Second,
					HTTP: &httpSpec{URL: "https://example.com/x", Password: "${X}"},
				}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, probs := decodeString(tt.src, DecodeOptions{LookupEnv: env(tt.env)})
			checkProblems(t, probs, nil)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("decoded\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestDecodeProblems(t *testing.T) {
	tests := []struct {
		name string
		src  string
		env  map[string]string
		want []Problem
	}{
		{
			name: "unknown keys with and without a suggestion",
			src:  "checks:\n  - name: a\n    intervl: 1s\n    tiemout: 2s\n    foo: 1\n    Untagged: x\n    Skipped: y\n    ab: 1\n",
			want: []Problem{
				{3, 5, "checks[0]", `unknown key "intervl" (did you mean "interval"?)`},
				{4, 5, "checks[0]", `unknown key "tiemout" (did you mean "timeout"?)`},
				{5, 5, "checks[0]", `unknown key "foo"`},
				{6, 5, "checks[0]", `unknown key "Untagged"`},
				{7, 5, "checks[0]", `unknown key "Skipped"`},
				{8, 5, "checks[0]", `unknown key "ab"`},
			},
		},
		{
			name: "paths through lists and nested structs",
			src: `checks:
  - name: a
  - name: b
  - http:
      url: 5
      expect:
        status: [200, abc]
        body: "("
        headers: {x-a: "[", "x b": "?"}
`,
			want: []Problem{
				{7, 23, "checks[2].http.expect.status[1]", `expected an integer, got "abc"`},
				{8, 15, "checks[2].http.expect.body", "invalid pattern: error parsing regexp: missing closing ): `(`"},
				{9, 24, "checks[2].http.expect.headers.x-a", "invalid pattern: error parsing regexp: missing closing ]: `[`"},
				{9, 36, `checks[2].http.expect.headers["x b"]`, "invalid pattern: error parsing regexp: missing argument to repetition operator: `?`"},
			},
		},
		{
			name: "duplicate keys in structs and maps",
			src:  "port: 1\nlabels:\n  a: x\n  a: y\nport: 2\n",
			want: []Problem{
				{4, 3, "labels", `duplicate key "a" (first set on line 3)`},
				{5, 1, "", `duplicate key "port" (first set on line 1)`},
			},
		},
		{
			name: "type mismatches",
			src: `checks: {name: a}
labels: [a]
port: {a: 1}
password: [x]
numbers:
  bool: yes
  int: 1.5
  ints: 5
  str: [a]
  f64: abc
  f32: 1e39
  dur: abc
  ptr: x
`,
			want: []Problem{
				{1, 9, "checks", "expected a list, got a mapping"},
				{2, 9, "labels", "expected a mapping, got a list"},
				{3, 7, "port", "expected an integer, got a mapping"},
				{4, 11, "password", "expected a string, got a list"},
				{6, 9, "numbers.bool", `expected true or false, got "yes"`},
				{7, 8, "numbers.int", `expected an integer, got "1.5"`},
				{8, 9, "numbers.ints", `expected a list, got "5"`},
				{9, 8, "numbers.str", "expected a string, got a list"},
				{10, 8, "numbers.f64", `expected a number, got "abc"`},
				{11, 8, "numbers.f32", `expected a number, got "1e39"`},
				{12, 8, "numbers.dur", `expected a duration such as "30s", got "abc"`},
				{13, 8, "numbers.ptr", `expected an integer, got "x"`},
			},
		},
		{
			name: "yaml 1.1 booleans and NaN are rejected",
			src:  "numbers: {bool: on, f64: .nan}\nchecks: [{enabled: True}]\n",
			want: []Problem{
				{1, 17, "numbers.bool", `expected true or false, got "on"`},
				{1, 26, "numbers.f64", `expected a number, got ".nan"`},
				{2, 20, "checks[0].enabled", `expected true or false, got "True"`},
			},
		},
		{
			name: "integer ranges",
			src:  "numbers: {i8: 128, u8: 256, u16: -1, i64: 9223372036854775808, u64: -5, uint: 1x}\n",
			want: []Problem{
				{1, 15, "numbers.i8", `expected an integer from -128 to 127, got "128"`},
				{1, 24, "numbers.u8", `expected an integer from 0 to 255, got "256"`},
				{1, 34, "numbers.u16", `expected an integer from 0 to 65535, got "-1"`},
				{1, 43, "numbers.i64", `expected an integer from -9223372036854775808 to 9223372036854775807, got "9223372036854775808"`},
				{1, 69, "numbers.u64", `expected an integer from 0 to 18446744073709551615, got "-5"`},
				{1, 79, "numbers.uint", `expected an integer, got "1x"`},
			},
		},
		{
			name: "durations need a unit",
			src:  "checks:\n  - interval: 30\n    timeout: -5\n  - interval: 1.5d\n  - interval: 99999999999d\n",
			want: []Problem{
				{2, 15, "checks[0].interval", `expected a duration with a unit (ms, s, m, h or d) such as "30s", got "30"`},
				{3, 14, "checks[0].timeout", `expected a duration with a unit (ms, s, m, h or d) such as "30s", got "-5"`},
				{4, 15, "checks[1].interval", `expected a duration such as "30s", got "1.5d"`},
				{5, 15, "checks[2].interval", `expected a duration such as "30s", got "99999999999d"`},
			},
		},
		{
			name: "more numbers",
			src:  "numbers: {dur: \"\", u8: +5, u16: 0x10000, i8: -0b10000001, int: 1_000, uint: +-1}\n",
			want: []Problem{
				{1, 16, "numbers.dur", `expected a duration such as "30s", got ""`},
				{1, 33, "numbers.u16", `expected an integer from 0 to 65535, got "0x10000"`},
				{1, 46, "numbers.i8", `expected an integer from -128 to 127, got "-0b10000001"`},
				{1, 64, "numbers.int", `expected an integer, got "1_000"`},
				{1, 77, "numbers.uint", `expected an integer, got "+-1"`},
			},
		},
		{
			name: "long values are shortened",
			src:  "port: " + strings.Repeat("9", 70) + "x\n",
			want: []Problem{{1, 7, "port", `expected an integer, got "` + strings.Repeat("9", 57) + `..." (shortened)`}},
		},
		{
			name: "text unmarshaler errors",
			src:  "password: \"\"\nchecks: [{http: {token: \"\"}}]\n",
			want: []Problem{
				{1, 11, "password", "secret is empty"},
				{2, 25, "checks[0].http.token", "secret is empty"},
			},
		},
		{
			name: "environment variable problems",
			src: `port: ${PORT}
labels:
  a: ${UNSET}
  b: "${UNSET} and ${ALSO_UNSET}"
  c: ${}
  d: ${1X}
  e: ${A-B}
  f: "${OPEN"
checks: [{interval: "${IV}"}]
`,
			env: map[string]string{"PORT": "http", "IV": "5"},
			want: []Problem{
				{1, 7, "port", `expected an integer, got "http"`},
				{3, 6, "labels.a", `environment variable "UNSET" is not set`},
				{4, 6, "labels.b", `environment variable "UNSET" is not set`},
				{4, 6, "labels.b", `environment variable "ALSO_UNSET" is not set`},
				{5, 6, "labels.c", `invalid variable reference "${}": the name is empty`},
				{6, 6, "labels.d", `invalid variable reference "${1X}": names are letters, digits and underscores, not starting with a digit`},
				{7, 6, "labels.e", `invalid variable reference "${A-B}": names are letters, digits and underscores, not starting with a digit`},
				{8, 6, "labels.f", `unterminated "${" (write "$${" for a literal "${")`},
				{9, 21, "checks[0].interval", `expected a duration with a unit (ms, s, m, h or d) such as "30s", got "5"`},
			},
		},
		{
			name: "merge keys",
			src:  "base: &b {name: x}\nchecks:\n  - <<: *b\n    name: y\n",
			want: []Problem{
				{1, 1, "", `unknown key "base"`},
				{3, 5, "checks[0]", "merge keys (<<) are not supported"},
			},
		},
		{
			name: "alias problems are reported where the alias is used",
			src:  "labels: &l {a: b}\nchecks: *l\nport: &p x\nnumbers: {int: *p}\n",
			want: []Problem{
				{2, 9, "checks", "expected a list, got a mapping"},
				{3, 7, "port", `expected an integer, got "x"`},
				{4, 16, "numbers.int", `expected an integer, got "x"`},
			},
		},
		{
			name: "non-string keys",
			src:  "? [a]\n: 1\nlabels: {? {a: 1} : x}\n",
			want: []Problem{
				{1, 3, "", "a key must be a string, not a list"},
				{3, 12, "labels", "a key must be a string, not a mapping"},
			},
		},
		{
			name: "root is not a mapping",
			src:  "- a\n- b\n",
			want: []Problem{{1, 1, "", "expected a mapping, got a list"}},
		},
		{
			name: "root is a scalar",
			src:  "hello\n",
			want: []Problem{{1, 1, "", `expected a mapping, got "hello"`}},
		},
		{
			name: "two documents",
			src:  "port: 1\n---\nport: 2\n",
			want: []Problem{{2, 1, "", "only one YAML document is allowed"}},
		},
		{
			name: "an empty second document",
			src:  "port: x\n---\n",
			want: []Problem{
				{1, 7, "port", `expected an integer, got "x"`},
				{2, 1, "", "only one YAML document is allowed"},
			},
		},
		{
			name: "syntax error",
			src:  "port: 1\nlabels:\n  a: b\n    c: d\n",
			want: []Problem{{4, 0, "", "mapping values are not allowed in this context"}},
		},
		{
			name: "syntax error in a second document",
			src:  "port: 1\n---\na: [\n",
			want: []Problem{{3, 0, "", "did not find expected node content"}},
		},
		{
			name: "unknown anchor",
			src:  "labels: {a: &nopeX x, b: *nopeX}\nport: *nope\n",
			want: []Problem{{2, 7, "", "unknown anchor 'nope' referenced"}},
		},
		{
			name: "unknown anchor at the end",
			src:  "port: \"é\" \nx: *nope",
			want: []Problem{{2, 4, "", "unknown anchor 'nope' referenced"}},
		},
		{
			name: "many problems, sorted by position",
			src:  "numbers: {u8: -1, int: x}\nport: y\nzzz: 1\n",
			want: []Problem{
				{1, 15, "numbers.u8", `expected an integer from 0 to 255, got "-1"`},
				{1, 24, "numbers.int", `expected an integer, got "x"`},
				{2, 7, "port", `expected an integer, got "y"`},
				{3, 1, "", `unknown key "zzz"`},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, probs := decodeString(tt.src, DecodeOptions{LookupEnv: env(tt.env)})
			checkProblems(t, probs, tt.want)
		})
	}
}

func TestDecodeNilLookupEnv(t *testing.T) {
	got, _, probs := decodeString("port: ${PORT:-80}\nlabels:\n  a: $${A}\n  b: ${B}\n", DecodeOptions{})
	checkProblems(t, probs, []Problem{{4, 6, "labels.b", `environment variable "B" is not set`}})
	if got.Port != 80 || got.Labels["a"] != "${A}" {
		t.Errorf("got port %d, labels %v; want 80 and a=${A}", got.Port, got.Labels)
	}
}

func TestDecodeSecretFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("pw", "s3cret\n")
	write("crlf", "line1\nline2\r\n")
	write("twonl", "x\n\n")
	write("dollar", "${NOT_EXPANDED}")
	write("empty", "")
	write("port", "not-a-port\n")
	absPW := filepath.Join(dir, "pw")
	missing := filepath.Join(dir, "missing")

	tests := []struct {
		name    string
		src     string
		want    testConfig
		problem []Problem
	}{
		{
			name: "relative, absolute and via environment",
			src:  "password_file: pw\nchecks:\n  - http:\n      token_file: " + absPW + "\n      password_file: ${DIR}/crlf\n",
			want: testConfig{Password: "s3cret", Checks: []check{{HTTP: &httpSpec{
				Token: new(secret("s3cret")), Password: "line1\nline2",
			}}}},
		},
		{
			name: "only one trailing newline is removed and content is not expanded",
			src:  "password_file: twonl\nchecks: [{http: {password_file: dollar}}]\n",
			want: testConfig{Password: "x\n", Checks: []check{{HTTP: &httpSpec{Password: "${NOT_EXPANDED}"}}}},
		},
		{
			name: "a field tagged x_file is an ordinary field",
			src:  "checks: [{http: {ca_file: pw, ca: inline}}]\n",
			want: testConfig{Checks: []check{{HTTP: &httpSpec{CAFile: "pw", CA: "inline"}}}},
		},
		{
			name: "both set",
			src:  "password: a\npassword_file: pw\n",
			want: testConfig{Password: "a"},
			problem: []Problem{
				{2, 1, "", `set either "password" or "password_file", not both`},
			},
		},
		{
			name:    "unreadable file",
			src:     "password_file: missing\n",
			problem: []Problem{{1, 16, "password_file", "read secret file: open " + missing + ": no such file or directory"}},
		},
		{
			name: "content the field rejects is not quoted",
			src:  "password_file: empty\nport_file: port\n",
			problem: []Problem{
				{1, 16, "password", "secret is empty"},
				{2, 12, "port", "expected an integer, got the contents of " + filepath.Join(dir, "port")},
			},
		},
		{
			name:    "a file name that expands to nothing",
			src:     "password_file: ${EMPTY}\n",
			problem: []Problem{{1, 16, "password_file", `expected a file name, got "${EMPTY}"`}},
		},
		{
			name: "bad file names",
			src:  "password_file: ~\nport_file: [a]\nchecks: [{http: {password_file: '${NOPE}'}}]\nx_file: pw\n",
			problem: []Problem{
				{1, 16, "password_file", "expected a file name, got null"},
				{2, 12, "port_file", "expected a file name, got a list"},
				{3, 33, "checks[0].http.password_file", `environment variable "NOPE" is not set`},
				{4, 1, "", `unknown key "x_file"`},
			},
			want: testConfig{Checks: []check{{HTTP: &httpSpec{}}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, probs := decodeString(tt.src, DecodeOptions{LookupEnv: env(map[string]string{"DIR": dir, "EMPTY": ""}), BaseDir: dir})
			checkProblems(t, probs, tt.problem)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("decoded\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestDecodeSecretFilePositionAndReadFile(t *testing.T) {
	var read []string
	readFile := func(name string) ([]byte, error) {
		read = append(read, name)
		return []byte("from-fake\r\n"), nil
	}
	got, pos, probs := decodeString("port: 1\npassword_file: creds/pw\n", DecodeOptions{ReadFile: readFile, BaseDir: "/etc/vantage"})
	checkProblems(t, probs, nil)
	if got.Password != "from-fake" {
		t.Errorf("password = %q, want %q", got.Password, "from-fake")
	}
	if want := []string{"/etc/vantage/creds/pw"}; !slices.Equal(read, want) {
		t.Errorf("read %q, want %q", read, want)
	}
	if p, want := pos["password"], (Position{2, 16}); p != want {
		t.Errorf(`pos["password"] = %v, want %v`, p, want)
	}
}

func TestPositions(t *testing.T) {
	src := `checks:
  - name: a
  - name: b
    interval:
    http:
      url: https://x
      expect:
        status: [200,
          204]
labels: {"a.b": c}
`
	_, pos, probs := decodeString(src, DecodeOptions{})
	checkProblems(t, probs, nil)
	want := Positions{
		"":                                {1, 1},
		"checks":                          {2, 3},
		"checks[0]":                       {2, 5},
		"checks[0].name":                  {2, 11},
		"checks[1]":                       {3, 5},
		"checks[1].name":                  {3, 11},
		"checks[1].interval":              {4, 14},
		"checks[1].http":                  {6, 7},
		"checks[1].http.url":              {6, 12},
		"checks[1].http.expect":           {8, 9},
		"checks[1].http.expect.status":    {8, 17},
		"checks[1].http.expect.status[0]": {8, 18},
		"checks[1].http.expect.status[1]": {9, 11},
		"labels":                          {10, 9},
		`labels["a.b"]`:                   {10, 17},
	}
	if !reflect.DeepEqual(pos, want) {
		t.Errorf("positions\n got %v\nwant %v", pos, want)
	}

	lookups := []struct {
		path string
		want Position
		has  bool
	}{
		{"checks[1].http.url", Position{6, 12}, true},
		{"checks[1].interval", Position{4, 14}, true}, // present but null
		{"checks[0].interval", Position{2, 5}, false},
		{"checks[1].http.expect.status[1]", Position{9, 11}, true},
		{"checks[1].http.expect.status[7]", Position{8, 17}, false},
		{"checks[1].http.expect.headers.x", Position{8, 9}, false},
		{`labels["a.b"]`, Position{10, 17}, true},
		{`labels["x.[y]\""].z`, Position{10, 9}, false},
		{"checks[9].http", Position{2, 3}, false},
		{"defaults.interval", Position{1, 1}, false},
		{"", Position{1, 1}, true},
	}
	for _, l := range lookups {
		if got := pos.Lookup(l.path); got != l.want {
			t.Errorf("Lookup(%q) = %v, want %v", l.path, got, l.want)
		}
		if got := pos.Has(l.path); got != l.has {
			t.Errorf("Has(%q) = %v, want %v", l.path, got, l.has)
		}
	}
	if got := (Positions{}).Lookup("a.b[1]"); got != (Position{}) {
		t.Errorf("empty Lookup = %v, want zero", got)
	}
}

func TestProblemError(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{14, 9, "checks[2].http.expect.status", "700 is not an HTTP status"}, "14:9: checks[2].http.expect.status: 700 is not an HTTP status"},
		{Problem{2, 1, "", "only one YAML document is allowed"}, "2:1: only one YAML document is allowed"},
		{Problem{4, 0, "", "mapping values are not allowed in this context"}, "4: mapping values are not allowed in this context"},
		{Problem{0, 0, "port", "oops"}, "port: oops"},
	}
	for _, tt := range tests {
		if got := tt.p.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestDecodeLimits(t *testing.T) {
	t.Run("document too large", func(t *testing.T) {
		src := "labels:\n" + strings.Repeat("  # padding padding padding padding padding padding padding\n", 560000)
		_, _, probs := decodeString(src, DecodeOptions{})
		checkProblems(t, probs, []Problem{{Msg: fmt.Sprintf("the document is %d bytes, more than the limit of 33554432", len(src))}})
	})
	t.Run("alias bomb", func(t *testing.T) {
		start := time.Now()
		var v bombTarget
		_, probs := Decode([]byte(billionLaughs), &v, DecodeOptions{})
		checkProblems(t, probs, []Problem{
			{5, 29, "e[7][8][9][3][7]", "the document is too complex: more than 100000 values after expanding aliases"},
		})
		if len(v.D) != 10 || len(v.D[9][9][9]) != 10 {
			t.Errorf("the values before the limit were not decoded")
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("took %v", d)
		}
	})
	t.Run("self-referencing anchor", func(t *testing.T) {
		type tree struct {
			Kids []tree `yaml:"kids"`
		}
		var v tree
		_, probs := Decode([]byte("kids: &k [{kids: *k}]\n"), &v, DecodeOptions{})
		path := strings.Repeat("kids[0].", 50)
		checkProblems(t, probs, []Problem{
			{1, 18, path[:len(path)-1], "the document nests more than 100 levels deep"},
		})
	})
}

// bombTarget takes every level of billionLaughs, so that aliases expand.
type bombTarget struct {
	A []string                 `yaml:"a"`
	B [][]string               `yaml:"b"`
	C [][][]string             `yaml:"c"`
	D [][][][]string           `yaml:"d"`
	E [][][][][]string         `yaml:"e"`
	F [][][][][][]string       `yaml:"f"`
	G [][][][][][][]string     `yaml:"g"`
	H [][][][][][][][]string   `yaml:"h"`
	I [][][][][][][][][]string `yaml:"i"`
}

// billionLaughs nests lists of aliases nine deep: 10^9 values once expanded.
const billionLaughs = `a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: [*h,*h,*h,*h,*h,*h,*h,*h,*h,*h]
`

func TestDecodeTargets(t *testing.T) {
	type unsupported struct {
		Any   any            `yaml:"any"`
		IntKM map[int]string `yaml:"intkm"`
	}
	type badInline struct {
		M map[string]string `yaml:",inline"`
	}
	tests := []struct {
		name string
		out  any
		src  string
		want []Problem
	}{
		{"nil", nil, "a: 1", []Problem{{Msg: "cannot decode into <nil>: need a non-nil pointer to a struct"}}},
		{"not a pointer", testConfig{}, "a: 1", []Problem{{Msg: "cannot decode into config.testConfig: need a non-nil pointer to a struct"}}},
		{"nil pointer", (*testConfig)(nil), "a: 1", []Problem{{Msg: "cannot decode into *config.testConfig: need a non-nil pointer to a struct"}}},
		{"pointer to a map", &map[string]int{}, "a: 1", []Problem{{Msg: "cannot decode into *map[string]int: need a non-nil pointer to a struct"}}},
		{"unsupported field types", &unsupported{}, "any: 1\nintkm: {1: a}\n", []Problem{
			{1, 6, "any", "cannot decode into Go type interface {}"},
			{2, 8, "intkm", "cannot decode into Go type map[int]string: map keys must be strings"},
		}},
		{"inline of a map", &badInline{}, "a: 1\n", []Problem{
			{1, 1, "", "cannot decode into Go type config.badInline: inline field M is not a struct"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, probs := Decode([]byte(tt.src), tt.out, DecodeOptions{})
			checkProblems(t, probs, tt.want)
		})
	}
}
