package firmward

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Field length limits, in bytes.
const (
	MaxNameLen  = 200
	MaxTextLen  = 500 // manufacturer, model, location, …
	MaxNotesLen = 10000
	MaxTags     = 50
	MaxAddrs    = 32 // MACs or IPs per device
)

// DateLayout is the layout of calendar dates (EOLDate, PurchaseDate).
const DateLayout = "2006-01-02"

// Normalize trims and canonicalises every field of d in place (MACs to
// aa:bb:cc:dd:ee:ff, IPs to their canonical text, enum spellings to lower
// case, empty enums to their defaults) and validates it. It returns an
// EINVALID *Error with one detail per bad field, or nil.
//
// Defaults: category "other", criticality "medium", exposure "internal",
// auto_update "unknown". An empty update_mechanism stays empty: unknown.
func (d *Device) Normalize() error {
	var v validator
	d.Name = v.text("name", d.Name, MaxNameLen)
	if d.Name == "" {
		v.add("name", "", "is required")
	}
	d.Manufacturer = v.text("manufacturer", d.Manufacturer, MaxTextLen)
	d.Model = v.text("model", d.Model, MaxTextLen)
	d.HardwareVersion = v.text("hardware_version", d.HardwareVersion, MaxTextLen)
	d.FirmwareVersion = v.text("firmware_version", d.FirmwareVersion, MaxTextLen)
	d.Serial = v.text("serial", d.Serial, MaxTextLen)
	d.Site = v.text("site", d.Site, MaxTextLen)
	d.Location = v.text("location", d.Location, MaxTextLen)
	d.Owner = v.text("owner", d.Owner, MaxTextLen)
	d.Segment = v.text("segment", d.Segment, MaxTextLen)
	d.Notes = v.text("notes", d.Notes, MaxNotesLen)

	d.Category = enum(&v, "category", d.Category, Categories, CategoryOther)
	d.Criticality = enum(&v, "criticality", d.Criticality, Criticalities, CriticalityMedium)
	d.Exposure = enum(&v, "exposure", d.Exposure, Exposures, ExposureInternal)
	d.UpdateMechanism = enum(&v, "update_mechanism", d.UpdateMechanism, UpdateMechanisms, UpdateUnknown)
	d.AutoUpdate = enum(&v, "auto_update", d.AutoUpdate, AutoUpdates, AutoUpdateUnknown)
	if d.Source != "" {
		d.Source = enum(&v, "source", d.Source, Sources, SourceManual)
	}

	d.MACs = v.list("macs", d.MACs, MaxAddrs, func(s string) (string, error) { return NormalizeMAC(s) })
	d.IPs = v.list("ips", d.IPs, MaxAddrs, NormalizeIP)
	d.Tags = v.list("tags", d.Tags, MaxTags, NormalizeTag)

	d.CPE = strings.TrimSpace(d.CPE)
	if d.CPE != "" {
		if err := ValidateCPE23(d.CPE); err != nil {
			v.add("cpe", d.CPE, err.Error())
		}
	}
	d.EOLDate = v.date("eol_date", d.EOLDate)
	d.PurchaseDate = v.date("purchase_date", d.PurchaseDate)
	if d.ReplacementCost < 0 || math.IsNaN(d.ReplacementCost) || math.IsInf(d.ReplacementCost, 0) {
		v.add("replacement_cost", strconv.FormatFloat(d.ReplacementCost, 'f', -1, 64), "must be a number of zero or more")
		d.ReplacementCost = 0
	}
	if d.FirstSeen != nil && d.LastSeen != nil && d.LastSeen.Before(*d.FirstSeen) {
		v.add("last_seen", d.LastSeen.Format(time.RFC3339), "is before first_seen")
	}
	return v.err("device is not valid")
}

type validator struct{ details []ErrorDetail }

