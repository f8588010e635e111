package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/firmward/firmward"
)

// codeMethodNotAllowed is the error code of a 405. It is an HTTP matter, so
// it lives here rather than among the domain's codes.
const codeMethodNotAllowed = "method_not_allowed"

// codeStatuses pairs each error code with its HTTP status: the only place
// that does, read both ways by errorStatus and statusCode.
var codeStatuses = [...]struct {
	code   string
	status int
}{
	{firmward.EINVALID, http.StatusBadRequest},
	{firmward.ENOTFOUND, http.StatusNotFound},
	{firmward.ECONFLICT, http.StatusConflict},
	{firmward.EUNAUTHORIZED, http.StatusUnauthorized},
	{firmward.EFORBIDDEN, http.StatusForbidden},
	{firmward.ETOOLARGE, http.StatusRequestEntityTooLarge},
	{codeMethodNotAllowed, http.StatusMethodNotAllowed},
}

// errorStatus maps an error code to its HTTP status; unknown codes and
// internal errors are 500.
func errorStatus(code string) int {
	for _, cs := range codeStatuses {
		if cs.code == code {
			return cs.status
		}
	}
	return http.StatusInternalServerError
}

// statusCode is the inverse of errorStatus, for the Client when a response
// is not our JSON (a proxy's error page, say).
func statusCode(status int) string {
	for _, cs := range codeStatuses {
		if cs.status == status {
			return cs.code
		}
	}
	return firmward.EINTERNAL
}

// errorBody is the JSON shape of every error response.
type errorBody struct {
	Error errorPayload `json:"error"`
}

type errorPayload struct {
	Code    string                 `json:"code"`
	Message string                 `json:"message"`
	Details []firmward.ErrorDetail `json:"details,omitempty"`
}

// writeError answers with err in the error shape. Internal errors (any
// error that is not a *firmward.Error with a known code) are logged with
// the request's details and shown to the caller only as "internal error"
// with the request ID to quote.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := firmward.ErrorCode(err)
	status := errorStatus(code)
	body := errorPayload{Code: code, Message: firmward.ErrorMessage(err), Details: firmward.ErrorDetails(err)}
	info := infoFrom(r.Context())
	if status == http.StatusInternalServerError {
		body = errorPayload{
			Code:    firmward.EINTERNAL,
			Message: "internal error; the server log has the details under request_id " + info.id,
		}
		level := slog.LevelError
		if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
			level = slog.LevelInfo // the caller went away; nothing is broken
		}
		s.logger.LogAttrs(r.Context(), level, "request failed",
			slog.String("request_id", info.id),
			slog.String("method", r.Method),
			slog.String("route", info.routeLabel()),
			slog.String("actor", info.actorName()),
			slog.Any("err", err))
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="firmward"`)
	}
	s.writeJSON(w, r, status, errorBody{Error: body})
}

// writeJSON answers with v as JSON.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only a programming error gets here (an unencodable value).
		s.logger.ErrorContext(r.Context(), "cannot encode response", slog.String("request_id", infoFrom(r.Context()).id), slog.Any("err", err))
		b = []byte(`{"error":{"code":"internal","message":"internal error"}}`)
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
