package assess

import (
	"slices"
	"strings"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/risk"
	"github.com/firmward/firmward/vuln"
)

// DefaultMinConfidence is the lowest confidence (see the vuln.Confidence
// constants) at which a proposed CPE is used for matching when the device
// has no CPE of its own: 0.6 admits the dominant platform firmware
// (RouterOS, QTS, DSM), exact model names, platform firmware and products
// whose words all appear in the model ("Orbi RBR750" ⊇ rbr750), and
// keeps out fuzzy look-alikes and guesses, which would match another
// model's CVEs (a wrong firmware name finds the wrong CVEs; a missing one
// only leaves the device for a person to name). Hardware proposals below
// it are dropped too (vuln proposes none below 0.5): the device is then
// matched without hardware, and firmware CVEs that need one are possible.
const DefaultMinConfidence = 0.6

// Assessor assesses devices against an Index: it names the device's
// firmware and hardware with CPEs, matches them with vuln.MatchDevice and
// rates each match with risk.Assess and Policy. Index must be built
// before the first call; Device may then run on many goroutines at once.
type Assessor struct {
	Index  *Index
	Policy risk.Policy
	// Now gives the time findings are first and last seen at and due
	// dates count from; time.Now when nil.
	Now func() time.Time
	// MinConfidence is the lowest confidence of a proposed CPE to match
	// with; DefaultMinConfidence when zero.
	MinConfidence float64
}

// Result is the assessment of one device: its findings, most urgent first
// (by Priority, then CVE); the CPE proposal for it (Source
// vuln.ProposalDevice when its own CPE was used, vuln.ProposalNone with an
// Explanation when nothing could be matched); the firmware and hardware
// CPEs it was matched with (either may be empty); and the recommended fix,
// nil when there are no findings.
type Result struct {
	Findings    []firmward.Finding
	Proposal    vuln.Proposal
	FirmwareCPE string
	HardwareCPE string
	PlatformCPE string // the platform firmware also matched with (Proposal.Platform), "" when none
	Fix         *Fix
}

// Device assesses d. The steps:
//
//  1. CPEs: vuln.Propose gives the device's own CPE when it has a valid
//     one (a part "o" name is the firmware, a part "h" name the hardware,
//     and the hardware of the same model is added when the data names
//     it), else proposals from manufacturer and model, used when their
//     confidence is at least MinConfidence; Evidence.CPEProposed marks
//     findings that relied on a proposed name (the hardware name vuln
//     adds to the device's own firmware name is the same model's and
//     counts as the device's own). A firmware CPE whose
//     version is ANY gets the device's firmware version.
//  2. Candidates: the Index's records that name the firmware or hardware
//     product.
//  3. Matching: vuln.MatchDevice on each candidate with the device's own
//     CPEs and firmware version. Several matching configurations of one
//     CVE give one finding, with the best evidence: certain over
//     possible, then a match that needed the device's hardware, then a
//     stated range over "any version", then NVD configurations over
//     CVE 5.x / CSAF entries, then the first.
//  4. Risk: risk.FactsFor and risk.Assess give the decision, its
//     explanation and the priority; risk.PickCVSS the score shown; the
//     due date is Policy.Deadline from Now (see DueFrom).
//  5. Fix: each finding's FixedIn and the device's recommended Fix (see
//     Fix).
//
// Findings are open, with FirstSeen, LastSeen and UpdatedAt set to Now.
// The store keeps the real first-seen time of a finding it already has:
// it must recompute DueDate from its stored first_seen with DueFrom.
func (a *Assessor) Device(d *firmward.Device) Result {
	now := time.Now()
	if a.Now != nil {
		now = a.Now()
	}
	var res Result
	var cat *vuln.Catalog
	if a.Index != nil {
		cat = a.Index.Catalog()
	}
	res.Proposal = vuln.Propose(cat, *d)
	return a.assess(d, res.Proposal, now, nil)
}

// matched is one CVE a device configuration matches: the record, its
// best match and its fix, independent of the device's criticality and
// exposure.
type matched struct {
	rec      *firmward.VulnerabilityRecord
	m        vuln.Match
	fix      cveFix
	platform bool // found through the companion platform firmware (Proposal.Platform)
}

