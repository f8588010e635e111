package lifecycle

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/firmward/firmward"
)

// Defaults of Policy.
const (
	DefaultStaleMonths = 18
	DefaultLifeYears   = 5
	// SoonMonths is how far ahead an end of support counts as coming soon.
	SoonMonths = 6
)

// Policy tunes the orphan rule and the cost of ownership.
type Policy struct {
	// StaleMonths: a device with open findings is orphaned when no
	// firmware newer than this many months is known (default 18).
	StaleMonths int
	// LifeYears is the service life assumed when no end of support is
	// known (default 5).
	LifeYears int
}

func (p Policy) withDefaults() Policy {
	if p.StaleMonths <= 0 {
		p.StaleMonths = DefaultStaleMonths
	}
	if p.LifeYears <= 0 {
		p.LifeYears = DefaultLifeYears
	}
	return p
}

// Level is a low/medium/high rating.
type Level string

// Levels, lowest first.
const (
	Low    Level = "low"
	Medium Level = "medium"
	High   Level = "high"
)

func (l Level) rank() int {
	switch l {
	case Medium:
		return 1
	case High:
		return 2
	}
	return 0
}

func levelOf(rank int) Level {
	switch {
	case rank <= 0:
		return Low
	case rank == 1:
		return Medium
	}
	return High
}

// Recommendation is what to do with an orphaned device.
type Recommendation string

// Recommendations of the practice.
const (
	Isolate      Recommendation = "isolate"              // segment or quarantine it
	ThirdPartyFW Recommendation = "third-party-firmware" // install an open firmware that is still maintained
	Replace      Recommendation = "replace"
	Disconnect   Recommendation = "disconnect"
	// KeepUpdated is the advice for a device that is not orphaned (and
	// whose support does not end soon): its vendor supports it.
	KeepUpdated Recommendation = "keep-updated"
)

// How to isolate (Assessment.IsolateHow).
const (
	IsolateSegment    = "segment"    // a separate network segment: guest or IoT Wi-Fi, VLAN
	IsolateQuarantine = "quarantine" // no internet, only what it strictly needs
)

// NewestFirmware is the newest firmware known for a model: its date and
// where the knowledge comes from.
type NewestFirmware struct {
	Date    time.Time `json:"date"`
	Version string    `json:"version,omitempty"`
	From    string    `json:"from"` // "release catalog: 1.2", "CVE-2024-1234 is fixed in 1.2.3; the CVE was published 2024-05-01"
	// Estimated is true when the date is a lower bound derived from a
	// fixed CVE's publication, not a known release date.
	Estimated bool `json:"estimated"`
}

// DeviceFacts is what the assessment of one device reads.
type DeviceFacts struct {
	Device   *firmward.Device
	Findings []*firmward.Finding // any status; open ones count
	EOL      *firmward.EOLEntry  // the matching entry of the EOL table, or nil
	Newest   *NewestFirmware     // nil when no firmware date is known
	Value    *firmward.OperationalValueAnswer
	OpenFW   []*firmward.OpenFirmwareModel
}

// Assessment is the risk assessment of one device, orphaned or not.
type Assessment struct {
	DeviceID     int64  `json:"device_id"`
	Name         string `json:"name"`
	Manufacturer string `json:"manufacturer"`
	Model        string `json:"model"`
	Site         string `json:"site"`
	Owner        string `json:"owner"`

	Orphaned bool     `json:"orphaned"`
	Why      []string `json:"why"` // why it is (or is not) orphaned
	// EndOfSupport is the vendor-declared date (device field or EOL table);
	// EOLFrom says which.
	EndOfSupport   string          `json:"end_of_support,omitempty"`
	EOLFrom        string          `json:"eol_from,omitempty"`
	EOLSoon        bool            `json:"eol_soon"` // within SoonMonths, not passed yet
	NewestFirmware *NewestFirmware `json:"newest_firmware,omitempty"`

	OpenFindings int     `json:"open_findings"`
	KEV          int     `json:"kev"`
	MaxEPSS      float64 `json:"max_epss"`
	MaxCVSS      float64 `json:"max_cvss"`
	FixesKnown   int     `json:"fixes_known"` // open findings with a fixed_in version

	OperationalValue firmward.OperationalValue `json:"operational_value"`
	ValueAssumed     bool                      `json:"value_assumed"` // nobody answered: medium assumed, ask the owner
	Likelihood       Level                     `json:"likelihood"`
	LikelihoodWhy    []string                  `json:"likelihood_why"`
	Impact           Level                     `json:"impact"`
	ImpactWhy        string                    `json:"impact_why"`
	Risk             Level                     `json:"risk"`

	Recommendation Recommendation                `json:"recommendation"`
	IsolateHow     string                        `json:"isolate_how,omitempty"` // segment or quarantine
	OpenFirmware   []*firmward.OpenFirmwareModel `json:"open_firmware,omitempty"`
	Reasoning      []string                      `json:"reasoning"`
	Cost           TCO                           `json:"cost"`
}

