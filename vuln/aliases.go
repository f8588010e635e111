package vuln

import "strings"

// vendorAliases maps a manufacturer as inventories write it, reduced by
// manufacturerKeys to lower-case letters and digits ("TP-LINK Technologies
// Co., Ltd." → "tplink"), to the vendor names NVD uses in CPE names, most
// used first. Several NVD names for one company all appear: NVD is not
// consistent ("dlink" and "d-link", "ui", "ubnt" and "ubiquiti_networks").
//
// Every NVD spelling was checked against the data in ../shared/data/nvd:
// the IoT subset (iot-subset/iot-nvd11.jsonl) for the vendors it holds,
// the 1.1 yearly feeds for the others (dahuasecurity, hanwhavision,
// hanwha-security, buffalo, buffalotech, westerndigital, western_digital,
// bosch). Reolink has no CPE in that data; "reolink" is NVD's name in
// later CVEs.
//
// The map is never written after initialisation.
var vendorAliases = map[string][]string{
	// Routers, Wi-Fi and network gear.
	"tplink":                   {"tp-link"},
	"tplinktechnology":         {"tp-link"},
	"kasa":                     {"tp-link"},
	"tapo":                     {"tp-link"},
	"netgear":                  {"netgear"},
	"dlink":                    {"dlink", "d-link"},
	"ubiquiti":                 {"ui", "ubnt", "ubiquiti_networks"},
	"ubnt":                     {"ui", "ubnt", "ubiquiti_networks"},
	"ui":                       {"ui", "ubnt", "ubiquiti_networks"},
	"unifi":                    {"ui", "ubnt"},
	"asus":                     {"asus"},
	"asustek":                  {"asus"},
	"asustekcomputer":          {"asus"},
	"zyxel":                    {"zyxel"},
	"mikrotik":                 {"mikrotik"},
	"mikrotikls":               {"mikrotik"},
	"tenda":                    {"tenda", "tendacn"},
	"shenzhentenda":            {"tenda", "tendacn"},
	"totolink":                 {"totolink"},
	"linksys":                  {"linksys", "belkin"},
	"belkin":                   {"belkin"},
	"wemo":                     {"belkin"},
	"cisco":                    {"cisco"},
	"ciscosystems":             {"cisco"},
	"ciscomeraki":              {"cisco"},
	"meraki":                   {"cisco"},
	"draytek":                  {"draytek"},
	"trendnet":                 {"trendnet"},
	"avm":                      {"avm"},
	"fritz":                    {"avm"},
	"fritzbox":                 {"avm"},
	"aruba":                    {"arubanetworks", "aruba_networks", "hpe"},
	"hpearuba":                 {"arubanetworks", "aruba_networks", "hpe"},
	"arubanetworks":            {"arubanetworks", "aruba_networks"},
	"hpe":                      {"hpe", "hp"},
	"hewlettpackardenterprise": {"hpe", "hp"},
	"hp":                       {"hp"},
	"hewlettpackard":           {"hp"},
	"hpinc":                    {"hp"},
	"huawei":                   {"huawei"},
	"zte":                      {"zte"},
	"peplink":                  {"peplink"},
	"teltonika":                {"teltonika"},
	"draytekcorp":              {"draytek"},
	"juniper":                  {"juniper"},
	"fortinet":                 {"fortinet"},
	"sonicwall":                {"sonicwall"},
	"watchguard":               {"watchguard"},
	"paloalto":                 {"paloaltonetworks"},
	"paloaltonetworks":         {"paloaltonetworks"},
	"openwrt":                  {"openwrt"},

	// Cameras and video.
	"hikvision":            {"hikvision"},
	"hangzhouhikvision":    {"hikvision"},
	"hikvisiondigital":     {"hikvision"},
	"ezviz":                {"ezviz"},
	"dahua":                {"dahuasecurity"},
	"dahuasecurity":        {"dahuasecurity"},
	"zhejiangdahua":        {"dahuasecurity"},
	"hanwha":               {"hanwhavision", "hanwha-security"},
	"hanwhavision":         {"hanwhavision", "hanwha-security"},
	"hanwhatechwin":        {"hanwhavision", "hanwha-security"},
	"samsungtechwin":       {"hanwhavision", "hanwha-security"},
	"wisenet":              {"hanwhavision", "hanwha-security"},
	"axis":                 {"axis"},
	"axiscommunications":   {"axis"},
	"reolink":              {"reolink"},
	"foscam":               {"foscam"},
	"vivotek":              {"vivotek"},
	"milesight":            {"milesight"},
	"bosch":                {"bosch"},
	"boschsecurity":        {"bosch"},
	"boschsecuritysystems": {"bosch"},

	// Storage.
	"synology":        {"synology"},
	"qnap":            {"qnap"},
	"qnapsystems":     {"qnap"},
	"westerndigital":  {"westerndigital", "western_digital"},
	"wd":              {"westerndigital", "western_digital"},
	"wdc":             {"westerndigital", "western_digital"},
	"buffalo":         {"buffalo", "buffalotech"},
	"buffaloamericas": {"buffalo", "buffalotech"},

	// Industrial, building and medical.
	"siemens":            {"siemens"},
	"schneider":          {"schneider-electric", "schneider_electric"},
	"schneiderelectric":  {"schneider-electric", "schneider_electric"},
	"apc":                {"schneider-electric"},
	"moxa":               {"moxa"},
	"phoenixcontact":     {"phoenixcontact"},
	"wago":               {"wago"},
	"rockwell":           {"rockwellautomation"},
	"rockwellautomation": {"rockwellautomation"},
	"allenbradley":       {"rockwellautomation"},
	"honeywell":          {"honeywell"},
	"abb":                {"abb"},
	"yokogawa":           {"yokogawa"},
	"advantech":          {"advantech"},
	"ge":                 {"ge"},
	"generalelectric":    {"ge"},
	"sierrawireless":     {"sierrawireless"},
	"lantronix":          {"lantronix"},
	"digi":               {"digi"},
	"digiinternational":  {"digi"},

	// Consumer and smart home.
	"philips":       {"philips"},
	"philipshue":    {"philips"},
	"signify":       {"philips"},
	"hue":           {"philips"},
	"samsung":       {"samsung"},
	"google":        {"google"},
	"googlenest":    {"google"},
	"nest":          {"google"},
	"amazon":        {"amazon"},
	"ring":          {"ring"},
	"sonos":         {"sonos"},
	"xiaomi":        {"mi"},
	"shelly":        {"shelly"},
	"allterco":      {"shelly"},
	"lg":            {"lg"},
	"lgelectronics": {"lg"},
	"sony":          {"sony"},
	"panasonic":     {"panasonic"},

	// Printers and phones.
	"brother":     {"brother"},
	"canon":       {"canon"},
	"epson":       {"epson"},
	"seikoepson":  {"epson"},
	"xerox":       {"xerox"},
	"lexmark":     {"lexmark"},
	"ricoh":       {"ricoh"},
	"kyocera":     {"kyocera"},
	"sharp":       {"sharp"},
	"yealink":     {"yealink"},
	"grandstream": {"grandstream"},
	"polycom":     {"polycom", "poly"},
	"poly":        {"poly", "polycom"},
	"avaya":       {"avaya"},
}

