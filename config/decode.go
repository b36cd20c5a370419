package config

import (
	"bytes"
	"cmp"
	"encoding"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/vantageprobe/vantage/probes"
)

const (
	// maxDocumentBytes caps the size of a document: 100,000 checks fit.
	maxDocumentBytes = 32 << 20
	// maxNodes caps the values decoded, counting every alias expansion;
	// 100,000 checks of a dozen values each fit.
	maxNodes = 2_000_000
	// maxAliasNodes caps the values decoded through aliases, so that an
	// alias bomb ("billion laughs") stops early.
	maxAliasNodes = 100_000
	// maxDepth caps how deep values nest, which an alias cycle would make
	// infinite.
	maxDepth = 100
)

// Problem is one thing wrong in a document, at a position.
type Problem struct {
	Line, Column int    // 1-based, from the YAML node; 0 if unknown
	Path         string // e.g. "checks[2].http.expect.status"; "" for the document root
	Msg          string
}

// Error formats p as "LINE:COL: PATH: MSG". "PATH: " is left out when Path
// is empty, "COL:" when Column is 0 and "LINE:COL: " when Line is 0, so
// that a caller can prefix the file name and a colon.
func (p Problem) Error() string {
	var b strings.Builder
	if p.Line > 0 {
		b.WriteString(strconv.Itoa(p.Line) + ":")
		if p.Column > 0 {
			b.WriteString(strconv.Itoa(p.Column) + ":")
		}
		b.WriteString(" ")
	}
	if p.Path != "" {
		b.WriteString(p.Path + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// DecodeOptions are the environment a document is decoded in.
type DecodeOptions struct {
	// LookupEnv resolves ${VAR} references; pass os.LookupEnv in production.
	// When nil, every variable is unset.
	LookupEnv func(string) (string, bool)
	// ReadFile reads the files named by *_file keys; nil reads them with a
	// limit of 1 MiB.
	ReadFile func(path string) ([]byte, error)
	// BaseDir is the directory relative *_file paths are resolved against,
	// normally the directory of the config file.
	BaseDir string
}

// Position is a 1-based line and column in a document.
type Position struct{ Line, Column int }

// Positions maps every decoded path ("checks[2].http.url", list items as
// "checks[2]", map entries as "labels.team" or `labels["a b"]`, the root as
// "") to the position of its value node. A key present in the document is in
// Positions even when its value is null, so "was this key set?" is
// Has(path); a value that came from a *_file key has the position of the
// file name.
type Positions map[string]Position

// Has reports whether path was set in the document.
func (p Positions) Has(path string) bool {
	_, ok := p[path]
	return ok
}

// Lookup returns the position of path or, failing that, of its longest known
// prefix (dropping ".field", "[i]" and `["key"]` segments from the right);
// the zero Position if none is known.
func (p Positions) Lookup(path string) Position {
	for {
		if pos, ok := p[path]; ok {
			return pos
		}
		if path == "" {
			return Position{}
		}
		path = parentPath(path)
	}
}

// parentPath drops the last segment of path.
func parentPath(path string) string {
	cut, quoted := 0, false
	for i := 0; i < len(path); i++ {
		switch c := path[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && (c == '.' || c == '['):
			cut = i
		}
	}
	return path[:cut]
}

// Decode decodes the YAML document src into out, a non-nil pointer to a
// struct, strictly: unknown and duplicate keys, values of the wrong type,
// unset environment variables and unreadable secret files are all reported,
// each with its position, sorted by line and column. Keys missing from the
// document leave their fields untouched; see Positions to tell them apart.
// An empty document decodes to nothing without a problem.
//
// Struct fields are decoded by their `yaml:"name"` tag; untagged fields and
// `yaml:"-"` are skipped, and `yaml:",inline"` merges a struct field's keys
// into its parent's. ${VAR} is expanded in every scalar value before it is
// converted. A key "x_file" fills the field tagged "x" (when there is no
// field tagged "x_file") with the content of the named file.
func Decode(src []byte, out any, opts DecodeOptions) (Positions, []Problem) {
	pos, probs, _ := decode(src, out, opts)
	return pos, probs
}

// decode is Decode; stopped says a limit cut decoding short, so that out
// holds half a document.
func decode(src []byte, out any, opts DecodeOptions) (_ Positions, _ []Problem, stopped bool) {
	pos := Positions{}
	rv := reflect.ValueOf(out)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return pos, []Problem{{Msg: fmt.Sprintf("cannot decode into %T: need a non-nil pointer to a struct", out)}}, true
	}
	if len(src) > maxDocumentBytes {
		return pos, []Problem{{Msg: fmt.Sprintf("the document is %d bytes, more than the limit of %d", len(src), maxDocumentBytes)}}, true
	}
	if opts.ReadFile == nil {
		opts.ReadFile = func(name string) ([]byte, error) { return probes.ReadFileLimit(name, maxSecretFileBytes) }
	}
	d := &decoder{
		opts:    opts,
		pos:     pos,
		files:   map[*yaml.Node]string{},
		structs: map[reflect.Type]*structInfo{},
	}
	root, probs := parse(src)
	d.probs = probs
	if root != nil {
		d.value(root, rv.Elem(), "")
	}
	slices.SortStableFunc(d.probs, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	return pos, d.probs, d.stopped
}

// parse parses src into a node tree and returns the root value of its only
// document, or nil when it is empty.
func parse(src []byte) (root *yaml.Node, probs []Problem) {
	defer func() {
		if r := recover(); r != nil { // a parser bug must not take the process down
			root, probs = nil, []Problem{{Msg: fmt.Sprintf("parse YAML: %v", r)}}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc, next yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, []Problem{syntaxProblem(err, src)}
	}
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		probs = append(probs, syntaxProblem(err, src))
	default:
		probs = append(probs, Problem{Line: next.Line, Column: next.Column, Msg: "only one YAML document is allowed"})
	}
	if len(doc.Content) == 0 {
		return nil, probs
	}
	return doc.Content[0], probs
}

// syntaxProblem turns "yaml: line 3: mapping values are not allowed in this
// context" into a Problem on line 3. yaml.v3 gives no line for an unknown
// anchor, so that one is placed at the first "*name" in src.
func syntaxProblem(err error, src []byte) Problem {
	p := Problem{Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	if rest, ok := strings.CutPrefix(p.Msg, "line "); ok {
		num, msg, ok := strings.Cut(rest, ": ")
		if n, err := strconv.Atoi(num); ok && err == nil && n > 0 {
			p.Line, p.Msg = n, msg
		}
	}
	if name, ok := strings.CutPrefix(p.Msg, "unknown anchor '"); ok && p.Line == 0 {
		name, _, _ = strings.Cut(name, "'")
		p.Line, p.Column = findAlias(src, name)
	}
	return p
}

// findAlias returns the line and column of the first "*name" in src, or
// zeros.
func findAlias(src []byte, name string) (line, col int) {
	ref := []byte("*" + name)
	for off := 0; ; {
		i := bytes.Index(src[off:], ref)
		if i < 0 {
			return 0, 0
		}
		i += off
		off = i + len(ref)
		if off == len(src) || bytes.IndexByte([]byte(" \t\r\n,[]{}"), src[off]) >= 0 {
			start := bytes.LastIndexByte(src[:i], '\n') + 1
			return bytes.Count(src[:i], []byte("\n")) + 1, utf8.RuneCount(src[start:i]) + 1
		}
	}
}

// decoder holds the state of one Decode call.
type decoder struct {
	opts       DecodeOptions
	pos        Positions
	probs      []Problem
	files      map[*yaml.Node]string // nodes holding a secret file's content → file name
	structs    map[reflect.Type]*structInfo
	nodes      int        // values visited, aliases expanded
	aliasNodes int        // of them, values visited inside an alias expansion
	depth      int        // values being decoded, one inside the other
	alias      *yaml.Node // the outermost alias being expanded, if any
	stopped    bool       // a limit was exceeded
}

func (d *decoder) problem(n *yaml.Node, path, msg string) {
	d.probs = append(d.probs, Problem{Line: max(n.Line, 0), Column: max(n.Column, 0), Path: path, Msg: msg})
}

func (d *decoder) problemf(n *yaml.Node, path, format string, args ...any) {
	d.problem(n, path, fmt.Sprintf(format, args...))
}

// enter charges one value (and one more level of nesting) against the
// limits that stop alias bombs and alias cycles, and reports whether
// decoding may go on.
func (d *decoder) enter(n *yaml.Node, path string) bool {
	if d.stopped {
		return false
	}
	d.nodes++
	if d.alias != nil {
		d.aliasNodes++
	}
	var msg string
	switch {
	case d.aliasNodes > maxAliasNodes:
		msg = fmt.Sprintf("the document is too complex: more than %d values after expanding aliases", maxAliasNodes)
	case d.nodes > maxNodes:
		msg = fmt.Sprintf("the document is too complex: more than %d values", maxNodes)
	case d.depth >= maxDepth:
		msg = fmt.Sprintf("the document nests more than %d levels deep", maxDepth)
	default:
		return true
	}
	d.stopped = true
	if d.alias != nil {
		n = d.alias // the alias whose expansion went too far
	}
	d.problem(n, path, msg)
	return false
}

// value decodes n into out and records its position under path.
func (d *decoder) value(n *yaml.Node, out reflect.Value, path string) {
	d.pos[path] = Position{n.Line, n.Column}
	if !d.enter(n, path) {
		return
	}
	d.depth++
	defer func() { d.depth-- }()
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return
		}
		if d.alias == nil {
			d.alias = n
			defer func() { d.alias = nil }()
		}
		target := *n.Alias // report problems with the value itself where it is used
		target.Line, target.Column = n.Line, n.Column
		n = &target
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		switch out.Kind() {
		case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface:
			out.SetZero()
		}
		return
	}
	d.nonNull(n, out, path)
}

// nonNull decodes n, which is neither null nor an alias, into out.
func (d *decoder) nonNull(n *yaml.Node, out reflect.Value, path string) {
	if out.Kind() != reflect.Pointer && out.CanAddr() {
		if tu, ok := out.Addr().Interface().(encoding.TextUnmarshaler); ok {
			d.text(n, tu, path)
			return
		}
	}
	switch out.Kind() {
	case reflect.Pointer:
		if out.IsNil() {
			out.Set(reflect.New(out.Type().Elem()))
		}
		d.nonNull(n, out.Elem(), path)
	case reflect.Struct:
		d.structValue(n, out, path)
	case reflect.Slice:
		d.sliceValue(n, out, path)
	case reflect.Map:
		d.mapValue(n, out, path)
	default:
		d.scalarValue(n, out, path)
	}
}

// scalar returns the text of scalar n with ${VAR} expanded; false if a
// reference could not be expanded (reported).
func (d *decoder) scalar(n *yaml.Node, path string) (string, bool) {
	if _, ok := d.files[n]; ok {
		return n.Value, true
	}
	s, errs := expandEnv(n.Value, d.opts.LookupEnv)
	for _, msg := range errs {
		d.problem(n, path, msg)
	}
	return s, len(errs) == 0
}

// mismatch reports that n is not the want the Go type needs.
func (d *decoder) mismatch(n *yaml.Node, path, want, text string) {
	d.problemf(n, path, "expected %s, got %s", want, d.describe(n, text))
}

// describe names what n, whose (expanded) text is text, is for a human,
// without quoting the content of a secret file.
func (d *decoder) describe(n *yaml.Node, text string) string {
	if name, ok := d.files[n]; ok {
		return "the contents of " + name
	}
	switch {
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.ShortTag() == "!!null":
		return "null"
	case len(text) > 60:
		return strconv.Quote(strings.ToValidUTF8(text[:57], "")+"...") + " (shortened)"
	}
	return strconv.Quote(text)
}

func (d *decoder) text(n *yaml.Node, tu encoding.TextUnmarshaler, path string) {
	if n.Kind != yaml.ScalarNode {
		d.mismatch(n, path, "a string", "")
		return
	}
	if s, ok := d.scalar(n, path); ok {
		if err := tu.UnmarshalText([]byte(s)); err != nil {
			d.problem(n, path, err.Error())
		}
	}
}

func (d *decoder) scalarValue(n *yaml.Node, out reflect.Value, path string) {
	want := wantFor(out.Type())
	switch {
	case want == "":
		d.problemf(n, path, "cannot decode into Go type %s", out.Type())
	case n.Kind != yaml.ScalarNode:
		d.mismatch(n, path, want, "")
	default:
		if s, ok := d.scalar(n, path); ok {
			if want := setScalar(out, s); want != "" {
				d.mismatch(n, path, want, s)
			}
		}
	}
}

func (d *decoder) sliceValue(n *yaml.Node, out reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.mismatch(n, path, "a list", n.Value)
		return
	}
	s := reflect.MakeSlice(out.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		if d.stopped {
			break
		}
		d.value(item, s.Index(i), path+"["+strconv.Itoa(i)+"]")
	}
	out.Set(s)
}

func (d *decoder) mapValue(n *yaml.Node, out reflect.Value, path string) {
	t := out.Type()
	if t.Key().Kind() != reflect.String {
		d.problemf(n, path, "cannot decode into Go type %s: map keys must be strings", t)
		return
	}
	if n.Kind != yaml.MappingNode {
		d.mismatch(n, path, "a mapping", n.Value)
		return
	}
	if out.IsNil() {
		out.Set(reflect.MakeMapWithSize(t, len(n.Content)/2))
	}
	d.pairs(n, path, func(_, v *yaml.Node, key string) {
		elem := reflect.New(t.Elem()).Elem()
		d.value(v, elem, keyPath(path, key))
		out.SetMapIndex(reflect.ValueOf(key).Convert(t.Key()), elem)
	})
}

// pairs calls fn for every entry of mapping n whose key is a string that is
// neither a merge key nor a duplicate; it reports the others.
func (d *decoder) pairs(n *yaml.Node, path string, fn func(k, v *yaml.Node, key string)) {
	seen := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content) && !d.stopped; i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := k
		if k.Kind == yaml.AliasNode && k.Alias != nil {
			key = k.Alias
		}
		switch first := seen[key.Value]; {
		case key.Kind != yaml.ScalarNode:
			d.problemf(k, path, "a key must be a string, not %s", d.describe(key, ""))
		case key.ShortTag() == "!!merge":
			d.problem(k, path, "merge keys (<<) are not supported")
		case first != nil:
			d.problemf(k, path, "duplicate key %q (first set on line %d)", key.Value, first.Line)
		default:
			seen[key.Value] = k
			fn(k, v, key.Value)
		}
	}
}

