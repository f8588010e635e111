package vuln

import (
	"strings"

	"github.com/firmward/firmward"
)

// InRange reports whether the firmware version is among the versions the
// criterion m names, and whether that answer is certain.
//
//   - With any of the four bounds (versionStartIncluding/Excluding,
//     versionEndIncluding/Excluding), each given bound must hold under
//     CompareVersions.
//   - Without bounds, a criteria version of ANY "*" or NA "-" means the
//     advisory does not say which versions are affected: in is true,
//     certain false ("possibly affected").
//   - Without bounds, a concrete criteria version must compare equal (a
//     version with wildcards, rare, must match them).
//
// An unknown version ("", "*" or "-") is possibly in any range: in true,
// certain false. A criterion whose name does not parse is not a match.
func InRange(version string, m firmward.CPEMatch) (in, certain bool) {
	crit, err := ParseCPE(m.Criteria)
	if err != nil {
		return false, false
	}
	return inRange(version, crit.Version, m)
}

func inRange(version string, critVersion Attr, m firmward.CPEMatch) (in, certain bool) {
	unknown := isUnknownVersion(version)
	if !hasBounds(m) {
		switch {
		case critVersion.Kind != Value:
			return true, false
		case unknown:
			return true, false
		case critVersion.HasWildcards():
			return wildcardMatch(critVersion, version), true
		}
		return sameVersion(version, critVersion.Text), true
	}
	if unknown {
		return true, false
	}
	if b := m.VersionStartIncluding; b != "" && CompareVersions(version, b) < 0 {
		return false, true
	}
	if b := m.VersionStartExcluding; b != "" && CompareVersions(version, b) <= 0 {
		return false, true
	}
	if b := m.VersionEndIncluding; b != "" && CompareVersions(version, b) > 0 {
		return false, true
	}
	if b := m.VersionEndExcluding; b != "" && CompareVersions(version, b) >= 0 {
		return false, true
	}
	return true, true
}

func isUnknownVersion(v string) bool {
	v = strings.TrimSpace(v)
	return v == "" || v == "*" || v == "-"
}

func hasBounds(m firmward.CPEMatch) bool {
	return m.VersionStartIncluding != "" || m.VersionStartExcluding != "" || m.VersionEndIncluding != "" || m.VersionEndExcluding != ""
}

// RangeString describes the version range of m for people, e.g.
// ">= 6.34, < 6.49.7", "= 4.1.0_b130111" or "any version".
func RangeString(m firmward.CPEMatch) string {
	var parts []string
	add := func(op, b string) {
		if b != "" {
			parts = append(parts, op+" "+b)
		}
	}
	add(">=", m.VersionStartIncluding)
	add(">", m.VersionStartExcluding)
	add("<=", m.VersionEndIncluding)
	add("<", m.VersionEndExcluding)
	if len(parts) > 0 {
		return strings.Join(parts, ", ")
	}
	crit, err := ParseCPE(m.Criteria)
	if err != nil {
		return "unknown"
	}
	switch crit.Version.Kind {
	case Any:
		return "any version"
	case NA:
		return "versions not stated (-)"
	}
	return "= " + crit.Version.Prefix + crit.Version.Text + crit.Version.Suffix
}
