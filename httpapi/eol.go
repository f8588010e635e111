package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/lifecycle"
)

// EOLList is the end-of-support table.
type EOLList struct {
	Entries []*firmward.EOLEntry `json:"entries"`
}

// OpenFirmwareList is the list of models an open firmware supports.
type OpenFirmwareList struct {
	Models []*firmward.OpenFirmwareModel `json:"models"`
}

// OrphanReport is the risk assessment of orphaned devices (or of every
// device with all=true), highest risk first.
type OrphanReport struct {
	StaleMonths int                    `json:"stale_months"`
	Time        time.Time              `json:"time"`
	Assessments []lifecycle.Assessment `json:"assessments"`
}

// OperationalValueRequest is the owner's answer for a device.
type OperationalValueRequest struct {
	Value firmward.OperationalValue `json:"value"`
	Note  string                    `json:"note,omitempty"`
}

var (
	eolImportParams = []param{formatParam}
	orphanParams    = []param{
		{name: "all", desc: "Assess every device, not only the orphaned ones and those whose support ends soon.", schema: map[string]any{"type": "boolean", "default": false}},
		{name: "stale_months", desc: "A device with open findings is orphaned when no firmware newer than this is known (default: the server's, 18).", schema: map[string]any{"type": "integer", "minimum": 1, "maximum": 240}},
	}
)

// lifecycleReady answers 404 when the server was built without the
// lifecycle services.
func (s *Server) lifecycleReady(w http.ResponseWriter, r *http.Request) bool {
	if s.eol == nil || s.checks == nil {
		s.writeError(w, r, firmward.Errorf(firmward.ENOTFOUND, "lifecycle services are not configured on this server"))
		return false
	}
	return true
}

// loadFleet reads what the lifecycle views need.
func (s *Server) loadFleet(ctx context.Context) (*lifecycle.Fleet, error) {
	return lifecycle.Load(ctx, lifecycle.Sources{
		Devices: s.devices, Findings: s.findings, Vulns: s.vulns, EOL: s.eol, Checks: s.checks, Firmware: s.firmwareDates,
	})
}

func (s *Server) handleListEOL(w http.ResponseWriter, r *http.Request) {
	if !s.lifecycleReady(w, r) {
		return
	}
	list, err := s.eol.FindEOL(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if list == nil {
		list = []*firmward.EOLEntry{}
	}
	s.writeJSON(w, r, http.StatusOK, EOLList{Entries: list})
}

func (s *Server) handleSetEOL(w http.ResponseWriter, r *http.Request) {
	if !s.lifecycleReady(w, r) {
		return
	}
	var e firmward.EOLEntry
	if err := decodeJSON(w, r, &e); err != nil {
		s.writeError(w, r, err)
		return
	}
	e.ID = 0
	if err := s.eol.SetEOL(r.Context(), &e); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, &e)
}

func (s *Server) handleImportEOL(w http.ResponseWriter, r *http.Request) {
	if !s.lifecycleReady(w, r) {
		return
	}
	q, err := parseQuery(r.URL.RawQuery, paramNames(eolImportParams))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	format, err := importFormat(q, r.Header.Get("Content-Type"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	body := &limitedBody{r: http.MaxBytesReader(w, r.Body, s.maxImport)}
	rows, err := lifecycle.ReadEOL(body, format)
	if body.over {
		err = tooLarge(&http.MaxBytesError{Limit: s.maxImport}, s.maxImport)
	}
	if err != nil {
		if firmward.ErrorCode(err) == firmward.EINTERNAL {
			err = firmward.Errorf(firmward.EINVALID, "cannot read the uploaded %s: %s", format, err.Error())
		}
		s.writeError(w, r, err)
		return
	}
	res, err := s.eol.ImportEOL(r.Context(), rows)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, res)
}

func (s *Server) handleDeleteEOL(w http.ResponseWriter, r *http.Request) {
	if !s.lifecycleReady(w, r) {
		return
	}
	id, err := idParam(r.PathValue("id"), "end-of-support entry")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.eol.DeleteEOL(r.Context(), id); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleListOpenFirmware(w http.ResponseWriter, r *http.Request) {
	if !s.lifecycleReady(w, r) {
		return
	}
	list, err := lifecycle.OpenFirmware(r.Context(), s.eol)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if list == nil {
		list = []*firmward.OpenFirmwareModel{}
	}
	s.writeJSON(w, r, http.StatusOK, OpenFirmwareList{Models: list})
}

func (s *Server) handleSetOpenFirmware(w http.ResponseWriter, r *http.Request) {
	if !s.lifecycleReady(w, r) {
		return
	}
	var m firmward.OpenFirmwareModel
	if err := decodeJSON(w, r, &m); err != nil {
		s.writeError(w, r, err)
		return
	}
	m.ID = 0
	if err := s.eol.SetOpenFirmware(r.Context(), &m); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, &m)
}

func (s *Server) handleDeleteOpenFirmware(w http.ResponseWriter, r *http.Request) {
	if !s.lifecycleReady(w, r) {
		return
	}
	id, err := idParam(r.PathValue("id"), "open-firmware entry")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.eol.DeleteOpenFirmware(r.Context(), id); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleOrphans(w http.ResponseWriter, r *http.Request) {
	if !s.lifecycleReady(w, r) {
		return
	}
	q, err := parseQuery(r.URL.RawQuery, paramNames(orphanParams))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	all, err := boolParam(q, "all")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	policy := s.lifecyclePolicy
	if raw := q.get("stale_months"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > 240 {
			s.writeError(w, r, paramError("stale_months", raw, "must be a whole number of months, 1 to 240"))
			return
		}
		policy.StaleMonths = n
	}
	fl, err := s.loadFleet(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	now := s.now().UTC()
	as := fl.Assessments(policy, now, !all)
	if as == nil {
		as = []lifecycle.Assessment{}
	}
	stale := policy.StaleMonths
	if stale == 0 {
		stale = lifecycle.DefaultStaleMonths
	}
	s.writeJSON(w, r, http.StatusOK, OrphanReport{StaleMonths: stale, Time: now, Assessments: as})
}

func (s *Server) handleDeviceLifecycle(w http.ResponseWriter, r *http.Request) {
	if !s.lifecycleReady(w, r) {
		return
	}
	id, err := idParam(r.PathValue("id"), "device")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if _, err := s.devices.FindDeviceByID(r.Context(), id); err != nil {
		s.writeError(w, r, err)
		return
	}
	fl, err := s.loadFleet(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	d := fl.Device(id)
	if d == nil {
		s.writeError(w, r, firmward.Errorf(firmward.ENOTFOUND, "device %d not found", id))
		return
	}
	s.writeJSON(w, r, http.StatusOK, lifecycle.Assess(fl.Facts(d), s.lifecyclePolicy, s.now().UTC()))
}

func (s *Server) handleSetOperationalValue(w http.ResponseWriter, r *http.Request) {
	if !s.lifecycleReady(w, r) {
		return
	}
	id, err := idParam(r.PathValue("id"), "device")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req OperationalValueRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	a, err := s.eol.SetOperationalValue(r.Context(), id, req.Value, req.Note)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, a)
}