// TCO is the total cost of ownership over the device's life: the
// replacement cost spread straight-line from purchase to the end of its
// life (its end of support, or Policy.LifeYears when none is known).
type TCO struct {
	ReplacementCost float64 `json:"replacement_cost"`
	PurchaseDate    string  `json:"purchase_date,omitempty"`
	LifeEnd         string  `json:"life_end,omitempty"`
	LifeEndAssumed  bool    `json:"life_end_assumed"`
	LifeMonths      int     `json:"life_months"`
	AgeMonths       int     `json:"age_months"`
	// RemainingValue is what the device is still worth on paper now: the
	// part of the cost its remaining supported life accounts for; it is
	// written off when the device is replaced today.
	RemainingValue float64 `json:"remaining_value"`
	// CostPerYear is the cost of ownership per year of supported life.
	CostPerYear float64 `json:"cost_per_year"`
	// Known is false when the replacement cost or the purchase date is
	// missing; Missing names them.
	Known   bool     `json:"known"`
	Missing []string `json:"missing,omitempty"`
	Summary string   `json:"summary"`
}

// monthsBetween counts whole months from a to b (negative when b is
// before a).
func monthsBetween(a, b time.Time) int {
	m := (b.Year()-a.Year())*12 + int(b.Month()) - int(a.Month())
	if b.Day() < a.Day() {
		m--
	}
	return m
}

func parseDate(s string) (time.Time, bool) {
	t, err := time.Parse(firmward.DateLayout, s)
	return t, err == nil
}

func money(v float64) string { return fmt.Sprintf("%.2f", v) }

// Cost computes the cost of ownership of d at now.
func Cost(d *firmward.Device, endOfSupport string, p Policy, now time.Time) TCO {
	p = p.withDefaults()
	c := TCO{ReplacementCost: d.ReplacementCost, PurchaseDate: d.PurchaseDate}
	if d.ReplacementCost <= 0 {
		c.Missing = append(c.Missing, "replacement_cost")
	}
	bought, ok := parseDate(d.PurchaseDate)
	if !ok {
		c.Missing = append(c.Missing, "purchase_date")
	}
	if len(c.Missing) > 0 {
		c.Summary = "Cost of ownership unknown: set the device's " + strings.Join(c.Missing, " and ") + "."
		return c
	}
	end, ok := parseDate(endOfSupport)
	if !ok || !end.After(bought) {
		end = bought.AddDate(p.LifeYears, 0, 0)
		c.LifeEndAssumed = true
	}
	c.Known = true
	c.LifeEnd = end.Format(firmward.DateLayout)
	c.LifeMonths = max(1, monthsBetween(bought, end))
	c.AgeMonths = max(0, monthsBetween(bought, now))
	remaining := max(0, c.LifeMonths-c.AgeMonths)
	c.RemainingValue = math.Round(d.ReplacementCost*float64(remaining)/float64(c.LifeMonths)*100) / 100
	c.CostPerYear = math.Round(d.ReplacementCost/(float64(c.LifeMonths)/12)*100) / 100
	lifeFrom := "its end of support"
	if c.LifeEndAssumed {
		lifeFrom = fmt.Sprintf("an assumed %d-year life (no end of support known)", p.LifeYears)
	}
	c.Summary = fmt.Sprintf("Bought %s for about %s, supported for %d months to %s (%s): %s per year of supported life. Age %d months; remaining value %s, written off if it is replaced now.",
		c.PurchaseDate, money(c.ReplacementCost), c.LifeMonths, c.LifeEnd, lifeFrom, money(c.CostPerYear), c.AgeMonths, money(c.RemainingValue))
	return c
}

