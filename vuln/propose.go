package vuln

import (
	"fmt"
	"sort"
	"strings"

	"github.com/firmward/firmward"
)

// Device → CPE proposals.
//
// An inventory names a device by manufacturer and model ("TP-Link",
// "Archer AX21"); NVD names it by CPE ("cpe:2.3:o:tp-link:
// archer_ax21_firmware:…" and "cpe:2.3:h:tp-link:archer_ax21:…"). Propose
// bridges the two with the vendor alias table (aliases.go), the product
// names present in the imported data (a Catalog), a small table of
// "platform" firmware whose product is the operating system rather than
// the model (MikroTik RouterOS, Synology DSM, QNAP QTS…), and a scoring of
// model against product names. A person confirms or overrides the
// proposal; this file only proposes.

// Proposal sources: where Proposal.Firmware and Hardware come from.
const (
	ProposalDevice   = "device"   // the device's own cpe: it always wins
	ProposalProposed = "proposed" // proposed from manufacturer and model
	ProposalNone     = "none"     // nothing to propose; a person must set cpe
)

// Confidence scale of a Candidate, from 0 to 1. Each is multiplied by 0.95
// when the vendor was recognised from one word of the manufacturer only
// ("Philips Hue" → philips) and by 0.9 when it was found in the imported
// data but is not in the alias table.
const (
	// ConfidenceDevice: the device's own cpe.
	ConfidenceDevice = 1.0
	// ConfidenceDominant: the vendor's dominant platform firmware for the
	// model's line (RouterOS, QTS, DSM; see platforms).
	ConfidenceDominant = 0.96
	// ConfidenceExact: the model, reduced to its words, is the product
	// ("Archer AX21" = archer_ax21_firmware / archer_ax21). A product that
	// equals the model only once punctuation is ignored ("ds-2cd2432f-i(w)"
	// for "DS-2CD2432F-IW") gets 0.01 less, so the same spelling wins.
	ConfidenceExact = 0.95
	// ConfidencePlatform: a platform firmware of the vendor whose model
	// pattern fits ("hAP ac²" → routeros). Platforms without a model
	// pattern get 0.05 less.
	ConfidencePlatform = 0.85
	// ConfidenceContained is the base for a product whose words all appear,
	// in order, in the model ("Orbi RBR750" ⊇ rbr750): 0.6 plus up to 0.3
	// for the share of the model the product covers.
	ConfidenceContained = 0.6
	// ConfidenceSpecific is the base for a product that holds all the
	// model's words and more ("RT-AX56U" ⊆ rt-ax56u_v2): 0.5 plus up to 0.2
	// for the share of the product the model covers.
	ConfidenceSpecific = 0.5
	// ConfidenceFuzzy is the base for a product sharing a model number
	// word, or a prefix of one, with the model, with a Dice similarity of
	// at least 0.5 over the characters of matched words: 0.3 plus up to 0.2.
	ConfidenceFuzzy = 0.3
	// ConfidenceGuess: the vendor is known but no product of the imported
	// data fits; the firmware CPE follows NVD's usual <model>_firmware
	// naming and must be checked by a person.
	ConfidenceGuess = 0.2
)

// minHardware is the lowest confidence at which a hardware CPE is
// proposed: a wrong hardware name hides findings (configurations AND the
// firmware with the hardware), a missing one only makes them "possible".
const minHardware = 0.5

// minAlternative is the lowest confidence of an alternative; maxAlternatives
// caps their number.
const (
	minAlternative  = 0.3
	maxAlternatives = 10
)

// Candidate is one proposed CPE 2.3 name with how sure firmward is of it
// (0..1, see the Confidence constants) and why.
type Candidate struct {
	CPE        string  `json:"cpe"`
	Confidence float64 `json:"confidence"`
	Reason     string  `json:"reason"`
}

// Proposal is what Propose suggests for a device: a firmware (part "o")
// and a hardware (part "h") CPE, either possibly empty, other candidates
// sorted by decreasing confidence, where they come from (ProposalDevice,
// ProposalProposed or ProposalNone) and an explanation for the person who
// confirms it.
type Proposal struct {
	Firmware Candidate `json:"firmware"`
	Hardware Candidate `json:"hardware"`
	// Platform is the vendor's platform firmware (ASUSWRT, AXIS OS, …)
	// that the model runs besides the model firmware named in Firmware:
	// NVD files some CVEs of those devices under the platform and some
	// under the model, so both are matched. Empty when Firmware is itself
	// the platform or no platform fits.
	Platform     Candidate   `json:"platform,omitzero"`
	Alternatives []Candidate `json:"alternatives,omitempty"`
	Source       string      `json:"source"`
	Explanation  string      `json:"explanation"`
}

