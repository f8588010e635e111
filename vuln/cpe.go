package vuln

import (
	"strings"

	"github.com/firmward/firmward"
)

// Kind says what a CPE attribute holds: a value, the logical value ANY
// ("*") or the logical value NA ("-", not applicable).
type Kind uint8

// The kinds of a CPE attribute.
const (
	Value Kind = iota // a value, possibly with wildcards at its ends
	Any               // "*": any value
	NA                // "-": not applicable / no value
)

// Attr is one attribute of a well-formed name (WFN). For Kind Value, Text
// is the literal, unescaped text ("1.00(aady.4)c0" for the bound form
// "1.00\(aady.4\)c0") and Prefix and Suffix are the unquoted wildcards at
// its ends: runs of "?" (one character each) and "*" (any run of
// characters). Text keeps its case; matching ignores case.
type Attr struct {
	Kind   Kind
	Prefix string
	Text   string
	Suffix string
}

// HasWildcards reports whether a carries an unquoted "*" or "?".
func (a Attr) HasWildcards() bool { return a.Prefix != "" || a.Suffix != "" }

// IsConcrete reports whether a is a value without wildcards.
func (a Attr) IsConcrete() bool { return a.Kind == Value && !a.HasWildcards() }

// String formats a as a component of the CPE 2.3 formatted string binding,
// escaping with a backslash every character but letters, digits, "_", "."
// and "-" (and a literal value "-", which would otherwise read as NA).
func (a Attr) String() string {
	switch a.Kind {
	case Any:
		return "*"
	case NA:
		return "-"
	}
	var b strings.Builder
	b.WriteString(a.Prefix)
	if a.Text == "-" {
		b.WriteString(`\-`)
	} else {
		for i := 0; i < len(a.Text); i++ {
			c := a.Text[i]
			if !isPlain(c) {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		}
	}
	b.WriteString(a.Suffix)
	return b.String()
}

func isPlain(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
}

// CPE is a CPE 2.3 well-formed name: its 11 attributes.
type CPE struct {
	Part, Vendor, Product, Version, Update, Edition, Language Attr
	SWEdition, TargetSW, TargetHW, Other                      Attr
}

// attrName returns the name of the i-th attribute in binding order.
func attrName(i int) string {
	return [11]string{"part", "vendor", "product", "version", "update", "edition", "language", "sw_edition", "target_sw", "target_hw", "other"}[i]
}

// attrs returns pointers to the 11 attributes in binding order.
func (c *CPE) attrs() [11]*Attr {
	return [11]*Attr{&c.Part, &c.Vendor, &c.Product, &c.Version, &c.Update, &c.Edition, &c.Language, &c.SWEdition, &c.TargetSW, &c.TargetHW, &c.Other}
}

const cpePrefix = "cpe:2.3:"

// ParseCPE parses a CPE 2.3 formatted string binding such as
// "cpe:2.3:o:zyxel:nas326_firmware:5.21\(aazf.10\)c0:*:*:*:*:*:*:*" into
// its WFN. Backslash escapes are removed ("\(" is a literal "("), "*" and
// "-" alone are ANY and NA, and unescaped "*" and "?" are accepted only as
// wildcards at the ends of a value. The part must be a, o, h, * or -.
//
// Errors are *firmward.Error with code EINVALID naming the component that
// is wrong.
func ParseCPE(s string) (CPE, error) {
	var c CPE
	if len(s) < len(cpePrefix) || !strings.EqualFold(s[:len(cpePrefix)], cpePrefix) {
		return c, firmward.Errorf(firmward.EINVALID, "CPE name %q: must start with %q", s, cpePrefix)
	}
	rest := s[len(cpePrefix):]
	attrs := c.attrs()
	n := 0
	start := 0
	for i := 0; i <= len(rest); i++ {
		if i+1 < len(rest) && rest[i] == '\\' {
			i++
			continue
		}
		if i < len(rest) && rest[i] != ':' {
			continue
		}
		if n == len(attrs) {
			return c, firmward.Errorf(firmward.EINVALID, "CPE name %q: has more than 11 components after %q", s, cpePrefix)
		}
		a, err := parseComponent(rest[start:min(i, len(rest))])
		if err != nil {
			return c, firmward.Errorf(firmward.EINVALID, "CPE name %q: component %d (%s) %s", s, n+1, attrName(n), err.Error())
		}
		*attrs[n] = a
		n++
		start = i + 1
	}
	if n != len(attrs) {
		return c, firmward.Errorf(firmward.EINVALID, "CPE name %q: want 11 components after %q, got %d", s, cpePrefix, n)
	}
	if c.Part.Kind == Value && (c.Part.HasWildcards() || !isPartLetter(c.Part.Text)) {
		return c, firmward.Errorf(firmward.EINVALID, "CPE name %q: component 1 (part) must be a, o, h, * or -, got %q", s, c.Part.String())
	}
	return c, nil
}

func isPartLetter(s string) bool {
	switch strings.ToLower(s) {
	case "a", "o", "h":
		return true
	}
	return false
}

// componentError is a reason without the name, completed by ParseCPE.
type componentError string

func (e componentError) Error() string { return string(e) }

// parseComponent unbinds one component of the formatted string.
func parseComponent(v string) (Attr, error) {
	switch v {
	case "":
		return Attr{}, componentError("is empty (use * for any or - for not applicable)")
	case "*":
		return Attr{Kind: Any}, nil
	case "-":
		return Attr{Kind: NA}, nil
	}
	var a Attr
	// Leading wildcards.
	i := 0
	for i < len(v) && (v[i] == '*' || v[i] == '?') {
		i++
	}
	a.Prefix = v[:i]
	var b strings.Builder
	for ; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\\':
			if i+1 >= len(v) {
				return Attr{}, componentError("ends with a lone backslash")
			}
			i++
			if v[i] < 0x21 || v[i] > 0x7e {
				return Attr{}, componentError("escapes a character that is not printable ASCII")
			}
			b.WriteByte(v[i])
		case c == '*' || c == '?':
			j := i
			for j < len(v) && (v[j] == '*' || v[j] == '?') {
				j++
			}
			if j != len(v) {
				return Attr{}, componentError("has an unescaped " + string(c) + " inside the value (wildcards may appear only at its ends)")
			}
			a.Suffix = v[i:]
			i = j
		case isPlain(c):
			b.WriteByte(c)
		default:
			return Attr{}, componentError("has " + quoteByte(c) + ", which must be escaped with a backslash")
		}
	}
	a.Text = b.String()
	if a.Text == "" && strings.Count(a.Prefix+a.Suffix, "*") > 1 {
		// "**" is not a value; keep a single ANY-like wildcard value.
		return Attr{}, componentError("has only wildcards; use * for any")
	}
	return a, nil
}

