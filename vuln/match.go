package vuln

import (
	"fmt"
	"strings"

	"github.com/firmward/firmward"
)

// DeviceCPEs is what the matcher knows of one device: the CPE 2.3 names of
// its firmware and of its hardware (either may be empty) and its firmware
// version as the inventory knows it, used for version ranges when the
// firmware CPE's version is ANY.
type DeviceCPEs struct {
	Firmware string
	Hardware string
	Version  string
}

// Match explains why a vulnerability applies to a device.
//
// Configuration is the index in Vulnerability.Configurations that matched,
// or -1 when the match comes from Vulnerability.Affected (then Affected is
// its index, else -1). Source is "nvd" for configurations and the
// Affected entry's source ("cve5:cna", "csaf:…") otherwise.
//
// Vulnerable is the criterion (a CPE name, or "vendor product" for an
// Affected entry) that named the vulnerable product; Platform the
// vulnerable:false criterion (the hardware) that was required with it, if
// any. Range is the version range of Vulnerable as people read it; Version
// the device version compared with it ("" when unknown).
//
// Certain is false for a possible match: the advisory does not say which
// versions are affected, the device's version or hardware is unknown, or
// the criterion names an attribute (sw_edition, update…) the device's CPE
// does not state. Reason is one sentence saying which.
type Match struct {
	CVE           string `json:"cve"`
	Source        string `json:"source"`
	Configuration int    `json:"configuration"`
	Affected      int    `json:"affected"`
	Vulnerable    string `json:"vulnerable"`
	Platform      string `json:"platform,omitempty"`
	Range         string `json:"range"`
	Version       string `json:"version,omitempty"`
	Certain       bool   `json:"certain"`
	Reason        string `json:"reason"`
}

// verdict is a three-valued truth: no, possibly, yes (Kleene logic: AND is
// the minimum, OR the maximum, NOT swaps no and yes).
type verdict uint8

const (
	no verdict = iota
	possibly
	yes
)

func not(v verdict) verdict { return yes - v }

// hit is one criterion that matched the device.
type hit struct {
	m       *firmward.CPEMatch
	version string // the device version compared
	verdict verdict
	note    string // why only possibly, "" when certain
}

// result is the evaluation of a node: a verdict and its evidence.
type result struct {
	v        verdict
	vuln     *hit
	platform *hit
}

// device is a DeviceCPEs with its names parsed.
type device struct {
	fw, hw       CPE
	hasFW, hasHW bool
	version      string
}

// MatchDevice returns the ways v applies to the device, one Match per
// matching configuration, in order; nil when it does not apply.
//
// NVD semantics: configurations are OR'ed; the nodes of a configuration
// are combined by its operator (absent means OR) and negated when it says
// so; each node combines its matches and children with its operator, then
// negates. Entries with vulnerable:false are platforms (the hardware a
// firmware runs on) and are evaluated against the device's own CPEs, so a
// firmware CVE listing twenty models matches only a device of one of them.
// A configuration matches only if a vulnerable entry matched. Names compare
// without regard to case; the version attribute is compared with
// CompareVersions through InRange, not as a name (the device version is
// the firmware CPE's own when concrete, else dev.Version).
//
// Where the device's CPE leaves an attribute ANY that the criterion
// states: a criterion value ("ltr") makes the match only possible; a
// criterion NA ("-") is taken as met, since NVD writes "-" for the plain
// product. A hardware criterion without version (NA or ANY, no bounds) is
// met by the model whatever its revision. When the device has no hardware
// CPE, a hardware platform entry is possibly met.
//
// When v has no configurations, its Affected entries (CVE 5.x, CSAF) are
// used instead, one Match per entry that names the device by vendor and
// product (normalised: case, spaces, hyphens and underscores, a trailing
// "firmware") or by CPE and whose versions hold; see matchAffected.
//
// Device CPEs that do not parse are ignored (the inventory validates them).
func MatchDevice(v *firmward.Vulnerability, dev DeviceCPEs) []Match {
	d := device{version: strings.TrimSpace(dev.Version)}
	if dev.Firmware != "" {
		if c, err := ParseCPE(dev.Firmware); err == nil {
			d.fw, d.hasFW = c, true
		}
	}
	if dev.Hardware != "" {
		if c, err := ParseCPE(dev.Hardware); err == nil {
			d.hw, d.hasHW = c, true
		}
	}
	if !d.hasFW && !d.hasHW {
		return nil
	}
	if len(v.Configurations) == 0 {
		return matchAffected(v, &d)
	}
	var out []Match
	for i := range v.Configurations {
		r := evalConfiguration(&v.Configurations[i], &d)
		if r.v == no || r.vuln == nil {
			continue
		}
		out = append(out, newMatch(v.ID, i, r))
	}
	return out
}