// Assess rates one device at now: whether it is orphaned and, for every
// device, the likelihood, impact, risk, recommendation and cost.
func Assess(f DeviceFacts, p Policy, now time.Time) Assessment {
	p = p.withDefaults()
	d := f.Device
	a := Assessment{
		DeviceID: d.ID, Name: d.Name, Manufacturer: d.Manufacturer, Model: d.Model, Site: d.Site, Owner: d.Owner,
		NewestFirmware: f.Newest, OpenFirmware: f.OpenFW,
	}
	today := now.UTC().Format(firmward.DateLayout)

	// End of support: the device's own field first, then the table.
	switch {
	case d.EOLDate != "":
		a.EndOfSupport, a.EOLFrom = d.EOLDate, "the device's eol_date"
	case f.EOL != nil:
		a.EndOfSupport = f.EOL.EndOfSupport
		model := f.EOL.Model
		if model == "" {
			model = "every model"
		}
		a.EOLFrom = fmt.Sprintf("the end-of-support table: %s %s", f.EOL.Manufacturer, model)
		if f.EOL.Source != "" {
			a.EOLFrom += "; source: " + f.EOL.Source
		}
	}

	for _, fd := range f.Findings {
		if fd.Status != firmward.FindingOpen {
			continue
		}
		a.OpenFindings++
		if fd.KEV {
			a.KEV++
		}
		a.MaxEPSS = max(a.MaxEPSS, fd.EPSS)
		a.MaxCVSS = max(a.MaxCVSS, fd.CVSSScore)
		if fd.FixedIn != "" {
			a.FixesKnown++
		}
	}

	// Orphaned?
	if a.EndOfSupport != "" && a.EndOfSupport <= today {
		a.Orphaned = true
		a.Why = append(a.Why, fmt.Sprintf("The vendor's support ended on %s (from %s).", a.EndOfSupport, a.EOLFrom))
	} else if a.EndOfSupport != "" {
		if eos, ok := parseDate(a.EndOfSupport); ok && eos.Before(now.AddDate(0, SoonMonths, 0)) {
			a.EOLSoon = true
			a.Why = append(a.Why, fmt.Sprintf("Support ends soon, on %s (from %s).", a.EndOfSupport, a.EOLFrom))
		}
	}
	if a.OpenFindings > 0 {
		staleRule(&a, f, p, now)
	}
	if !a.Orphaned && len(a.Why) == 0 {
		a.Why = append(a.Why, "No end of support is declared and it has no open findings.")
	}

	a.Likelihood, a.LikelihoodWhy = likelihood(a, d.Exposure)
	a.Impact, a.ImpactWhy = impact(d.Criticality)
	a.Risk = levelOf(riskRank(a.Likelihood, a.Impact))

	a.OperationalValue = firmward.ValueUnknown
	if f.Value != nil {
		a.OperationalValue = f.Value.Value
	}
	if a.Orphaned || a.EOLSoon {
		recommend(&a, d)
	} else {
		a.Recommendation = KeepUpdated
		a.Reasoning = append(a.Reasoning, fmt.Sprintf("Likelihood %s and impact %s make the risk %s.", a.Likelihood, a.Impact, a.Risk),
			"It is not orphaned: its vendor still supports it. Keep automatic updates on and install fixes as they come; the options of the practice (isolate, third-party firmware, replace, disconnect) apply once support ends.")
		if a.FixesKnown > 0 {
			a.Reasoning = append(a.Reasoning, fmt.Sprintf("A fixed firmware is known for %d of its open findings: install it now.", a.FixesKnown))
		}
	}
	endForCost := a.EndOfSupport
	a.Cost = Cost(d, endForCost, p, now)
	if a.Cost.Known {
		a.Reasoning = append(a.Reasoning, a.Cost.Summary)
	}
	return a
}

