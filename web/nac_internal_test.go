package web

import (
	"strings"
	"testing"
)

// FuzzParseLines feeds the settings form's VLAN and subnet boxes: no
// panic, every key and value trimmed and non-empty, every line accounted
// for.
func FuzzParseLines(f *testing.F) {
	f.Add("iot=30\ndefault=10\n")
	f.Add("iot\n=\n a = b \r\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		m, bad := parseLines(s)
		for k, v := range m {
			if k == "" || v == "" || k != strings.TrimSpace(k) || v != strings.TrimSpace(v) {
				t.Fatalf("entry %q=%q", k, v)
			}
		}
		lines := 0
		for l := range strings.Lines(s) {
			if strings.TrimSpace(l) != "" {
				lines++
			}
		}
		if len(m)+len(bad) > lines {
			t.Fatalf("%d entries and %d bad lines from %d lines", len(m), len(bad), lines)
		}
	})
}