func newMatch(id string, cfg int, r result) Match {
	m := Match{
		CVE:           id,
		Source:        "nvd",
		Configuration: cfg,
		Affected:      -1,
		Vulnerable:    r.vuln.m.Criteria,
		Range:         RangeString(*r.vuln.m),
		Version:       r.vuln.version,
		Certain:       r.v == yes,
	}
	if r.platform != nil {
		m.Platform = r.platform.m.Criteria
	}
	var b strings.Builder
	switch {
	case r.vuln.note != "":
		b.WriteString("possibly affected: " + r.vuln.note)
	case r.platform != nil && r.platform.note != "":
		b.WriteString("possibly affected: " + r.platform.note)
	case r.vuln.version != "":
		fmt.Fprintf(&b, "version %s is in the affected range (%s) of %s", r.vuln.version, m.Range, m.Vulnerable)
	default:
		fmt.Fprintf(&b, "the device matches %s (%s)", m.Vulnerable, m.Range)
	}
	if r.platform != nil && r.platform.note == "" {
		fmt.Fprintf(&b, ", running on %s", m.Platform)
	}
	if !m.Certain && r.vuln.note == "" && (r.platform == nil || r.platform.note == "") {
		b.WriteString(" (possible only: part of the configuration is uncertain)")
	}
	b.WriteString(".")
	m.Reason = b.String()
	return m
}

func evalConfiguration(c *firmward.Configuration, d *device) result {
	a := newCombiner(c.Operator)
	for i := range c.Nodes {
		a.add(evalNode(&c.Nodes[i], d))
	}
	r := a.result()
	if c.Negate {
		r = negate(r)
	}
	return r
}

func evalNode(n *firmward.Node, d *device) result {
	a := newCombiner(n.Operator)
	for i := range n.Matches {
		h := evalCPEMatch(&n.Matches[i], d)
		r := result{v: h.verdict}
		if h.verdict != no {
			hp := new(hit) // allocated only for the few criteria that match
			*hp = h
			if h.m.Vulnerable {
				r.vuln = hp
			} else {
				r.platform = hp
			}
		}
		a.add(r)
	}
	for i := range n.Children {
		a.add(evalNode(&n.Children[i], d))
	}
	r := a.result()
	if n.Negate {
		r = negate(r)
	}
	return r
}

// negate flips the verdict; evidence of a negated node no longer explains
// anything and is dropped.
func negate(r result) result {
	return result{v: not(r.v)}
}

// combiner folds operands with AND (minimum; evidence gathered from all)
// or OR (the first best operand). No operands is false.
type combiner struct {
	and bool
	n   int
	r   result
}

func newCombiner(op string) combiner {
	return combiner{and: strings.EqualFold(op, "AND")}
}

func (c *combiner) add(r result) {
	c.n++
	if c.n == 1 {
		c.r = r
		return
	}
	if c.and {
		c.r.v = min(c.r.v, r.v)
		if c.r.vuln == nil {
			c.r.vuln = r.vuln
		}
		if c.r.platform == nil {
			c.r.platform = r.platform
		}
		return
	}
	if r.v > c.r.v || r.v == c.r.v && c.r.vuln == nil && r.vuln != nil {
		c.r = r
	}
}

func (c *combiner) result() result {
	if c.n == 0 || c.r.v == no {
		return result{}
	}
	return c.r
}

// rawNames returns the part, vendor and product components of a CPE 2.3
// name as written, with ok false when any of them holds an escape or a
// wildcard (then only a full parse can tell).
func rawNames(s string) (part, vendor, product string, ok bool) {
	if len(s) < len(cpePrefix) || !strings.EqualFold(s[:len(cpePrefix)], cpePrefix) {
		return "", "", "", false
	}
	s = s[len(cpePrefix):]
	var comps [3]string
	for i := range comps {
		j := strings.IndexByte(s, ':')
		if j < 0 {
			return "", "", "", false
		}
		comps[i], s = s[:j], s[j+1:]
		if comps[i] == "*" || comps[i] == "-" || strings.ContainsAny(comps[i], `\*?`) {
			return "", "", "", false
		}
	}
	return comps[0], comps[1], comps[2], true
}

