package httpapi

import (
	"errors"
	"net/http"
	"slices"
	"strconv"

	"github.com/firmward/firmward"
)

// Cursor kinds of the discovery listings.
const (
	cursorScans        = 's'
	cursorObservations = 'o'
	cursorConflicts    = 'c'
	cursorAlerts       = 'l'
)

// ScanRunList is one page of scan runs, newest first; NextCursor is "" on
// the last page.
type ScanRunList struct {
	Runs       []*firmward.ScanRun `json:"runs"`
	NextCursor string              `json:"next_cursor"`
}

// ScanDetail is one scan run with what it saw of each host (one page of
// observations, newest first).
type ScanDetail struct {
	Run        *firmward.ScanRun       `json:"run"`
	Hosts      []*firmward.Observation `json:"hosts"`
	NextCursor string                  `json:"next_cursor"`
}

// ScanImport is a scan report made by `firmward scan` elsewhere, sent to be
// ingested into the inventory as a run of Site.
type ScanImport struct {
	Site   string               `json:"site"`
	Report *firmward.ScanReport `json:"report"`
}

// ConflictList is one page of conflicts, newest first.
type ConflictList struct {
	Conflicts  []*firmward.Conflict `json:"conflicts"`
	NextCursor string               `json:"next_cursor"`
}

// ScheduleList is every site's scan schedule.
type ScheduleList struct {
	Schedules []*firmward.ScanSchedule `json:"schedules"`
}

// scanStatuses are the statuses of a scan run.
var scanStatuses = []string{firmward.ScanRunning, firmward.ScanDone, firmward.ScanFailed, firmward.ScanImported}

// conflictStatuses are the statuses of a conflict.
var conflictStatuses = []string{firmward.ConflictOpen, firmward.ConflictAccepted, firmward.ConflictRejected}

var (
	listScanParams = slices.Concat([]param{
		stringParam("site", "Only runs of this site, exact."),
		enumParamDoc("status", "Only runs with this status.", scanStatuses),
	}, pageParams)
	listConflictParams = slices.Concat([]param{
		enumParamDoc("status", "Only conflicts with this status (default open).", conflictStatuses),
		{name: "device", desc: "Only the conflicts of this device (its id).", schema: map[string]any{"type": "integer", "format": "int64", "minimum": 1}},
	}, pageParams)
)

// errNoDiscovery answers the discovery routes of a server wired without
// them (a 500: a wiring mistake).
var errNoDiscovery = errors.New("discovery is not configured on this server")

// discoveryReady reports whether the discovery services are configured.
func (s *Server) discoveryReady(w http.ResponseWriter, r *http.Request) bool {
	if s.scans == nil {
		s.writeError(w, r, errNoDiscovery)
		return false
	}
	return true
}

// deviceParam reads the optional "device" id filter.
func deviceParam(q query) (int64, error) {
	raw := q.get("device")
	if raw == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id < 1 {
		return 0, paramError("device", raw, "must be a device id (a positive whole number)")
	}
	return id, nil
}

func (s *Server) handleStartScan(w http.ResponseWriter, r *http.Request) {
	if !s.discoveryReady(w, r) {
		return
	}
	var req firmward.ScanRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	run, err := s.scans.Start(r.Context(), req, firmward.TriggerAPI)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", apiPrefix+"/scans/"+strconv.FormatInt(run.ID, 10))
	s.writeJSON(w, r, http.StatusAccepted, run)
}

func (s *Server) handleImportScan(w http.ResponseWriter, r *http.Request) {
	if !s.discoveryReady(w, r) {
		return
	}
	var in ScanImport
	if err := decodeJSONLimit(w, r, &in, s.maxImport); err != nil {
		s.writeError(w, r, err)
		return
	}
	run, err := s.scans.Import(r.Context(), in.Site, in.Report)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", apiPrefix+"/scans/"+strconv.FormatInt(run.ID, 10))
	s.writeJSON(w, r, http.StatusCreated, run)
}

