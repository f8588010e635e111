package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/firmward/firmward"
)

// Lengths of the lists of the scans page.
const (
	scanRunsShown      = 20
	scanAlertsShown    = 50
	scanConflictsShown = 100
	scanHostsShown     = firmward.MaxPageSize
)

// scansView is the data of the scans page: recent runs, the start form,
// devices newly seen and conflicts awaiting review.
type scansView struct {
	CanScan   bool // the server has a scanner
	Runs      []*firmward.ScanRun
	NewSeen   []*firmward.Alert
	Conflicts []conflictRow
	Form      scanForm
}

// scanForm is the state of the start-a-scan form.
type scanForm struct {
	CIDR, Interface, Site, Communities string
	Errors                             []string
}

// conflictRow is one conflict with its device.
type conflictRow struct {
	*firmward.Conflict
	Device *firmward.Device // nil when the device was deleted
}

// scanView is the data of one run's page.
type scanView struct {
	Run    *firmward.ScanRun
	Hosts  []*firmward.Observation
	Capped bool
}

// scansReady answers the discovery pages of a UI wired without discovery.
func (h *Handler) scansReady(w http.ResponseWriter, r *http.Request, s *session) bool {
	if h.scans == nil || h.alerts == nil {
		h.errorPage(w, r, s, http.StatusNotFound, "Scans are not available", "This server was started without network discovery.")
		return false
	}
	return true
}

func (h *Handler) scansPage(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.scansReady(w, r, s) {
		return
	}
	h.renderScans(w, r, s, http.StatusOK, scanForm{})
}

// renderScans shows the scans page with form as the start form's state.
func (h *Handler) renderScans(w http.ResponseWriter, r *http.Request, s *session, status int, form scanForm) {
	ctx := r.Context()
	disc := h.scans.Discovery()
	v := scansView{CanScan: h.scans.CanScan(), Form: form}
	var err error
	if v.Runs, _, err = disc.FindScanRuns(ctx, firmward.ScanRunFilter{Limit: scanRunsShown}); err != nil {
		h.serverError(w, r, s, fmt.Errorf("listing scan runs: %w", err))
		return
	}
	if v.NewSeen, _, err = h.alerts.FindAlerts(ctx, firmward.AlertFilter{Kind: firmward.AlertDeviceNew, Unacked: true, Limit: scanAlertsShown}); err != nil {
		h.serverError(w, r, s, fmt.Errorf("listing new devices: %w", err))
		return
	}
	conflicts, _, err := disc.FindConflicts(ctx, firmward.ConflictFilter{Status: firmward.ConflictOpen, Limit: scanConflictsShown})
	if err != nil {
		h.serverError(w, r, s, fmt.Errorf("listing conflicts: %w", err))
		return
	}
	devices := map[int64]*firmward.Device{}
	for _, c := range conflicts {
		d, ok := devices[c.DeviceID]
		if !ok {
			d, err = h.devices.FindDeviceByID(ctx, c.DeviceID)
			if err != nil && firmward.ErrorCode(err) != firmward.ENOTFOUND {
				h.serverError(w, r, s, fmt.Errorf("finding device %d: %w", c.DeviceID, err))
				return
			}
			devices[c.DeviceID] = d
		}
		v.Conflicts = append(v.Conflicts, conflictRow{Conflict: c, Device: d})
	}
	h.render(w, r, s, status, "scans", view{Title: "Scans", Nav: "scans", Page: v})
}

func (h *Handler) scanPage(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.scansReady(w, r, s) {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.errorPage(w, r, s, http.StatusNotFound, "Scan not found", "There is no scan at this address.")
		return
	}
	disc := h.scans.Discovery()
	run, err := disc.FindScanRunByID(r.Context(), id)
	if err != nil {
		h.serviceError(w, r, s, err)
		return
	}
	hosts, next, err := disc.FindObservations(r.Context(), firmward.ObservationFilter{RunID: id, Limit: scanHostsShown})
	if err != nil {
		h.serverError(w, r, s, fmt.Errorf("listing the hosts of scan %d: %w", id, err))
		return
	}
	h.render(w, r, s, http.StatusOK, "scan", view{Title: "Scan " + run.CIDR, Nav: "scans", Page: scanView{Run: run, Hosts: hosts, Capped: next != 0}})
}

