// Package firmward holds the domain of the firmward IoT patch-management
// platform: the types every other package speaks (Device, Token, AuditEvent,
// …), the service interfaces that adapters implement, and one Error type with
// a small set of codes.
//
// The package imports the standard library only. Every other package is
// either pure logic over these types or an adapter for one outside thing;
// adapters never import each other and only cmd/ wires them together.
package firmward

import (
	"errors"
	"fmt"
	"strings"
)

// Error codes. Each maps to one HTTP status in the API adapters.
const (
	EINVALID      = "invalid"      // the caller sent something wrong
	ENOTFOUND     = "not_found"    // the object does not exist
	ECONFLICT     = "conflict"     // the change clashes with stored state (duplicate MAC, …)
	EUNAUTHORIZED = "unauthorized" // no or bad credentials
	EFORBIDDEN    = "forbidden"    // credentials valid, role too weak
	ETOOLARGE     = "too_large"    // a body or file over the configured limit
	EINTERNAL     = "internal"     // our fault; the message is not shown to callers
)

// Error is the one error type of the domain. Code is one of the E* constants;
// Message is written for a person and says what is wrong and, where it helps,
// what to do next. Details lists individual problems (a field of a form, a
// row of an import) so that a caller sees all of them at once.
type Error struct {
	Code    string
	Message string
	Details []ErrorDetail
}

// ErrorDetail is one problem inside a larger request: Line is a line number
// of an imported CSV file (or the 1-based record number of a JSON import),
// zero when not applicable; Field names the field or column.
type ErrorDetail struct {
	Line   int    `json:"line,omitempty"`
	Field  string `json:"field,omitempty"`
	Value  string `json:"value,omitempty"`
	Reason string `json:"reason"`
}

// String formats a detail as "line 4, column mac: reason".
func (d ErrorDetail) String() string {
	var b strings.Builder
	if d.Line > 0 {
		fmt.Fprintf(&b, "line %d", d.Line)
	}
	if d.Field != "" {
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s", d.Field)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(d.Reason)
	if d.Value != "" {
		fmt.Fprintf(&b, " (got %q)", d.Value)
	}
	return b.String()
}

// Error implements the error interface.
func (e *Error) Error() string {
	if len(e.Details) == 0 {
		return e.Message
	}
	parts := make([]string, 0, len(e.Details))
	for _, d := range e.Details {
		parts = append(parts, d.String())
	}
	return e.Message + ": " + strings.Join(parts, "; ")
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the *Error inside err, EINTERNAL for any
// other error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the *Error inside err; for other errors
// it returns "internal error" so that internals never reach a caller.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// ErrorDetails returns the details of the *Error inside err, if any.
func ErrorDetails(err error) []ErrorDetail {
	var e *Error
	if errors.As(err, &e) {
		return e.Details
	}
	return nil
}
