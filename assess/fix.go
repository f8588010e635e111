package assess

import (
	"fmt"
	"slices"
	"strings"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/vuln"
)

// Fix is the recommended fix of one device: the lowest firmware version
// that leaves every open range, with the CVEs it closes (Closes) and those
// no known version closes (StillOpen), sorted, and a Text for a person
// that says why each CVE is still open. Version is empty when no CVE has a
// known fixed version.
//
// How it is found:
//
//   - Per CVE, the ranges are the vulnerable entries naming the product
//     that matched (every NVD entry with the same criteria, in any
//     configuration; or the "affected" versions of the CVE 5.x / CSAF
//     entry). Starting from the device's version, the fix leaves the
//     range that holds it by its end bound: versionEndExcluding (or CVE
//     5.x lessThan) X gives X; if X lies in another range of the same
//     CVE, its end is taken in turn. That is the Finding's FixedIn.
//   - Branches: since the fix starts from the range holding the device's
//     version, a MikroTik on 6.48.6 facing "< 6.49.7" and
//     ">= 7.0, < 7.7" is told 6.49.7, in its own branch; it is sent to 7.x
//     only when some CVE's 6.x range has no end below 7.
//   - The device's version is the greatest per-CVE fix under
//     vuln.CompareVersions, checked again against every CVE's ranges (the
//     greatest may lie in another branch's range of another CVE; then that
//     range's end is taken) until it leaves them all.
//   - A CVE with no fixed version of its own (versionEndIncluding X) is
//     closed too when the recommended version is beyond its ranges.
//   - StillOpen: CVEs whose range has no end (versionEndIncluding X is
//     fixed "in a version later than X", which firmward cannot name; no
//     bound at all, or a version NA/ANY, means the advisory does not say
//     which versions are affected), CVEs matched while the device's
//     version is unknown, and CVEs whose open-ended range the recommended
//     version falls into.
type Fix struct {
	Version   string   `json:"version,omitempty"`
	Closes    []string `json:"closes,omitempty"`
	StillOpen []string `json:"still_open,omitempty"`
	Text      string   `json:"text"`
}

// span is one vulnerable version range as its source bounds it.
type span struct {
	start, end         string
	startExcl, endIncl bool
	unstated           bool // no bound and no version: the advisory does not say
}

func (s span) contains(v string) bool {
	if s.unstated {
		return true
	}
	if s.start != "" {
		if c := vuln.CompareVersions(v, s.start); c < 0 || c == 0 && s.startExcl {
			return false
		}
	}
	if s.end != "" {
		if c := vuln.CompareVersions(v, s.end); c > 0 || c == 0 && !s.endIncl {
			return false
		}
	}
	return true
}

// spanOfMatch returns the range of an NVD criterion.
func spanOfMatch(m *firmward.CPEMatch) span {
	switch {
	case m.VersionStartIncluding != "" || m.VersionStartExcluding != "" || m.VersionEndIncluding != "" || m.VersionEndExcluding != "":
		s := span{start: m.VersionStartIncluding, end: m.VersionEndExcluding}
		if m.VersionStartExcluding != "" {
			s.start, s.startExcl = m.VersionStartExcluding, true
		}
		if m.VersionEndIncluding != "" {
			s.end, s.endIncl = m.VersionEndIncluding, true
		}
		return s
	}
	c, err := vuln.ParseCPE(m.Criteria)
	if err != nil || c.Version.Kind != vuln.Value || c.Version.HasWildcards() {
		return span{unstated: true}
	}
	return span{start: c.Version.Text, end: c.Version.Text, endIncl: true}
}

// spanOfAffected returns the range of a CVE 5.x / CSAF version entry, as
// vuln reads it: a lower bound of "0", "*", "" and the like is none.
func spanOfAffected(e firmward.AffectedVersion) span {
	lower := strings.TrimSpace(e.Version)
	switch strings.ToLower(lower) {
	case "n/a", "unspecified", "unknown":
		return span{unstated: true}
	case "", "0", "*", "-", "earlier", "all", "all versions":
		lower = ""
	}
	switch {
	case e.LessThanOrEqual != "":
		return span{start: lower, end: e.LessThanOrEqual, endIncl: true}
	case e.LessThan == "*":
		return span{start: lower}
	case e.LessThan != "":
		return span{start: lower, end: e.LessThan}
	case lower == "":
		return span{unstated: true}
	}
	return span{start: lower, end: lower, endIncl: true}
}

// cveFix is what leaving one CVE takes.
type cveFix struct {
	cve     string
	spans   []span
	version string // the device version compared; "" when unknown
	fixed   string // lowest version leaving spans from version; "" when none is known
	why     string // when fixed is "": why, for a person
}

