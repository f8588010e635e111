package httpapi

import (
	"errors"
	"net/http"
	"slices"

	"github.com/firmward/firmward"
)

// AlertList is one page of alerts, newest first.
type AlertList struct {
	Alerts     []*firmward.Alert `json:"alerts"`
	NextCursor string            `json:"next_cursor"`
}

var listAlertParams = slices.Concat([]param{
	stringParam("kind", "Only alerts of this kind (device.new, kev.new, …)."),
	enumParamDoc("severity", "Only alerts of this severity.", firmward.Severities),
	{name: "device", desc: "Only the alerts about this device (its id).", schema: map[string]any{"type": "integer", "format": "int64", "minimum": 1}},
	stringParam("site", "Only alerts of this site, exact."),
	{name: "unacked", desc: "Only alerts no one has acknowledged.", schema: map[string]any{"type": "boolean", "default": false}},
}, pageParams)

// errNoAlerts answers the alert routes of a server wired without them.
var errNoAlerts = errors.New("alerts are not configured on this server")

func (s *Server) handleListAlerts(w http.ResponseWriter, r *http.Request) {
	if s.alerts == nil {
		s.writeError(w, r, errNoAlerts)
		return
	}
	q, err := parseQuery(r.URL.RawQuery, paramNames(listAlertParams))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	f := firmward.AlertFilter{Kind: q.get("kind"), Site: q.get("site")}
	if f.Severity, err = enumParam(q, "severity", firmward.Severities); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.DeviceID, err = deviceParam(q); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.Unacked, err = boolParam(q, "unacked"); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.After, err = cursorParam(q, cursorAlerts); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.Limit, err = limitParam(q); err != nil {
		s.writeError(w, r, err)
		return
	}
	list, next, err := s.alerts.FindAlerts(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if list == nil {
		list = []*firmward.Alert{}
	}
	s.writeJSON(w, r, http.StatusOK, AlertList{Alerts: list, NextCursor: encodeCursor(cursorAlerts, next)})
}

func (s *Server) handleAckAlert(w http.ResponseWriter, r *http.Request) {
	if s.alerts == nil {
		s.writeError(w, r, errNoAlerts)
		return
	}
	id, err := idParam(r.PathValue("id"), "alert")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	a, err := s.alerts.AcknowledgeAlert(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, a)
}
