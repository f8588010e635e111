package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/firmward/firmward"
)

// decodeJSON reads one JSON value from the request body into v. The body may
// be at most MaxJSONBodyBytes; unknown fields, values of the wrong type and
// anything after the value are refused. Every failure is an *Error: EINVALID
// naming what is wrong, or ETOOLARGE.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	return decodeJSONLimit(w, r, v, MaxJSONBodyBytes)
}

// decodeJSONLimit is decodeJSON for a body of at most limit bytes (a scan
// report, larger than a request usually is).
func decodeJSONLimit(w http.ResponseWriter, r *http.Request, v any, limit int64) error {
	body := http.MaxBytesReader(w, r.Body, limit)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if e := tooLarge(err, limit); e != nil {
			return e
		}
		return jsonError(err)
	}
	// Exactly one value: the next token must be the end of the body.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			if e := tooLarge(err, limit); e != nil {
				return e
			}
		}
		return firmward.Errorf(firmward.EINVALID, "request body has data after the JSON value (offset %d); send one JSON object", dec.InputOffset())
	}
	return nil
}

// jsonError turns an encoding/json error into an *Error for the caller.
func jsonError(err error) error {
	if e := tooLarge(err, MaxJSONBodyBytes); e != nil {
		return e
	}
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
		tparse *time.ParseError
	)
	switch {
	case errors.Is(err, io.EOF):
		return firmward.Errorf(firmward.EINVALID, "request body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return firmward.Errorf(firmward.EINVALID, "request body is not valid JSON: it ends too early")
	case errors.As(err, &syntax):
		return firmward.Errorf(firmward.EINVALID, "request body is not valid JSON at offset %d: %s", syntax.Offset, syntax.Error())
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return &firmward.Error{
				Code:    firmward.EINVALID,
				Message: fmt.Sprintf("request body must be a JSON %s, not %s", jsonKind(typ.Type.Kind().String()), typ.Value),
			}
		}
		return &firmward.Error{
			Code:    firmward.EINVALID,
			Message: fmt.Sprintf("field %q must be %s, not %s", field, jsonKind(typ.Type.Kind().String()), typ.Value),
			Details: []firmward.ErrorDetail{{Field: field, Reason: "must be " + jsonKind(typ.Type.Kind().String()) + ", not " + typ.Value}},
		}
	case errors.As(err, &tparse):
		return firmward.Errorf(firmward.EINVALID, "a time in the request body is not RFC 3339 (like 2024-05-01T12:00:00Z): got %s", strconv.Quote(tparse.Value))
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name, _ = strconv.Unquote(name)
		return &firmward.Error{
			Code:    firmward.EINVALID,
			Message: fmt.Sprintf("unknown field %q in request body", name),
			Details: []firmward.ErrorDetail{{Field: name, Reason: "is not a known field"}},
		}
	}
	// Anything else encoding/json reports is about the input too.
	return firmward.Errorf(firmward.EINVALID, "request body is not valid: %s", strings.TrimPrefix(err.Error(), "json: "))
}

// jsonKind names a Go kind the way a JSON writer thinks of it.
func jsonKind(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	}
	return "a " + kind
}

// tooLarge returns ETOOLARGE when err comes from a body over limit.
func tooLarge(err error, limit int64) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return firmward.Errorf(firmward.ETOOLARGE, "request body is larger than the limit of %s", formatBytes(limit))
	}
	return nil
}

// formatBytes writes a size in KiB, MiB or bytes, whichever is exact.
func formatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