// startScan starts a scan from the form and shows its page; a refused
// request shows the scans page again with the reasons.
func (h *Handler) startScan(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.scansReady(w, r, s) {
		return
	}
	get := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	form := scanForm{CIDR: get("cidr"), Interface: get("interface"), Site: get("site"), Communities: get("communities")}
	req := firmward.ScanRequest{CIDR: form.CIDR, Interface: form.Interface, Site: form.Site}
	for c := range strings.FieldsFuncSeq(form.Communities, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' }) {
		req.Options.Communities = append(req.Options.Communities, c)
	}
	run, err := h.scans.Start(r.Context(), req, firmward.TriggerWeb)
	if err != nil {
		switch firmward.ErrorCode(err) {
		case firmward.EINVALID, firmward.ECONFLICT:
		default:
			h.serverError(w, r, s, fmt.Errorf("starting a scan: %w", err))
			return
		}
		if details := firmward.ErrorDetails(err); len(details) > 0 {
			for _, d := range details {
				form.Errors = append(form.Errors, d.String())
			}
		} else {
			form.Errors = []string{firmward.ErrorMessage(err)}
		}
		h.renderScans(w, r, s, http.StatusUnprocessableEntity, form)
		return
	}
	h.log.InfoContext(r.Context(), "web: scan started", "run", run.ID, "cidr", run.CIDR, "token", s.token.ID)
	h.flash(w, fmt.Sprintf("Scanning %s. Reload this page to see what it finds.", run.CIDR))
	http.Redirect(w, r, fmt.Sprintf("/scans/%d", run.ID), http.StatusSeeOther)
}

// resolveConflict accepts or rejects a conflict and goes back to the
// scans page.
func (h *Handler) resolveConflict(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.scansReady(w, r, s) {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.errorPage(w, r, s, http.StatusNotFound, "Conflict not found", "There is no conflict at this address.")
		return
	}
	var accept bool
	switch r.PathValue("verb") {
	case "accept":
		accept = true
	case "reject":
	default:
		h.notFound(w, r)
		return
	}
	c, err := h.scans.Ingester().ResolveConflict(r.Context(), id, accept)
	if err != nil {
		if firmward.ErrorCode(err) == firmward.ECONFLICT {
			h.flash(w, firmward.ErrorMessage(err)+".")
			http.Redirect(w, r, "/scans#conflicts", http.StatusSeeOther)
			return
		}
		h.serviceError(w, r, s, err)
		return
	}
	msg := fmt.Sprintf("Kept %q as the %s of device %d.", c.Current, label(strings.ReplaceAll(c.Field, "_", " ")), c.DeviceID)
	if accept {
		msg = fmt.Sprintf("Device %d's %s is now %q.", c.DeviceID, strings.ReplaceAll(c.Field, "_", " "), c.Proposed)
	}
	h.flash(w, msg)
	http.Redirect(w, r, "/scans#conflicts", http.StatusSeeOther)
}

// ackAlert acknowledges an alert and goes back to the scans page.
func (h *Handler) ackAlert(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.scansReady(w, r, s) {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.errorPage(w, r, s, http.StatusNotFound, "Alert not found", "There is no alert at this address.")
		return
	}
	if _, err := h.alerts.AcknowledgeAlert(r.Context(), id); err != nil {
		h.serviceError(w, r, s, err)
		return
	}
	h.flash(w, "Marked as seen.")
	http.Redirect(w, r, "/scans#new", http.StatusSeeOther)
}