// join appends a struct field name to path.
func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// keyPath appends a map key to path: "labels.team", or `labels["a.b"]` when
// the key is not made of letters, digits, "_" and "-".
func keyPath(path, key string) string {
	for _, c := range []byte(key) {
		if c != '_' && c != '-' && !('a' <= c && c <= 'z') && !('A' <= c && c <= 'Z') && !('0' <= c && c <= '9') {
			return path + "[" + strconv.Quote(key) + "]"
		}
	}
	if key == "" {
		return path + `[""]`
	}
	return join(path, key)
}

// structInfo is what decoding needs to know about a struct type.
type structInfo struct {
	fields map[string][]int // yaml name → field index, through inline fields
	names  []string         // the yaml names, sorted, for suggestions
}

// fileKey is an "x_file" key standing for the field tagged "x".
type fileKey struct {
	k, v      *yaml.Node
	key, base string
}

func (d *decoder) structValue(n *yaml.Node, out reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.mismatch(n, path, "a mapping", n.Value)
		return
	}
	info, err := d.structInfo(out.Type())
	if err != nil {
		d.problem(n, path, err.Error())
		return
	}
	set := map[string]bool{}
	var files []fileKey
	d.pairs(n, path, func(k, v *yaml.Node, key string) {
		if index, ok := info.fields[key]; ok {
			set[key] = true
			d.value(v, fieldByIndex(out, index), join(path, key))
			return
		}
		if base, ok := strings.CutSuffix(key, "_file"); ok && info.fields[base] != nil {
			files = append(files, fileKey{k: k, v: v, key: key, base: base})
			return
		}
		msg := fmt.Sprintf("unknown key %q", key)
		if s := suggest(key, info.names); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		d.problem(k, path, msg)
	})
	for _, f := range files {
		if set[f.base] {
			d.problemf(f.k, path, "set either %q or %q, not both", f.base, f.key)
			continue
		}
		d.pos[join(path, f.base)] = Position{f.v.Line, f.v.Column}
		if n, ok := d.readSecret(f.v, join(path, f.key)); ok {
			d.value(n, fieldByIndex(out, info.fields[f.base]), join(path, f.base))
		}
	}
}

