package vuln

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/firmward/firmward"
)

func TestParseCPE(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		check   func(CPE) bool
		wantErr string // substring of the error; "" for success
	}{
		{
			name:  "tp-link firmware ANY version",
			in:    "cpe:2.3:o:tp-link:archer_ax21_firmware:*:*:*:*:*:*:*:*",
			check: func(c CPE) bool { return c.Vendor.Text == "tp-link" && c.Version.Kind == Any },
		},
		{
			name:  "hardware NA version",
			in:    "cpe:2.3:h:tp-link:archer_ax21:-:*:*:*:*:*:*:*",
			check: func(c CPE) bool { return c.Part.Text == "h" && c.Version.Kind == NA },
		},
		{
			name:  "zyxel escaped parentheses",
			in:    `cpe:2.3:o:zyxel:nas326_firmware:5.21\(aazf.10\)c0:*:*:*:*:*:*:*`,
			check: func(c CPE) bool { return c.Version.Text == "5.21(aazf.10)c0" },
		},
		{
			name:  "siemens escaped slash",
			in:    `cpe:2.3:h:siemens:logo\!_12\/24rce:-:*:*:*:*:*:*:*`,
			check: func(c CPE) bool { return c.Product.Text == "logo!_12/24rce" },
		},
		{
			name:  "escaped colon and comma",
			in:    `cpe:2.3:a:acme:a\:b\,c:1.0:*:*:*:*:*:*:*`,
			check: func(c CPE) bool { return c.Product.Text == "a:b,c" && c.Version.Text == "1.0" },
		},
		{
			name:  "mikrotik sw_edition",
			in:    "cpe:2.3:o:mikrotik:routeros:*:*:*:*:ltr:*:*:*",
			check: func(c CPE) bool { return c.SWEdition.Text == "ltr" && c.Version.Kind == Any },
		},
		{
			name: "embedded wildcards",
			in:   "cpe:2.3:o:netgear:r7000_firmware:1.0.*:*:*:*:*:*:*:*",
			check: func(c CPE) bool {
				return c.Version.Text == "1.0." && c.Version.Suffix == "*" && c.Version.Prefix == ""
			},
		},
		{
			name:  "leading question marks",
			in:    "cpe:2.3:h:hikvision:??-2cd2432f-iw:-:*:*:*:*:*:*:*",
			check: func(c CPE) bool { return c.Product.Prefix == "??" && c.Product.Text == "-2cd2432f-iw" },
		},
		{
			name:  "escaped literal hyphen value",
			in:    `cpe:2.3:a:acme:tool:\-:*:*:*:*:*:*:*`,
			check: func(c CPE) bool { return c.Version.Kind == Value && c.Version.Text == "-" },
		},
		{
			name:  "escaped asterisk is literal",
			in:    `cpe:2.3:a:acme:tool:1\*2:*:*:*:*:*:*:*`,
			check: func(c CPE) bool { return c.Version.Text == "1*2" && !c.Version.HasWildcards() },
		},
		{name: "no prefix", in: "cpe:/o:tp-link:archer", wantErr: "must start with"},
		{name: "too few components", in: "cpe:2.3:o:tp-link:archer_ax21_firmware:*:*:*:*:*:*:*", wantErr: "got 10"},
		{name: "too many components", in: "cpe:2.3:o:a:b:*:*:*:*:*:*:*:*:*", wantErr: "more than 11"},
		{name: "bad part", in: "cpe:2.3:x:a:b:*:*:*:*:*:*:*:*", wantErr: "component 1 (part)"},
		{name: "empty vendor", in: "cpe:2.3:o::b:*:*:*:*:*:*:*:*", wantErr: "component 2 (vendor) is empty"},
		{name: "wildcard inside value", in: "cpe:2.3:o:a:b:1.*.2:*:*:*:*:*:*:*", wantErr: "component 4 (version) has an unescaped *"},
		{name: "unescaped special", in: "cpe:2.3:o:a:b:1.0(1):*:*:*:*:*:*:*", wantErr: "component 4 (version) has \"(\""},
		{name: "lone backslash", in: `cpe:2.3:o:a:b:*:*:*:*:*:*:*:x\`, wantErr: "component 11 (other) ends with a lone backslash"},
		{name: "space", in: "cpe:2.3:o:a:b c:*:*:*:*:*:*:*:*", wantErr: "component 3 (product)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := ParseCPE(tt.in)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("ParseCPE(%q) = %v, want error containing %q", tt.in, c, tt.wantErr)
				}
				if firmward.ErrorCode(err) != firmward.EINVALID {
					t.Errorf("error code = %q, want %q", firmward.ErrorCode(err), firmward.EINVALID)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %q does not contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseCPE(%q): %v", tt.in, err)
			}
			if !tt.check(c) {
				t.Errorf("ParseCPE(%q) = %#v: check failed", tt.in, c)
			}
			if got := c.String(); got != tt.in {
				t.Errorf("round trip: String() = %q, want %q", got, tt.in)
			}
			if err := firmward.ValidateCPE23(tt.in); err != nil {
				t.Errorf("ValidateCPE23 disagrees: %v", err)
			}
		})
	}
}

func TestCompareAttr(t *testing.T) {
	t.Parallel()
	v := func(s string) Attr {
		c, err := ParseCPE("cpe:2.3:a:x:" + s + ":*:*:*:*:*:*:*:*")
		if err != nil {
			t.Fatal(err)
		}
		return c.Product
	}
	anyA, na := Attr{Kind: Any}, Attr{Kind: NA}
	tests := []struct {
		name     string
		src, tgt Attr
		want     Relation
	}{
		{"any any", anyA, anyA, Equal},
		{"any value", anyA, v("foo"), Superset},
		{"any na", anyA, na, Superset},
		{"na any", na, anyA, Subset},
		{"na na", na, na, Equal},
		{"na value", na, v("foo"), Disjoint},
		{"value any", v("foo"), anyA, Subset},
		{"value na", v("foo"), na, Disjoint},
		{"value same case-insensitive", v("Archer_AX21"), v("archer_ax21"), Equal},
		{"value different", v("archer_ax21"), v("archer_ax50"), Disjoint},
		{"trailing star", v("archer*"), v("archer_ax21"), Superset},
		{"trailing star empty rest", v("archer*"), v("archer"), Superset},
		{"leading star", v("*_firmware"), v("r7000_firmware"), Superset},
		{"trailing question", v("r700?"), v("r7000"), Superset},
		{"trailing question too short", v("r700?"), v("r700"), Disjoint},
		{"trailing question too long", v("r700?"), v("r70000"), Disjoint},
		{"both ends", v("*ax2?"), v("archer_ax21"), Superset},
		{"target wildcard", v("foo"), v("fo*"), Undefined},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := CompareAttr(tt.src, tt.tgt); got != tt.want {
				t.Errorf("CompareAttr(%v, %v) = %v, want %v", tt.src, tt.tgt, got, tt.want)
			}
		})
	}
}

func TestMatchCPE(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name             string
		criteria, target string
		want             bool
	}{
		{"same firmware", "cpe:2.3:o:tp-link:archer_ax21_firmware:*:*:*:*:*:*:*:*", "cpe:2.3:o:tp-link:archer_ax21_firmware:1.1.2:*:*:*:*:*:*:*", true},
		{"case", "cpe:2.3:o:TP-Link:Archer_AX21_Firmware:*:*:*:*:*:*:*:*", "cpe:2.3:o:tp-link:archer_ax21_firmware:1.1.2:*:*:*:*:*:*:*", true},
		{"other product", "cpe:2.3:o:tp-link:archer_ax21_firmware:*:*:*:*:*:*:*:*", "cpe:2.3:o:tp-link:archer_ax50_firmware:1.1.2:*:*:*:*:*:*:*", false},
		{"part differs", "cpe:2.3:h:tp-link:archer_ax21:-:*:*:*:*:*:*:*", "cpe:2.3:o:tp-link:archer_ax21:-:*:*:*:*:*:*:*", false},
		{"NA vs value", "cpe:2.3:h:tp-link:archer_ax21:-:*:*:*:*:*:*:*", "cpe:2.3:h:tp-link:archer_ax21:v1:*:*:*:*:*:*:*", false},
		{"NA vs NA", "cpe:2.3:h:tp-link:archer_ax21:-:*:*:*:*:*:*:*", "cpe:2.3:h:tp-link:archer_ax21:-:*:*:*:*:*:*:*", true},
		{"sw_edition ltr vs ANY target is a subset", "cpe:2.3:o:mikrotik:routeros:*:*:*:*:ltr:*:*:*", "cpe:2.3:o:mikrotik:routeros:6.48.6:*:*:*:*:*:*:*", false},
		{"sw_edition ltr", "cpe:2.3:o:mikrotik:routeros:*:*:*:*:ltr:*:*:*", "cpe:2.3:o:mikrotik:routeros:6.48.6:*:*:*:ltr:*:*:*", true},
		{"escaped version equal", `cpe:2.3:o:zyxel:nas326_firmware:5.21\(aazf.10\)c0:*:*:*:*:*:*:*`, `cpe:2.3:o:zyxel:nas326_firmware:5.21\(AAZF.10\)C0:*:*:*:*:*:*:*`, true},
		{"version wildcard", "cpe:2.3:o:netgear:r7000_firmware:1.0.11.*:*:*:*:*:*:*:*", "cpe:2.3:o:netgear:r7000_firmware:1.0.11.116_10.2.100:*:*:*:*:*:*:*", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := ParseCPE(tt.criteria)
			if err != nil {
				t.Fatal(err)
			}
			g, err := ParseCPE(tt.target)
			if err != nil {
				t.Fatal(err)
			}
			if got := MatchCPE(c, g); got != tt.want {
				t.Errorf("MatchCPE(%s, %s) = %v, want %v", tt.criteria, tt.target, got, tt.want)
			}
		})
	}
}

// TestParseCPEAllIoTCriteria parses every criteria of the 2,304 IoT CVEs:
// each must parse and format back unchanged.
func TestParseCPEAllIoTCriteria(t *testing.T) {
	const path = "../../shared/data/nvd/iot-subset/iot-nvd11.jsonl"
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("data absent: %v", err)
	}
	defer func() { _ = f.Close() }()
	var n int
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var item struct {
			Configurations struct {
				Nodes []json.RawMessage `json:"nodes"`
			} `json:"configurations"`
		}
		if err := json.Unmarshal(sc.Bytes(), &item); err != nil {
			t.Fatal(err)
		}
		for _, raw := range item.Configurations.Nodes {
			for _, name := range cpe23Names(t, raw) {
				c, err := ParseCPE(name)
				if err != nil {
					t.Errorf("ParseCPE: %v", err)
					continue
				}
				if got := c.String(); got != name {
					t.Errorf("round trip %q -> %q", name, got)
				}
				n++
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d CPE names parsed", n)
}

// cpe23Names returns the cpe23Uri values of an NVD 1.1 node and its children.
func cpe23Names(t *testing.T, raw json.RawMessage) []string {
	var n struct {
		CPEMatch []struct {
			URI string `json:"cpe23Uri"`
		} `json:"cpe_match"`
		Children []json.RawMessage `json:"children"`
	}
	if err := json.Unmarshal(raw, &n); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range n.CPEMatch {
		out = append(out, m.URI)
	}
	for _, c := range n.Children {
		out = append(out, cpe23Names(t, c)...)
	}
	return out
}

func FuzzParseCPE(f *testing.F) {
	for _, s := range []string{
		"cpe:2.3:o:tp-link:archer_ax21_firmware:*:*:*:*:*:*:*:*",
		"cpe:2.3:h:tp-link:archer_ax21:-:*:*:*:*:*:*:*",
		`cpe:2.3:o:zyxel:nas326_firmware:5.21\(aazf.10\)c0:*:*:*:*:*:*:*`,
		`cpe:2.3:h:siemens:logo\!_12\/24rce:-:*:*:*:*:*:*:*`,
		"cpe:2.3:o:mikrotik:routeros:*:*:*:*:ltr:*:*:*",
		"cpe:2.3:o:netgear:r7000_firmware:1.0.*:*:*:*:*:*:*:*",
		"cpe:2.3:h:hikvision:??-2cd:-:*:*:*:*:*:*:*",
		`cpe:2.3:a:acme:tool:\-:*:*:*:*:*:*:\:`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCPE(s)
		if err != nil {
			if firmward.ErrorCode(err) != firmward.EINVALID {
				t.Fatalf("error code %q", firmward.ErrorCode(err))
			}
			return
		}
		out := c.String()
		c2, err := ParseCPE(out)
		if err != nil {
			t.Fatalf("ParseCPE(%q) ok, but its String %q does not parse: %v", s, out, err)
		}
		if c2 != c {
			t.Fatalf("parse-format-parse changed %q: %#v -> %#v", s, c, c2)
		}
		if c2.String() != out {
			t.Fatalf("format not stable: %q -> %q", out, c2.String())
		}
		if !MatchCPE(c, c) && !hasWildcardAttr(c) {
			t.Fatalf("%q does not match itself", s)
		}
	})
}

func hasWildcardAttr(c CPE) bool {
	for _, a := range c.attrs() {
		if a.HasWildcards() {
			return true
		}
	}
	return false
}