func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return `"` + string(c) + `"`
	}
	const hex = "0123456789abcdef"
	return `byte 0x` + string(hex[c>>4]) + string(hex[c&0xf])
}

// String formats c as a CPE 2.3 formatted string binding. For any c
// returned by ParseCPE, ParseCPE(c.String()) returns c again.
func (c CPE) String() string {
	var b strings.Builder
	b.WriteString(cpePrefix)
	for i, a := range c.attrs() {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(a.String())
	}
	return b.String()
}

// Relation is the result of comparing a source attribute with a target
// attribute (NISTIR 7696, section 6.1): whether the source denotes a
// superset of, the same set as, a subset of, or a set disjoint from the
// target.
type Relation uint8

// The relations of NISTIR 7696.
const (
	Disjoint Relation = iota
	Superset
	Subset
	Equal
	Undefined // the target carries wildcards, which a target may not
)

// String returns the relation's name as NISTIR 7696 spells it.
func (r Relation) String() string {
	names := [...]string{"DISJOINT", "SUPERSET", "SUBSET", "EQUAL", "UNDEFINED"}
	if int(r) < len(names) {
		return names[r]
	}
	return "Relation(?)"
}

// CompareAttr compares a source attribute (a criterion's) with a target
// attribute (a device's) as NISTIR 7696 does: ANY is a superset of every
// value and of NA; NA equals only NA; a source value with wildcards is a
// superset of the target values it matches; values compare without regard
// to case.
func CompareAttr(src, tgt Attr) Relation {
	switch {
	case src.Kind == Any && tgt.Kind == Any:
		return Equal
	case src.Kind == Any:
		return Superset
	case src.Kind == NA && tgt.Kind == NA:
		return Equal
	case tgt.Kind == Any:
		return Subset
	case src.Kind == NA || tgt.Kind == NA:
		return Disjoint
	case tgt.HasWildcards():
		return Undefined
	case !src.HasWildcards():
		if strings.EqualFold(src.Text, tgt.Text) {
			return Equal
		}
		return Disjoint
	case wildcardMatch(src, tgt.Text):
		return Superset
	}
	return Disjoint
}

// wildcardMatch reports whether the value t matches the pattern of src:
// each "?" of Prefix/Suffix stands for exactly one character, a "*" for
// any number; the literal Text must appear between them (ignoring case).
func wildcardMatch(src Attr, t string) bool {
	lit := strings.ToLower(src.Text)
	t = strings.ToLower(t)
	minPre, starPre := wildcardSpan(src.Prefix)
	minSuf, starSuf := wildcardSpan(src.Suffix)
	for i := 0; i+len(lit) <= len(t); i++ {
		if t[i:i+len(lit)] != lit {
			continue
		}
		pre, suf := i, len(t)-i-len(lit)
		if (pre == minPre || starPre && pre >= minPre) && (suf == minSuf || starSuf && suf >= minSuf) {
			return true
		}
	}
	return false
}

func wildcardSpan(w string) (n int, star bool) {
	for i := 0; i < len(w); i++ {
		if w[i] == '?' {
			n++
		} else {
			star = true
		}
	}
	return n, star
}

// MatchCPE reports whether the criteria name (from NVD) matches the target
// name (a device's): every attribute of criteria must be a superset of or
// equal to the target's (NISTIR 7696 CPE_SUPERSET or CPE_EQUAL).
func MatchCPE(criteria, target CPE) bool {
	s, t := criteria.attrs(), target.attrs()
	for i := range s {
		switch CompareAttr(*s[i], *t[i]) {
		case Superset, Equal:
		default:
			return false
		}
	}
	return true
}
