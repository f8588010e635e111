package feeds

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	firmward "github.com/firmward/firmward"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// dataDir is the shared real data, /work/shared/data seen from the package.
const dataDir = "../../shared/data"

func dataFile(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(dataDir, rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("real data %s absent: %v", p, err)
	}
	return p
}

// parseAny detects the format of r and parses it, counting records and
// collecting vulnerabilities when keep is set.
func parseAny(r io.Reader, keep bool) (Format, int, []*firmward.Vulnerability, error) {
	f, u, err := Open(r)
	if err != nil {
		return "", 0, nil, err
	}
	n := 0
	var vs []*firmward.Vulnerability
	vf := func(v *firmward.Vulnerability) error {
		n++
		if keep {
			vs = append(vs, v)
		}
		return nil
	}
	switch f {
	case FormatNVD11:
		err = ParseNVD11(u, vf)
	case FormatNVD20:
		err = ParseNVD20(u, vf)
	case FormatCVE5:
		err = ParseCVE5(u, vf)
	case FormatCSAF:
		err = ParseCSAF(u, vf)
	case FormatKEV:
		err = ParseKEV(u, func(*firmward.KEVEntry) error { n++; return nil })
	case FormatEPSS:
		err = ParseEPSS(u, func(firmward.EPSSScore) error { n++; return nil })
	}
	return f, n, vs, err
}

func parseFile(t testing.TB, path string, keep bool) (Format, int, []*firmward.Vulnerability) {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = fh.Close() }()
	f, n, vs, err := parseAny(fh, keep)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return f, n, vs
}

func TestRealFiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		path   string
		format Format
		want   int
	}{
		{"nvd20 vunnel full page", "nvd/api-2.0/vunnel/full-page.json", FormatNVD20, 38},
		{"nvd20 vunnel single entry", "nvd/api-2.0/vunnel/single-entry.json", FormatNVD20, 1},
		{"nvd20 fkie bare cve", "nvd/api-2.0/fkie-transcribed/CVE-2023-1389.json", FormatNVD20, 1},
		{"nvd20 fkie no configurations", "nvd/api-2.0/fkie-transcribed/CVE-2024-3080.json", FormatNVD20, 1},
		{"nvd20 iot sample feed", "nvd/api-2.0/iot-sample-nvd20-feed.json", FormatNVD20, 4},
		{"nvd20 iot derived", "nvd/iot-subset/iot-nvd20-derived.json", FormatNVD20, 2304},
		{"nvd11 2002", "nvd/feeds-1.1/nvdcve-1.1-2002.json.gz", FormatNVD11, 6769},
		{"kev", "kev/known_exploited_vulnerabilities.json", FormatKEV, 1404},
		{"epss", "epss/epss_scores-2026-08-16.csv.gz", FormatEPSS, 360142},
		{"cve5", "cve5/iot/CVE-2014-100005.json", FormatCVE5, 1},
		{"csaf", "csaf/cisa-ot-2023-2024/icsa-23-012-02.json", FormatCSAF, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, n, _ := parseFile(t, dataFile(t, tt.path), false)
			if f != tt.format || n != tt.want {
				t.Errorf("got %s with %d records, want %s with %d", f, n, tt.format, tt.want)
			}
		})
	}
}

func TestNVD11FeedCounts(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"nvdcve-1.1-2002.json.gz", "nvdcve-1.1-2018.json.gz", "nvdcve-1.1-modified.json.gz"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fh, err := os.Open(dataFile(t, "nvd/feeds-1.1/"+name))
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = fh.Close() }()
			info, err := ParseNVD11Feed(fh, func(*firmward.Vulnerability) error { return nil })
			if err != nil {
				t.Fatal(err)
			}
			if info.NumberOfCVEs == 0 || info.Records != info.NumberOfCVEs {
				t.Errorf("delivered %d records, the feed says CVE_data_numberOfCVEs %d", info.Records, info.NumberOfCVEs)
			}
		})
	}
}

