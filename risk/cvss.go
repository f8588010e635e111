package risk

import (
	"slices"
	"strings"

	"github.com/firmward/firmward"
)

// Vector holds the base metrics of a CVSS vector that risk uses, as the
// vector's own upper-case letters. Version is "2.0", "3.0", "3.1" or "4.0".
//
// CVSS v4's VC, VI and VA are stored in C, I and A; AT is v4 only; Au is
// v2 only (v2 has no PR and UI). Metrics the vector does not have are "".
type Vector struct {
	Version string
	AV      string // attack vector: N, A, L, P
	AC      string // attack complexity: L, H (v2: L, M, H)
	AT      string // attack requirements (v4): N, P
	PR      string // privileges required: N, L, H
	UI      string // user interaction: N, R (v4: N, P, A)
	Au      string // authentication (v2): N, S, M
	C, I, A string // impact on the vulnerable system: H, L, N (v2: C, P, N)
}

// metricSpec lists the allowed values of one base metric and where it goes.
type metricSpec struct {
	key    string
	values string // allowed one-letter values
	field  func(*Vector) *string
}

func specsFor(version string) []metricSpec {
	av := func(v *Vector) *string { return &v.AV }
	ac := func(v *Vector) *string { return &v.AC }
	c := func(v *Vector) *string { return &v.C }
	i := func(v *Vector) *string { return &v.I }
	a := func(v *Vector) *string { return &v.A }
	switch version {
	case "2.0":
		return []metricSpec{
			{"AV", "LAN", av},
			{"AC", "HML", ac},
			{"AU", "MSN", func(v *Vector) *string { return &v.Au }},
			{"C", "NPC", c},
			{"I", "NPC", i},
			{"A", "NPC", a},
		}
	case "4.0":
		return []metricSpec{
			{"AV", "NALP", av},
			{"AC", "LH", ac},
			{"AT", "NP", func(v *Vector) *string { return &v.AT }},
			{"PR", "NLH", func(v *Vector) *string { return &v.PR }},
			{"UI", "NPA", func(v *Vector) *string { return &v.UI }},
			{"VC", "HLN", c},
			{"VI", "HLN", i},
			{"VA", "HLN", a},
			{"SC", "HLN", nil},
			{"SI", "HLN", nil},
			{"SA", "HLN", nil},
		}
	default: // 3.0, 3.1
		return []metricSpec{
			{"AV", "NALP", av},
			{"AC", "LH", ac},
			{"PR", "NLH", func(v *Vector) *string { return &v.PR }},
			{"UI", "NR", func(v *Vector) *string { return &v.UI }},
			{"S", "UC", nil},
			{"C", "HLN", c},
			{"I", "HLN", i},
			{"A", "HLN", a},
		}
	}
}

// maxVectorLen bounds the input: real vectors, with every v4 supplemental
// and environmental metric, stay under 300 characters.
const maxVectorLen = 1024

// ParseVector reads a CVSS v2, v3.0, v3.1 or v4.0 vector string. A
// "CVSS:3.0/", "CVSS:3.1/" or "CVSS:4.0/" prefix (or "CVSS:2.0/", which some
// tools write) gives the version; a vector
// without one is read as v2 (NVD writes v2 vectors bare, sometimes in
// parentheses).
//
// The parser is tolerant: it ignores case, spaces around the vector, empty
// components and any well-formed metric other than the base ones (temporal,
// environmental, supplemental). It returns an EINVALID *firmward.Error when
// the vector is empty or too long, a component is not METRIC:VALUE, a
// metric appears twice, a base metric has a value its version does not
// define, or a base metric is missing.
func ParseVector(s string) (Vector, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Vector{}, vectorError(s, "empty vector")
	}
	if len(s) > maxVectorLen {
		return Vector{}, vectorError(s, "vector too long")
	}
	v := Vector{Version: "2.0"}
	body := s
	if len(body) >= 9 && strings.EqualFold(body[:5], "CVSS:") {
		switch body[5:8] {
		case "2.0", "3.0", "3.1", "4.0":
			v.Version = body[5:8]
		default:
			return Vector{}, vectorError(s, "unknown CVSS version "+quoteShort(body[5:8]))
		}
		if body[8] != '/' {
			return Vector{}, vectorError(s, `want "/" after the version`)
		}
		body = body[9:]
	} else if strings.HasPrefix(body, "(") && strings.HasSuffix(body, ")") {
		body = body[1 : len(body)-1]
	}
	specs := specsFor(v.Version)
	seen := make([]bool, len(specs))
	var other []string
	for part := range strings.SplitSeq(body, "/") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		key, val, ok := strings.Cut(part, ":")
		key, val = strings.ToUpper(strings.TrimSpace(key)), strings.ToUpper(strings.TrimSpace(val))
		if !ok || !isMetricToken(key) || !isMetricToken(val) {
			return Vector{}, vectorError(s, "component "+quoteShort(part)+" is not METRIC:VALUE")
		}
		j := slices.IndexFunc(specs, func(m metricSpec) bool { return m.key == key })
		if j < 0 {
			if slices.Contains(other, key) {
				return Vector{}, vectorError(s, "metric "+key+" appears twice")
			}
			other = append(other, key)
			continue
		}
		m := specs[j]
		if seen[j] {
			return Vector{}, vectorError(s, "metric "+key+" appears twice")
		}
		seen[j] = true
		if len(val) != 1 || !strings.Contains(m.values, val) {
			return Vector{}, vectorError(s, "metric "+key+" has value "+quoteShort(val)+", want one of "+m.values)
		}
		if m.field != nil {
			*m.field(&v) = val
		}
	}
	for j, m := range specs {
		if !seen[j] {
			return Vector{}, vectorError(s, "base metric "+m.key+" is missing")
		}
	}
	return v, nil
}