// legalWords are words of a manufacturer name that say what kind of
// company it is, not which: dropped before the alias lookup.
var legalWords = map[string]bool{
	"inc": true, "incorporated": true, "ltd": true, "limited": true, "llc": true,
	"co": true, "company": true, "corp": true, "corporation": true, "plc": true,
	"gmbh": true, "ag": true, "sa": true, "bv": true, "nv": true, "oy": true, "ab": true,
	"as": true, "srl": true, "spa": true, "kg": true, "kk": true, "pte": true, "sia": true, "pty": true,
	"technologies": true, "technology": true, "tech": true, "communications": true,
	"networks": true, "networking": true, "network": true, "systems": true,
	"international": true, "electronics": true, "group": true, "holdings": true,
	"the": true, "and": true,
}

// manufacturerWords splits a manufacturer name into lower-case words of
// ASCII letters and digits, dropping legal and generic words ("Inc.",
// "Technologies", "Co., Ltd.") and everything else. Hyphens and other
// punctuation inside a word are removed ("TP-Link" → "tplink", "D-Link" →
// "dlink"), spaces separate words. When only legal words remain, they are
// kept ("Digital" alone stays a name).
func manufacturerWords(s string) []string {
	var all, kept []string
	for _, f := range strings.Fields(strings.ToLower(s)) {
		var b strings.Builder
		for i := 0; i < len(f); i++ {
			c := f[i]
			if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
				b.WriteByte(c)
			}
		}
		w := b.String()
		if w == "" {
			continue
		}
		all = append(all, w)
		if !legalWords[w] {
			kept = append(kept, w)
		}
	}
	if len(kept) == 0 {
		return all
	}
	return kept
}

// vendorMatch is an NVD vendor name found for a manufacturer and how it was
// found: whole is true when the whole manufacturer name (without legal
// words) named it, false when one word of it did ("Philips Hue" →
// "philips").
type vendorMatch struct {
	vendor string
	whole  bool
}

// LookupVendors returns the NVD vendor names a manufacturer name stands
// for, most likely first, from the alias table only ("D-Link Corporation"
// → dlink, d-link; "Ubiquiti Networks" → ui, ubnt, ubiquiti_networks). It
// returns nil for a manufacturer the table does not know. Use a Catalog
// (Propose) to also recognise vendors present in the imported data.
func LookupVendors(manufacturer string) []string {
	var out []string
	for _, m := range aliasVendors(manufacturerWords(manufacturer)) {
		out = append(out, m.vendor)
	}
	return out
}

// aliasVendors looks the words of a manufacturer up in the alias table:
// first all words joined ("schneider electric" → "schneiderelectric"),
// then each run of words from the start ("hangzhou hikvision" fails, so
// "hangzhou", then each single word: "hikvision"). Results are unique, the
// whole-name matches first.
func aliasVendors(words []string) []vendorMatch {
	var out []vendorMatch
	seen := map[string]bool{}
	add := func(key string, whole bool) {
		for _, v := range vendorAliases[key] {
			if !seen[v] {
				seen[v] = true
				out = append(out, vendorMatch{vendor: v, whole: whole})
			}
		}
	}
	if len(words) == 0 {
		return nil
	}
	add(strings.Join(words, ""), true)
	if len(out) > 0 {
		return out
	}
	// Leading runs, longest first ("samsung techwin america" → "samsungtechwin").
	for n := len(words) - 1; n >= 2; n-- {
		add(strings.Join(words[:n], ""), false)
	}
	// Adjacent pairs ("hangzhou hikvision digital" → "hikvisiondigital").
	for i := 1; i+1 < len(words); i++ {
		add(words[i]+words[i+1], false)
	}
	for _, w := range words {
		add(w, false)
	}
	return out
}
