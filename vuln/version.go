package vuln

import "strings"

// CompareVersions compares two firmware version strings as vendors write
// them and returns -1 if a is older than b, 0 if they are equivalent and +1
// if a is newer. It never fails: any string is a version.
//
// The algorithm:
//
//  1. Normalise. A model prefix before "-V" is removed ("R7000-V1.0.11.116"
//     reads as "1.0.11.116"; Netgear); then everything before the first
//     digit is removed (a leading "v"/"V", "QTS ", "firmware "), unless the
//     string has no digit at all.
//  2. Tokenise into maximal runs of ASCII digits (numeric tokens) and of
//     ASCII letters (word tokens); every other byte (".", "_", "-", space,
//     parentheses…) only separates tokens. The words build, rel, release,
//     ver, version and update are separators too, so that
//     "1.1.4 Build 20230219 rel.60034" is 1,1,4,20230219,60034 and
//     "7.1.1-42962 Update 3" is 7,1,1,42962,3. Letters are compared
//     without regard to case.
//  3. Compare the token lists position by position; the shorter list is
//     padded with an "end" token. Each token has a rank, and ranks are
//     ordered:
//     pre-release words (dev < alpha < beta < pre = preview < rc)
//     < end = the number 0
//     < other words (patch, p, hotfix, sp, a, b, build letters…), compared
//     lexically
//     < numbers above 0, compared numerically (no overflow: "20221201"
//     and "0042" are fine; leading zeros are ignored).
//
// Consequences: "1.0" = "1.0.0" (missing numbers are 0); more numbers make a
// newer version ("1.1.4" < "1.1.4 Build 20230219"); "1.0.0beta" < "1.0.0" <
// "1.0.0-p1" < "1.0.1"; "1.2a" < "1.2b" < "1.2.1"; "6.49.7" < "6.49.10";
// "1.1.3_build_20221201" < "1.1.4".
//
// Because every token maps to one key of a total order and the padding is a
// fixed key, the result is the lexicographic order of infinite key
// sequences: a total preorder (antisymmetric, transitive), whose equivalence
// classes are the strings equal after normalisation and after dropping
// trailing "end"-ranked tokens. Normalisation depends on one string only, so
// the order is transitive even across strings with and without a model
// prefix; the price is that "R7000-V1.0" and "R6400-V1.0" compare equal.
func CompareVersions(a, b string) int {
	ta, tb := newVersionScanner(a), newVersionScanner(b)
	for {
		x, okx := ta.next()
		y, oky := tb.next()
		if !okx && !oky {
			return 0
		}
		if c := compareTokens(x, y); c != 0 {
			return c
		}
	}
}

// Token ranks, in order.
const (
	rankPre    = iota // pre-release word; sub-ranked by preRank
	rankEnd           // end of the version, or the number 0
	rankWord          // any other word
	rankNumber        // a number above 0
)

// vtoken is one token.
type vtoken struct {
	rank int
	sub  int    // preRank for rankPre
	text string // digits without leading zeros, or the word as written
}

func compareTokens(x, y vtoken) int {
	if x.rank != y.rank {
		return cmpInt(x.rank, y.rank)
	}
	switch x.rank {
	case rankPre:
		return cmpInt(x.sub, y.sub)
	case rankNumber:
		if len(x.text) != len(y.text) {
			return cmpInt(len(x.text), len(y.text))
		}
		return strings.Compare(x.text, y.text)
	case rankWord:
		return compareFold(x.text, y.text)
	}
	return 0
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compareFold compares ASCII words without regard to case.
func compareFold(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		ca, cb := lower(a[i]), lower(b[i])
		if ca != cb {
			return cmpInt(int(ca), int(cb))
		}
	}
	return cmpInt(len(a), len(b))
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// versionScanner yields the tokens of a version string without allocating.
type versionScanner struct {
	s string
	i int
}

func newVersionScanner(s string) versionScanner {
	return versionScanner{s: s, i: versionStart(s)}
}

// versionStart returns where the version proper begins in s: after a model
// prefix ending in "-V" followed by a digit, then at the first digit.
func versionStart(s string) int {
	start := 0
	j := 0
	hasLetter := false
	for j < len(s) && (isLetter(s[j]) || isDigit(s[j])) {
		hasLetter = hasLetter || isLetter(s[j])
		j++
	}
	if hasLetter && j > 0 && j+2 < len(s) && s[j] == '-' && (s[j+1] == 'v' || s[j+1] == 'V') && isDigit(s[j+2]) {
		start = j + 2
	}
	for k := start; k < len(s); k++ {
		if isDigit(s[k]) {
			return k
		}
	}
	return start
}

// next returns the next token, or false at the end of the string.
func (v *versionScanner) next() (vtoken, bool) {
	for v.i < len(v.s) {
		c := v.s[v.i]
		switch {
		case isDigit(c):
			j := v.i
			for j < len(v.s) && isDigit(v.s[j]) {
				j++
			}
			run := strings.TrimLeft(v.s[v.i:j], "0")
			v.i = j
			if run == "" {
				return vtoken{rank: rankEnd}, true
			}
			return vtoken{rank: rankNumber, text: run}, true
		case isLetter(c):
			j := v.i
			for j < len(v.s) && isLetter(v.s[j]) {
				j++
			}
			w := v.s[v.i:j]
			v.i = j
			if isSeparatorWord(w) {
				continue
			}
			if r, ok := preRank(w); ok {
				return vtoken{rank: rankPre, sub: r}, true
			}
			return vtoken{rank: rankWord, text: w}, true
		default:
			v.i++
		}
	}
	return vtoken{rank: rankEnd}, false
}

func isSeparatorWord(w string) bool {
	switch len(w) {
	case 3:
		return strings.EqualFold(w, "rel") || strings.EqualFold(w, "ver")
	case 5:
		return strings.EqualFold(w, "build")
	case 6:
		return strings.EqualFold(w, "update")
	case 7:
		return strings.EqualFold(w, "release") || strings.EqualFold(w, "version")
	}
	return false
}

// preRank returns the order of a pre-release word.
func preRank(w string) (int, bool) {
	switch {
	case strings.EqualFold(w, "dev"):
		return 0, true
	case strings.EqualFold(w, "alpha"):
		return 1, true
	case strings.EqualFold(w, "beta"):
		return 2, true
	case strings.EqualFold(w, "pre"), strings.EqualFold(w, "preview"):
		return 3, true
	case strings.EqualFold(w, "rc"):
		return 4, true
	}
	return 0, false
}
