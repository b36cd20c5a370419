package config

import (
	"fmt"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// expandEnv replaces every ${NAME} and ${NAME:-default} in s with the value
// lookup reports; "$${" stands for a literal "${". The default is used when
// NAME is unset or empty, and is itself taken literally. A nil lookup treats
// every variable as unset.
//
// It returns the expanded text and one message per unset or malformed
// reference. Expanded values are never scanned again.
func expandEnv(s string, lookup func(string) (string, bool)) (string, []string) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var (
		b    strings.Builder
		errs []string
	)
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			break
		}
		if i > 0 && s[i-1] == '$' {
			b.WriteString(s[:i-1])
			b.WriteString("${")
			s = s[i+2:]
			continue
		}
		b.WriteString(s[:i])
		end := strings.IndexByte(s[i+2:], '}')
		if end < 0 {
			errs = append(errs, `unterminated "${" (write "$${" for a literal "${")`)
			b.WriteString(s[i:])
			break
		}
		ref := s[i+2 : i+2+end]
		val, msg := resolveRef(ref, lookup)
		if msg != "" {
			errs = append(errs, msg)
		}
		b.WriteString(val)
		s = s[i+2+end+1:]
	}
	return b.String(), errs
}

// resolveRef resolves the inside of one "${...}" reference.
func resolveRef(ref string, lookup func(string) (string, bool)) (value, problem string) {
	name, def, hasDef := strings.Cut(ref, ":-")
	if name == "" {
		return "", fmt.Sprintf("invalid variable reference \"${%s}\": the name is empty", ref)
	}
	if !validEnvName(name) {
		return "", fmt.Sprintf("invalid variable reference \"${%s}\": "+
			"names are letters, digits and underscores, not starting with a digit", ref)
	}
	var (
		val string
		ok  bool
	)
	if lookup != nil {
		val, ok = lookup(name)
	}
	switch {
	case hasDef && val == "":
		return def, ""
	case !ok:
		return "", fmt.Sprintf("environment variable %q is not set", name)
	}
	return val, ""
}

// validEnvName reports whether name matches [A-Za-z_][A-Za-z0-9_]*.
func validEnvName(name string) bool {
	for i, c := range []byte(name) {
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return name != ""
}

// readSecret returns the content of the file named by the *_file value v,
// minus one trailing newline, in a node positioned at v.
func (d *decoder) readSecret(v *yaml.Node, path string) (*yaml.Node, bool) {
	at := v
	if v.Kind == yaml.AliasNode && v.Alias != nil {
		v = v.Alias
	}
	if v.Kind != yaml.ScalarNode || v.ShortTag() == "!!null" || v.Value == "" {
		d.problemf(at, path, "expected a file name, got %s", d.describe(v, v.Value))
		return nil, false
	}
	name, ok := d.scalar(v, path)
	if !ok {
		return nil, false
	}
	if name == "" {
		d.problemf(at, path, "expected a file name, got %q", v.Value)
		return nil, false
	}
	if !filepath.IsAbs(name) {
		name = filepath.Join(d.opts.BaseDir, name)
	}
	data, err := d.opts.ReadFile(name)
	if err != nil {
		d.problemf(at, path, "read secret file: %v", err)
		return nil, false
	}
	content, ok := strings.CutSuffix(string(data), "\n")
	if ok {
		content = strings.TrimSuffix(content, "\r")
	}
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: content, Line: at.Line, Column: at.Column}
	d.files[n] = name
	return n, true
}