// mayName reports whether plain vendor and product names could match one
// of the device's names.
func mayName(vendor, product string, d *device) bool {
	may := func(t *CPE) bool {
		return (!t.Vendor.IsConcrete() || strings.EqualFold(vendor, t.Vendor.Text)) &&
			(!t.Product.IsConcrete() || strings.EqualFold(product, t.Product.Text))
	}
	return d.hasFW && may(&d.fw) || d.hasHW && may(&d.hw)
}

// evalCPEMatch tests one criterion against the device's firmware and
// hardware names and keeps the better outcome.
func evalCPEMatch(m *firmward.CPEMatch, d *device) hit {
	best := hit{m: m}
	part, vendor, product, ok := rawNames(m.Criteria)
	product = FirmwareProduct(product)
	if ok && !d.hasHW && !m.Vulnerable && strings.EqualFold(part, "h") {
		best.verdict = possibly
		best.note = "the device's hardware model is unknown, and the advisory applies only on " + m.Criteria
		return best
	}
	if ok && !mayName(vendor, product, d) {
		return best // the common case: another product; no need to parse
	}
	crit, err := ParseCPE(m.Criteria)
	if err != nil {
		return best
	}
	if crit.Product.IsConcrete() {
		crit.Product.Text = FirmwareProduct(crit.Product.Text)
	}
	if d.hasFW {
		if h := evalAgainst(m, crit, d.fw, d.version); h.verdict > best.verdict {
			best = h
		}
	}
	if d.hasHW {
		if h := evalAgainst(m, crit, d.hw, ""); h.verdict > best.verdict {
			best = h
		}
	} else if !m.Vulnerable && isPart(crit.Part, "h") && best.verdict == no {
		// Reached only for names with escapes or wildcards; see above.
		best.verdict = possibly
		best.note = "the device's hardware model is unknown, and the advisory applies only on " + m.Criteria
	}
	return best
}

func isPart(a Attr, p string) bool {
	return a.Kind == Value && strings.EqualFold(a.Text, p)
}

// evalAgainst tests criterion m (parsed as crit) against one device name.
// fallbackVersion is used when the name's version is ANY or NA.
func evalAgainst(m *firmward.CPEMatch, crit, target CPE, fallbackVersion string) hit {
	h := hit{m: m}
	ca, ta := crit.attrs(), target.attrs()
	v := yes
	for i := range ca {
		if i == 3 { // version: compared below as a version, not a name
			continue
		}
		switch CompareAttr(*ca[i], *ta[i]) {
		case Superset, Equal:
		case Subset:
			if ca[i].Kind == NA {
				continue // the device's name states nothing; a plain product is meant
			}
			v = possibly
			h.note = fmt.Sprintf("the advisory names %s %q, which the device's CPE does not state", attrName(i), ca[i].String())
		default:
			return h
		}
	}
	version := fallbackVersion
	if target.Version.Kind == Value {
		version = target.Version.Prefix + target.Version.Text + target.Version.Suffix
	}
	if isUnknownVersion(version) {
		version = ""
	}
	h.version = version
	if isPart(crit.Part, "h") && !hasBounds(*m) && crit.Version.Kind != Value {
		// A hardware model named without a version: present is present.
		h.verdict = v
		return h
	}
	if !m.Vulnerable && !hasBounds(*m) && crit.Version.Kind != Value {
		h.verdict = v
		return h
	}
	in, certain := inRange(version, crit.Version, *m)
	if !in {
		return h
	}
	if !certain {
		v = possibly
		switch {
		case !hasBounds(*m) && crit.Version.Kind != Value:
			h.note = "the advisory does not say which versions of " + crit.Vendor.Text + " " + crit.Product.Text + " are affected"
		default:
			h.note = "the device's firmware version is unknown, and " + RangeString(*m) + " of " + m.Criteria + " is affected"
		}
	}
	h.verdict = v
	return h
}
