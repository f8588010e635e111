package feeds

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	firmward "github.com/firmward/firmward"
)

// maybeGunzip returns a reader of the uncompressed content of r: r itself
// when it does not start with the gzip magic bytes 1f 8b.
func maybeGunzip(r io.Reader) (io.Reader, error) {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	magic, err := br.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("reading feed: %w", err)
	}
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, invalidInput("corrupt gzip stream", err)
		}
		return bufio.NewReaderSize(zr, 64<<10), nil
	}
	return br, nil
}

// invalidInput wraps a problem of the input as a whole (not of a record).
func invalidInput(msg string, err error) *firmward.Error {
	return &firmward.Error{Code: firmward.EINVALID, Message: msg, Details: []firmward.ErrorDetail{{Reason: err.Error()}}}
}

// isInputError reports whether err comes from broken input (bad gzip data,
// truncation) rather than from the reader failing.
func isInputError(err error) bool {
	var ce flate.CorruptInputError
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, gzip.ErrChecksum) ||
		errors.Is(err, gzip.ErrHeader) || errors.Is(err, io.EOF) || errors.As(err, &ce)
}

// recordError is the error of one bad record: n is its 1-based number, id
// its CVE id when known.
func recordError(n int, id, field, value, reason string) *firmward.Error {
	if len(value) > 80 {
		value = value[:77] + "..."
	}
	return &firmward.Error{
		Code:    firmward.EINVALID,
		Message: recordName(n, id),
		Details: []firmward.ErrorDetail{{Field: field, Value: value, Reason: reason}},
	}
}

func recordName(n int, id string) string {
	if id == "" {
		return "record " + strconv.Itoa(n)
	}
	return "record " + strconv.Itoa(n) + " (" + id + ")"
}

// callbackError wraps an error returned by the caller's callback.
func callbackError(n int, id string, err error) error {
	return fmt.Errorf("feeds: callback for %s: %w", recordName(n, id), err)
}

// decoder walks a JSON document token by token so that large arrays are
// decoded one element at a time.
type decoder struct {
	dec *json.Decoder
	// where names the current position for error messages, e.g.
	// "record 17"; empty before the first record.
	where string
}

func newDecoder(r io.Reader) *decoder {
	return &decoder{dec: json.NewDecoder(r)}
}

// syntax converts an error of encoding/json or of the reader into an
// EINVALID *firmward.Error with the byte offset, or wraps a read error.
func (d *decoder) syntax(err error) error {
	if err == nil {
		return nil
	}
	var fe *firmward.Error
	if errors.As(err, &fe) {
		return err
	}
	at := ""
	if d.where != "" {
		at = " in " + d.where
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return &firmward.Error{Code: firmward.EINVALID, Message: fmt.Sprintf("malformed JSON at byte offset %d%s", se.Offset, at), Details: []firmward.ErrorDetail{{Reason: se.Error()}}}
	case errors.As(err, &te):
		return &firmward.Error{Code: firmward.EINVALID, Message: fmt.Sprintf("wrong JSON type at byte offset %d%s", te.Offset, at), Details: []firmward.ErrorDetail{{Field: te.Field, Value: te.Value, Reason: "want " + te.Type.String()}}}
	case isInputError(err):
		return &firmward.Error{Code: firmward.EINVALID, Message: fmt.Sprintf("truncated or corrupt input at byte offset %d%s", d.dec.InputOffset(), at), Details: []firmward.ErrorDetail{{Reason: err.Error()}}}
	}
	return fmt.Errorf("reading feed at byte offset %d%s: %w", d.dec.InputOffset(), at, err)
}

// delim reads the next token and checks it is the delimiter want.
func (d *decoder) delim(want json.Delim, what string) error {
	tok, err := d.dec.Token()
	if err != nil {
		return d.syntax(err)
	}
	if got, ok := tok.(json.Delim); !ok || got != want {
		return &firmward.Error{Code: firmward.EINVALID, Message: fmt.Sprintf("malformed JSON at byte offset %d: %s must be %s, got %v", d.dec.InputOffset(), what, kind(want), tok)}
	}
	return nil
}

func kind(d json.Delim) string {
	if d == '{' {
		return "an object"
	}
	return "an array"
}