func TestFacts(t *testing.T) {
	t.Parallel()
	t.Run("CVE-2023-1389 is AND(firmware vulnerable, hardware not)", func(t *testing.T) {
		t.Parallel()
		_, _, vs := parseFile(t, dataFile(t, "nvd/api-2.0/fkie-transcribed/CVE-2023-1389.json"), true)
		v := vs[0]
		if v.ID != "CVE-2023-1389" || len(v.Configurations) != 1 {
			t.Fatalf("got %s with %d configurations", v.ID, len(v.Configurations))
		}
		c := v.Configurations[0]
		if c.Operator != "AND" || len(c.Nodes) != 2 || !c.Nodes[0].Matches[0].Vulnerable || c.Nodes[1].Matches[0].Vulnerable ||
			!strings.Contains(c.Nodes[0].Matches[0].Criteria, ":o:tp-link:archer_ax21_firmware:") || c.Nodes[0].Matches[0].VersionEndExcluding != "1.1.4" ||
			!strings.Contains(c.Nodes[1].Matches[0].Criteria, ":h:tp-link:archer_ax21:") {
			t.Errorf("configuration = %+v", c)
		}
	})
	t.Run("NVD 1.1 AND node with children", func(t *testing.T) {
		t.Parallel()
		fh, err := os.Open(dataFile(t, "nvd/feeds-1.1/nvdcve-1.1-2018.json.gz"))
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = fh.Close() }()
		var got *firmward.Vulnerability
		err = ParseNVD11(fh, func(v *firmward.Vulnerability) error {
			for _, c := range v.Configurations {
				if n := c.Nodes[0]; got == nil && n.Operator == "AND" && len(n.Children) == 2 && len(n.Children[1].Matches) > 0 && !n.Children[1].Matches[0].Vulnerable {
					got = v
				}
			}
			return nil
		})
		if err != nil || got == nil {
			t.Fatalf("err %v, found %v", err, got != nil)
		}
		var and *firmward.Node
		for i := range got.Configurations {
			if n := &got.Configurations[i].Nodes[0]; n.Operator == "AND" {
				and = n
			}
		}
		if and == nil || len(and.Children) != 2 || and.Children[1].Matches[0].Vulnerable {
			t.Errorf("no AND node with a firmware child and a hardware child: %+v", and)
		}
		if got.Published.IsZero() || len(got.CVSS) == 0 || got.CVSS[0].Source != "nvd@nist.gov" {
			t.Errorf("published %v cvss %+v", got.Published, got.CVSS)
		}
	})
	t.Run("KEV catalog", func(t *testing.T) {
		t.Parallel()
		fh, err := os.Open(dataFile(t, "kev/known_exploited_vulnerabilities.json"))
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = fh.Close() }()
		var first *firmward.KEVEntry
		cat, err := ParseKEVCatalog(fh, func(e *firmward.KEVEntry) error {
			if first == nil {
				first = e
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if cat.Version != "2025.08.25" || cat.Records != 1404 || cat.Count != 1404 || first.CVE != "CVE-2025-48384" || first.CatalogVersion != "2025.08.25" {
			t.Errorf("catalog %+v, first %+v", cat, first)
		}
	})
	t.Run("CVE5 SSVC spellings are normalised", func(t *testing.T) {
		t.Parallel()
		files, _ := filepath.Glob(filepath.Join(dataDir, "cve5/iot/*.json"))
		if len(files) == 0 {
			t.Skip("no CVE 5 records")
		}
		seen := map[string]bool{}
		n := 0
		for _, f := range files {
			_, c, vs := parseFile(t, f, true)
			n += c
			if s := vs[0].SSVC; s != nil {
				seen[s.Exploitation+"/"+s.Automatable+"/"+s.TechnicalImpact] = true
			}
		}
		for k := range seen {
			if k != strings.ToLower(k) {
				t.Errorf("SSVC %q not lower case", k)
			}
		}
		if n != 2033 || !seen["poc/no/total"] {
			t.Errorf("%d records, SSVC seen %v", n, seen)
		}
	})
	t.Run("CSAF advisories", func(t *testing.T) {
		t.Parallel()
		files, _ := filepath.Glob(filepath.Join(dataDir, "csaf/cisa-ot-2023-2024/*.json"))
		if len(files) == 0 {
			t.Skip("no CSAF advisories")
		}
		n, ranges := 0, 0
		for _, f := range files {
			_, c, vs := parseFile(t, f, true)
			n += c
			for _, v := range vs {
				for _, a := range v.Affected {
					if !strings.HasPrefix(a.Source, "csaf:ICS") || a.Vendor == "" {
						t.Fatalf("%s: affected %+v", f, a)
					}
					for _, av := range a.Versions {
						if av.LessThan != "" || av.LessThanOrEqual != "" {
							ranges++
						}
					}
				}
			}
		}
		if n != 3190 || ranges == 0 {
			t.Errorf("%d vulnerabilities, %d ranges", n, ranges)
		}
	})
	t.Run("EPSS gzip and plain, with and without the model line", func(t *testing.T) {
		t.Parallel()
		raw := "cve,epss,percentile\nCVE-1999-0001,0.033510000,0.876500000\nCVE-2023-1389,0.94,0.999\n"
		for _, in := range []string{raw, "#model_version:v2025.03.14,score_date:2025-08-16T00:00:00+0000\n" + raw} {
			for _, gz := range []bool{false, true} {
				var got []firmward.EPSSScore
				err := ParseEPSS(bytes.NewReader(maybeGzip(in, gz)), func(s firmward.EPSSScore) error { got = append(got, s); return nil })
				if err != nil || len(got) != 2 || got[1].Score != 0.94 || got[1].Percentile != 0.999 {
					t.Fatalf("gz %v: %v %+v", gz, err, got)
				}
				if strings.HasPrefix(in, "#") && (got[0].ModelVersion != "v2025.03.14" || got[0].ScoreDate != "2025-08-16") {
					t.Errorf("model line not read: %+v", got[0])
				}
			}
		}
	})
	t.Run("csafVersion", func(t *testing.T) {
		t.Parallel()
		for in, want := range map[string]firmward.AffectedVersion{
			"<=2.1.3.0":      {Version: "0", LessThanOrEqual: "2.1.3.0", Status: "affected", VersionType: "csaf"},
			"< V3.1":         {Version: "0", LessThan: "V3.1", Status: "affected", VersionType: "csaf"},
			"vers:intdot/<4": {Version: "0", LessThan: "4", Status: "affected", VersionType: "intdot"},
			"vers:all/*":     {Version: "vers:all/*", Status: "affected", VersionType: "csaf"},
			">=1.0|<=2.0":    {Version: ">=1.0|<=2.0", Status: "affected", VersionType: "csaf"},
		} {
			if got := csafVersion(in, "affected"); got != want {
				t.Errorf("csafVersion(%q) = %+v, want %+v", in, got, want)
			}
		}
	})
}

func maybeGzip(s string, gz bool) []byte {
	if !gz {
		return []byte(s)
	}
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, _ = w.Write([]byte(s))
	_ = w.Close()
	return b.Bytes()
}

func TestDetectFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     Format
	}{
		{"nvd11", `{"CVE_data_type":"CVE","CVE_Items":[]}`, FormatNVD11},
		{"nvd20", `{"resultsPerPage":0,"format":"NVD_CVE","vulnerabilities":[]}`, FormatNVD20},
		{"nvd20 bare", `{"id":"CVE-2023-1389","sourceIdentifier":"x"}`, FormatNVD20},
		{"kev", `{"title":"x","catalogVersion":"1","vulnerabilities":[]}`, FormatKEV},
		{"epss", "cve,epss,percentile\n", FormatEPSS},
		{"epss model line", "#model_version:v1,score_date:2025-01-01\ncve,epss,percentile\n", FormatEPSS},
		{"cve5", `{"dataType":"CVE_RECORD"}`, FormatCVE5},
		{"csaf", `{"document":{"csaf_version":"2.0"}}`, FormatCSAF},
		{"unknown json", `{"a":1}`, ""},
		{"unknown text", "hello", ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := DetectFormat([]byte(tt.in))
			if got != tt.want {
				t.Errorf("got %q, want %q (err %v)", got, tt.want, err)
			}
			if tt.want == "" && (firmward.ErrorCode(err) != firmward.EINVALID || !strings.Contains(err.Error(), "accepted")) {
				t.Errorf("error %v does not list the accepted formats", err)
			}
			f, _, err := Open(bytes.NewReader(maybeGzip(tt.in, true)))
			if f != tt.want || (tt.want != "") != (err == nil) {
				t.Errorf("Open of gzip: %q, %v", f, err)
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	page := func(cve string) string {
		return `{"resultsPerPage":1,"startIndex":0,"totalResults":1,"format":"NVD_CVE","vulnerabilities":[{"cve":{"id":"CVE-2023-0001","published":"2023-01-01T00:00:00.000","lastModified":"2023-01-01T00:00:00.000"}},{"cve":` + cve + `}]}`
	}
	goodCVE := `"id":"CVE-2023-1389","published":"2023-03-15T23:15:09.403","lastModified":"2025-10-21T20:19:18.847"`
	cfg := func(criteria string) string {
		return `{` + goodCVE + `,"configurations":[{"nodes":[{"operator":"OR","cpeMatch":[{"vulnerable":true,"criteria":"cpe:2.3:o:a:b:*:*:*:*:*:*:*:*"},{"vulnerable":true,"criteria":"` + criteria + `"}]}]}]}`
	}
	kev := func(entry string) string {
		return `{"catalogVersion":"1","vulnerabilities":[` + entry + `]}`
	}
	gzFeed := maybeGzip(page(`{`+goodCVE+`}`), true)
	tests := []struct {
		name  string
		in    []byte
		parse func(io.Reader) error
		want  []string // substrings of the error
	}{
		{"nvd20 bad cpe", []byte(page(cfg("cpe:/o:tp-link"))), nvd20, []string{"record 2 (CVE-2023-1389)", "configurations[0].nodes[0].cpeMatch[1].criteria", "CPE 2.3"}},
		{"nvd20 bad cve id", []byte(page(`{"id":"CVE-23-1","published":"2023-01-01T00:00:00.000","lastModified":"2023-01-01T00:00:00.000"}`)), nvd20, []string{"record 2", "id: is not a CVE id"}},
		{"nvd20 bad date", []byte(page(`{"id":"CVE-2023-1389","published":"15/03/2023","lastModified":"2023-01-01T00:00:00.000"}`)), nvd20, []string{"record 2 (CVE-2023-1389)", "published: is not a time"}},
		{"nvd20 wrong type", []byte(page(`{"id":"CVE-2023-1389","configurations":"x"}`)), nvd20, []string{"wrong JSON type", "record 2", "configurations"}},
		{"nvd20 truncated", []byte(page(`{` + goodCVE + `}`))[:150], nvd20, []string{"byte offset 90", "record 1"}},
		{"nvd20 truncated gzip", gzFeed[:len(gzFeed)-20], nvd20, []string{"truncated or corrupt"}},
		{"nvd20 bad operator", []byte(page(`{` + goodCVE + `,"configurations":[{"operator":"XOR","nodes":[]}]}`)), nvd20, []string{"configurations[0].operator: must be AND or OR"}},
		{"nvd11 bad cpe", []byte(`{"CVE_data_numberOfCVEs":"1","CVE_Items":[{"cve":{"CVE_data_meta":{"ID":"CVE-2018-0001"}},"publishedDate":"2018-01-10T22:29Z","lastModifiedDate":"2018-01-10T22:29Z","configurations":{"nodes":[{"operator":"AND","children":[{"operator":"OR","cpe_match":[{"vulnerable":true,"cpe23Uri":"cpe:2.3:o:x"}]}]}]}}]}`), nvd11, []string{"record 1 (CVE-2018-0001)", "configurations.nodes[0].children[0].cpe_match[0].cpe23Uri"}},
		{"nvd11 bad date", []byte(`{"CVE_Items":[{"cve":{"CVE_data_meta":{"ID":"CVE-2018-0001"}},"publishedDate":"yesterday","lastModifiedDate":"2018-01-10T22:29Z"}]}`), nvd11, []string{"record 1 (CVE-2018-0001)", "publishedDate"}},
		{"nvd11 not an object", []byte(`[1,2]`), nvd11, []string{"must be an object"}},
		{"kev bad cve", []byte(kev(`{"cveID":"CVE-2021","dateAdded":"2021-01-01"}`)), kevParse, []string{"record 1", "cveID"}},
		{"kev bad date", []byte(kev(`{"cveID":"CVE-2021-44228","dateAdded":"2021-13-01"}`)), kevParse, []string{"record 1 (CVE-2021-44228)", "dateAdded"}},
		{"kev wrong type", []byte(kev(`{"cveID":42}`)), kevParse, []string{"wrong JSON type", "cveID"}},
		{"epss out of range", []byte("cve,epss,percentile\nCVE-2023-1389,1.5,0.9\n"), epss, []string{"line 2 (CVE-2023-1389)", "epss", "[0, 1]"}},
		{"epss bad cve", []byte("cve,epss,percentile\nCVE-x,0.5,0.9\n"), epss, []string{"line 2", "cve: is not a CVE id"}},
		{"epss no header", []byte("CVE-2023-1389,0.5,0.9\n"), epss, []string{"line 1", "header"}},
		{"epss truncated gzip", maybeGzip(strings.Repeat("cve,epss,percentile\n", 1)+strings.Repeat("CVE-2023-1389,0.5,0.9\n", 5000), true)[:200], epss, []string{"truncated or corrupt"}},
		{"cve5 bad cpe", []byte(`{"dataType":"CVE_RECORD","cveMetadata":{"cveId":"CVE-2014-100005","dateUpdated":"2024-08-06T14:10:55.911Z"},"containers":{"cna":{},"adp":[{"providerMetadata":{"shortName":"CISA-ADP"},"affected":[{"cpes":["cpe:2.3:o:dlink"]}]}]}}`), cve5, []string{"CVE-2014-100005", "containers.adp[0].affected[0].cpes[0]"}},
		{"cve5 bad ssvc", []byte(`{"cveMetadata":{"cveId":"CVE-2014-100005"},"containers":{"cna":{"metrics":[{"other":{"type":"ssvc","content":{"options":[{"Exploitation":"maybe"}]}}}]}}}`), cve5, []string{"containers.cna.metrics[0].other.content.options[0].Exploitation"}},
		{"cve5 bad date", []byte(`{"cveMetadata":{"cveId":"CVE-2014-100005","datePublished":"2015-13-45"}}`), cve5, []string{"cveMetadata.datePublished"}},
		{"csaf unknown product", []byte(`{"document":{"csaf_version":"2.0","tracking":{"id":"ICSA-1","initial_release_date":"2023-01-01T00:00:00Z","current_release_date":"2023-01-01T00:00:00Z"}},"vulnerabilities":[{"cve":"CVE-2023-0001","product_status":{"known_affected":["P9"]}}]}`), csaf, []string{"record 1 (CVE-2023-0001)", "vulnerabilities[0].product_status.known_affected[0]"}},
		{"csaf bad cve", []byte(`{"document":{"csaf_version":"2.0","tracking":{"id":"ICSA-1","initial_release_date":"2023-01-01T00:00:00Z","current_release_date":"2023-01-01T00:00:00Z"}},"vulnerabilities":[{"cve":"CVE-1"}]}`), csaf, []string{"record 1", "vulnerabilities[0].cve"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.parse(bytes.NewReader(tt.in))
			if firmward.ErrorCode(err) != firmward.EINVALID {
				t.Fatalf("got %v (code %q), want EINVALID", err, firmward.ErrorCode(err))
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func nvd11(r io.Reader) error {
	return ParseNVD11(r, func(*firmward.Vulnerability) error { return nil })
}

func nvd20(r io.Reader) error {
	return ParseNVD20(r, func(*firmward.Vulnerability) error { return nil })
}

func cve5(r io.Reader) error { return ParseCVE5(r, func(*firmward.Vulnerability) error { return nil }) }

func csaf(r io.Reader) error { return ParseCSAF(r, func(*firmward.Vulnerability) error { return nil }) }

func kevParse(r io.Reader) error {
	return ParseKEV(r, func(*firmward.KEVEntry) error { return nil })
}
func epss(r io.Reader) error { return ParseEPSS(r, func(firmward.EPSSScore) error { return nil }) }

func TestCallbackError(t *testing.T) {
	t.Parallel()
	stop := errors.New("stop")
	in := `{"format":"NVD_CVE","vulnerabilities":[{"cve":{"id":"CVE-2023-1389","published":"2023-03-15T23:15:09.403","lastModified":"2025-10-21T20:19:18.847"}}]}`
	err := ParseNVD20(strings.NewReader(in), func(*firmward.Vulnerability) error { return stop })
	if !errors.Is(err, stop) || !strings.Contains(err.Error(), "CVE-2023-1389") {
		t.Errorf("got %v", err)
	}
	err = ParseEPSS(strings.NewReader("cve,epss,percentile\nCVE-2023-1389,0.5,0.9\n"), func(firmward.EPSSScore) error { return stop })
	if !errors.Is(err, stop) {
		t.Errorf("got %v", err)
	}
}

// TestGolden parses small excerpts of real records (testdata/README.md
// lists them) and compares the result with testdata/*.golden.json.
func TestGolden(t *testing.T) {
	t.Parallel()
	inputs, _ := filepath.Glob("testdata/*.input.*")
	if len(inputs) == 0 {
		t.Fatal("no testdata inputs")
	}
	for _, in := range inputs {
		name := strings.SplitN(filepath.Base(in), ".input.", 2)[0]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fh, err := os.Open(in)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = fh.Close() }()
			f, u, err := Open(fh)
			if err != nil {
				t.Fatal(err)
			}
			var out []any
			switch f {
			case FormatKEV:
				err = ParseKEV(u, func(e *firmward.KEVEntry) error { out = append(out, e); return nil })
			case FormatEPSS:
				err = ParseEPSS(u, func(s firmward.EPSSScore) error { out = append(out, s); return nil })
			default:
				_, _, vs, perr := parseAny(io.MultiReader(u), true)
				err = perr
				for _, v := range vs {
					out = append(out, v)
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.MarshalIndent(map[string]any{"format": f, "records": out}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", name+".golden.json")
			if *update {
				if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if !bytes.Equal(bytes.TrimSpace(want), bytes.TrimSpace(got)) {
				t.Errorf("%s differs from the parse; run go test ./feeds -run TestGolden -update and review the diff", golden)
			}
		})
	}
}