// staleRule applies the second orphan rule to a device with open
// findings: no firmware newer than p.StaleMonths is known. With a release
// date from the catalog the rule applies as is. Without one firmward only
// has estimates (a fixed CVE's publication), so a device whose open
// findings all have a known fix is not orphaned: its vendor fixed them, and
// it needs an update, not a replacement.
func staleRule(a *Assessment, f DeviceFacts, p Policy, now time.Time) {
	d := f.Device
	cutoff := now.AddDate(0, -p.StaleMonths, 0)
	unfixed := a.OpenFindings - a.FixesKnown
	switch {
	case f.Newest != nil && !f.Newest.Estimated && f.Newest.Date.Before(cutoff):
		a.Orphaned = true
		a.Why = append(a.Why, fmt.Sprintf("It has %s and the newest firmware known is from %s (%s), more than %d months ago.",
			openFindings(a.OpenFindings), f.Newest.Date.Format(firmward.DateLayout), f.Newest.From, p.StaleMonths))
	case f.Newest != nil && !f.Newest.Estimated:
		a.Why = append(a.Why, fmt.Sprintf("Firmware from %s is known (%s): the vendor still ships updates.", f.Newest.Date.Format(firmward.DateLayout), f.Newest.From))
	case unfixed == 0 && a.OpenFindings == 1:
		a.Why = append(a.Why, "A fixed firmware is known for its open finding: the vendor fixed it; update the device.")
	case unfixed == 0:
		a.Why = append(a.Why, fmt.Sprintf("A fixed firmware is known for each of its %s: the vendor fixed them; update the device.", openFindings(a.OpenFindings)))
	case f.Newest == nil:
		a.Orphaned = true
		a.Why = append(a.Why, fmt.Sprintf("It has %s without a known fix, and no firmware release is known for %s %s: no firmware newer than %d months is known.",
			openFindings(unfixed), d.Manufacturer, d.Model, p.StaleMonths))
	case f.Newest.Date.Before(cutoff):
		a.Orphaned = true
		a.Why = append(a.Why, fmt.Sprintf("It has %s without a known fix, and the newest firmware firmward can date is from about %s (%s), more than %d months ago.",
			openFindings(unfixed), f.Newest.Date.Format(firmward.DateLayout), f.Newest.From, p.StaleMonths))
	default:
		a.Why = append(a.Why, fmt.Sprintf("Firmware from about %s or later exists (%s): the vendor still fixes this model.", f.Newest.Date.Format(firmward.DateLayout), f.Newest.From))
	}
}

// likelihood rates how likely an attack is, from the open findings and
// the exposure.
func likelihood(a Assessment, exp firmward.Exposure) (Level, []string) {
	var why []string
	rank := 0
	switch {
	case a.KEV > 0:
		rank = 2
		why = append(why, fmt.Sprintf("%s known to be exploited (CISA's Known Exploited Vulnerabilities catalog): attacks happen.", openFindings(a.KEV)))
	case a.MaxEPSS >= 0.1:
		rank = 2
		why = append(why, fmt.Sprintf("The highest EPSS is %.2f: at least a 10%% chance of exploitation within 30 days.", a.MaxEPSS))
	case a.MaxEPSS >= 0.01 || a.MaxCVSS >= 7:
		rank = 1
		why = append(why, fmt.Sprintf("Open findings with EPSS up to %.3f and CVSS up to %.1f.", a.MaxEPSS, a.MaxCVSS))
	case a.OpenFindings > 0:
		rank = 1
		why = append(why, fmt.Sprintf("%s, none known to be exploited, EPSS below 0.01.", openFindings(a.OpenFindings)))
	default:
		why = append(why, "No open findings today (new vulnerabilities will not be fixed once support ends).")
	}
	switch exp {
	case firmward.ExposureInternetFacing:
		rank++
		why = append(why, "It is reachable from the internet: one level up.")
	case firmward.ExposureSegmented:
		if rank > 0 && a.KEV == 0 {
			rank--
			why = append(why, "It is on a separate segment: one level down.")
		}
	}
	return levelOf(rank), why
}

// impact rates the harm of a compromise from the criticality.
func impact(c firmward.Criticality) (Level, string) {
	switch c {
	case firmward.CriticalitySafetyCritical:
		return High, "It is safety-critical: a compromise or outage can hurt people."
	case firmward.CriticalityHigh:
		return High, "Its criticality is high."
	case firmward.CriticalityMedium:
		return Medium, "Its criticality is medium."
	}
	return Low, "Its criticality is low."
}

// riskRank combines likelihood and impact: both low or one low and one
// medium is low; a sum of 2 (medium and medium, or low and high) is
// medium; more is high.
func riskRank(l, i Level) int {
	switch s := l.rank() + i.rank(); {
	case s <= 1:
		return 0
	case s == 2:
		return 1
	}
	return 2
}

