package discovery

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// SNMP object identifiers read from every agent.
const (
	oidSysDescr    = "1.3.6.1.2.1.1.1.0"
	oidSysObjectID = "1.3.6.1.2.1.1.2.0"
	oidSysName     = "1.3.6.1.2.1.1.5.0"
)

// BER tags used by SNMP v2c.
const (
	tagInteger     = 0x02
	tagOctetString = 0x04
	tagNull        = 0x05
	tagOID         = 0x06
	tagSequence    = 0x30
	tagGetRequest  = 0xa0
	tagGetResponse = 0xa2
)

// snmpGet encodes an SNMP v2c GetRequest for oids.
func snmpGet(community string, requestID int32, oids []string) ([]byte, error) {
	var binds []byte
	for _, o := range oids {
		enc, err := encodeOID(o)
		if err != nil {
			return nil, err
		}
		binds = append(binds, tlv(tagSequence, append(tlv(tagOID, enc), tagNull, 0))...)
	}
	pdu := append(tlv(tagInteger, encodeInt(int64(requestID))), tlv(tagInteger, []byte{0})...)
	pdu = append(pdu, tlv(tagInteger, []byte{0})...)
	pdu = append(pdu, tlv(tagSequence, binds)...)
	msg := append(tlv(tagInteger, []byte{1}), tlv(tagOctetString, []byte(community))...) // version 1 = v2c
	msg = append(msg, tlv(tagGetRequest, pdu)...)
	return tlv(tagSequence, msg), nil
}

func tlv(tag byte, v []byte) []byte {
	out := []byte{tag}
	switch n := len(v); {
	case n < 0x80:
		out = append(out, byte(n))
	case n < 0x100:
		out = append(out, 0x81, byte(n))
	default:
		out = append(out, 0x82, byte(n>>8&0xff), byte(n&0xff))
	}
	return append(out, v...)
}

func encodeInt(v int64) []byte {
	b := []byte{byte(v & 0xff)}
	for v >>= 8; v != 0 && v != -1; v >>= 8 {
		b = append([]byte{byte(v & 0xff)}, b...)
	}
	if v == 0 && b[0]&0x80 != 0 {
		b = append([]byte{0}, b...)
	}
	if v == -1 && b[0]&0x80 == 0 {
		b = append([]byte{0xff}, b...)
	}
	return b
}

func encodeOID(s string) ([]byte, error) {
	parts := strings.Split(s, ".")
	if len(parts) < 2 {
		return nil, fmt.Errorf("snmp: bad OID %q", s)
	}
	nums := make([]uint64, len(parts))
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("snmp: bad OID %q", s)
		}
		nums[i] = n
	}
	if nums[0] > 2 || nums[1] >= 40 {
		return nil, fmt.Errorf("snmp: bad OID %q", s)
	}
	out := []byte{byte((nums[0]*40 + nums[1]) & 0xff)}
	for _, n := range nums[2:] {
		var chunk []byte
		chunk = append(chunk, byte(n&0x7f))
		for n >>= 7; n > 0; n >>= 7 {
			chunk = append([]byte{byte(n&0x7f) | 0x80}, chunk...)
		}
		out = append(out, chunk...)
	}
	return out, nil
}

// berReader reads BER elements from a byte slice, never past its end.
type berReader struct{ b []byte }

var errBER = errors.New("snmp: malformed BER")

func (r *berReader) next() (tag byte, val []byte, err error) {
	if len(r.b) < 2 {
		return 0, nil, errBER
	}
	tag = r.b[0]
	n := int(r.b[1])
	rest := r.b[2:]
	if n&0x80 != 0 {
		k := n & 0x7f
		if k == 0 || k > 3 || len(rest) < k {
			return 0, nil, errBER
		}
		n = 0
		for _, c := range rest[:k] {
			n = n<<8 | int(c)
		}
		rest = rest[k:]
	}
	if n > len(rest) {
		return 0, nil, errBER
	}
	r.b = rest[n:]
	return tag, rest[:n], nil
}

