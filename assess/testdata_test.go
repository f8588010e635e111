package assess

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/feeds"
)

var update = flag.Bool("update", false, "rewrite testdata/records.jsonl from ../shared/data")

// dataDir is the shared data set, relative to this package.
const dataDir = "../../shared/data"

// recordsFile holds the real records the tests use, one
// firmward.VulnerabilityRecord per line (see testdata/README.md).
const recordsFile = "testdata/records.jsonl"

// testCVEs are the records of recordsFile: NVD 1.1 records from the IoT
// subset, merged with their KEV entry and EPSS score, and one CVE 5.x
// record without NVD configuration.
var testCVEs = []string{
	"CVE-2023-1389", "CVE-2023-31710", // TP-Link Archer AX21: AND with hardware; KEV
	"CVE-2023-30799", "CVE-2018-14847", "CVE-2018-1156", // MikroTik RouterOS: ltr and main, KEV
	"CVE-2016-6277", "CVE-2017-18785", // NETGEAR R7000 among many models
	"CVE-2013-4654", // TP-Link TL-WDR4300: NA versions
}

// TestUpdateTestdata rewrites recordsFile from the shared data when run
// with -update; it is skipped otherwise.
func TestUpdateTestdata(t *testing.T) {
	if !*update {
		t.Skip("run with -update to rewrite " + recordsFile)
	}
	want := make(map[string]bool)
	for _, id := range testCVEs {
		want[id] = true
	}
	var feed bytes.Buffer
	feed.WriteString(`{"CVE_data_type":"CVE","CVE_data_format":"MITRE","CVE_data_version":"4.0","CVE_data_numberOfCVEs":"0","CVE_Items":[`)
	fh, err := os.Open(filepath.Join(dataDir, "nvd/iot-subset/iot-nvd11.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(fh)
	sc.Buffer(nil, 16<<20)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		for id := range want {
			if strings.Contains(line, `"ID" : "`+id+`"`) || strings.Contains(line, `"ID":"`+id+`"`) {
				if n > 0 {
					feed.WriteByte(',')
				}
				feed.WriteString(line)
				n++
				break
			}
		}
	}
	_ = fh.Close()
	feed.WriteString("]}")
	var recs []*firmward.VulnerabilityRecord
	err = feeds.ParseNVD11(&feed, func(v *firmward.Vulnerability) error {
		if want[v.ID] {
			recs = append(recs, &firmward.VulnerabilityRecord{Vulnerability: *v})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	cve5, err := os.Open(filepath.Join(dataDir, "cve5/iot/CVE-2024-3080.json"))
	if err != nil {
		t.Fatal(err)
	}
	err = feeds.ParseCVE5(cve5, func(v *firmward.Vulnerability) error {
		recs = append(recs, &firmward.VulnerabilityRecord{Vulnerability: *v})
		return nil
	})
	_ = cve5.Close()
	if err != nil {
		t.Fatal(err)
	}
	byID := make(map[string]*firmward.VulnerabilityRecord)
	for _, r := range recs {
		r.Description, r.References = "", nil // not used by matching; keeps the file short
		byID[r.ID] = r
	}
	kev, err := os.Open(filepath.Join(dataDir, "kev/known_exploited_vulnerabilities.json"))
	if err != nil {
		t.Fatal(err)
	}
	err = feeds.ParseKEV(kev, func(e *firmward.KEVEntry) error {
		if r := byID[e.CVE]; r != nil {
			r.KEV = e
		}
		return nil
	})
	_ = kev.Close()
	if err != nil {
		t.Fatal(err)
	}
	epss, err := os.Open(filepath.Join(dataDir, "epss/epss_scores-2026-08-16.csv.gz"))
	if err != nil {
		t.Fatal(err)
	}
	err = feeds.ParseEPSS(epss, func(s firmward.EPSSScore) error {
		if r := byID[s.CVE]; r != nil {
			r.EPSS = &s
		}
		return nil
	})
	_ = epss.Close()
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(recs, func(a, b *firmward.VulnerabilityRecord) int { return strings.Compare(a.ID, b.ID) })
	if len(recs) != len(testCVEs)+1 {
		t.Fatalf("found %d records, want %d", len(recs), len(testCVEs)+1)
	}
	var out bytes.Buffer
	for _, r := range recs {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		out.Write(b)
		out.WriteByte('\n')
	}
	if err := os.WriteFile(recordsFile, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// loadRecords reads recordsFile into a map by CVE.
func loadRecords(t testing.TB) map[string]*firmward.VulnerabilityRecord {
	t.Helper()
	b, err := os.ReadFile(recordsFile)
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]*firmward.VulnerabilityRecord)
	for line := range bytes.Lines(b) {
		var r firmward.VulnerabilityRecord
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatal(err)
		}
		out[r.ID] = &r
	}
	return out
}