// Catalog is the set of firmware ("o") and hardware ("h") products per
// vendor present in the imported data, with the sw_edition values and (for
// hardware) the versions they carry. Each product name is stored once, as
// a map key in lower case and unescaped; its token split is computed when
// proposing, not stored, so a catalog of the whole NVD (about 100,000
// products) stays a few megabytes.
//
// Add and AddVulnerability must not run concurrently with anything else;
// once built, a Catalog may be read by any number of Propose calls at once.
type Catalog struct {
	vendors map[string]*catalogVendor
	n       int
}

// catalogVendor holds the products of one vendor by part.
type catalogVendor struct {
	firmware map[string]*productInfo // part "o"
	hardware map[string]*productInfo // part "h"
}

// productInfo holds what a product carries beyond its name; nil when
// nothing (most products).
type productInfo struct {
	editions []string // concrete sw_edition values, at most maxKept
	versions []string // concrete versions of hardware names, at most maxKept
}

// maxKept caps the editions and versions kept per product.
const maxKept = 16

// NewCatalog returns an empty Catalog.
func NewCatalog() *Catalog {
	return &Catalog{vendors: map[string]*catalogVendor{}}
}

// Len returns the number of distinct (part, vendor, product) names.
func (c *Catalog) Len() int { return c.n }

// VendorLen returns the number of distinct firmware and hardware products
// of vendor (a CPE vendor name, any case).
func (c *Catalog) VendorLen(vendor string) int {
	v := c.vendors[strings.ToLower(vendor)]
	if v == nil {
		return 0
	}
	return len(v.firmware) + len(v.hardware)
}

// Add records the vendor and product of a CPE 2.3 name of part "o" or
// "h". Names of other parts and names whose vendor or product is not a
// plain value (ANY, NA, wildcards) are ignored. It returns an error
// (*firmward.Error, EINVALID) only when s is not a CPE 2.3 name.
func (c *Catalog) Add(s string) error {
	n, err := ParseCPE(s)
	if err != nil {
		return err
	}
	if !n.Vendor.IsConcrete() || !n.Product.IsConcrete() || n.Vendor.Text == "" || n.Product.Text == "" {
		return nil
	}
	hw := isPart(n.Part, "h")
	if !hw && !isPart(n.Part, "o") {
		return nil
	}
	vendor := strings.ToLower(n.Vendor.Text)
	v := c.vendors[vendor]
	if v == nil {
		v = &catalogVendor{firmware: map[string]*productInfo{}, hardware: map[string]*productInfo{}}
		c.vendors[vendor] = v
	}
	products := v.firmware
	if hw {
		products = v.hardware
	}
	product := strings.ToLower(n.Product.Text)
	info, seen := products[product]
	if !seen {
		c.n++
	}
	edition := concreteValue(n.SWEdition)
	version := ""
	if hw {
		version = concreteValue(n.Version)
	}
	if edition != "" || version != "" {
		if info == nil {
			info = &productInfo{}
		}
		info.editions = addUnique(info.editions, edition)
		info.versions = addUnique(info.versions, version)
	}
	products[product] = info
	return nil
}

// AddVulnerability adds every CPE name of v: the criteria of its NVD
// configurations (children included) and the CPEs of its Affected
// entries. Names that do not parse are skipped.
func (c *Catalog) AddVulnerability(v *firmward.Vulnerability) {
	v.EachMatch(func(m *firmward.CPEMatch) { _ = c.Add(m.Criteria) })
	for i := range v.Affected {
		for _, s := range v.Affected[i].CPEs {
			_ = c.Add(s)
		}
	}
}

// concreteValue returns the lower-case text of a plain value, "" for ANY,
// NA and wildcards.
func concreteValue(a Attr) string {
	if !a.IsConcrete() {
		return ""
	}
	return strings.ToLower(a.Text)
}

