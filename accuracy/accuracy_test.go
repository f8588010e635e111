// Package accuracy measures how well firmward's matcher decides which real
// CVEs apply to real devices, against a hand-curated golden set
// (testdata/golden.json, see testdata/README.md). It reads the real records
// from ../shared/data and is a test-only package.
package accuracy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/feeds"
	"github.com/firmward/firmward/vuln"
)

// Floors: the measured values (see the final summary line) minus a small
// margin. A change of the matcher that lowers a metric below its floor
// fails the test; raise the floors when the matcher improves.
const (
	floorCertainPrecision  = 0.98
	floorCertainRecall     = 0.98
	floorAnyPrecision      = 0.98
	floorAnyRecall         = 0.99
	floorCertainExactShare = 0.97 // share of pairs judged exactly right
)

var dataDir = filepath.Join("..", "..", "shared", "data")

type expectation struct {
	CVE     string `json:"cve"`
	Certain bool   `json:"certain"`
	Reason  string `json:"reason"`
}

type goldenDevice struct {
	Manufacturer    string `json:"manufacturer"`
	Model           string `json:"model"`
	FirmwareVersion string `json:"firmware_version"`
	HardwareVersion string `json:"hardware_version"`
	CPE             string `json:"cpe"`
}

type pair struct {
	ID       string        `json:"id"`
	Vendor   string        `json:"vendor"`
	Cases    []string      `json:"cases"`
	Device   goldenDevice  `json:"device"`
	Universe []string      `json:"universe"`
	Expected []expectation `json:"expected"`
	Note     string        `json:"note"`
}

type golden struct {
	Comment string `json:"comment"`
	Pairs   []pair `json:"pairs"`
}

func loadGolden(t *testing.T) golden {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g); err != nil {
		t.Fatalf("golden.json: %v", err)
	}
	return g
}

func requireData(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(dataDir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("real data absent at %s under CI: %v", dataDir, err)
		}
		t.Skipf("real data absent at %s (%v): accuracy not measured", dataDir, err)
	}
}

var idRE = regexp.MustCompile(`"ID":"(CVE-[0-9]+-[0-9]+)"`)