// object reads an object, calling fn with each key; fn must consume the
// value (with value, skip or array).
func (d *decoder) object(what string, fn func(key string) error) error {
	if err := d.delim('{', what); err != nil {
		return err
	}
	for d.dec.More() {
		tok, err := d.dec.Token()
		if err != nil {
			return d.syntax(err)
		}
		key, ok := tok.(string)
		if !ok {
			return &firmward.Error{Code: firmward.EINVALID, Message: fmt.Sprintf("malformed JSON at byte offset %d: want an object key", d.dec.InputOffset())}
		}
		if err := fn(key); err != nil {
			return err
		}
	}
	return d.delim('}', what)
}

// array reads an array (or null), calling fn for each element; fn must
// consume the element with value.
func (d *decoder) array(what string, fn func() error) error {
	tok, err := d.dec.Token()
	if err != nil {
		return d.syntax(err)
	}
	if tok == nil {
		return nil
	}
	if got, ok := tok.(json.Delim); !ok || got != '[' {
		return &firmward.Error{Code: firmward.EINVALID, Message: fmt.Sprintf("malformed JSON at byte offset %d: %s must be an array, got %v", d.dec.InputOffset(), what, tok)}
	}
	for d.dec.More() {
		if err := fn(); err != nil {
			return err
		}
	}
	return d.delim(']', what)
}

// value decodes the next value into v.
func (d *decoder) value(v any) error {
	return d.syntax(d.dec.Decode(v))
}

// skip consumes the next value.
func (d *decoder) skip() error {
	var raw json.RawMessage
	return d.value(&raw)
}

// end checks that nothing but white space follows the document.
func (d *decoder) end() error {
	if _, err := d.dec.Token(); !errors.Is(err, io.EOF) {
		if err == nil {
			return &firmward.Error{Code: firmward.EINVALID, Message: fmt.Sprintf("malformed JSON at byte offset %d: data after the end of the document", d.dec.InputOffset())}
		}
		return d.syntax(err)
	}
	return nil
}

// decodeWhole decodes a single JSON document (a CVE 5 record, a CSAF
// advisory: one record, a few kilobytes) into v.
func decodeWhole(r io.Reader, v any) error {
	r, err := maybeGunzip(r)
	if err != nil {
		return err
	}
	d := newDecoder(r)
	if err := d.value(v); err != nil {
		return err
	}
	return d.end()
}

// isCVEID reports whether s is CVE-YYYY-NNNN with four or more digits.
func isCVEID(s string) bool {
	if len(s) < len("CVE-2000-0000") || s[:4] != "CVE-" || s[8] != '-' {
		return false
	}
	for i := 4; i < len(s); i++ {
		if i != 8 && (s[i] < '0' || s[i] > '9') {
			return false
		}
	}
	return true
}

const cveIDReason = "is not a CVE id (CVE-YYYY-NNNN)"

// parseTime parses the time stamps of the feeds: RFC 3339 with or without
// a fraction, NVD 2.0's zone-less "2006-01-02T15:04:05.000", NVD 1.1's
// "2006-01-02T15:04Z" and a bare date. Zone-less times are UTC.
func parseTime(s string) (time.Time, error) {
	layouts := [...]string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04Z07:00", "2006-01-02T15:04", "2006-01-02"}
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("is not a time (want RFC 3339 or 2006-01-02T15:04:05.000)")
}

// isDate reports whether s is YYYY-MM-DD.
func isDate(s string) bool {
	_, err := time.Parse("2006-01-02", s)
	return err == nil
}

// langValue is a {lang, value} pair of NVD and CVE 5 descriptions.
type langValue struct {
	Lang  string `json:"lang"`
	Value string `json:"value"`
}

// english returns the English text of a description list, or the first.
func english(list []langValue) string {
	for _, d := range list {
		if d.Lang == "en" || strings.HasPrefix(d.Lang, "en-") || strings.HasPrefix(d.Lang, "en_") {
			return d.Value
		}
	}
	if len(list) > 0 {
		return list[0].Value
	}
	return ""
}

// appendUnique appends s to list unless it is empty or already there.
func appendUnique(list []string, s string) []string {
	if s == "" {
		return list
	}
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// checkScore validates a CVSS base score.
func checkScore(f float64) bool { return f >= 0 && f <= 10 }

// trimBOM drops a UTF-8 byte order mark and leading white space.
func trimBOM(b []byte) []byte {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	return bytes.TrimLeft(b, " \t\r\n")
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