func addUnique(list []string, s string) []string {
	if s == "" || len(list) >= maxKept {
		return list
	}
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// platform is a firmware whose CPE product is the vendor's operating
// system, not the model: every model of the vendor (or those whose model
// key contains one of match) runs it. The table was checked against
// ../shared/data/nvd/iot-subset/iot-nvd11.jsonl (all products present
// there as part "o").
//
// A pattern of match of fewer than 4 characters must start the model key
// ("rt" for "RT-AX88U"), a longer one may appear anywhere in it
// ("edgerouter"). A dominant platform is how NVD names nearly every CVE of
// those devices (RouterOS, QTS, DSM: hundreds of CVEs against a handful
// naming a model), so it outranks even an exact model product, which then
// comes as an alternative.
type platform struct {
	vendor, product string
	match           []string // patterns over the model key (letters and digits); empty: any model
	dominant        bool
	what            string // the platform as people call it
}

// platforms is never written after initialisation. Order matters only for
// ties.
var platforms = []platform{
	{"mikrotik", "routeros", nil, true, "MikroTik RouterOS"},
	{"synology", "diskstation_manager", []string{"ds", "rs", "dx", "diskstation", "rackstation", "dsm"}, true, "Synology DiskStation Manager (DSM)"},
	{"synology", "dsm", []string{"ds", "rs", "dx", "diskstation", "rackstation", "dsm"}, false, "Synology DSM (older CPE name)"},
	{"qnap", "qts", []string{"ts", "tvs", "tbs", "tes", "ss", "hs", "tas", "turbo", "qts"}, true, "QNAP QTS"},
	{"qnap", "quts_hero", []string{"tsh", "tvsh", "tbsh", "tesh", "hero"}, false, "QNAP QuTS hero"},
	{"ui", "unifi_os", []string{"udm", "udr", "ucg", "uck", "uxg", "dreammachine", "dreamrouter", "cloudkey", "cloudgateway", "unifios"}, false, "Ubiquiti UniFi OS"},
	{"ui", "unifi_uap_firmware", []string{"uap", "u6", "u7", "accesspoint"}, false, "Ubiquiti UniFi access point firmware"},
	{"ui", "unifi_switch_firmware", []string{"usw", "us8", "us16", "us24", "us48", "unifiswitch"}, false, "Ubiquiti UniFi switch firmware"},
	{"ui", "airos", []string{"nanostation", "nanobeam", "litebeam", "powerbeam", "rocket", "bullet", "airgrid", "airmax", "loco", "isostation", "prismstation"}, false, "Ubiquiti airOS"},
	{"ui", "edgeos", []string{"edgerouter", "er", "usg"}, false, "Ubiquiti EdgeOS"},
	{"ubnt", "edgeos", []string{"edgerouter", "er"}, false, "Ubiquiti EdgeOS (older vendor name)"},
	{"axis", "axis_os", nil, false, "AXIS OS"},
	{"asus", "asuswrt", []string{"rt", "gt", "zenwifi", "tuf", "rog", "rapture", "lyra"}, false, "ASUSWRT"},
	{"cisco", "ios_xe", []string{"catalyst9", "c9", "isr4", "asr1", "iosxe"}, false, "Cisco IOS XE"},
	{"netgear", "readynas_os", []string{"readynas", "rn"}, false, "NETGEAR ReadyNAS OS"},
	{"siemens", "ruggedcom_ros", []string{"ruggedcom", "rsg", "rs9", "rs4", "rmc", "rs8"}, false, "Siemens RUGGEDCOM ROS"},
	{"philips", "hue_firmware", []string{"hue", "bulb", "ambiance", "lightstrip", "lca", "lta", "lwa", "lct", "lwb"}, false, "Philips Hue (lights)"},
}

// Propose proposes firmware and hardware CPE names for d.
//
// An explicit d.CPE that is a valid CPE 2.3 name wins: the proposal
// returns it (as Firmware, or Hardware for part "h") with Source
// ProposalDevice, and adds the hardware name of the same model when the
// catalog has it. Otherwise the manufacturer is mapped to NVD vendor
// names (alias table, then vendors present in cat) and the model is
// scored against that vendor's products in cat (see the Confidence
// constants); the best firmware and hardware candidates are returned with
// Source ProposalProposed and the rest as Alternatives. When the vendor is
// unknown, Source is ProposalNone and Explanation says what to do.
//
// The firmware CPE's version is the device's firmware version reduced to
// its first word that starts with a digit (after an optional "v"), in
// lower case: "1.1.3 Build 20221201 rel.62108" → 1.1.3, "V5.7.11 build
// 220929" → 5.7.11, "DSM 7.1.1-42962" → 7.1.1-42962, "15.2(7)E8" →
// 15.2\(7\)e8. Real NVD names mostly carry just that number (TP-Link's
// builds are sometimes in the update component, "build_220725"; leaving
// update ANY still matches those). The version is ANY ("*") when unknown.
// The hardware CPE's version is the device's hardware version read the
// same way ("V1.20" → 1.20), spelt as the data spells it when the catalog
// has an equal one ("v3" for "3"), ANY when unknown.
//
// Every CPE returned passes firmward.ValidateCPE23 and ParseCPE. cat may
// be nil (only the alias table and guesses are used then).
func Propose(cat *Catalog, d firmward.Device) Proposal {
	if cat == nil {
		cat = NewCatalog()
	}
	var note string
	if s := strings.TrimSpace(d.CPE); s != "" {
		if p, ok := proposeExplicit(cat, s); ok {
			p.Platform = companionPlatform(cat, p.Firmware.CPE, d.Model)
			return p
		}
		note = fmt.Sprintf("The device's cpe %q is not a valid CPE 2.3 name and was ignored. ", s)
	}
	p := propose(cat, d)
	p.Explanation = note + p.Explanation
	p.Platform = companionPlatform(cat, p.Firmware.CPE, d.Model)
	return p
}

// companionPlatform returns the platform firmware the device also runs
// when fw names a model firmware of a vendor with a non-dominant platform
// whose model pattern fits model (or the model in fw's product when model
// is empty), and the catalog has the platform: "RT-AC68U" with
// rt-ac68u_firmware also runs asuswrt. The platform CPE carries fw's
// version. Dominant platforms are proposed as the firmware itself, so
// they never come here.
func companionPlatform(cat *Catalog, fw, model string) Candidate {
	if fw == "" {
		return Candidate{}
	}
	n, err := ParseCPE(fw)
	if err != nil || !isPart(n.Part, "o") || !n.Vendor.IsConcrete() || !n.Product.IsConcrete() {
		return Candidate{}
	}
	vendor, product := strings.ToLower(n.Vendor.Text), strings.ToLower(n.Product.Text)
	if strings.TrimSpace(model) == "" {
		model, _ = strings.CutSuffix(product, "_firmware")
	}
	key := newModelInfo(model, nil).key
	cv := cat.vendors[vendor]
	if cv == nil || key == "" {
		return Candidate{}
	}
	for _, pf := range platforms {
		if pf.vendor != vendor || pf.dominant || pf.product == product || len(pf.match) == 0 || !matchesAny(key, pf.match) {
			continue
		}
		if _, ok := cv.firmware[pf.product]; !ok {
			continue
		}
		return Candidate{
			CPE:        firmwareCPE(vendor, pf.product, n.Version.String()),
			Confidence: ConfidencePlatform,
			Reason:     "the model is a " + pf.what + " device: CVEs filed under the platform apply to it too",
		}
	}
	return Candidate{}
}

// proposeExplicit returns the proposal for a device that names its own
// CPE; ok is false when s is not a valid CPE 2.3 name.
func proposeExplicit(cat *Catalog, s string) (Proposal, bool) {
	n, err := ParseCPE(s)
	if err != nil || firmward.ValidateCPE23(s) != nil {
		return Proposal{}, false
	}
	p := Proposal{Source: ProposalDevice}
	own := Candidate{CPE: s, Confidence: ConfidenceDevice, Reason: "set on the device"}
	if isPart(n.Part, "h") {
		p.Hardware = own
		p.Explanation = "The device's own cpe is used (a hardware name); firmward proposes nothing over it."
		return p, true
	}
	p.Firmware = own
	p.Explanation = "The device's own cpe is used; firmward proposes nothing over it."
	if !isPart(n.Part, "o") || !n.Vendor.IsConcrete() || !n.Product.IsConcrete() {
		return p, true
	}
	vendor := strings.ToLower(n.Vendor.Text)
	model, found := strings.CutSuffix(strings.ToLower(n.Product.Text), "_firmware")
	v := cat.vendors[vendor]
	if !found || v == nil {
		return p, true
	}
	if info, ok := v.hardware[model]; ok {
		p.Hardware = Candidate{
			CPE:        hardwareCPE(vendor, model, info, ""),
			Confidence: ConfidenceExact,
			Reason:     "the hardware of the device's firmware CPE (" + model + "), present in the imported data",
		}
		p.Explanation = "The device's own cpe is used; the hardware name of the same model is added from the imported data."
	}
	return p, true
}

// modelInfo is a device model split for scoring.
type modelInfo struct {
	spelled   string   // lower case, spaces as "_" (how NVD would spell it)
	toks      []string // words of letters, digits and "+", lower case
	key       string   // toks joined
	chars     int      // total length of toks
	hasDigits bool     // some token holds a digit
}

// splitTokens returns the words of s: maximal runs of ASCII letters,
// digits and "+", lower-cased; everything else separates.
func splitTokens(s string) []string {
	var out []string
	start := -1
	s = strings.ToLower(s)
	for i := 0; i <= len(s); i++ {
		if i < len(s) && isTokenByte(s[i]) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			out = append(out, s[start:i])
			start = -1
		}
	}
	return out
}

func isTokenByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+'
}

func hasDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			return true
		}
	}
	return false
}

// newModelInfo splits a model, dropping words that only repeat the
// manufacturer or vendor ("AXIS P3245-V" → p3245, v) unless nothing else
// remains.
func newModelInfo(model string, drop map[string]bool) modelInfo {
	all := splitTokens(model)
	var toks []string
	for _, t := range all {
		if !drop[t] {
			toks = append(toks, t)
		}
	}
	if len(toks) == 0 {
		toks = all
	}
	var fields []string
	for _, f := range strings.Fields(strings.ToLower(model)) {
		if !drop[f] {
			fields = append(fields, f)
		}
	}
	m := modelInfo{spelled: strings.Join(fields, "_"), toks: toks, key: strings.Join(toks, "")}
	for _, t := range toks {
		m.chars += len(t)
		if hasDigit(t) {
			m.hasDigits = true
		}
	}
	return m
}

// score rates product (lower case, unescaped, without a "_firmware"
// suffix) against model m; drop lists words ignored on both sides. It
// returns 0 when the product does not fit, else a confidence and a short
// reason.
//
// The product is split like the model and aligned with it greedily, word
// by word in order: an equal word counts its length, a word that is a
// prefix of the other (at least 3 characters, holding a digit) half the
// shorter length. Then, with P the product's words and M the model's:
//   - the same words, ignoring punctuation: ConfidenceExact;
//   - every word of P matched exactly (P inside M): ConfidenceContained +
//     0.3 × chars(P)/chars(M);
//   - every word of M matched exactly (M inside P): ConfidenceSpecific +
//     0.2 × chars(M)/chars(P);
//   - otherwise the Dice coefficient 2·matched/(chars(M)+chars(P)); at 0.5
//     or more: ConfidenceFuzzy + 0.2 × Dice.
//
// The last three need a matched word holding a digit when the model has
// one (a model number, not a family word such as "archer" or "smart");
// when the model has none they are scaled by 0.8.
func score(m *modelInfo, product string, drop map[string]bool) (float64, string) {
	var (
		pChars, pWords, mMatched int
		matched2                 int // matched characters × 2 (prefix matches count half)
		allP                     = true
		digitMatch               bool
		j                        int
		kpos                     int
		keyEq                    = true
	)
	for i := 0; i <= len(product); {
		// Next token of product.
		for i < len(product) && !isTokenByte(product[i]) {
			i++
		}
		if i >= len(product) {
			break
		}
		s := i
		for i < len(product) && isTokenByte(product[i]) {
			i++
		}
		t := product[s:i]
		if drop[t] {
			continue
		}
		pWords++
		pChars += len(t)
		if kpos+len(t) <= len(m.key) && m.key[kpos:kpos+len(t)] == t {
			kpos += len(t)
		} else {
			keyEq = false
		}
		found := false
		for k := j; k < len(m.toks); k++ {
			if m.toks[k] == t {
				matched2 += 2 * len(t)
				mMatched++
				digitMatch = digitMatch || hasDigit(t)
				j = k + 1
				found = true
				break
			}
		}
		if found {
			continue
		}
		allP = false
		for k := j; k < len(m.toks); k++ {
			mt := m.toks[k]
			short, long := t, mt
			if len(short) > len(long) {
				short, long = long, short
			}
			if len(short) >= 3 && hasDigit(short) && strings.HasPrefix(long, short) {
				matched2 += len(short)
				digitMatch = true
				j = k + 1
				break
			}
		}
	}
	if pWords == 0 || m.chars == 0 {
		return 0, ""
	}
	if keyEq && kpos == len(m.key) {
		if product == m.spelled {
			return ConfidenceExact, "the model is the product"
		}
		return ConfidenceExact - 0.01, "the model is the product (but for punctuation)"
	}
	if m.hasDigits && !digitMatch {
		return 0, ""
	}
	scale := 1.0
	if !m.hasDigits {
		scale = 0.8
	}
	switch {
	case allP:
		return scale * (ConfidenceContained + 0.3*float64(pChars)/float64(m.chars)), "every word of the product is in the model"
	case mMatched == len(m.toks):
		return scale * (ConfidenceSpecific + 0.2*float64(m.chars)/float64(pChars)), "the product names the model and more (a variant or revision)"
	}
	dice := float64(matched2) / float64(m.chars+pChars)
	if dice < 0.5 {
		return 0, ""
	}
	return scale * (ConfidenceFuzzy + 0.2*dice), fmt.Sprintf("the product resembles the model (similarity %.2f)", dice)
}