func (s *Server) handleListScans(w http.ResponseWriter, r *http.Request) {
	if !s.discoveryReady(w, r) {
		return
	}
	q, err := parseQuery(r.URL.RawQuery, paramNames(listScanParams))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	f := firmward.ScanRunFilter{Site: q.get("site")}
	if f.Status, err = enumParam(q, "status", scanStatuses); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.After, err = cursorParam(q, cursorScans); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.Limit, err = limitParam(q); err != nil {
		s.writeError(w, r, err)
		return
	}
	runs, next, err := s.scans.Discovery().FindScanRuns(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if runs == nil {
		runs = []*firmward.ScanRun{}
	}
	s.writeJSON(w, r, http.StatusOK, ScanRunList{Runs: runs, NextCursor: encodeCursor(cursorScans, next)})
}

func (s *Server) handleGetScan(w http.ResponseWriter, r *http.Request) {
	if !s.discoveryReady(w, r) {
		return
	}
	id, err := idParam(r.PathValue("id"), "scan")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q, err := parseQuery(r.URL.RawQuery, paramNames(pageParams))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	f := firmward.ObservationFilter{RunID: id}
	if f.After, err = cursorParam(q, cursorObservations); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.Limit, err = limitParam(q); err != nil {
		s.writeError(w, r, err)
		return
	}
	run, err := s.scans.Discovery().FindScanRunByID(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	hosts, next, err := s.scans.Discovery().FindObservations(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if hosts == nil {
		hosts = []*firmward.Observation{}
	}
	s.writeJSON(w, r, http.StatusOK, ScanDetail{Run: run, Hosts: hosts, NextCursor: encodeCursor(cursorObservations, next)})
}

func (s *Server) handleListConflicts(w http.ResponseWriter, r *http.Request) {
	if !s.discoveryReady(w, r) {
		return
	}
	q, err := parseQuery(r.URL.RawQuery, paramNames(listConflictParams))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var f firmward.ConflictFilter
	if f.Status, err = enumParam(q, "status", conflictStatuses); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.DeviceID, err = deviceParam(q); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.After, err = cursorParam(q, cursorConflicts); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.Limit, err = limitParam(q); err != nil {
		s.writeError(w, r, err)
		return
	}
	list, next, err := s.scans.Discovery().FindConflicts(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if list == nil {
		list = []*firmward.Conflict{}
	}
	s.writeJSON(w, r, http.StatusOK, ConflictList{Conflicts: list, NextCursor: encodeCursor(cursorConflicts, next)})
}

func (s *Server) handleAcceptConflict(w http.ResponseWriter, r *http.Request) {
	s.resolveConflict(w, r, true)
}

func (s *Server) handleRejectConflict(w http.ResponseWriter, r *http.Request) {
	s.resolveConflict(w, r, false)
}

func (s *Server) resolveConflict(w http.ResponseWriter, r *http.Request, accept bool) {
	if !s.discoveryReady(w, r) {
		return
	}
	id, err := idParam(r.PathValue("id"), "conflict")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	c, err := s.scans.Ingester().ResolveConflict(r.Context(), id, accept)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, c)
}

func (s *Server) handleListSchedules(w http.ResponseWriter, r *http.Request) {
	if !s.discoveryReady(w, r) {
		return
	}
	list, err := s.scans.Discovery().FindScanSchedules(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if list == nil {
		list = []*firmward.ScanSchedule{}
	}
	s.writeJSON(w, r, http.StatusOK, ScheduleList{Schedules: list})
}

func (s *Server) handleGetSchedule(w http.ResponseWriter, r *http.Request) {
	if !s.discoveryReady(w, r) {
		return
	}
	sc, err := s.scans.Discovery().FindScanSchedule(r.Context(), r.PathValue("site"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, sc)
}

func (s *Server) handlePutSchedule(w http.ResponseWriter, r *http.Request) {
	if !s.discoveryReady(w, r) {
		return
	}
	var sc firmward.ScanSchedule
	if err := decodeJSON(w, r, &sc); err != nil {
		s.writeError(w, r, err)
		return
	}
	site := r.PathValue("site")
	if sc.Site != "" && sc.Site != site {
		s.writeError(w, r, firmward.Errorf(firmward.EINVALID, "the body names site %q but the path %q", sc.Site, site))
		return
	}
	sc.Site, sc.LastRunAt = site, nil
	if err := s.scans.Discovery().PutScanSchedule(r.Context(), &sc); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, &sc)
}

func (s *Server) handleDeleteSchedule(w http.ResponseWriter, r *http.Request) {
	if !s.discoveryReady(w, r) {
		return
	}
	if err := s.scans.Discovery().DeleteScanSchedule(r.Context(), r.PathValue("site")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