func (r *berReader) expect(want byte) ([]byte, error) {
	tag, v, err := r.next()
	if err != nil {
		return nil, err
	}
	if tag != want {
		return nil, fmt.Errorf("snmp: tag 0x%02x where 0x%02x was expected", tag, want)
	}
	return v, nil
}

func decodeInt(b []byte) (int64, error) {
	if len(b) == 0 || len(b) > 8 {
		return 0, errBER
	}
	v := int64(b[0])
	if b[0]&0x80 != 0 {
		v -= 256 // negative: two's complement
	}
	for _, c := range b[1:] {
		v = v<<8 | int64(c)
	}
	return v, nil
}

func decodeOID(b []byte) (string, error) {
	if len(b) == 0 || len(b) > 256 {
		return "", errBER
	}
	var parts []string
	first := true
	var n uint64
	for i, c := range b {
		n = n<<7 | uint64(c&0x7f)
		if n > 1<<32 {
			return "", errBER
		}
		if c&0x80 != 0 {
			if i == len(b)-1 {
				return "", errBER
			}
			continue
		}
		if first {
			x, y := n/40, n%40
			if x > 2 {
				x, y = 2, n-80
			}
			parts = append(parts, strconv.FormatUint(x, 10), strconv.FormatUint(y, 10))
			first = false
		} else {
			parts = append(parts, strconv.FormatUint(n, 10))
		}
		n = 0
	}
	return strings.Join(parts, "."), nil
}

// SNMPResponse is a decoded GetResponse: its request ID, error status and
// the value of each OID (strings for OCTET STRING, dotted OIDs, numbers;
// absent for noSuchObject and friends).
type SNMPResponse struct {
	RequestID   int32
	ErrorStatus int
	Values      map[string]string
}

// ParseSNMPResponse decodes an SNMP v1/v2c GetResponse (at most 8 KiB is
// read). It never reads past the datagram and refuses anything that is not
// a GetResponse.
func ParseSNMPResponse(b []byte) (SNMPResponse, error) {
	if len(b) > maxSNMPReply {
		b = b[:maxSNMPReply]
	}
	top := berReader{b}
	msg, err := top.expect(tagSequence)
	if err != nil {
		return SNMPResponse{}, err
	}
	r := berReader{msg}
	if _, err := r.expect(tagInteger); err != nil { // version
		return SNMPResponse{}, err
	}
	if _, err := r.expect(tagOctetString); err != nil { // community
		return SNMPResponse{}, err
	}
	pdu, err := r.expect(tagGetResponse)
	if err != nil {
		return SNMPResponse{}, err
	}
	p := berReader{pdu}
	var out SNMPResponse
	v, err := p.expect(tagInteger)
	if err != nil {
		return out, err
	}
	id, err := decodeInt(v)
	if err != nil {
		return out, err
	}
	out.RequestID = int32(id) //nolint:gosec // request IDs are 32-bit; a larger one simply does not match
	if v, err = p.expect(tagInteger); err != nil {
		return out, err
	}
	es, err := decodeInt(v)
	if err != nil {
		return out, err
	}
	out.ErrorStatus = int(es)
	if _, err = p.expect(tagInteger); err != nil {
		return out, err
	}
	binds, err := p.expect(tagSequence)
	if err != nil {
		return out, err
	}
	out.Values = map[string]string{}
	br := berReader{binds}
	for len(br.b) > 0 && len(out.Values) < 64 {
		vb, err := br.expect(tagSequence)
		if err != nil {
			return out, err
		}
		vr := berReader{vb}
		oidb, err := vr.expect(tagOID)
		if err != nil {
			return out, err
		}
		oid, err := decodeOID(oidb)
		if err != nil {
			return out, err
		}
		tag, val, err := vr.next()
		if err != nil {
			return out, err
		}
		switch tag {
		case tagOctetString:
			out.Values[oid] = clean(strings.ToValidUTF8(string(val), "?"))
		case tagOID:
			if s, err := decodeOID(val); err == nil {
				out.Values[oid] = s
			}
		case tagInteger, 0x41, 0x42, 0x43, 0x46:
			if len(val) <= 8 {
				if n, err := decodeInt(val); err == nil {
					out.Values[oid] = strconv.FormatInt(n, 10)
				}
			}
		}
	}
	return out, nil
}