// scored is a candidate before it becomes a CPE name.
type scored struct {
	hw         bool
	vendor     string
	product    string // lower case, unescaped, as in the catalog
	confidence float64
	reason     string
}

// propose proposes names from manufacturer and model.
func propose(cat *Catalog, d firmward.Device) Proposal {
	words := manufacturerWords(d.Manufacturer)
	if len(words) == 0 && strings.TrimSpace(d.Model) == "" {
		return Proposal{
			Source:      ProposalNone,
			Explanation: "The device has neither manufacturer nor model: set them, or set its cpe by hand (a CPE 2.3 name such as cpe:2.3:o:VENDOR:PRODUCT_firmware:VERSION:*:*:*:*:*:*:*, from the NVD CPE dictionary).",
		}
	}
	vendors := resolveVendors(cat, words)
	if len(vendors) == 0 {
		return Proposal{
			Source: ProposalNone,
			Explanation: fmt.Sprintf("Manufacturer %q is not a vendor firmward knows: it is not in the vendor alias table and no CPE of that vendor is in the imported data. "+
				"Set the device's cpe by hand (a CPE 2.3 name such as cpe:2.3:o:VENDOR:PRODUCT_firmware:VERSION:*:*:*:*:*:*:*, found in the NVD CPE dictionary or an advisory), or import the vulnerability data that names it.", d.Manufacturer),
		}
	}
	drop := map[string]bool{}
	for _, w := range words {
		drop[w] = true
	}
	for _, v := range vendors {
		for _, t := range splitTokens(v.vendor) {
			drop[t] = true
		}
	}
	m := newModelInfo(d.Model, drop)

	var cands []scored
	for _, vm := range vendors {
		cv := cat.vendors[vm.vendor]
		if cv == nil {
			continue
		}
		factor := vm.factor
		for product := range cv.firmware {
			base, _ := strings.CutSuffix(product, "_firmware")
			if c, why := score(&m, base, drop); c > 0 {
				cands = append(cands, scored{vendor: vm.vendor, product: product, confidence: c * factor, reason: why})
			}
		}
		for product := range cv.hardware {
			if c, why := score(&m, product, drop); c > 0 {
				cands = append(cands, scored{hw: true, vendor: vm.vendor, product: product, confidence: c * factor, reason: why})
			}
		}
		for _, pf := range platforms {
			if pf.vendor != vm.vendor {
				continue
			}
			if _, ok := cv.firmware[pf.product]; !ok {
				continue
			}
			c := ConfidencePlatform - 0.05
			why := "every " + pf.what + " device runs it, whatever the model"
			if len(pf.match) > 0 {
				if !matchesAny(m.key, pf.match) {
					continue
				}
				c = ConfidencePlatform
				why = "the model is a " + pf.what + " device; the CPE names the platform, not the model"
			}
			if pf.dominant {
				c = ConfidenceDominant
				why = "the model is a " + pf.what + " device, and NVD names nearly all their CVEs by the platform, not the model"
			}
			cands = upsert(cands, scored{vendor: vm.vendor, product: pf.product, confidence: c * factor, reason: why})
		}
	}
	sortScored(cands)

	p := Proposal{Source: ProposalProposed}
	fwVersion := cpeVersion(d.FirmwareVersion)
	hwVersion := revisionWord(d.HardwareVersion)
	var fw, hwc *scored
	for i := range cands {
		if !cands[i].hw {
			fw = &cands[i]
			break
		}
	}
	// The hardware of the chosen firmware's model first, else the best one.
	if fw != nil {
		if base, ok := strings.CutSuffix(fw.product, "_firmware"); ok {
			for i := range cands {
				if cands[i].hw && cands[i].vendor == fw.vendor && cands[i].product == base {
					hwc = &cands[i]
					break
				}
			}
		}
	}
	if hwc == nil {
		for i := range cands {
			if cands[i].hw {
				hwc = &cands[i]
				break
			}
		}
	}
	if hwc != nil && hwc.confidence < minHardware {
		hwc = nil
	}
	var expl strings.Builder
	if fw != nil {
		p.Firmware = Candidate{CPE: firmwareCPE(fw.vendor, fw.product, fwVersion), Confidence: round2(fw.confidence), Reason: fw.reason}
		fmt.Fprintf(&expl, "Manufacturer %q is NVD vendor %q; model %q was matched with product %q of the imported data (%s, confidence %.2f).",
			d.Manufacturer, fw.vendor, d.Model, fw.product, fw.reason, fw.confidence)
	} else {
		v := vendors[0].vendor
		product := guessProduct(d.Model, drop)
		if product == "" {
			p.Source = ProposalNone
			fmt.Fprintf(&expl, "Manufacturer %q is NVD vendor %q, but the device has no model to look up: set the model, or set the device's cpe by hand (cpe:2.3:o:%s:PRODUCT_firmware:VERSION:*:*:*:*:*:*:*).", d.Manufacturer, v, v)
		} else {
			p.Firmware = Candidate{
				CPE:        firmwareCPE(v, product+"_firmware", fwVersion),
				Confidence: ConfidenceGuess,
				Reason:     "no product of the imported data fits the model; this follows NVD's usual <model>_firmware naming and must be checked",
			}
			fmt.Fprintf(&expl, "Manufacturer %q is NVD vendor %q, but no product of that vendor in the imported data fits model %q: the firmware CPE is a guess by NVD's naming habits. Check it in the NVD CPE dictionary, or set the device's cpe by hand.", d.Manufacturer, v, d.Model)
		}
	}
	if hwc != nil {
		info := cat.vendors[hwc.vendor].hardware[hwc.product]
		p.Hardware = Candidate{CPE: hardwareCPE(hwc.vendor, hwc.product, info, hwVersion), Confidence: round2(hwc.confidence), Reason: hwc.reason}
		fmt.Fprintf(&expl, " Hardware: product %q (confidence %.2f).", hwc.product, hwc.confidence)
	} else if p.Source == ProposalProposed {
		expl.WriteString(" No hardware CPE is proposed: none of the imported data fits the model well enough (advisories that require a hardware model will show as possible).")
	}
	if fwVersion == "*" && p.Firmware.CPE != "" {
		expl.WriteString(" The firmware version is unknown, so the CPE's version is ANY: set firmware_version for certain findings.")
	}
	if p.Source == ProposalProposed {
		expl.WriteString(" A person should confirm or override this proposal.")
	}
	p.Explanation = expl.String()
	for i := range cands {
		c := &cands[i]
		if c == fw || c == hwc || c.confidence < minAlternative || len(p.Alternatives) >= maxAlternatives {
			continue
		}
		alt := Candidate{Confidence: round2(c.confidence), Reason: c.reason}
		if c.hw {
			alt.CPE = hardwareCPE(c.vendor, c.product, cat.vendors[c.vendor].hardware[c.product], hwVersion)
		} else {
			alt.CPE = firmwareCPE(c.vendor, c.product, fwVersion)
		}
		p.Alternatives = append(p.Alternatives, alt)
	}
	return p
}