// assess runs steps 1 to 5 of Device for d with proposal p; match, when
// not nil, returns the matches of a device configuration (a memo shared
// by Devices).
func (a *Assessor) assess(d *firmward.Device, p vuln.Proposal, now time.Time, match func(vuln.DeviceCPEs) []matched) Result {
	res := Result{Proposal: p}
	fw, hw, fwProposed, hwProposed := a.chooseCPEs(res.Proposal)
	fw = withVersion(fw, d.FirmwareVersion)
	res.FirmwareCPE, res.HardwareCPE = fw, hw
	if a.Index == nil || fw == "" && hw == "" {
		if res.Proposal.Source != vuln.ProposalNone && fw == "" && hw == "" {
			res.Proposal.Explanation += " No CPE was confident enough to match with: confirm one of the candidates or set the device's cpe."
		}
		return res
	}
	dev := vuln.DeviceCPEs{Firmware: fw, Hardware: hw, Version: strings.TrimSpace(d.FirmwareVersion)}
	deviceCPE := fw
	if deviceCPE == "" {
		deviceCPE = hw
	}
	if match == nil {
		match = a.match
	}
	ms := match(dev)
	// The platform firmware the model also runs (ASUSWRT beside
	// rt-ac68u_firmware): its CVEs apply too, unless the model firmware
	// already matched them.
	platformCPE := ""
	if pf := res.Proposal.Platform.CPE; pf != "" && fw != "" {
		platformCPE = withVersion(pf, d.FirmwareVersion)
		res.PlatformCPE = platformCPE
		seen := make(map[string]bool, len(ms))
		for _, mt := range ms {
			seen[mt.rec.ID] = true
		}
		for _, mt := range match(vuln.DeviceCPEs{Firmware: platformCPE, Hardware: hw, Version: dev.Version}) {
			if !seen[mt.rec.ID] {
				mt.platform = true
				ms = append(ms, mt)
			}
		}
	}
	fixes := make([]cveFix, 0, len(ms))
	for _, mt := range ms {
		fixes = append(fixes, mt.fix)
		// Proposed when the finding relied on a proposed name: the
		// firmware's, or the hardware's when it was the platform
		// required or the only name.
		proposed := fwProposed || hwProposed && (mt.m.Platform != "" || fw == "")
		name := deviceCPE
		if mt.platform {
			// Inferred from the model, not stated by anyone: proposed.
			name, proposed = platformCPE, true
		}
		res.Findings = append(res.Findings, a.finding(d, mt.rec, mt.m, mt.fix, name, proposed, now))
	}
	sortFindings(res.Findings)
	if len(fixes) > 0 {
		f := recommend(fixes)
		res.Fix = &f
	}
	return res
}

// match returns the CVEs of the Index that apply to dev, one per CVE.
func (a *Assessor) match(dev vuln.DeviceCPEs) []matched {
	var out []matched
	for _, rec := range a.Index.Candidates(dev.Firmware, dev.Hardware) {
		ms := vuln.MatchDevice(&rec.Vulnerability, dev)
		if len(ms) == 0 {
			continue
		}
		m := best(ms)
		out = append(out, matched{rec: rec, m: m, fix: fixFor(rec, ms, m)})
	}
	return out
}

// chooseCPEs picks the names to match with from a proposal.
func (a *Assessor) chooseCPEs(p vuln.Proposal) (fw, hw string, fwProposed, hwProposed bool) {
	minConf := a.MinConfidence
	if minConf == 0 {
		minConf = DefaultMinConfidence
	}
	switch p.Source {
	case vuln.ProposalDevice:
		// A hardware name added to the device's own firmware name is
		// the same model's (the product without "_firmware"): derived,
		// not proposed.
		fw, hw = p.Firmware.CPE, p.Hardware.CPE
	case vuln.ProposalProposed:
		if p.Firmware.CPE != "" && p.Firmware.Confidence >= minConf {
			fw, fwProposed = p.Firmware.CPE, true
		}
		if p.Hardware.CPE != "" && p.Hardware.Confidence >= minConf {
			hw, hwProposed = p.Hardware.CPE, true
		}
	}
	return fw, hw, fwProposed, hwProposed
}