func isMetricToken(s string) bool {
	if s == "" || len(s) > 8 {
		return false
	}
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

func vectorError(s, reason string) error {
	return &firmward.Error{Code: firmward.EINVALID, Message: "invalid CVSS vector", Details: []firmward.ErrorDetail{{
		Field: "vector", Value: short(s), Reason: reason,
	}}}
}

// short cuts s to 80 bytes for error messages.
func short(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

func quoteShort(s string) string { return `"` + short(s) + `"` }

// Automatable reports whether the vector describes an attack that needs no
// one's help: network attack vector, low complexity, no privileges or
// authentication, no user interaction (and, in v4, no attack requirements).
func (v Vector) Automatable() bool {
	switch v.Version {
	case "2.0":
		return v.AV == "N" && v.AC == "L" && v.Au == "N"
	case "4.0":
		return v.AV == "N" && v.AC == "L" && v.AT == "N" && v.PR == "N" && v.UI == "N"
	default:
		return v.AV == "N" && v.AC == "L" && v.PR == "N" && v.UI == "N"
	}
}

// HighImpact reports whether the vector rates any impact on the vulnerable
// system's confidentiality, integrity or availability High (v2: Complete).
func (v Vector) HighImpact() bool {
	high := "H"
	if v.Version == "2.0" {
		high = "C"
	}
	return v.C == high || v.I == high || v.A == high
}

// versionRank orders CVSS versions for PickCVSS: higher is preferred, 0 is
// an unknown version.
func versionRank(version string) int {
	switch version {
	case "4.0", "4":
		return 4
	case "3.1":
		return 3
	case "3.0", "3":
		return 2
	case "2.0", "2":
		return 1
	}
	return 0
}

// cvssBefore reports whether a is preferred over b: newer version first
// (4.0, 3.1, 3.0, 2.0, unknown), then Primary over Secondary, then the
// higher base score.
func cvssBefore(a, b firmward.CVSS) bool {
	if ra, rb := versionRank(a.Version), versionRank(b.Version); ra != rb {
		return ra > rb
	}
	if pa, pb := strings.EqualFold(a.Type, "Primary"), strings.EqualFold(b.Type, "Primary"); pa != pb {
		return pa
	}
	return a.BaseScore > b.BaseScore
}

// PickCVSS returns the score firmward ranks a CVE by: the newest CVSS
// version (4.0 over 3.1 over 3.0 over 2.0), then NVD's Primary score over a
// Secondary one, then the higher base score; among equals the first in the
// list. It reports false for an empty list.
func PickCVSS(scores []firmward.CVSS) (firmward.CVSS, bool) {
	best := -1
	for i, c := range scores {
		if best < 0 || cvssBefore(c, scores[best]) {
			best = i
		}
	}
	if best < 0 {
		return firmward.CVSS{}, false
	}
	return scores[best], true
}

// pickVector returns the parsed vector of the most preferred score (in
// PickCVSS order) whose vector parses.
func pickVector(scores []firmward.CVSS) (Vector, bool) {
	var (
		best    Vector
		bestRow firmward.CVSS
		found   bool
	)
	for _, c := range scores {
		if found && !cvssBefore(c, bestRow) {
			continue
		}
		v, err := ParseVector(c.Vector)
		if err != nil {
			continue
		}
		best, bestRow, found = v, c, true
	}
	return best, found
}