// resolvedVendor is an NVD vendor name for the manufacturer with the
// factor its confidence carries.
type resolvedVendor struct {
	vendor string
	factor float64
}

// resolveVendors maps manufacturer words to NVD vendor names: the alias
// table first (factor 1 for the whole name, 0.95 for one word of it), then
// vendors present in cat under the name itself ("draytek", "phoenix
// contact" → phoenixcontact / phoenix-contact / phoenix_contact), or one of
// its words, with factor 0.9.
func resolveVendors(cat *Catalog, words []string) []resolvedVendor {
	var out []resolvedVendor
	seen := map[string]bool{}
	for _, m := range aliasVendors(words) {
		seen[m.vendor] = true
		f := 1.0
		if !m.whole {
			f = 0.95
		}
		out = append(out, resolvedVendor{vendor: m.vendor, factor: f})
	}
	if len(words) == 0 {
		return out
	}
	keys := []string{strings.Join(words, ""), strings.Join(words, "-"), strings.Join(words, "_")}
	keys = append(keys, words...)
	for _, k := range keys {
		if seen[k] || cat.vendors[k] == nil {
			continue
		}
		seen[k] = true
		out = append(out, resolvedVendor{vendor: k, factor: 0.9})
	}
	return out
}

// matchesAny reports whether key fits a platform pattern: a short one
// (under 4 characters) must start key, a longer one may appear anywhere.
func matchesAny(key string, patterns []string) bool {
	for _, s := range patterns {
		if len(s) < 4 && strings.HasPrefix(key, s) || len(s) >= 4 && strings.Contains(key, s) {
			return true
		}
	}
	return false
}

