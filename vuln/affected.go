package vuln

import (
	"fmt"
	"strings"

	"github.com/firmward/firmward"
)

// matchAffected is MatchDevice for a vulnerability without NVD
// configurations: it reads v.Affected (CVE 5.x CNA/ADP data, CSAF).
//
// An entry names the device when one of its CPEs has the vendor and
// product of the device's firmware or hardware CPE, or when its vendor and
// product do, normalised: lower case, spaces, hyphens and underscores
// equivalent, and a trailing "firmware" word ignored on either side (the
// CNA writes "RT-AX88U" where the CPE says rt-ax88u_firmware).
//
// Its versions then decide, with the device's firmware version (the
// firmware CPE's version, else DeviceCPEs.Version): an "unaffected" entry
// that holds wins; else an "affected" entry that holds is a match; else
// the default status applies ("affected" matches, others do not). An
// entry holds for [Version, LessThan) or [Version, LessThanOrEqual], or
// for Version alone when there is no upper bound; a lower bound of "0",
// "*", "earlier" or "" is no bound. When the device's version is unknown,
// or an entry's version is "n/a"/"unspecified", or its versionType is
// "git", the match is only possible.
func matchAffected(v *firmward.Vulnerability, d *device) []Match {
	var out []Match
	for i := range v.Affected {
		a := &v.Affected[i]
		if !affectedNames(a, d) {
			continue
		}
		version := ""
		if d.hasFW && d.fw.Version.Kind == Value {
			version = d.fw.Version.Text
		}
		if version == "" && !isUnknownVersion(d.version) {
			version = d.version
		}
		vd, rng, note := evalAffectedVersions(a, version)
		if vd == no {
			continue
		}
		m := Match{
			CVE:           v.ID,
			Source:        a.Source,
			Configuration: -1,
			Affected:      i,
			Vulnerable:    strings.TrimSpace(a.Vendor + " " + a.Product),
			Range:         rng,
			Version:       version,
			Certain:       vd == yes,
		}
		if m.Source == "" {
			m.Source = "affected"
		}
		if vd == yes {
			if version != "" {
				m.Reason = fmt.Sprintf("version %s of %s is affected (%s) according to %s.", version, m.Vulnerable, rng, m.Source)
			} else {
				m.Reason = fmt.Sprintf("%s is affected in all versions (%s) according to %s.", m.Vulnerable, rng, m.Source)
			}
		} else {
			m.Reason = fmt.Sprintf("possibly affected: %s (%s, according to %s).", note, rng, m.Source)
		}
		out = append(out, m)
	}
	return out
}

// affectedNames reports whether entry a names one of the device's CPEs.
func affectedNames(a *firmward.Affected, d *device) bool {
	targets := make([]*CPE, 0, 2)
	if d.hasFW {
		targets = append(targets, &d.fw)
	}
	if d.hasHW {
		targets = append(targets, &d.hw)
	}
	for _, t := range targets {
		for _, s := range a.CPEs {
			c, err := ParseCPE(s)
			if err != nil {
				continue
			}
			if sameName(c.Vendor.Text, t.Vendor.Text) && sameProduct(c.Product.Text, t.Product.Text) {
				return true
			}
		}
		if a.Vendor != "" && a.Product != "" && sameVendor(a.Vendor, t.Vendor.Text) && sameProduct(a.Product, t.Product.Text) {
			return true
		}
	}
	return false
}

// NormalName lower-cases a vendor or product name and maps spaces and
// hyphens to underscores: how Affected entries and CPE names are compared,
// and how an index of them must key them.
func NormalName(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return '_'
		}
		return r
	}, s)
}

func sameName(a, b string) bool {
	return a != "" && NormalName(a) == NormalName(b)
}

// sameVendor reports whether a vendor as an advisory writes it ("QNAP
// Systems Inc.", "ASUSTeK COMPUTER INC.") names the CPE vendor cpeVendor,
// directly or through the alias table.
func sameVendor(advisory, cpeVendor string) bool {
	if sameName(advisory, cpeVendor) {
		return true
	}
	for _, v := range LookupVendors(advisory) {
		if sameName(v, cpeVendor) {
			return true
		}
	}
	return false
}

// NormalProduct is NormalName without a trailing "_firmware" (or one of
// NVD's misspellings of it, see FirmwareProduct), so that a firmware
// product and its model's hardware product compare alike.
func NormalProduct(s string) string {
	return strings.TrimSuffix(FirmwareProduct(NormalName(s)), "_firmware")
}

