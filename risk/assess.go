package risk

import (
	"fmt"
	"math"
	"strings"

	"github.com/firmward/firmward"
)

// EPSSThreshold is the EPSS probability at or above which a CVE with no
// other evidence of exploitation is read as SSVC "Public PoC". On FIRST's
// scores of 2026-08-16 it selects 4.8% of all CVEs, those at or above the
// 95th percentile; FIRST's own guidance uses 10% as the threshold that
// balances coverage and efficiency.
const EPSSThreshold = 0.1

// Facts are what firmward knows about one finding (a device affected by a
// CVE): the CVE's scores and CISA's SSVC values, its KEV entry and EPSS
// score when it has them, the device's criticality and exposure, and whether
// the match is certain or only possible (the advisory does not say which
// versions are affected).
type Facts struct {
	CVE         string
	CVSS        []firmward.CVSS
	SSVC        *firmward.SSVCValues // CISA ADP values; nil when absent
	KEV         *firmward.KEVEntry   // nil when not in the catalog
	EPSS        *firmward.EPSSScore  // nil when unscored
	Criticality firmward.Criticality
	Exposure    firmward.Exposure
	Certain     bool
}

// FactsFor fills Facts from a vulnerability and a device; the caller adds
// KEV, EPSS and Certain. Either argument may be nil.
func FactsFor(v *firmward.Vulnerability, d *firmward.Device) Facts {
	var f Facts
	if v != nil {
		f.CVE, f.CVSS, f.SSVC = v.ID, v.CVSS, v.SSVC
	}
	if d != nil {
		f.Criticality, f.Exposure = d.Criticality, d.Exposure
	}
	return f
}

// Reasons says, in one phrase per decision point, why each input value was
// chosen.
type Reasons struct {
	Exploitation string `json:"exploitation"`
	Exposure     string `json:"exposure"`
	Automatable  string `json:"automatable"`
	HumanImpact  string `json:"human_impact"`
}

// Assessment is the risk verdict on one finding: the SSVC inputs and why
// each was chosen, the deployer decision, the sortable priority and the
// CVSS score it ranked by.
type Assessment struct {
	CVE      string         `json:"cve,omitempty"`
	Inputs   Inputs         `json:"inputs"`
	Why      Reasons        `json:"why"`
	Decision Decision       `json:"decision"`
	Priority int            `json:"priority"` // 0..MaxPriority, higher is more urgent
	CVSS     *firmward.CVSS `json:"cvss,omitempty"`
	Certain  bool           `json:"certain"`
}

// Explanation returns the decision and its four reasons as one line, e.g.
// "Immediate: exploitation Active (in CISA KEV since 2023-05-01); …".
func (a Assessment) Explanation() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: exploitation %s (%s); system exposure %s (%s); automatable %s (%s); human impact %s (%s)",
		a.Decision, a.Inputs.Exploitation, a.Why.Exploitation, a.Inputs.Exposure, a.Why.Exposure,
		a.Inputs.Automatable, a.Why.Automatable, a.Inputs.HumanImpact, a.Why.HumanImpact)
	if !a.Certain {
		b.WriteString("; possible: the advisory does not say which versions")
	}
	return b.String()
}

// Assess maps the facts to the SSVC deployer decision points (see the
// package documentation for the mapping), decides, and computes the
// priority.
func Assess(f Facts) Assessment {
	vec, hasVec := pickVector(f.CVSS)
	a := Assessment{CVE: f.CVE, Certain: f.Certain}
	a.Inputs.Exploitation, a.Why.Exploitation = exploitation(f)
	a.Inputs.Exposure, a.Why.Exposure = exposure(f.Exposure)
	a.Inputs.Automatable, a.Why.Automatable = automatable(f.SSVC, vec, hasVec)
	a.Inputs.HumanImpact, a.Why.HumanImpact = humanImpact(f.Criticality, f.SSVC, vec, hasVec)
	a.Decision = Decide(a.Inputs)
	var base float64
	if c, ok := PickCVSS(f.CVSS); ok {
		a.CVSS = &c
		base = c.BaseScore
	}
	epss := -1.0
	if f.EPSS != nil {
		epss = f.EPSS.Score
	}
	a.Priority = priority(a.Decision, f.Certain, f.KEV != nil, epss, base, f.Criticality)
	return a
}

// exploitation takes the strongest of three kinds of evidence: a KEV entry
// (Active), CISA's ADP value, and an EPSS score at or above EPSSThreshold
// (Public PoC). On a tie the earlier kind gives the reason.
func exploitation(f Facts) (Exploitation, string) {
	best, why := ExploitationNone, ""
	consider := func(e Exploitation, reason string) {
		if why == "" || valueIndex(pointExploitation, string(e)) > valueIndex(pointExploitation, string(best)) {
			best, why = e, reason
		}
	}
	if f.KEV != nil {
		r := "in CISA KEV"
		if f.KEV.DateAdded != "" {
			r += " since " + f.KEV.DateAdded
		}
		if f.KEV.KnownRansomwareUse {
			r += ", known ransomware use"
		}
		consider(ExploitationActive, r)
	}
	adpNote := ""
	if f.SSVC != nil && f.SSVC.Exploitation != "" {
		if e, err := ParseExploitation(f.SSVC.Exploitation); err == nil {
			consider(e, "CISA ADP SSVC exploitation "+strings.ToLower(f.SSVC.Exploitation))
		} else {
			adpNote = fmt.Sprintf("CISA ADP value %q not understood", short(f.SSVC.Exploitation))
		}
	}
	if f.EPSS != nil {
		s := fmt.Sprintf("EPSS %.4f, percentile %.3f", f.EPSS.Score, f.EPSS.Percentile)
		if f.EPSS.Score >= EPSSThreshold {
			consider(ExploitationPoC, fmt.Sprintf("%s, at or above the %.2f threshold", s, EPSSThreshold))
		} else if why == "" {
			consider(ExploitationNone, fmt.Sprintf("not in KEV, %s, below the %.2f threshold", s, EPSSThreshold))
		}
	}
	if why == "" {
		why = "no evidence: not in KEV, no CISA ADP value, no EPSS score"
	}
	if adpNote != "" {
		why += "; " + adpNote
	}
	return best, why
}