// upsert adds c, or raises the confidence of the same firmware product
// already scored from its name.
func upsert(cands []scored, c scored) []scored {
	for i := range cands {
		if !cands[i].hw && cands[i].vendor == c.vendor && cands[i].product == c.product {
			if c.confidence > cands[i].confidence {
				cands[i] = c
			}
			return cands
		}
	}
	return append(cands, c)
}

// sortScored orders candidates by decreasing confidence, then firmware
// before hardware, then by vendor and product for a stable result.
func sortScored(c []scored) {
	sort.Slice(c, func(i, j int) bool {
		a, b := c[i], c[j]
		if a.confidence != b.confidence {
			return a.confidence > b.confidence
		}
		if a.hw != b.hw {
			return !a.hw
		}
		if a.vendor != b.vendor {
			return a.vendor < b.vendor
		}
		return a.product < b.product
	})
}

func round2(f float64) float64 {
	return float64(int(f*100+0.5)) / 100
}

// firmwareCPE formats a part "o" name; version is already a bound
// component ("*" or escaped).
func firmwareCPE(vendor, product, version string) string {
	return cpePrefix + "o:" + bind(vendor) + ":" + bind(product) + ":" + version + ":*:*:*:*:*:*:*"
}

// hardwareCPE formats a part "h" name. version is the device's hardware
// version word ("" when unknown); the data's spelling of an equal version
// is preferred.
func hardwareCPE(vendor, product string, info *productInfo, version string) string {
	v := "*"
	if version != "" {
		v = bind(version)
		if info != nil {
			for _, dv := range info.versions {
				if sameVersion(dv, version) {
					v = bind(dv)
					break
				}
			}
		}
	}
	return cpePrefix + "h:" + bind(vendor) + ":" + bind(product) + ":" + v + ":*:*:*:*:*:*:*"
}

// bind formats an unescaped value as a CPE 2.3 component.
func bind(s string) string {
	return Attr{Kind: Value, Text: s}.String()
}

// maxVersionLen caps the version taken from an inventory.
const maxVersionLen = 64