// fixFor gathers the ranges of record rec for the products named by
// matches ms and computes the fixed version from the version of best.
func fixFor(rec *firmward.VulnerabilityRecord, ms []vuln.Match, best vuln.Match) cveFix {
	cf := cveFix{cve: rec.ID, version: best.Version}
	criteria := make(map[string]bool, len(ms))
	for _, m := range ms {
		if m.Configuration >= 0 {
			criteria[m.Vulnerable] = true
		} else if m.Affected >= 0 && m.Affected < len(rec.Affected) {
			for _, e := range rec.Affected[m.Affected].Versions {
				if strings.EqualFold(e.Status, "affected") {
					cf.spans = append(cf.spans, spanOfAffected(e))
				}
			}
			if len(rec.Affected[m.Affected].Versions) == 0 {
				cf.spans = append(cf.spans, span{unstated: true})
			}
		}
	}
	if len(criteria) > 0 {
		rec.EachMatch(func(m *firmward.CPEMatch) {
			if m.Vulnerable && criteria[m.Criteria] {
				cf.spans = append(cf.spans, spanOfMatch(m))
			}
		})
	}
	if cf.version == "" {
		cf.why = "the device's firmware version is unknown"
		return cf
	}
	if !containedAny(cf.spans, cf.version) {
		cf.why = "the advisory states no range holding version " + cf.version
		return cf
	}
	cf.fixed, cf.why = escape(cf.spans, cf.version)
	return cf
}

func containedAny(spans []span, v string) bool {
	for _, s := range spans {
		if s.contains(v) {
			return true
		}
	}
	return false
}

// escape returns the lowest version not below v that no span holds,
// following end bounds; or "" and why when a span holding it has no
// usable end. Of the spans holding v, the greatest end is taken: an
// exclusive end E leaves every holding span whose inclusive end is below
// E (CVE 5.x entries of a CNA and of CISA's ADP often state the same fix
// both ways).
func escape(spans []span, v string) (string, string) {
	for range len(spans) + 1 {
		var excl, incl string
		held := false
		for _, s := range spans {
			if !s.contains(v) {
				continue
			}
			held = true
			switch {
			case s.unstated:
				return "", "the advisory does not say which versions are affected"
			case s.end == "" && s.startExcl:
				return "", "every version after " + s.start + " is affected; no fixed version is known"
			case s.end == "" && s.start != "":
				return "", "every version from " + s.start + " on is affected; no fixed version is known"
			case s.end == "":
				return "", "no fixed version is known"
			case s.endIncl:
				if incl == "" || vuln.CompareVersions(s.end, incl) > 0 {
					incl = s.end
				}
			default:
				if excl == "" || vuln.CompareVersions(s.end, excl) > 0 {
					excl = s.end
				}
			}
		}
		switch {
		case !held:
			return v, ""
		case incl != "" && (excl == "" || vuln.CompareVersions(incl, excl) >= 0):
			return "", "versions up to " + incl + " are affected: fixed in a version later than " + incl
		}
		v = excl
	}
	return "", "the affected ranges do not end"
}

// recommend combines the per-CVE fixes of one device into its Fix.
func recommend(fixes []cveFix) Fix {
	version := ""
	for _, f := range fixes {
		if f.fixed != "" && (version == "" || vuln.CompareVersions(f.fixed, version) > 0) {
			version = f.fixed
		}
	}
	stuck := make(map[string]string) // CVE → why the recommended version does not close it
	for changed, rounds := version != "", 0; changed && rounds <= len(fixes)+1; rounds++ {
		changed = false
		for _, f := range fixes {
			if f.fixed == "" || stuck[f.cve] != "" {
				continue
			}
			next, why := escape(f.spans, version)
			switch {
			case next == "":
				stuck[f.cve] = "version " + version + " is affected too: " + why
			case vuln.CompareVersions(next, version) != 0:
				version, changed = next, true
			}
		}
	}
	var fx Fix
	fx.Version = version
	open := make(map[string]string)
	for _, f := range fixes {
		switch {
		case f.fixed == "" && version != "" && f.version != "" && leaves(f.spans, version):
			// No fix of its own is known (versionEndIncluding), but the
			// recommended version is beyond its ranges.
			fx.Closes = append(fx.Closes, f.cve)
		case f.fixed == "":
			open[f.cve] = f.why
		case stuck[f.cve] != "":
			open[f.cve] = stuck[f.cve]
		default:
			fx.Closes = append(fx.Closes, f.cve)
		}
	}
	slices.Sort(fx.Closes)
	fx.Closes = slices.Compact(fx.Closes)
	for cve := range open {
		fx.StillOpen = append(fx.StillOpen, cve)
	}
	slices.Sort(fx.StillOpen)

	var b strings.Builder
	if version != "" {
		fmt.Fprintf(&b, "Update the firmware to %s or later: it closes %s (%s).", version, strings.Join(fx.Closes, ", "), plural(len(fx.Closes), "CVE"))
	}
	if len(fx.StillOpen) > 0 {
		if b.Len() > 0 {
			b.WriteString(" Still open: ")
		} else {
			b.WriteString("No known firmware version closes: ")
		}
		for i, cve := range fx.StillOpen {
			if i > 0 {
				b.WriteString("; ")
			}
			fmt.Fprintf(&b, "%s (%s)", cve, open[cve])
		}
		b.WriteString(".")
	}
	fx.Text = b.String()
	return fx
}

// leaves reports whether version v is outside every span, none of them
// unstated.
func leaves(spans []span, v string) bool {
	for _, s := range spans {
		if s.unstated || s.contains(v) {
			return false
		}
	}
	return len(spans) > 0
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
