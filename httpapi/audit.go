package httpapi

import (
	"net/http"

	"github.com/firmward/firmward"
)

// AuditList is one page of audit events; NextCursor is "" on the last page.
type AuditList struct {
	Events     []*firmward.AuditEvent `json:"events"`
	NextCursor string                 `json:"next_cursor"`
}

func (s *Server) handleListAudit(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r.URL.RawQuery, paramNames(listAuditParams))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	f := firmward.AuditFilter{
		ObjectType: q.get("object_type"),
		ObjectID:   q.get("object_id"),
		Action:     q.get("action"),
		Actor:      q.get("actor"),
	}
	switch order := q.get("order"); order {
	case "", "oldest":
	case "newest":
		f.Newest = true
	default:
		s.writeError(w, r, paramError("order", order, "must be oldest or newest"))
		return
	}
	kind := byte(cursorAuditOldest)
	if f.Newest {
		kind = cursorAuditNewest
	}
	if f.After, err = cursorParam(q, kind); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.Limit, err = limitParam(q); err != nil {
		s.writeError(w, r, err)
		return
	}
	events, next, err := s.audit.FindAuditEvents(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if events == nil {
		events = []*firmward.AuditEvent{}
	}
	s.writeJSON(w, r, http.StatusOK, AuditList{Events: events, NextCursor: encodeCursor(kind, next)})
}

func (s *Server) handleVerifyAudit(w http.ResponseWriter, r *http.Request) {
	rep, err := s.audit.VerifyAudit(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, rep)
}
