package lifecycle

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/firmward/firmward"
)

// Figure is one number of the vendor record with how many data points it
// rests on; N == 0 means firmward has no data for it.
type Figure struct {
	Value float64 `json:"value"`
	N     int     `json:"n"`
}

// VendorRecord is what firmward knows about one manufacturer's long-term
// support, with the data behind each figure.
type VendorRecord struct {
	Manufacturer string              `json:"manufacturer"`
	Devices      int                 `json:"devices"`
	Categories   []firmward.Category `json:"categories"`
	CVEs         int                 `json:"cves"` // distinct CVEs found on its devices
	// FixShare is the share of those CVEs with a known fixed firmware
	// version (fixed_in); N is the number of CVEs.
	FixShare Figure `json:"fix_share"`
	KEV      int    `json:"kev"` // of those CVEs, how many are in the KEV catalog
	// DaysToFix is the median days from a CVE's publication to the release
	// of the firmware that fixes it, where the release date is known (from
	// the FirmwareDates source; none until the release catalog feeds it).
	DaysToFix Figure `json:"days_to_fix"`
	// DaysToFixedInFleet is the median days from publication to the moment
	// firmward saw the finding fixed on one of your devices.
	DaysToFixedInFleet Figure `json:"days_to_fixed_in_fleet"`
	// SupportYears is the median years from a model's release to its end
	// of support, from the end-of-support table.
	SupportYears Figure `json:"support_years"`
	// AutoUpdate is the share of its devices with automatic updates on,
	// among those where it is known.
	AutoUpdate Figure `json:"auto_update"`
	// Score ranks manufacturers (0 to 1, higher is better): the mean of
	// the figures that have data, each scaled to 0..1, with one more
	// neutral figure of 0.5 so that a manufacturer known from one good
	// figure does not outrank one known well; ScoreN is how many figures
	// have data.
	Score  float64 `json:"score"`
	ScoreN int     `json:"score_n"`
}

// VendorInput is what the vendor record is computed from.
type VendorInput struct {
	Devices   []*firmward.Device
	Findings  map[int64][]*firmward.Finding // by device, any status
	Published map[string]time.Time          // CVE → publication
	// FixReleased returns when the firmware fixing a finding was released,
	// if known (nil: never known).
	FixReleased func(d *firmward.Device, f *firmward.Finding) (time.Time, bool)
	EOL         []*firmward.EOLEntry
}