// firmwareTypos are the misspellings of the "_firmware" suffix that occur
// in NVD's product names (all of the 2002–2021 JSON 1.1 feeds were
// searched): dlink dir-850l_firmare (CVE-2018-18907), cisco
// email_security_appliance_firmeware, huawei mate_9_pro_fimware, zyxel
// max308m_fimware, automationdirect gs_drives_fimware, and meco's USB
// memory stick firmware with the w and m swapped.
var firmwareTypos = []string{"_firmare", "_firmeware", "_fimware", "_firwmare"} //nolint:misspell // NVD's own misspellings, on purpose

// FirmwareProduct returns a CPE product name with a misspelt "_firmware"
// suffix spelt right ("dir-850l_firmare" → "dir-850l_firmware"), and any
// other name as it is, so that a device named with the right spelling
// matches the CVEs filed under the wrong one. The case of the rest of the
// name is kept.
func FirmwareProduct(s string) string {
	for _, t := range firmwareTypos {
		if len(s) > len(t) && strings.EqualFold(s[len(s)-len(t):], t) {
			return s[:len(s)-len(t)] + "_firmware"
		}
	}
	return s
}

func sameProduct(a, b string) bool {
	return a != "" && NormalProduct(a) == NormalProduct(b)
}

// evalAffectedVersions applies the version entries of a to version.
func evalAffectedVersions(a *firmward.Affected, version string) (verdict, string, string) {
	def := strings.ToLower(a.Default)
	if len(a.Versions) == 0 {
		switch def {
		case "affected":
			return yes, "all versions", ""
		case "unaffected":
			return no, "", ""
		}
		return possibly, "versions not stated", "the advisory does not say which versions are affected"
	}
	var affected, unaffected, maybe bool
	var rng string
	for _, e := range a.Versions {
		status := strings.ToLower(e.Status)
		hold, certain := entryHolds(e, version)
		if !hold {
			continue
		}
		switch status {
		case "unaffected":
			if certain {
				unaffected = true
			}
		case "affected":
			if certain {
				if !affected {
					rng = entryString(e)
				}
				affected = true
			} else if !maybe {
				maybe = true
				if !affected {
					rng = entryString(e)
				}
			}
		}
	}
	switch {
	case unaffected:
		return no, "", ""
	case affected:
		return yes, rng, ""
	case maybe && version == "":
		return possibly, rng, "the device's firmware version is unknown"
	case maybe:
		return possibly, rng, "the advisory's version " + rng + " cannot be compared with " + version
	case def == "affected" && version != "":
		return yes, "default status affected", ""
	}
	return no, "", ""
}

// entryHolds reports whether version is in entry e, and whether certainly.
func entryHolds(e firmward.AffectedVersion, version string) (in, certain bool) {
	lower := strings.TrimSpace(e.Version)
	if isVagueVersion(lower) || strings.EqualFold(e.VersionType, "git") {
		return true, false
	}
	if version == "" {
		return true, false
	}
	upper, inclusive := e.LessThan, false
	if e.LessThanOrEqual != "" {
		upper, inclusive = e.LessThanOrEqual, true
	}
	if upper == "" {
		if isNoLowerBound(lower) {
			return true, true
		}
		return CompareVersions(version, lower) == 0, true
	}
	if !isNoLowerBound(lower) && CompareVersions(version, lower) < 0 {
		return false, true
	}
	if upper == "*" {
		return true, true
	}
	c := CompareVersions(version, upper)
	return c < 0 || inclusive && c == 0, true
}

func isVagueVersion(s string) bool {
	switch strings.ToLower(s) {
	case "n/a", "unspecified", "unknown":
		return true
	}
	return false
}

func isNoLowerBound(s string) bool {
	switch strings.ToLower(s) {
	case "", "0", "*", "-", "earlier", "all", "all versions":
		return true
	}
	return false
}

func entryString(e firmward.AffectedVersion) string {
	switch {
	case e.LessThanOrEqual != "" && isNoLowerBound(e.Version):
		return "<= " + e.LessThanOrEqual
	case e.LessThanOrEqual != "":
		return ">= " + e.Version + ", <= " + e.LessThanOrEqual
	case e.LessThan != "" && isNoLowerBound(e.Version):
		return "< " + e.LessThan
	case e.LessThan != "":
		return ">= " + e.Version + ", < " + e.LessThan
	}
	return "= " + e.Version
}