// loadRecords reads the CVEs named in want: NVD 1.1 records from the IoT
// subset (one CVE_Item per line, wrapped into a feed for ParseNVD11), and
// CVE 5.x records from cve5/iot, whose affected[] data is attached to the NVD
// record of the same CVE (the matcher uses it only when NVD has no
// configuration) or stands alone when NVD lacks the CVE.
func loadRecords(t *testing.T, want map[string]bool) map[string]*firmward.Vulnerability {
	t.Helper()
	f, err := os.Open(filepath.Join(dataDir, "nvd", "iot-subset", "iot-nvd11.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	var items [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		m := idRE.FindSubmatch(line)
		if m != nil && want[string(m[1])] {
			items = append(items, slices.Clone(line))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	feed := append([]byte(`{"CVE_data_type":"CVE","CVE_data_format":"MITRE","CVE_data_version":"4.0","CVE_Items":[`), bytes.Join(items, []byte(","))...)
	feed = append(feed, "]}"...)
	out := map[string]*firmward.Vulnerability{}
	if err := feeds.ParseNVD11(bytes.NewReader(feed), func(v *firmward.Vulnerability) error {
		out[v.ID] = v
		return nil
	}); err != nil {
		t.Fatalf("ParseNVD11 over the IoT subset: %v", err)
	}
	for id := range want {
		b, err := os.ReadFile(filepath.Join(dataDir, "cve5", "iot", id+".json"))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := feeds.ParseCVE5(bytes.NewReader(b), func(v *firmward.Vulnerability) error {
			if nv, ok := out[id]; ok {
				nv.Affected = append(nv.Affected, v.Affected...)
			} else {
				out[id] = v
			}
			return nil
		}); err != nil {
			t.Fatalf("ParseCVE5 %s: %v", id, err)
		}
	}
	for id := range want {
		if out[id] == nil {
			t.Errorf("golden set names %s, absent from the real data", id)
		}
	}
	return out
}

type counts struct{ tp, fp, fn int }

func (c *counts) add(o counts) { c.tp += o.tp; c.fp += o.fp; c.fn += o.fn }

func (c counts) precision() float64 {
	if c.tp+c.fp == 0 {
		return 1
	}
	return float64(c.tp) / float64(c.tp+c.fp)
}

func (c counts) recall() float64 {
	if c.tp+c.fn == 0 {
		return 1
	}
	return float64(c.tp) / float64(c.tp+c.fn)
}

// result is the matcher's verdict on one CVE of a pair's universe.
type result struct {
	applies, certain bool
	why              string
}

func verdict(ms []vuln.Match) result {
	if len(ms) == 0 {
		return result{}
	}
	r := result{applies: true, why: ms[0].Source + ": " + ms[0].Reason}
	for _, m := range ms {
		if m.Certain {
			return result{applies: true, certain: true, why: m.Source + ": " + m.Reason}
		}
	}
	return r
}

func TestAccuracy(t *testing.T) {
	requireData(t)
	g := loadGolden(t)
	want := map[string]bool{}
	vendors := map[string]int{}
	for _, p := range g.Pairs {
		vendors[p.Vendor]++
		for _, id := range p.Universe {
			want[id] = true
		}
		for _, e := range p.Expected {
			if !slices.Contains(p.Universe, e.CVE) {
				t.Errorf("%s: expected %s is outside its universe", p.ID, e.CVE)
			}
		}
	}
	if len(g.Pairs) < 60 || len(vendors) < 10 {
		t.Fatalf("golden set too small: %d pairs, %d vendors", len(g.Pairs), len(vendors))
	}
	recs := loadRecords(t, want)

	cat := vuln.NewCatalog()
	ids := make([]string, 0, len(recs))
	for id := range recs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		cat.AddVulnerability(recs[id])
	}

	var certain, anyMatch counts
	exact := 0
	var mismatches []string
	t.Logf("%-34s %-10s %-48s %3s %3s %3s | %3s %3s %3s", "pair", "vendor", "device CPE", "cTP", "cFP", "cFN", "TP", "FP", "FN")
	for _, p := range g.Pairs {
		dev := firmward.Device{
			Manufacturer: p.Device.Manufacturer, Model: p.Device.Model,
			FirmwareVersion: p.Device.FirmwareVersion, HardwareVersion: p.Device.HardwareVersion,
			CPE: p.Device.CPE,
		}
		prop := vuln.Propose(cat, dev)
		dc := vuln.DeviceCPEs{Firmware: prop.Firmware.CPE, Hardware: prop.Hardware.CPE, Version: p.Device.FirmwareVersion}
		exp := map[string]expectation{}
		for _, e := range p.Expected {
			exp[e.CVE] = e
		}
		var pc, pa counts
		ok := true
		for _, id := range p.Universe {
			v := recs[id]
			if v == nil {
				continue
			}
			got := verdict(vuln.MatchDevice(v, dc))
			if !got.applies && prop.Platform.CPE != "" {
				// As assess does: the platform firmware the model also runs.
				got = verdict(vuln.MatchDevice(v, vuln.DeviceCPEs{Firmware: prop.Platform.CPE, Hardware: dc.Hardware, Version: dc.Version}))
			}
			e, expected := exp[id]
			// certain+possible: does it apply at all?
			switch {
			case got.applies && expected:
				pa.tp++
			case got.applies:
				pa.fp++
			case expected:
				pa.fn++
			}
			// certain only
			wantC := expected && e.Certain
			switch {
			case got.certain && wantC:
				pc.tp++
			case got.certain:
				pc.fp++
			case wantC:
				pc.fn++
			}
			if got.applies != expected || (expected && got.certain != e.Certain) {
				ok = false
				exps := "not affected"
				if expected {
					exps = map[bool]string{true: "certain", false: "possible"}[e.Certain] + " (" + e.Reason + ")"
				} else if p.Note != "" {
					exps += " (" + p.Note + ")"
				}
				gots := "no match"
				if got.applies {
					gots = map[bool]string{true: "certain", false: "possible"}[got.certain] + " [" + got.why + "]"
				}
				mismatches = append(mismatches, fmt.Sprintf("%s %s: firmware %q hardware %q version %q: golden %s; matcher %s",
					p.ID, id, dc.Firmware, dc.Hardware, dc.Version, exps, gots))
			}
		}
		if ok {
			exact++
		}
		certain.add(pc)
		anyMatch.add(pa)
		t.Logf("%-34s %-10s %-48s %3d %3d %3d | %3d %3d %3d", p.ID, p.Vendor, dc.Firmware, pc.tp, pc.fp, pc.fn, pa.tp, pa.fp, pa.fn)
	}
	for _, m := range mismatches {
		t.Log("MISMATCH " + m)
	}
	summary := fmt.Sprintf("accuracy: %d pairs, %d vendors, %d CVEs; certain: TP %d FP %d FN %d precision %.3f recall %.3f; certain+possible: TP %d FP %d FN %d precision %.3f recall %.3f; pairs exactly right %d/%d",
		len(g.Pairs), len(vendors), len(recs),
		certain.tp, certain.fp, certain.fn, certain.precision(), certain.recall(),
		anyMatch.tp, anyMatch.fp, anyMatch.fn, anyMatch.precision(), anyMatch.recall(),
		exact, len(g.Pairs))
	t.Log(summary)
	fmt.Println(summary)

	check := func(name string, got, floor float64) {
		if got < floor {
			t.Errorf("%s %.3f below floor %.3f; mismatches:\n%s", name, got, floor, strings.Join(mismatches, "\n"))
		}
	}
	check("certain precision", certain.precision(), floorCertainPrecision)
	check("certain recall", certain.recall(), floorCertainRecall)
	check("certain+possible precision", anyMatch.precision(), floorAnyPrecision)
	check("certain+possible recall", anyMatch.recall(), floorAnyRecall)
	check("share of pairs exactly right", float64(exact)/float64(len(g.Pairs)), floorCertainExactShare)
}