func median(xs []float64) Figure {
	if len(xs) == 0 {
		return Figure{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	m := s[n/2]
	if n%2 == 0 {
		m = (s[n/2-1] + s[n/2]) / 2
	}
	return Figure{Value: math.Round(m*10) / 10, N: n}
}

func share(yes, n int) Figure {
	if n == 0 {
		return Figure{}
	}
	return Figure{Value: math.Round(float64(yes)/float64(n)*1000) / 1000, N: n}
}

// VendorRecords computes the record of every manufacturer of the devices,
// or only of those making devices of category (when not empty), best score
// first.
func VendorRecords(in VendorInput, category firmward.Category) []VendorRecord {
	type acc struct {
		rec         VendorRecord
		name        string
		cves        map[string]bool // CVE → fix known
		kev         map[string]bool
		toFix       map[string]float64
		toFleet     map[string]float64
		autoYes, au int
		cats        map[firmward.Category]bool
	}
	byKey := map[string]*acc{}
	var order []string
	for _, d := range in.Devices {
		k := normName(d.Manufacturer)
		if k == "" {
			continue
		}
		a := byKey[k]
		if a == nil {
			a = &acc{name: d.Manufacturer, cves: map[string]bool{}, kev: map[string]bool{}, toFix: map[string]float64{}, toFleet: map[string]float64{}, cats: map[firmward.Category]bool{}}
			byKey[k] = a
			order = append(order, k)
		}
		a.rec.Devices++
		a.cats[d.Category] = true
		switch d.AutoUpdate {
		case firmward.AutoUpdateYes:
			a.autoYes++
			a.au++
		case firmward.AutoUpdateNo:
			a.au++
		}
		for _, f := range in.Findings[d.ID] {
			if f.Status == firmward.FindingNotAffected {
				continue
			}
			a.cves[f.CVE] = a.cves[f.CVE] || f.FixedIn != ""
			if f.KEV {
				a.kev[f.CVE] = true
			}
			pub, ok := in.Published[f.CVE]
			if !ok {
				continue
			}
			if in.FixReleased != nil {
				if rel, ok := in.FixReleased(d, f); ok {
					days := rel.Sub(pub).Hours() / 24
					if old, seen := a.toFix[f.CVE]; !seen || days < old {
						a.toFix[f.CVE] = max(0, days)
					}
				}
			}
			if f.Status == firmward.FindingFixed && f.FixedAt != nil {
				days := f.FixedAt.Sub(pub).Hours() / 24
				if old, seen := a.toFleet[f.CVE]; !seen || days < old {
					a.toFleet[f.CVE] = max(0, days)
				}
			}
		}
	}
	var out []VendorRecord
	for _, k := range order {
		a := byKey[k]
		if category != "" && !a.cats[category] {
			continue
		}
		r := a.rec
		r.Manufacturer = a.name
		for _, c := range firmward.Categories {
			if a.cats[c] {
				r.Categories = append(r.Categories, c)
			}
		}
		r.CVEs = len(a.cves)
		fixed := 0
		for _, known := range a.cves {
			if known {
				fixed++
			}
		}
		r.FixShare = share(fixed, r.CVEs)
		r.KEV = len(a.kev)
		r.DaysToFix = median(mapValues(a.toFix))
		r.DaysToFixedInFleet = median(mapValues(a.toFleet))
		var years []float64
		for _, e := range in.EOL {
			if !SameManufacturer(e.Manufacturer, a.name) || e.ReleaseDate == "" {
				continue
			}
			rel, ok1 := parseDate(e.ReleaseDate)
			end, ok2 := parseDate(e.EndOfSupport)
			if ok1 && ok2 {
				years = append(years, end.Sub(rel).Hours()/24/365.25)
			}
		}
		r.SupportYears = median(years)
		r.AutoUpdate = share(a.autoYes, a.au)
		r.Score, r.ScoreN = score(r)
		out = append(out, r)
	}
	slices.SortStableFunc(out, func(x, y VendorRecord) int {
		switch {
		case x.Score > y.Score:
			return -1
		case x.Score < y.Score:
			return 1
		case x.ScoreN != y.ScoreN:
			return y.ScoreN - x.ScoreN
		}
		return strings.Compare(strings.ToLower(x.Manufacturer), strings.ToLower(y.Manufacturer))
	})
	return out
}

func mapValues(m map[string]float64) []float64 {
	out := make([]float64, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// score is the mean of the figures that have data, each scaled to 0..1
// (higher is better): fix share; 1 − share of CVEs in KEV; days to fix
// (0 days → 1, a year or more → 0); support years (ten or more → 1);
// automatic updates; plus one neutral 0.5 (the prior). No data scores 0.
func score(r VendorRecord) (float64, int) {
	var sum float64
	n := 0
	add := func(v float64) {
		sum += min(1, max(0, v))
		n++
	}
	if r.FixShare.N > 0 {
		add(r.FixShare.Value)
	}
	if r.CVEs > 0 {
		add(1 - float64(r.KEV)/float64(r.CVEs))
	}
	if r.DaysToFix.N > 0 {
		add(1 - r.DaysToFix.Value/365)
	}
	if r.SupportYears.N > 0 {
		add(r.SupportYears.Value / 10)
	}
	if r.AutoUpdate.N > 0 {
		add(r.AutoUpdate.Value)
	}
	if n == 0 {
		return 0, 0
	}
	return math.Round((sum+0.5)/float64(n+1)*1000) / 1000, n
}
