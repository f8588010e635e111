package httpapi

import (
	"encoding/base64"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/firmward/firmward"
)

// query reads the query parameters of one request, refusing names the route
// does not know and names given twice, so that a typo never silently widens
// a listing or an export.
type query struct {
	values url.Values
}

// parseQuery checks the raw query against the names a route accepts.
func parseQuery(raw string, allowed []string) (query, error) {
	values, err := url.ParseQuery(raw)
	if err != nil {
		return query{}, firmward.Errorf(firmward.EINVALID, "the query string is not valid: %s", err.Error())
	}
	var bad []firmward.ErrorDetail
	for _, name := range slices.Sorted(maps.Keys(values)) {
		switch {
		case !slices.Contains(allowed, name):
			bad = append(bad, firmward.ErrorDetail{Field: name, Reason: "is not a known parameter; known: " + strings.Join(allowed, ", ")})
		case len(values[name]) > 1:
			bad = append(bad, firmward.ErrorDetail{Field: name, Reason: "is given more than once"})
		}
	}
	if len(bad) > 0 {
		return query{}, &firmward.Error{Code: firmward.EINVALID, Message: "the query string is not valid", Details: bad}
	}
	return query{values: values}, nil
}

// get returns a parameter, trimmed.
func (q query) get(name string) string { return strings.TrimSpace(q.values.Get(name)) }

// paramError is the EINVALID error for one bad parameter.
func paramError(name, value, reason string) error {
	return &firmward.Error{
		Code:    firmward.EINVALID,
		Message: fmt.Sprintf("query parameter %s %s", name, reason),
		Details: []firmward.ErrorDetail{{Field: name, Value: value, Reason: reason}},
	}
}

// enumParam reads an enum parameter, spelled as Normalize accepts it
// (any case, '_' for '-'); empty means not given.
func enumParam[T ~string](q query, name string, valid []T) (T, error) {
	raw := q.get(name)
	if raw == "" {
		return "", nil
	}
	v := T(strings.ReplaceAll(strings.ToLower(raw), "_", "-"))
	if slices.Contains(valid, v) {
		return v, nil
	}
	names := make([]string, len(valid))
	for i, x := range valid {
		names[i] = string(x)
	}
	return "", paramError(name, raw, "must be one of "+strings.Join(names, ", "))
}

// limitParam reads "limit": 1 to firmward.MaxPageSize, or 0 when not given
// (the service's default).
func limitParam(q query) (int, error) {
	raw := q.get("limit")
	if raw == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > firmward.MaxPageSize {
		return 0, paramError("limit", raw, fmt.Sprintf("must be a whole number from 1 to %d", firmward.MaxPageSize))
	}
	return n, nil
}

// boolParam reads a true/false parameter; empty is false.
func boolParam(q query, name string) (bool, error) {
	raw := q.get(name)
	if raw == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(raw)
	if err != nil {
		return false, paramError(name, raw, "must be true or false")
	}
	return b, nil
}

// Cursors are opaque to callers: a kind letter and a position, in
// URL-safe base64. The kind keeps a cursor of one listing from being used
// in another.
const (
	cursorDevices     = 'd'
	cursorAuditOldest = 'a'
	cursorAuditNewest = 'n'
)

// encodeCursor returns the cursor for position n, or "" at the end (n 0).
func encodeCursor(kind byte, n int64) string {
	if n <= 0 {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(strconv.AppendInt([]byte{kind}, n, 10))
}

// cursorParam reads the "cursor" parameter of a listing of kind; empty is
// the first page.
func cursorParam(q query, kind byte) (int64, error) {
	raw := q.get("cursor")
	if raw == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err == nil && len(b) > 1 && b[0] == kind {
		if n, err := strconv.ParseInt(string(b[1:]), 10, 64); err == nil && n > 0 {
			return n, nil
		}
	}
	return 0, paramError("cursor", raw, "is not a cursor of this listing; pass next_cursor from the previous page unchanged")
}

// idParam reads a positive integer path parameter; anything else names no
// object, so it is ENOTFOUND.
func idParam(raw, what string) (int64, error) {
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id < 1 {
		return 0, firmward.Errorf(firmward.ENOTFOUND, "%s %q not found: ids are positive whole numbers", what, raw)
	}
	return id, nil
}
