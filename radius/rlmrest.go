// Package radius is firmward's adapter for RADIUS network access control:
// an HTTP endpoint for FreeRADIUS's rlm_rest module (authorize, post-auth
// and accounting; see Handler) that answers each MAC with the VLAN of its
// segment, the quarantine VLAN or a reject, and an RFC 5176 client that
// sends Change-of-Authorization and Disconnect requests to a NAS (see
// CoAClient). Decisions come from package nac through the small Directory
// interface; the server implements it over its store.
package radius

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	firmward "github.com/firmward/firmward"
)

// Limits on an rlm_rest body. FreeRADIUS sends one request's attributes:
// a few hundred bytes to a few kilobytes.
const (
	MaxBodyBytes  = 64 << 10
	maxAttributes = 512
	maxValues     = 64
)

// Attribute is one RADIUS attribute as rlm_rest's JSON body encodes it:
// its FreeRADIUS type ("string", "integer", "ipaddr", "octets", …) and its
// values as text (enumerated values by name, numbers in decimal).
type Attribute struct {
	Type   string
	Values []string
}

// Request is the parsed body of an rlm_rest call: the request's attributes
// by name.
type Request map[string]Attribute

// ParseBody parses the JSON body rlm_rest sends with `body = 'json'`:
//
//	{"User-Name":{"type":"string","value":["3cd92b000013"]}, …}
//
// Each attribute is an object with a non-empty "type" and a "value" array
// of strings, numbers or booleans (a single scalar is accepted too);
// "attr_num" is allowed and ignored, other fields are refused. Attribute
// types are not checked here (FreeRADIUS versions add types); the fields
// firmward reads check theirs (see Request.Value). Errors are EINVALID
// *firmward.Error values that say what is wrong and where.
func ParseBody(body []byte) (Request, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	tok, err := dec.Token()
	if err != nil {
		return nil, invalidf("body is not JSON: %s", jsonErr(err))
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, invalidf("body must be a JSON object of attributes, not %s", describeToken(tok))
	}
	req := Request{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, invalidf("body is not JSON: %s", jsonErr(err))
		}
		name, _ := tok.(string) // object keys are always strings
		if name == "" {
			return nil, invalidf("attribute with an empty name")
		}
		if len(req) >= maxAttributes {
			return nil, invalidf("more than %d attributes", maxAttributes)
		}
		var raw struct {
			Type    *string `json:"type"`
			Value   any     `json:"value"`
			AttrNum any     `json:"attr_num"`
		}
		if err := dec.Decode(&raw); err != nil {
			var typeErr *json.UnmarshalTypeError
			if errors.As(err, &typeErr) && typeErr.Field == "" {
				return nil, invalidf("attribute %s must be an object with \"type\" and \"value\", not %s", quote(name), article(typeErr.Value))
			}
			return nil, invalidf("attribute %s: %s", quote(name), jsonErr(err))
		}
		if raw.Type == nil || *raw.Type == "" {
			return nil, invalidf("attribute %s has no \"type\"", quote(name))
		}
		if raw.Value == nil {
			return nil, invalidf("attribute %s has no \"value\"", quote(name))
		}
		values, err := parseValues(raw.Value)
		if err != nil {
			return nil, invalidf("attribute %s: %s", quote(name), err)
		}
		if _, dup := req[name]; dup {
			return nil, invalidf("attribute %s appears twice", quote(name))
		}
		req[name] = Attribute{Type: *raw.Type, Values: values}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, invalidf("body is not JSON: %s", jsonErr(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, invalidf("body has data after the JSON object")
	}
	return req, nil
}

// parseValues turns a decoded "value" (an array of scalars, or one scalar)
// into text.
func parseValues(v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	if len(list) > maxValues {
		return nil, fmt.Errorf("more than %d values", maxValues)
	}
	out := make([]string, 0, len(list))
	for i, v := range list {
		switch v := v.(type) {
		case string:
			out = append(out, v)
		case json.Number:
			out = append(out, v.String())
		case bool:
			out = append(out, strconv.FormatBool(v))
		default:
			return nil, fmt.Errorf("value %d: is %s; want a string or a number", i+1, describeValue(v))
		}
	}
	return out, nil
}

func describeValue(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// article puts "a"/"an" before a JSON type name from an UnmarshalTypeError.
func article(kind string) string {
	switch kind {
	case "array", "object":
		return "an " + kind
	case "":
		return "something else"
	}
	return "a " + kind
}

// Value returns the first value of the named attribute and whether it is
// present. When types are given, the attribute's type must be one of them:
// otherwise an EINVALID error names the attribute and both types.
func (r Request) Value(name string, types ...string) (string, bool, error) {
	a, ok := r[name]
	if !ok || len(a.Values) == 0 {
		return "", false, nil
	}
	if len(types) > 0 {
		match := false
		for _, t := range types {
			match = match || a.Type == t
		}
		if !match {
			return "", false, invalidf("attribute %s has type %s; want %s", name, quote(a.Type), strings.Join(types, " or "))
		}
	}
	return a.Values[0], true, nil
}

// MAC returns the device's MAC address in firmward's form (lower-case,
// colon-separated), from Calling-Station-Id (the station the NAS saw) or,
// when that is absent or not a MAC, from User-Name (MAC authentication
// bypass sends the MAC as the user name). Any notation NormalizeMAC knows
// is accepted: 3cd92b000013, 3C-D9-2B-00-00-13, 3cd9.2b00.0013, …
func (r Request) MAC() (string, error) {
	var problems []string
	for _, name := range []string{"Calling-Station-Id", "User-Name"} {
		v, ok, err := r.Value(name, "string")
		if err != nil {
			return "", err
		}
		if !ok {
			problems = append(problems, name+" is missing")
			continue
		}
		mac, err := firmward.NormalizeMAC(v)
		if err == nil {
			return mac, nil
		}
		problems = append(problems, fmt.Sprintf("%s %s %s", name, quote(v), err.Error()))
	}
	return "", invalidf("no MAC address in the request: %s", strings.Join(problems, "; "))
}

func invalidf(format string, args ...any) error {
	return firmward.Errorf(firmward.EINVALID, format, args...)
}

// quote quotes s for an error message, shortened to 64 bytes.
func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return strconv.Quote(s)
}

func jsonErr(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("%s at byte %d", syn.Error(), syn.Offset)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of input"
	}
	return err.Error()
}

func describeToken(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '[' {
			return "an array"
		}
		return string(v)
	case string:
		return "a string"
	case json.Number, float64:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", tok)
}