// recommend picks the recommendation of the practice from operational
// value and risk, preferring a maintained open firmware where one supports
// the model, and never disconnecting a safety-critical device.
func recommend(a *Assessment, d *firmward.Device) {
	value := a.OperationalValue
	if value == firmward.ValueUnknown {
		value = firmward.ValueMedium
		a.ValueAssumed = true
		a.Reasoning = append(a.Reasoning, "Nobody has said how much this device is needed, so medium is assumed. Ask "+ownerName(d.Owner)+": low, medium or high?")
	} else {
		a.Reasoning = append(a.Reasoning, fmt.Sprintf("Its owner rates its operational value %s.", value))
	}
	a.Reasoning = append(a.Reasoning, fmt.Sprintf("Likelihood %s and impact %s make the risk %s.", a.Likelihood, a.Impact, a.Risk))
	if a.FixesKnown > 0 {
		a.Reasoning = append(a.Reasoning, fmt.Sprintf("A fixed firmware is known for %d of its open findings: install it first, whatever else is decided.", a.FixesKnown))
	}
	safety := d.Criticality == firmward.CriticalitySafetyCritical
	quarantine := func() {
		a.IsolateHow = IsolateQuarantine
	}
	segment := func() {
		if a.IsolateHow == "" {
			a.IsolateHow = IsolateSegment
		}
	}
	if a.Risk == High {
		quarantine()
	}
	openFW := ""
	if len(a.OpenFirmware) > 0 {
		m := a.OpenFirmware[0]
		openFW = m.Firmware
		if m.URL != "" {
			openFW += " (" + m.URL + ")"
		}
	}
	switch {
	case a.Risk == Low:
		a.Recommendation = Isolate
		segment()
		a.Reasoning = append(a.Reasoning, "The risk is low: keep it, on a separate network segment (guest or IoT Wi-Fi, VLAN) so that a compromise cannot reach the rest; re-assess when new findings appear.")
	case value == firmward.ValueLow && !safety:
		a.Recommendation = Disconnect
		a.Reasoning = append(a.Reasoning, "It is of little use to its owner and the risk is "+string(a.Risk)+": disconnecting it removes the risk at no real cost.")
	case openFW != "":
		a.Recommendation = ThirdPartyFW
		segment()
		a.Reasoning = append(a.Reasoning, "Its model is supported by "+openFW+", which is still maintained: installing it restores security updates and keeps a device that is needed. Keep it isolated until then.")
	case a.Risk == Medium && value == firmward.ValueMedium:
		a.Recommendation = Isolate
		segment()
		a.Reasoning = append(a.Reasoning, "The risk is medium and so is its value: isolate it on a separate segment and plan its replacement before the risk grows.")
	default:
		a.Recommendation = Replace
		if a.Risk == High {
			quarantine()
		} else {
			segment()
		}
		if safety {
			a.Reasoning = append(a.Reasoning, "It is safety-critical: it must not simply be disconnected. Replace it with a supported model, and isolate it until then.")
		} else {
			a.Reasoning = append(a.Reasoning, "It is needed and the risk is "+string(a.Risk)+", and no maintained open firmware is known for the model: replace it with a supported model, isolated until then.")
		}
	}
	if a.IsolateHow == IsolateQuarantine && a.Recommendation != Disconnect {
		a.Reasoning = append(a.Reasoning, "The risk is high: quarantine it (no internet, only what it strictly needs) until the recommendation is carried out.")
	}
}

func ownerName(owner string) string {
	if owner == "" {
		return "its owner"
	}
	return "its owner (" + owner + ")"
}

// SortAssessments orders assessments by risk (highest first), then KEV,
// then device ID.
func SortAssessments(as []Assessment) {
	slices.SortStableFunc(as, func(x, y Assessment) int {
		if c := y.Risk.rank() - x.Risk.rank(); c != 0 {
			return c
		}
		if c := y.KEV - x.KEV; c != 0 {
			return c
		}
		switch {
		case x.DeviceID < y.DeviceID:
			return -1
		case x.DeviceID > y.DeviceID:
			return 1
		}
		return 0
	})
}

// openFindings writes "1 open finding", "2 open findings".
func openFindings(n int) string {
	if n == 1 {
		return "1 open finding"
	}
	return fmt.Sprintf("%d open findings", n)
}
