package statuspage

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestContrast reads the stylesheet's colours, light and dark, and checks
// WCAG 2.2 AA: text ≥ 4.5:1 against its background (SC 1.4.3), bars and
// chart lines ≥ 3:1 (SC 1.4.11).
func TestContrast(t *testing.T) {
	// The arithmetic itself: black on white is 21:1, #767676 the lightest
	// grey that passes 4.5:1 on white, #777777 just fails.
	if r := contrast("#000000", "#ffffff"); math.Abs(r-21) > 1e-9 || contrast("#767676", "#ffffff") < 4.5 || contrast("#777777", "#ffffff") >= 4.5 {
		t.Fatalf("contrast arithmetic is off: %.3f", r)
	}
	css := string(stylesheet)
	dark := strings.Index(css, "@media (prefers-color-scheme: dark)")
	if dark < 0 {
		t.Fatal("no dark scheme")
	}
	for _, scheme := range []struct {
		name string
		vars map[string]string
	}{{"light", cssVars(css[:dark])}, {"dark", cssVars(css[dark:])}} {
		v := scheme.vars
		check := func(fg, bg string, min float64) {
			t.Helper()
			a, b := v[fg], v[bg]
			if a == "" || b == "" {
				t.Errorf("%s: --%s or --%s is not set", scheme.name, fg, bg)
				return
			}
			if r := contrast(a, b); r < min {
				t.Errorf("%s: --%s %s on --%s %s is %.2f:1, want ≥ %.1f:1", scheme.name, fg, a, bg, b, r, min)
			}
		}
		for _, text := range []string{"fg", "muted", "link", "op", "mt", "dg", "pa", "ma", "un"} {
			check(text, "bg", 4.5)
		}
		for _, status := range []string{"op", "mt", "dg", "pa", "ma", "un"} {
			check("on", status, 4.5) // banner text and icons on the status colour
		}
		for _, bar := range []string{"b-ok", "b-dg", "b-mi", "b-pa", "b-ma", "b-nd"} {
			check(bar, "bg", 3)
			check(bar, "card", 3)
		}
		for _, line := range []string{"l0", "l1", "l2", "l3", "l4", "l5", "muted"} {
			check(line, "card", 3) // chart lines on the chart's background
		}
		check("fg", "card", 4.5)
	}
}

var cssVar = regexp.MustCompile(`--([a-z0-9-]+):\s*(#[0-9a-fA-F]{6})`)

// cssVars returns the custom properties set to #rrggbb in css.
func cssVars(css string) map[string]string {
	out := map[string]string{}
	for _, m := range cssVar.FindAllStringSubmatch(css, -1) {
		out[m[1]] = m[2]
	}
	return out
}

// contrast is the WCAG contrast ratio of two #rrggbb colours.
func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}

func luminance(hex string) float64 {
	var c [3]float64
	for i := range c {
		v, _ := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		s := float64(v) / 255
		if s <= 0.04045 {
			c[i] = s / 12.92
		} else {
			c[i] = math.Pow((s+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*c[0] + 0.7152*c[1] + 0.0722*c[2]
}