func (v *validator) add(field, value, reason string) {
	if len(value) > 80 {
		value = value[:77] + "..."
	}
	v.details = append(v.details, ErrorDetail{Field: field, Value: value, Reason: reason})
}

func (v *validator) err(msg string) error {
	if len(v.details) == 0 {
		return nil
	}
	return &Error{Code: EINVALID, Message: msg, Details: v.details}
}

func (v *validator) text(field, s string, limit int) string {
	s = strings.TrimSpace(s)
	switch {
	case !utf8.ValidString(s):
		v.add(field, "", "is not valid UTF-8")
		return strings.ToValidUTF8(s, "\uFFFD")
	case len(s) > limit:
		v.add(field, "", fmt.Sprintf("is longer than %d bytes", limit))
	case strings.ContainsRune(s, 0):
		v.add(field, "", "contains a NUL character")
	}
	return s
}

func (v *validator) date(field, s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		v.add(field, s, "must be a date YYYY-MM-DD")
		return s
	}
	return t.Format(DateLayout)
}

// list normalises every element of in, dropping empties and duplicates.
func (v *validator) list(field string, in []string, limit int, norm func(string) (string, error)) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		if strings.TrimSpace(s) == "" {
			continue
		}
		n, err := norm(s)
		if err != nil {
			v.add(field, s, err.Error())
			continue
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	if len(out) > limit {
		v.add(field, "", fmt.Sprintf("has %d entries; at most %d are allowed", len(out), limit))
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func enum[T ~string](v *validator, field string, val T, valid []T, def T) T {
	s := T(strings.ToLower(strings.TrimSpace(string(val))))
	if s == "" {
		return def
	}
	s = T(strings.ReplaceAll(string(s), "_", "-"))
	if slices.Contains(valid, s) {
		return s
	}
	names := make([]string, len(valid))
	for i, x := range valid {
		names[i] = string(x)
	}
	v.add(field, string(val), "must be one of "+strings.Join(names, ", "))
	return val
}

// NormalizeMAC accepts a 48-bit MAC address in any common notation
// (aa:bb:cc:dd:ee:ff, AA-BB-CC-DD-EE-FF, aabb.ccdd.eeff, aabbccddeeff) and
// returns it as lower-case aa:bb:cc:dd:ee:ff.
func NormalizeMAC(s string) (string, error) {
	s = strings.TrimSpace(s)
	hex := make([]byte, 0, 12)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
			hex = append(hex, c)
		case c >= 'A' && c <= 'F':
			hex = append(hex, c+('a'-'A'))
		case c == ':' || c == '-' || c == '.' || c == ' ':
		default:
			return "", fmt.Errorf("is not a MAC address: unexpected %q", rune(c))
		}
		if len(hex) > 12 {
			return "", fmt.Errorf("is not a MAC address: more than 12 hex digits")
		}
	}
	if len(hex) != 12 {
		return "", fmt.Errorf("is not a MAC address: want 12 hex digits, got %d", len(hex))
	}
	if err := checkMACGrouping(s); err != nil {
		return "", err
	}
	out := make([]byte, 0, 17)
	for i := 0; i < 12; i += 2 {
		if i > 0 {
			out = append(out, ':')
		}
		out = append(out, hex[i], hex[i+1])
	}
	return string(out), nil
}

// checkMACGrouping refuses separators in odd places (a:bbcc:…), accepting
// groups of 2 (colon/dash/space), 4 (Cisco dots) or none.
func checkMACGrouping(s string) error {
	seps := strings.Split(strings.Map(func(r rune) rune {
		if r == '-' || r == '.' || r == ' ' {
			return ':'
		}
		return r
	}, s), ":")
	switch len(seps) {
	case 1, 3, 6:
		want := 12 / len(seps)
		for _, g := range seps {
			if len(g) != want {
				return fmt.Errorf("is not a MAC address: groups must have %d digits", want)
			}
		}
		return nil
	}
	return fmt.Errorf("is not a MAC address: write it as aa:bb:cc:dd:ee:ff")
}

