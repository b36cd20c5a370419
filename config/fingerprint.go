package config

import (
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"fmt"
	"hash"
	"reflect"
	"slices"
	"strings"

	"github.com/vantageprobe/vantage/probes"
)

var (
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
	secretType    = reflect.TypeFor[probes.Secret]()
)

// Fingerprint identifies everything that affects how a check runs
// (including secret values, which never leave the hash). Two checks with
// the same fingerprint behave the same, so a reload leaves them running.
func (c Check) Fingerprint() string {
	h := sha256.New()
	writeValue(h, reflect.ValueOf(c))
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// writeValue feeds a canonical encoding of v into h.
func writeValue(h hash.Hash, v reflect.Value) {
	if v.Type() != secretType && v.CanInterface() && v.Type().Implements(textMarshaler) {
		if b, err := v.Interface().(encoding.TextMarshaler).MarshalText(); err == nil {
			fmt.Fprintf(h, "t%d:%s", len(b), b)
			return
		}
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			h.Write([]byte("n"))
			return
		}
		writeValue(h, v.Elem())
	case reflect.Struct:
		for i := range v.NumField() {
			fmt.Fprintf(h, "f%d", i)
			writeValue(h, v.Field(i))
			if name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ","); strings.HasSuffix(name, "_file") {
				writeFile(h, v.Field(i).String())
			}
		}
	case reflect.Slice, reflect.Array:
		fmt.Fprintf(h, "l%d", v.Len())
		for i := range v.Len() {
			writeValue(h, v.Index(i))
		}
	case reflect.Map:
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		fmt.Fprintf(h, "m%d", len(keys))
		for _, k := range keys {
			writeValue(h, k)
			writeValue(h, v.MapIndex(k))
		}
	case reflect.String:
		fmt.Fprintf(h, "s%d:%s", v.Len(), v.String())
	case reflect.Bool:
		fmt.Fprintf(h, "b%t", v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		fmt.Fprintf(h, "i%d", v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		fmt.Fprintf(h, "u%d", v.Uint())
	case reflect.Float32, reflect.Float64:
		fmt.Fprintf(h, "x%g", v.Float())
	default:
		fmt.Fprintf(h, "?%s", v.Type())
	}
}

// writeFile hashes the content of a referenced file (a CA, a client
// certificate), so that a reload after the file was replaced rebuilds the
// check. A file that cannot be read hashes as its error.
func writeFile(h hash.Hash, path string) {
	if path == "" {
		return
	}
	b, err := probes.ReadPEMFile(path)
	if err != nil {
		fmt.Fprintf(h, "e%s", err)
		return
	}
	fmt.Fprintf(h, "c%d:", len(b))
	h.Write(b)
}
