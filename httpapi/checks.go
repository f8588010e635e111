package httpapi

import (
	"net/http"
	"strings"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/lifecycle"
)

// CheckList is every device's health-check status (or the due ones),
// due first, then by due date.
type CheckList struct {
	Checks []lifecycle.CheckStatus `json:"checks"`
	Due    int                     `json:"due"` // how many are due, whatever the filter
}

// DeviceCheck is one device's check status, the guided checklist and the
// checks recorded, newest first.
type DeviceCheck struct {
	Status    lifecycle.CheckStatus     `json:"status"`
	Checklist []lifecycle.ChecklistStep `json:"checklist"`
	History   []*firmward.HealthCheck   `json:"history"`
	Hint      lifecycle.Hint            `json:"hint"`
	Device    *firmward.Device          `json:"device"`
	Changes   []firmward.FieldChange    `json:"changes,omitempty"` // set by POST: the device fields the check updated
}

// CadenceList is the health-check cadence rules and the defaults.
type CadenceList struct {
	Rules    []firmward.CheckCadence `json:"rules"`
	Defaults string                  `json:"defaults"`
}

// cadenceDefaults describes the built-in cadences.
const cadenceDefaults = "monthly for network-infrastructure, lock and camera devices and anything internet-facing; quarterly for the rest"

var (
	listChecksParams = []param{
		{name: "due", desc: "Only devices whose check is due.", schema: map[string]any{"type": "boolean", "default": false}},
		stringParam("site", "Only devices of this site, exact, any case."),
		enumParamDoc("category", "Only devices of this category.", firmward.Categories),
	}
	deleteCadenceParams = []param{
		stringParam("site", "The rule's site (empty: every site)."),
		enumParamDoc("category", "The rule's category (empty: every category).", firmward.Categories),
	}
)

func (s *Server) handleListChecks(w http.ResponseWriter, r *http.Request) {
	if !s.lifecycleReady(w, r) {
		return
	}
	q, err := parseQuery(r.URL.RawQuery, paramNames(listChecksParams))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	due, err := boolParam(q, "due")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var cat firmward.Category
	if q.get("category") != "" {
		if cat, err = enumParam(q, "category", firmward.Categories); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	site := q.get("site")
	fl, err := s.loadFleet(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := CheckList{Checks: []lifecycle.CheckStatus{}}
	for _, st := range fl.CheckStatuses(s.now().UTC()) {
		if st.Due {
			out.Due++
		}
		if (due && !st.Due) || (cat != "" && st.Category != cat) || (site != "" && !strings.EqualFold(st.Site, site)) {
			continue
		}
		out.Checks = append(out.Checks, st)
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

// deviceCheck builds the DeviceCheck of device id.
func (s *Server) deviceCheck(r *http.Request, id int64) (*DeviceCheck, error) {
	ctx := r.Context()
	d, err := s.devices.FindDeviceByID(ctx, id)
	if err != nil {
		return nil, err
	}
	rules, err := s.checks.FindCheckCadences(ctx)
	if err != nil {
		return nil, err
	}
	hist, err := s.checks.FindHealthChecks(ctx, id)
	if err != nil {
		return nil, err
	}
	if hist == nil {
		hist = []*firmward.HealthCheck{}
	}
	var last *firmward.HealthCheck
	for _, c := range hist {
		if c.Complete {
			last = c
			break
		}
	}
	return &DeviceCheck{
		Status:    lifecycle.Status(rules, d, last, s.now().UTC()),
		Checklist: lifecycle.Checklist(d),
		History:   hist,
		Hint:      lifecycle.HintFor(d.Manufacturer),
		Device:    d,
	}, nil
}

func (s *Server) handleGetDeviceCheck(w http.ResponseWriter, r *http.Request) {
	if !s.lifecycleReady(w, r) {
		return
	}
	id, err := idParam(r.PathValue("id"), "device")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	dc, err := s.deviceCheck(r, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, dc)
}

// handleRecordCheck records a health check and, when the person confirmed
// a firmware version or an automatic-update setting other than the
// inventory's, updates the device (audited as device.update).
func (s *Server) handleRecordCheck(w http.ResponseWriter, r *http.Request) {
	if !s.lifecycleReady(w, r) {
		return
	}
	id, err := idParam(r.PathValue("id"), "device")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var c firmward.HealthCheck
	if err := decodeJSON(w, r, &c); err != nil {
		s.writeError(w, r, err)
		return
	}
	c.ID, c.DeviceID = 0, id
	changes, err := lifecycle.RecordCheck(r.Context(), s.devices, s.checks, &c)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	dc, err := s.deviceCheck(r, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	dc.Changes = changes
	s.writeJSON(w, r, http.StatusCreated, dc)
}

func (s *Server) handleListCadences(w http.ResponseWriter, r *http.Request) {
	if !s.lifecycleReady(w, r) {
		return
	}
	rules, err := s.checks.FindCheckCadences(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if rules == nil {
		rules = []firmward.CheckCadence{}
	}
	s.writeJSON(w, r, http.StatusOK, CadenceList{Rules: rules, Defaults: cadenceDefaults})
}

func (s *Server) handleSetCadence(w http.ResponseWriter, r *http.Request) {
	if !s.lifecycleReady(w, r) {
		return
	}
	var c firmward.CheckCadence
	if err := decodeJSON(w, r, &c); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.checks.SetCheckCadence(r.Context(), c); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.handleListCadences(w, r)
}

func (s *Server) handleDeleteCadence(w http.ResponseWriter, r *http.Request) {
	if !s.lifecycleReady(w, r) {
		return
	}
	q, err := parseQuery(r.URL.RawQuery, paramNames(deleteCadenceParams))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var cat firmward.Category
	if q.get("category") != "" {
		if cat, err = enumParam(q, "category", firmward.Categories); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	if err := s.checks.DeleteCheckCadence(r.Context(), q.get("site"), cat); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
