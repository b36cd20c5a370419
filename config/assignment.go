package config

import (
	"encoding"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Assignment renders the checks that region probes as a YAML document that
// ParseAssignment (on the agent) decodes with the same strict decoder and
// validation as a config file; the agent runs every check in it, as its
// own region. Secrets are included in clear, for the agent
// to use: serve it only to the region's authenticated agent. File paths
// (ca_file, cert_file, key_file) are passed as they are and must exist on
// the agent's machine too.
func (c *Config) Assignment(region string) ([]byte, error) {
	checks := &yaml.Node{Kind: yaml.SequenceNode}
	for _, ch := range c.Checks {
		if !ch.InRegion(region) {
			continue
		}
		one := ch
		one.Regions, one.Quorum = nil, 0 // the agent runs every check it gets, as its own region
		n, err := encodeValue(reflect.ValueOf(one))
		if err != nil {
			return nil, fmt.Errorf("encode check %s: %w", ch.Name, err)
		}
		checks.Content = append(checks.Content, n)
	}
	doc := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{scalar("checks", 0), checks}}
	out, err := yaml.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode assignment: %w", err)
	}
	return out, nil
}

// ParseAssignment decodes and validates an agent's assignment. Nothing in
// it is expanded from the agent's environment.
func ParseAssignment(src []byte) (*Config, error) {
	return Parse("assignment", src, func(string) (string, bool) { return "", false })
}

// encodeValue turns v into a YAML node the decoder reads back as v.
func encodeValue(v reflect.Value) (*yaml.Node, error) {
	switch {
	case v.Type() == secretType:
		return scalar(escape(v.String()), yaml.DoubleQuotedStyle), nil
	case v.Type() == durationType:
		return scalar(time.Duration(v.Int()).String(), 0), nil
	case v.Type().Implements(textMarshaler):
		b, err := v.Interface().(encoding.TextMarshaler).MarshalText()
		return scalar(escape(string(b)), yaml.DoubleQuotedStyle), err
	}
	switch v.Kind() {
	case reflect.Pointer:
		return encodeValue(v.Elem())
	case reflect.Struct:
		return encodeStruct(v)
	case reflect.Slice:
		seq := &yaml.Node{Kind: yaml.SequenceNode}
		for i := range v.Len() {
			n, err := encodeValue(v.Index(i))
			if err != nil {
				return nil, err
			}
			seq.Content = append(seq.Content, n)
		}
		return seq, nil
	case reflect.Map:
		return encodeMap(v)
	case reflect.String:
		return scalar(escape(v.String()), yaml.DoubleQuotedStyle), nil
	case reflect.Bool:
		return scalar(strconv.FormatBool(v.Bool()), 0), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return scalar(strconv.FormatInt(v.Int(), 10), 0), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return scalar(strconv.FormatUint(v.Uint(), 10), 0), nil
	case reflect.Float32, reflect.Float64:
		return scalar(strconv.FormatFloat(v.Float(), 'g', -1, 64), 0), nil
	}
	return nil, fmt.Errorf("cannot encode %s", v.Type())
}

// encodeStruct encodes the tagged, non-zero fields of a struct; ",inline"
// fields merge into it.
func encodeStruct(v reflect.Value) (*yaml.Node, error) {
	m := &yaml.Node{Kind: yaml.MappingNode}
	for i := range v.NumField() {
		f := v.Type().Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "-" || (name == "" && opts != "inline") || v.Field(i).IsZero() {
			continue
		}
		n, err := encodeValue(v.Field(i))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
		if opts == "inline" {
			m.Content = append(m.Content, n.Content...)
			continue
		}
		m.Content = append(m.Content, scalar(name, 0), n)
	}
	return m, nil
}

func encodeMap(v reflect.Value) (*yaml.Node, error) {
	m := &yaml.Node{Kind: yaml.MappingNode}
	keys := v.MapKeys()
	slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
	for _, k := range keys {
		n, err := encodeValue(v.MapIndex(k))
		if err != nil {
			return nil, err
		}
		m.Content = append(m.Content, scalar(k.String(), yaml.DoubleQuotedStyle), n)
	}
	return m, nil
}

// scalar is a string (double-quoted) or, with style 0, a plain scalar such
// as a number, a bool, a duration or a key.
func scalar(s string, style yaml.Style) *yaml.Node {
	if style == 0 {
		return &yaml.Node{Kind: yaml.ScalarNode, Value: s}
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s, Style: style}
}

// escape keeps the decoder from expanding ${…} in a value that has it
// literally.
func escape(s string) string { return strings.ReplaceAll(s, "${", "$${") }
