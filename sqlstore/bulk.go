package sqlstore

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/firmward/firmward"
)

// This file holds allocation-light versions of three root functions for
// bulk imports, where they run 100,000 times in a row and the reflection
// and fmt in the originals took about a third of an import's CPU time:
//
//   - creationChanges is firmward.DiffDevices(nil, d),
//   - sealer.seal is (*firmward.AuditEvent).Seal,
//   - appendJSONChanges is json.Marshal of []firmward.FieldChange.
//
// bulk_test.go checks each against the original over every Device field;
// when the root versions get fast, these should go.

// creationChanges returns firmward.DiffDevices(nil, d): every non-empty
// field of d but the ID and the store's timestamps, by JSON name, in field
// order.
func creationChanges(d *firmward.Device) []firmward.FieldChange {
	out := make([]firmward.FieldChange, 0, 26)
	add := func(field, v string) {
		if v != "" {
			out = append(out, firmward.FieldChange{Field: field, New: v})
		}
	}
	add("name", d.Name)
	add("manufacturer", d.Manufacturer)
	add("model", d.Model)
	add("hardware_version", d.HardwareVersion)
	add("firmware_version", d.FirmwareVersion)
	add("serial", d.Serial)
	add("category", string(d.Category))
	add("criticality", string(d.Criticality))
	add("exposure", string(d.Exposure))
	add("update_mechanism", string(d.UpdateMechanism))
	add("auto_update", string(d.AutoUpdate))
	add("macs", strings.Join(d.MACs, ", "))
	add("ips", strings.Join(d.IPs, ", "))
	add("site", d.Site)
	add("location", d.Location)
	add("owner", d.Owner)
	add("segment", d.Segment)
	add("cpe", d.CPE)
	add("eol_date", d.EOLDate)
	add("purchase_date", d.PurchaseDate)
	if d.ReplacementCost != 0 {
		add("replacement_cost", strconv.FormatFloat(d.ReplacementCost, 'f', -1, 64))
	}
	add("notes", d.Notes)
	add("tags", strings.Join(d.Tags, ", "))
	add("source", string(d.Source))
	if d.FirstSeen != nil {
		add("first_seen", d.FirstSeen.UTC().Format(time.RFC3339))
	}
	if d.LastSeen != nil {
		add("last_seen", d.LastSeen.UTC().Format(time.RFC3339))
	}
	return out
}

// sealer seals events like (*firmward.AuditEvent).Seal, reusing one buffer
// for the canonical encoding that (*firmward.AuditEvent).ComputeHash
// hashes.
type sealer struct {
	buf []byte
}

// seal sets e.Seq, e.PrevHash and e.Hash as the successor of prevSeq and
// prevHash, and truncates e.Time to microseconds in UTC.
func (s *sealer) seal(e *firmward.AuditEvent, prevSeq int64, prevHash string) {
	if prevHash == "" {
		prevHash = firmward.GenesisHash
	}
	e.Seq = prevSeq + 1
	e.Time = e.Time.UTC().Truncate(time.Microsecond)
	e.PrevHash = prevHash

	b := s.buf[:0]
	field := func(v []byte) {
		b = strconv.AppendInt(b, int64(len(v)), 10)
		b = append(b, ':')
		b = append(b, v...)
		b = append(b, ';')
	}
	str := func(v string) {
		b = strconv.AppendInt(b, int64(len(v)), 10)
		b = append(b, ':')
		b = append(b, v...)
		b = append(b, ';')
	}
	var scratch [40]byte
	field(strconv.AppendInt(scratch[:0], e.Seq, 10))
	field(e.Time.AppendFormat(scratch[:0], "2006-01-02T15:04:05.000000Z"))
	str(e.Actor)
	str(e.Action)
	str(e.ObjectType)
	str(e.ObjectID)
	field(strconv.AppendInt(scratch[:0], int64(len(e.Changes)), 10))
	for _, c := range e.Changes {
		str(c.Field)
		str(c.Old)
		str(c.New)
	}
	str(e.PrevHash)
	s.buf = b
	sum := sha256.Sum256(b)
	e.Hash = hex.EncodeToString(sum[:])
}

// appendJSONChanges appends the JSON array of changes to b, as
// json.Marshal would write it (minus its HTML escaping, which decoding
// does not need). The strings must be valid UTF-8 (see storable).
func appendJSONChanges(b []byte, changes []firmward.FieldChange) []byte {
	b = append(b, '[')
	for i, c := range changes {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"field":`...)
		b = appendJSONString(b, c.Field)
		b = append(b, `,"old":`...)
		b = appendJSONString(b, c.Old)
		b = append(b, `,"new":`...)
		b = appendJSONString(b, c.New)
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendJSONString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == '\u2028' || r == '\u2029' || r == utf8.RuneError && size == 1 {
				b = append(b, s[start:i]...)
				switch {
				case r == utf8.RuneError:
					b = append(b, `\ufffd`...)
				default:
					b = append(b, `\u202`...)
					b = append(b, hexDigits[r&0xf])
				}
				start = i + size
			}
			i += size
			continue
		}
		if c >= 0x20 && c != '"' && c != '\\' {
			i++
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
