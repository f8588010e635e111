package recog

import (
	"maps"
	"os"
	"strings"
	"testing"
)

// TestRecogExamples loads the whole recog rule set and checks every example of
// every rule.
func TestRecogExamples(t *testing.T) {
	t.Parallel()
	const dir = "../../shared/data/recog/xml"
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("recog rules missing: %v", err)
		}
		t.Skipf("recog rules not found at %s (CI=true makes this a failure): %v", dir, err)
	}
	set, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n, ex int
	for _, db := range set.Databases() {
		for _, fp := range db.Fingerprints {
			n++
			ex += len(fp.Examples)
		}
		for _, err := range db.Verify() {
			t.Error(err)
		}
	}
	t.Logf("%d fingerprints, %d examples", n, ex)
	if n < 4000 || ex < 7000 {
		t.Errorf("only %d fingerprints and %d examples loaded from %s", n, ex, dir)
	}
}

// TestBuiltinExamples checks every example of firmward's own rules.
func TestBuiltinExamples(t *testing.T) {
	t.Parallel()
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	if set.Len() < 40 {
		t.Errorf("only %d builtin fingerprints", set.Len())
	}
	for _, db := range set.Databases() {
		if db.Matches == "" {
			t.Errorf("%s has no matches key", db.Name)
		}
		for i, fp := range db.Fingerprints {
			if len(fp.Examples) == 0 {
				t.Errorf("%s: fingerprint %d (%s) has no example", db.Name, i+1, fp.Description)
			}
		}
		for _, err := range db.Verify() {
			t.Error(err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, xml, want string
	}{
		{"not xml", "hello", "not a fingerprints XML file"},
		{"bad regexp", `<fingerprints matches="a"><fingerprint pattern="(unclosed"/></fingerprints>`, "does not compile"},
		{"group out of range", `<fingerprints matches="a"><fingerprint pattern="^a$"><param pos="1" name="x"/></fingerprint></fingerprints>`, "pos 1 but the pattern has 0 groups"},
		{"bad pos", `<fingerprints matches="a"><fingerprint pattern="^a$"><param pos="one" name="x"/></fingerprint></fingerprints>`, "not a whole number"},
		{"unnamed param", `<fingerprints matches="a"><fingerprint pattern="^a$"><param pos="0" value="x"/></fingerprint></fingerprints>`, "without a name"},
		{"bad flag", `<fingerprints matches="a"><fingerprint pattern="^a$" flags="REG_NOPE"/></fingerprints>`, "unknown flag"},
		{"bad base64", `<fingerprints matches="a"><fingerprint pattern="^a$"><example _encoding="base64">!!!</example></fingerprint></fingerprints>`, "does not decode"},
		{"bad preference", `<fingerprints matches="a" preference="high"></fingerprints>`, "preference"},
		{"bad certainty", `<fingerprints matches="a"><fingerprint pattern="^a$" certainty="2"/></fingerprints>`, "certainty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(strings.NewReader(tt.xml), "t.xml")
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "t.xml") {
				t.Errorf("Parse error = %v, want one naming t.xml and saying %q", err, tt.want)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	t.Parallel()
	db, err := Parse(strings.NewReader(`<fingerprints matches="k" preference="1">
  <fingerprint pattern="^Acme (\w+) v([\d.]+)$" flags="REG_ICASE" certainty="0.8">
    <description>Acme</description>
    <param pos="0" name="hw.vendor" value="Acme"/>
    <param pos="1" name="hw.model"/>
    <param pos="2" name="os.version"/>
    <param pos="0" name="hw.product" value="Acme {hw.model} ({missing})"/>
  </fingerprint>
  <fingerprint pattern="^\xff\x01bin">
    <param pos="0" name="kind" value="binary"/>
  </fingerprint>
</fingerprints>`), "t.xml")
	if err != nil {
		t.Fatal(err)
	}
	set := NewSet(db)
	tests := []struct {
		name, in string
		want     map[string]string
	}{
		{"capture and interpolate", "ACME Rocket v1.2", map[string]string{"hw.vendor": "Acme", "hw.model": "Rocket", "os.version": "1.2", "hw.product": "Acme Rocket ({missing})"}},
		{"line anchors as in Ruby", "header\nacme Rocket v3\nfooter", map[string]string{"hw.vendor": "Acme", "hw.model": "Rocket", "os.version": "3", "hw.product": "Acme Rocket ({missing})"}},
		{"bytes", "\xff\x01binary", map[string]string{"kind": "binary"}},
		{"no match", "Other", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ms := set.Match("k", tt.in)
			if tt.want == nil {
				if len(ms) != 0 {
					t.Fatalf("got %v, want no match", ms)
				}
				return
			}
			if len(ms) != 1 {
				t.Fatalf("got %d matches, want 1", len(ms))
			}
			if !maps.Equal(ms[0].Params, tt.want) {
				t.Errorf("params = %v, want %v", ms[0].Params, tt.want)
			}
		})
	}
	if ms := set.Match("k", "acme x v1"); ms[0].Certainty != 0.8 {
		t.Errorf("certainty = %v, want 0.8 (rule 0.8 × preference weight 1)", ms[0].Certainty)
	}
	if ms := set.Match("other", "acme x v1"); ms != nil {
		t.Errorf("another key matched: %v", ms)
	}
}

func TestLoadDirErrors(t *testing.T) {
	t.Parallel()
	if _, err := LoadDir(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no *.xml rule files") {
		t.Errorf("empty dir: %v", err)
	}
	if _, err := LoadDir("/nonexistent/recog"); err == nil {
		t.Error("missing dir loaded")
	}
}

// FuzzParse feeds arbitrary rule files to Parse and matches whatever loads
// against its own examples: nothing may panic.
func FuzzParse(f *testing.F) {
	b, err := os.ReadFile("rules/firmward_mdns.xml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(b), "service=_shelly._tcp;app=Plus1PM;gen=2;ver=1.0.8")
	f.Add(`<fingerprints matches="k"><fingerprint pattern="^(a)(b)?$"><param pos="2" name="x"/><param pos="0" name="y" value="{x}{y}"/><example x="b">ab</example></fingerprint></fingerprints>`, "a")
	f.Add(`<fingerprints><fingerprint pattern="\h\Z"/></fingerprints>`, "f\n")
	f.Fuzz(func(t *testing.T, doc, in string) {
		db, err := Parse(strings.NewReader(doc), "fuzz.xml")
		if err != nil {
			return
		}
		_ = db.Verify()
		NewSet(db).Match(db.Matches, in)
	})
}