// NormalizeIP accepts an IPv4 or IPv6 address (no prefix length) and returns
// its canonical text.
func NormalizeIP(s string) (string, error) {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return "", fmt.Errorf("is not an IP address")
	}
	return a.Unmap().String(), nil
}

// NormalizeTag lower-cases a tag and checks it is one word of letters,
// digits, '-', '_', '.', ':' or '/', at most 64 bytes.
func NormalizeTag(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) > 64 {
		return "", fmt.Errorf("is longer than 64 bytes")
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', strings.ContainsRune("-_.:/", r):
		default:
			return "", fmt.Errorf("may hold only letters, digits and - _ . : /")
		}
	}
	return s, nil
}

// ValidateCPE23 checks that s is a CPE 2.3 formatted string binding:
// "cpe:2.3:" then 11 colon-separated components (part, vendor, product,
// version, update, edition, language, sw_edition, target_sw, target_hw,
// other), where part is a, o, h, * or -, and each component is "*", "-" or
// a value in which special characters are escaped with a backslash and "*"
// or "?" appear only as wildcards at its ends.
func ValidateCPE23(s string) error {
	if !strings.HasPrefix(s, "cpe:2.3:") {
		return fmt.Errorf("is not a CPE 2.3 name: must start with \"cpe:2.3:\"")
	}
	comps, err := splitCPE(s[len("cpe:2.3:"):])
	if err != nil {
		return err
	}
	if len(comps) != 11 {
		return fmt.Errorf("is not a CPE 2.3 name: want 11 components after \"cpe:2.3:\", got %d", len(comps))
	}
	switch comps[0] {
	case "a", "o", "h", "*", "-":
	default:
		return fmt.Errorf("is not a CPE 2.3 name: part must be a, o or h, got %q", comps[0])
	}
	names := [...]string{"part", "vendor", "product", "version", "update", "edition", "language", "sw_edition", "target_sw", "target_hw", "other"}
	for i, c := range comps {
		if err := checkCPEComponent(c); err != nil {
			return fmt.Errorf("is not a CPE 2.3 name: %s %w", names[i], err)
		}
	}
	return nil
}

// splitCPE splits on unescaped colons.
func splitCPE(s string) ([]string, error) {
	var comps []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 >= len(s) {
				return nil, fmt.Errorf("is not a CPE 2.3 name: ends with a lone backslash")
			}
			i++
		case ':':
			comps = append(comps, s[start:i])
			start = i + 1
		}
	}
	return append(comps, s[start:]), nil
}

func checkCPEComponent(c string) error {
	if c == "" {
		return fmt.Errorf("is empty (use * for any or - for not applicable)")
	}
	if c == "*" || c == "-" {
		return nil
	}
	for i := 0; i < len(c); i++ {
		ch := c[i]
		switch {
		case ch == '\\':
			i++ // escaped character: anything printable
			if i >= len(c) || c[i] < 0x21 || c[i] > 0x7e {
				return fmt.Errorf("has a bad escape")
			}
		case ch == '*' || ch == '?':
			// Unescaped wildcards only in a leading or trailing run.
			if !wildcardAtEdge(c, i) {
				return fmt.Errorf("has an unescaped %q inside the value", ch)
			}
		case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch >= '0' && ch <= '9', ch == '_', ch == '.', ch == '-':
		default:
			return fmt.Errorf("has %q, which must be escaped with a backslash", ch)
		}
	}
	return nil
}

func wildcardAtEdge(c string, i int) bool {
	lead := true
	for j := 0; j < i; j++ {
		if c[j] != '*' && c[j] != '?' {
			lead = false
			break
		}
	}
	if lead {
		return true
	}
	for j := i + 1; j < len(c); j++ {
		if c[j] != '*' && c[j] != '?' {
			return false
		}
	}
	return true
}