// exposure maps firmward's device exposure to SSVC System Exposure.
func exposure(e firmward.Exposure) (SystemExposure, string) {
	switch e {
	case firmward.ExposureInternetFacing:
		return ExposureOpen, "device is internet-facing"
	case firmward.ExposureSegmented:
		return ExposureSmall, "device is on a segmented network, a highly controlled network"
	case firmward.ExposureInternal:
		return ExposureControlled, "device is internal: a networked service behind the site's perimeter"
	}
	return ExposureControlled, fmt.Sprintf("device exposure %q unknown, read as internal", short(string(e)))
}

// automatable takes CISA's ADP value, else the CVSS vector, else No.
func automatable(ssvc *firmward.SSVCValues, v Vector, ok bool) (Automatable, string) {
	if ssvc != nil && ssvc.Automatable != "" {
		if a, err := ParseAutomatable(ssvc.Automatable); err == nil {
			return a, "CISA ADP SSVC automatable " + strings.ToLower(ssvc.Automatable)
		}
	}
	if !ok {
		return AutomatableNo, "no CISA ADP value and no usable CVSS vector"
	}
	if v.Automatable() {
		return AutomatableYes, fmt.Sprintf("CVSS %s %s: network, low complexity, no privileges, no user interaction", v.Version, baseSummary(v))
	}
	return AutomatableNo, fmt.Sprintf("CVSS %s %s needs access, privileges, interaction or preconditions", v.Version, baseSummary(v))
}

// baseSummary prints the exploitability metrics that decide Automatable.
func baseSummary(v Vector) string {
	switch v.Version {
	case "2.0":
		return "AV:" + v.AV + "/AC:" + v.AC + "/Au:" + v.Au
	case "4.0":
		return "AV:" + v.AV + "/AC:" + v.AC + "/AT:" + v.AT + "/PR:" + v.PR + "/UI:" + v.UI
	}
	return "AV:" + v.AV + "/AC:" + v.AC + "/PR:" + v.PR + "/UI:" + v.UI
}

// humanImpact maps device criticality to Human Impact, one step lower when
// the technical impact is only partial.
func humanImpact(c firmward.Criticality, ssvc *firmward.SSVCValues, v Vector, ok bool) (HumanImpact, string) {
	levels := pointHumanImpact.values
	level, critNote := 1, "criticality "+string(c)
	switch c {
	case firmward.CriticalityLow:
		level = 0
	case firmward.CriticalityMedium:
		level = 1
	case firmward.CriticalityHigh:
		level = 2
	case firmward.CriticalitySafetyCritical:
		level = 3
	default:
		critNote = fmt.Sprintf("criticality %q unknown, read as medium", short(string(c)))
	}
	partial, tiNote := false, ""
	switch {
	case ssvc != nil && strings.EqualFold(ssvc.TechnicalImpact, "partial"):
		partial, tiNote = true, "technical impact partial (CISA ADP)"
	case ssvc != nil && strings.EqualFold(ssvc.TechnicalImpact, "total"):
		tiNote = "technical impact total (CISA ADP)"
	case ok && v.HighImpact():
		tiNote = fmt.Sprintf("technical impact total (CVSS %s: a high C/I/A impact)", v.Version)
	case ok:
		partial, tiNote = true, fmt.Sprintf("technical impact partial (CVSS %s: no high C/I/A impact)", v.Version)
	default:
		tiNote = "technical impact unknown, assumed total"
	}
	if partial && level > 0 {
		level--
		tiNote += ", one step lower"
	}
	return HumanImpact(levels[level].name), critNote + ", " + tiNote
}

// MaxPriority is the highest value of Assessment.Priority.
const MaxPriority = 998

// Priority weights (see the package documentation).
const (
	bandWeight    = 250 // per decision rank
	certainWeight = 125
	kevWeight     = 62
	epssWeight    = 30 // times the log-scaled EPSS score, 0..1
	cvssWeight    = 2.2
	critWeight    = 3 // per criticality step above low
)

// priority computes the sortable score: band, certainty and KEV are strict
// keys; EPSS, CVSS and criticality are blended below them. epss < 0 means
// no score.
func priority(d Decision, certain, kev bool, epss, cvss float64, c firmward.Criticality) int {
	p := bandWeight * max(d.Rank(), 0)
	if certain {
		p += certainWeight
	}
	if kev {
		p += kevWeight
	}
	var e float64
	if epss > 0 {
		e = min(max((math.Log10(epss)+4)/4, 0), 1)
	}
	crit := 1 // unknown reads as medium, as in humanImpact
	switch c {
	case firmward.CriticalityLow:
		crit = 0
	case firmward.CriticalityHigh:
		crit = 2
	case firmward.CriticalitySafetyCritical:
		crit = 3
	}
	cvss = min(max(cvss, 0), 10)
	if math.IsNaN(cvss) {
		cvss = 0
	}
	return p + int(math.Round(epssWeight*e+cvssWeight*cvss+float64(critWeight*crit)))
}