// versionWord returns the first word of v that starts with a digit after
// an optional "v"/"V" (a Netgear-style "R7000-V1.0.11.116" counts from the
// "V"), lower-cased and cut at the first byte that is not printable ASCII
// or at maxVersionLen bytes; "" when there is none.
func versionWord(v string) string {
	for _, f := range strings.Fields(v) {
		if i := strings.Index(strings.ToLower(f), "-v"); i > 0 && i+2 < len(f) && isDigit(f[i+2]) {
			f = f[i+1:]
		}
		if f != "" && (f[0] == 'v' || f[0] == 'V') {
			f = f[1:]
		}
		if f == "" || !isDigit(f[0]) {
			continue
		}
		end := 0
		for end < len(f) && end < maxVersionLen && f[end] > 0x20 && f[end] < 0x7f {
			end++
		}
		return strings.ToLower(f[:end])
	}
	return ""
}

// cpeVersion returns the version component of a firmware CPE for an
// inventory version: versionWord, bound (escaped), or "*" when unknown.
func cpeVersion(v string) string {
	w := versionWord(v)
	if w == "" {
		return "*"
	}
	return bind(w)
}

// guessProduct turns a model into a CPE product the way NVD usually
// writes one: lower case, words joined by "_", keeping "-", "." and "+"
// inside words, dropping words that repeat the vendor ("AXIS P3245-V" →
// p3245-v) and keeping only the model number when there is one ("Orbi
// RBR750" → rbr750). "" when nothing is left.
func guessProduct(model string, drop map[string]bool) string {
	var words []string
	for _, f := range strings.Fields(strings.ToLower(model)) {
		var b strings.Builder
		for i := 0; i < len(f); i++ {
			c := f[i]
			if isTokenByte(c) || c == '-' || c == '.' || c == '_' {
				b.WriteByte(c)
			} else if b.Len() > 0 {
				words = append(words, b.String())
				b.Reset()
			}
		}
		if b.Len() > 0 {
			words = append(words, b.String())
		}
	}
	var kept []string
	for _, w := range words {
		w = strings.Trim(w, "-._")
		if w == "" || drop[w] {
			continue
		}
		kept = append(kept, w)
	}
	// A model number (letters and digits, not "v3" or "2nd") names the
	// product alone: "Orbi RBR750" → rbr750, "Kasa Smart Plug HS103" → hs103.
	for _, w := range kept {
		if isModelNumber(w) {
			kept = []string{w}
			break
		}
	}
	s := strings.Join(kept, "_")
	if len(s) > 2*maxVersionLen {
		s = s[:2*maxVersionLen]
	}
	return s
}

// isModelNumber reports whether w holds letters and digits and is not a
// revision ("v3") or an ordinal ("2nd", "4th").
func isModelNumber(w string) bool {
	letters, digits := 0, 0
	for i := 0; i < len(w); i++ {
		switch {
		case isDigit(w[i]):
			digits++
		case isLetter(w[i]):
			letters++
		}
	}
	if letters == 0 || digits == 0 {
		return false
	}
	if w[0] == 'v' && digits == len(w)-1-strings.Count(w, ".") {
		return false
	}
	for _, suf := range []string{"st", "nd", "rd", "th"} {
		if n, ok := strings.CutSuffix(w, suf); ok && n != "" && strings.Trim(n, "0123456789") == "" {
			return false
		}
	}
	return true
}

// revisionWord returns the hardware revision of a hardware version as
// inventories write it ("V1.20" → 1.20, "v3" → 3, "2.0a" → 2.0a): the
// versionWord when it is numbers separated by dots with at most one
// trailing letter, else "" (an order number such as "6ES7214-1AG40-0XB0"
// is not a revision).
func revisionWord(v string) string {
	if r := strings.ToLower(strings.TrimSpace(v)); isLetterRevision(r) {
		return r // D-Link and others: hardware revision "A1", "B2"
	}
	w := versionWord(v)
	if w == "" || len(w) > 16 {
		return ""
	}
	body := w
	if isLetter(body[len(body)-1]) {
		body = body[:len(body)-1]
	}
	for _, part := range strings.Split(body, ".") {
		if part == "" || strings.Trim(part, "0123456789") != "" {
			return ""
		}
	}
	return w
}

// isLetterRevision reports whether r (lower case) is a hardware revision
// of one letter and one or two digits, as D-Link writes them ("a1", "b2",
// "c10"). A leading "v" is a version mark instead ("v2" is version 2).
func isLetterRevision(r string) bool {
	if len(r) < 2 || len(r) > 3 || r[0] < 'a' || r[0] > 'z' || r[0] == 'v' {
		return false
	}
	return strings.Trim(r[1:], "0123456789") == ""
}

// sameVersion reports whether two versions are the same: by
// CompareVersions, except that letter revisions are names, not numbers
// ("c1" is not "a1", though CompareVersions, which skips leading letters,
// finds them equal).
func sameVersion(a, b string) bool {
	if isLetterRevision(strings.ToLower(a)) || isLetterRevision(strings.ToLower(b)) {
		return strings.EqualFold(a, b)
	}
	return CompareVersions(a, b) == 0
}
