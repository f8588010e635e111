package lifecycle

import (
	"strings"
	"unicode"

	"github.com/firmward/firmward"
)

// normName folds a manufacturer or model name for comparison: lower case,
// letters and digits only ("TP-Link" and "tp link" are the same).
func normName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// tokens splits a model name into lower-case words of letters and digits.
func tokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// SameManufacturer reports whether two manufacturer names are the same
// after folding case and punctuation.
func SameManufacturer(a, b string) bool {
	na, nb := normName(a), normName(b)
	return na != "" && na == nb
}

// ModelMatches reports whether a device's model is the model an entry
// names: the entry's words are the first words of the device's model
// ("Archer C7" matches "Archer C7 AC1750", not "Archer C70").
func ModelMatches(entryModel, deviceModel string) bool {
	et, dt := tokens(entryModel), tokens(deviceModel)
	if len(et) == 0 || len(et) > len(dt) {
		return false
	}
	for i := range et {
		if et[i] != dt[i] {
			return false
		}
	}
	return true
}

// hardwareMatches reports whether a device's hardware version is the
// revision an open-firmware entry names ("v2" matches "V2.0", "2.0" and
// "v2"); an entry without one matches every revision.
func hardwareMatches(entry, device string) bool {
	norm := func(s string) string {
		return strings.TrimPrefix(strings.ToLower(strings.Join(strings.Fields(s), "")), "v")
	}
	e, d := norm(entry), norm(device)
	if e == "" {
		return true
	}
	return d == e || strings.HasPrefix(d, e+".")
}

// MatchEOL returns the entry that applies to d: the one naming its
// manufacturer and model (the longest model name wins), else the one for
// every model of its manufacturer; nil when none does.
func MatchEOL(entries []*firmward.EOLEntry, d *firmward.Device) *firmward.EOLEntry {
	var best *firmward.EOLEntry
	bestLen := -1
	for _, e := range entries {
		if !SameManufacturer(e.Manufacturer, d.Manufacturer) {
			continue
		}
		n := len(tokens(e.Model))
		switch {
		case e.Model == "":
			n = 0
		case !ModelMatches(e.Model, d.Model):
			continue
		}
		if n > bestLen {
			best, bestLen = e, n
		}
	}
	return best
}

// MatchOpenFirmware returns the entries of list that support d's
// manufacturer, model and hardware version.
func MatchOpenFirmware(list []*firmward.OpenFirmwareModel, d *firmward.Device) []*firmward.OpenFirmwareModel {
	var out []*firmward.OpenFirmwareModel
	for _, m := range list {
		if SameManufacturer(m.Manufacturer, d.Manufacturer) && normName(m.Model) == normName(d.Model) && hardwareMatches(m.HardwareVersion, d.HardwareVersion) {
			out = append(out, m)
		}
	}
	return out
}