// fieldByIndex is reflect.Value.FieldByIndex, allocating nil pointers to
// inline structs on the way.
func fieldByIndex(v reflect.Value, index []int) reflect.Value {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v
}

func (d *decoder) structInfo(t reflect.Type) (*structInfo, error) {
	if info, ok := d.structs[t]; ok {
		return info, nil
	}
	info := &structInfo{fields: map[string][]int{}}
	if err := info.collect(t, nil, 0); err != nil {
		return nil, err
	}
	slices.Sort(info.names)
	d.structs[t] = info
	return info, nil
}

// collect adds the tagged fields of struct t, whose index within the
// decoded struct starts with prefix, then those of its inline fields; the
// first field with a name wins.
func (info *structInfo) collect(t reflect.Type, prefix []int, depth int) error {
	if depth > 16 {
		return fmt.Errorf("cannot decode into Go type %s: inline fields nest too deep", t)
	}
	var inline []reflect.StructField
	for i := range t.NumField() {
		f := t.Field(i)
		tag, ok := f.Tag.Lookup("yaml")
		if !ok || tag == "-" || !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		f.Index = append(slices.Clone(prefix), i)
		if slices.Contains(strings.Split(opts, ","), "inline") {
			inline = append(inline, f)
		} else if _, dup := info.fields[name]; name != "" && !dup {
			info.fields[name] = f.Index
			info.names = append(info.names, name)
		}
	}
	for _, f := range inline {
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() != reflect.Struct {
			return fmt.Errorf("cannot decode into Go type %s: inline field %s is not a struct", t, f.Name)
		}
		if err := info.collect(ft, f.Index, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// suggest returns the name closest to key if it is at most 2 edits away
// (and not a complete rewrite of a short key), or "".
func suggest(key string, names []string) string {
	best, bestDist := "", 3
	for _, name := range names {
		if dist := editDistance(key, name); dist < bestDist && dist < len(key) {
			best, bestDist = name, dist
		}
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b:
// insertions, deletions, substitutions and swaps of adjacent bytes.
func editDistance(a, b string) int {
	prev2, prev, cur := make([]int, len(b)+1), make([]int, len(b)+1), make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

var durationType = reflect.TypeFor[time.Duration]()

// wantFor describes for a human the scalar a Go type takes; "" if the type
// is not supported.
func wantFor(t reflect.Type) string {
	if t == durationType {
		return `a duration such as "30s"`
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return ""
}

// setScalar stores s into out, whose type wantFor supports. On failure it
// returns what s should have been.
func setScalar(out reflect.Value, s string) (want string) {
	t := out.Type()
	switch {
	case t == durationType:
		v, want := parseDuration(s)
		if want == "" {
			out.SetInt(int64(v))
		}
		return want
	case t.Kind() == reflect.String:
		out.SetString(s)
	case t.Kind() == reflect.Bool && (s == "true" || s == "false"):
		out.SetBool(s == "true")
	case out.CanInt():
		v, want := parseInt(s, t.Bits())
		if want == "" {
			out.SetInt(v)
		}
		return want
	case out.CanUint():
		v, want := parseUint(s, t.Bits())
		if want == "" {
			out.SetUint(v)
		}
		return want
	case out.CanFloat():
		v, err := strconv.ParseFloat(s, t.Bits())
		if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
			return "a number"
		}
		out.SetFloat(v)
	default:
		return wantFor(t)
	}
	return ""
}

// intBase is the base strconv should parse s in: 10, or 0 for "0x", "0o"
// and "0b" prefixes (so "010" is ten, as in YAML 1.2).
func intBase(s string) int {
	s = strings.TrimLeft(s, "+-")
	if len(s) > 2 && s[0] == '0' && strings.ContainsRune("xXoObB", rune(s[1])) {
		return 0
	}
	return 10
}

// isInteger reports whether s is an integer of any size: an optional sign,
// then decimal digits or a "0x", "0o" or "0b" prefix and digits.
func isInteger(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	digits := "0123456789"
	if intBase(s) == 0 {
		digits = map[byte]string{'x': "0123456789abcdefABCDEF_", 'o': "01234567_", 'b': "01_"}[s[1]|0x20]
		s = s[2:]
	}
	return s != "" && strings.Trim(s, digits) == ""
}

func parseInt(s string, bits int) (int64, string) {
	v, err := strconv.ParseInt(s, intBase(s), bits)
	if err == nil {
		return v, ""
	}
	if isInteger(s) {
		maxInt := int64(math.MaxInt64 >> (64 - bits))
		return 0, fmt.Sprintf("an integer from %d to %d", -maxInt-1, maxInt)
	}
	return 0, "an integer"
}

func parseUint(s string, bits int) (uint64, string) {
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "+"), intBase(s), bits)
	if err == nil {
		return v, ""
	}
	if isInteger(s) {
		return 0, fmt.Sprintf("an integer from 0 to %d", uint64(math.MaxUint64>>(64-bits)))
	}
	return 0, "an integer"
}

// parseDuration parses Go durations ("1m30s") and whole days, alone or
// leading ("7d", "1d12h"). A bare number other than 0 is an error, since its
// unit would be a guess.
func parseDuration(s string) (time.Duration, string) {
	const want = `a duration such as "30s"`
	if s != "0" && isInteger(s) && intBase(s) == 10 {
		return 0, `a duration with a unit (ms, s, m, h or d) such as "30s"`
	}
	days, rest, ok := strings.Cut(s, "d")
	if !ok {
		v, err := time.ParseDuration(s)
		if err != nil {
			return 0, want
		}
		return v, ""
	}
	n, err := strconv.ParseInt(days, 10, 64)
	if err != nil || strings.Trim(days, "0123456789") != "" || n > math.MaxInt64/int64(24*time.Hour) {
		return 0, want
	}
	v := time.Duration(n) * 24 * time.Hour
	if rest != "" {
		r, err := time.ParseDuration(rest)
		if err != nil || r < 0 || strings.Trim(rest[:1], "0123456789.") != "" || v > math.MaxInt64-r {
			return 0, want
		}
		v += r
	}
	return v, ""
}