// withVersion returns the firmware CPE s with its version attribute set to
// version when it is ANY and version is known; s otherwise.
func withVersion(s, version string) string {
	version = strings.TrimSpace(version)
	if s == "" || version == "" || version == "*" || version == "-" {
		return s
	}
	c, err := vuln.ParseCPE(s)
	if err != nil || c.Version.Kind != vuln.Any {
		return s
	}
	c.Version = vuln.Attr{Kind: vuln.Value, Text: version}
	out := c.String()
	if _, err := vuln.ParseCPE(out); err != nil {
		return s
	}
	return out
}

// best returns the match with the most specific evidence (see Device).
func best(ms []vuln.Match) vuln.Match {
	b := ms[0]
	for _, m := range ms[1:] {
		if specificity(m) > specificity(b) {
			b = m
		}
	}
	return b
}

func specificity(m vuln.Match) int {
	s := 0
	if m.Certain {
		s += 8
	}
	if m.Platform != "" {
		s += 4
	}
	if m.Range != "any version" && !strings.HasPrefix(m.Range, "versions not stated") {
		s += 2
	}
	if m.Configuration >= 0 {
		s++
	}
	return s
}

// finding builds the finding of match m of record rec on device d.
func (a *Assessor) finding(d *firmward.Device, rec *firmward.VulnerabilityRecord, m vuln.Match, cf cveFix, deviceCPE string, proposed bool, now time.Time) firmward.Finding {
	cfg := m.Configuration
	if cfg < 0 {
		cfg = m.Affected
	}
	f := firmward.Finding{
		DeviceID: d.ID,
		CVE:      rec.ID,
		Status:   firmward.FindingOpen,
		Certain:  m.Certain,
		Evidence: firmward.Evidence{
			Source:        m.Source,
			Configuration: cfg,
			Criteria:      m.Vulnerable,
			Platform:      m.Platform,
			Range:         m.Range,
			Version:       m.Version,
			DeviceCPE:     deviceCPE,
			CPEProposed:   proposed,
			Reason:        m.Reason,
		},
		FixedIn:   cf.fixed,
		FirstSeen: now,
		LastSeen:  now,
		UpdatedAt: now,
	}
	facts := risk.FactsFor(&rec.Vulnerability, d)
	facts.KEV, facts.EPSS, facts.Certain = rec.KEV, rec.EPSS, m.Certain
	as := risk.Assess(facts)
	f.Decision, f.DecisionWhy, f.Priority = string(as.Decision), as.Explanation(), as.Priority
	if c, ok := risk.PickCVSS(rec.CVSS); ok {
		f.CVSSScore, f.CVSSVector = c.BaseScore, c.Vector
	}
	if k := rec.KEV; k != nil {
		f.KEV, f.KEVDueDate, f.Ransomware = true, k.DueDate, k.KnownRansomwareUse
	}
	if e := rec.EPSS; e != nil {
		f.EPSS, f.EPSSPercentile = e.Score, e.Percentile
	}
	f.DueDate = DueFrom(a.Policy, &f, now)
	return f
}

// DueFrom returns the due date of finding f first seen at first under
// policy p: p.Deadline for the finding's decision, taking its KEV due date
// when sooner; nil when there is none. The store calls it with the
// first-seen time it keeps, which Device cannot know.
func DueFrom(p risk.Policy, f *firmward.Finding, first time.Time) *time.Time {
	var kev *firmward.KEVEntry
	if f.KEV {
		kev = &firmward.KEVEntry{CVE: f.CVE, DueDate: f.KEVDueDate}
	}
	due, ok := risk.DueDate(p, risk.Decision(f.Decision), first, kev)
	if !ok {
		return nil
	}
	return &due
}

// sortFindings orders findings by decreasing Priority, then CVE.
func sortFindings(fs []firmward.Finding) {
	slices.SortFunc(fs, func(x, y firmward.Finding) int {
		if x.Priority != y.Priority {
			return y.Priority - x.Priority
		}
		return strings.Compare(x.CVE, y.CVE)
	})
}
