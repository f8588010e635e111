package httpapi

import (
	"context"
	"fmt"
	"net/http"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/vuln"
)

// DeviceCPE is what GET /api/v1/devices/{id}/cpe answers: the device's own
// cpe ("" when it has none), the names matching uses now (InUse: the
// device's cpe when set, else the proposal), and what firmward proposes
// from the manufacturer and model whatever the device's cpe (Proposal,
// with its confidence, alternatives and explanation). CatalogProducts is
// the number of products in the imported data the proposal was made from.
type DeviceCPE struct {
	DeviceID        int64         `json:"device_id"`
	CPE             string        `json:"cpe"`
	InUse           vuln.Proposal `json:"in_use"`
	Proposal        vuln.Proposal `json:"proposal"`
	CatalogProducts int           `json:"catalog_products"`
}

// CPERequest is the body of PUT /api/v1/devices/{id}/cpe: the CPE 2.3 name
// a person confirms, picks among the alternatives or types, and why.
type CPERequest struct {
	CPE    string `json:"cpe"`
	Reason string `json:"reason,omitempty"`
}

// CPEResult is what PUT and DELETE /api/v1/devices/{id}/cpe answer: the
// choice as audited and the device as stored.
type CPEResult struct {
	Choice vuln.CPEChoice   `json:"choice"`
	Device *firmward.Device `json:"device"`
}

// reasonParam is DELETE's optional reason.
var reasonParam = stringParam("reason", "Why (recorded in the audit trail).")

// catalogFor returns the catalog of imported products; nil (alias table
// only) when the server has no Catalog.
func (s *Server) catalogFor(ctx context.Context) (*vuln.Catalog, error) {
	if s.catalog == nil {
		return nil, nil
	}
	cat, err := s.catalog(ctx)
	if err != nil {
		return nil, fmt.Errorf("loading the product catalog: %w", err)
	}
	return cat, nil
}

// proposeFor returns what firmward proposes for d from its manufacturer and
// model, ignoring d's own cpe.
func proposeFor(cat *vuln.Catalog, d firmward.Device) vuln.Proposal {
	d.CPE = ""
	return vuln.Propose(cat, d)
}

func (s *Server) handleGetDeviceCPE(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r.PathValue("id"), "device")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	d, err := s.devices.FindDeviceByID(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	cat, err := s.catalogFor(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := DeviceCPE{DeviceID: d.ID, CPE: d.CPE, InUse: vuln.Propose(cat, *d), Proposal: proposeFor(cat, *d)}
	if cat != nil {
		out.CatalogProducts = cat.Len()
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

func (s *Server) handleSetDeviceCPE(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r.PathValue("id"), "device")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req CPERequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	cpe, reason, err := vuln.CheckChoice(req.CPE, req.Reason)
	if err == nil && cpe == "" {
		err = &firmward.Error{
			Code:    firmward.EINVALID,
			Message: "cpe is required: send the CPE 2.3 name to use, or DELETE " + apiPrefix + "/devices/{id}/cpe to clear it",
			Details: []firmward.ErrorDetail{{Field: "cpe", Reason: "is required"}},
		}
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.chooseCPE(w, r, id, cpe, reason)
}

func (s *Server) handleClearDeviceCPE(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r.PathValue("id"), "device")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q, err := parseQuery(r.URL.RawQuery, paramNames([]param{reasonParam}))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	_, reason, err := vuln.CheckChoice("", q.get("reason"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.chooseCPE(w, r, id, "", reason)
}

// chooseCPE sets device id's cpe to cpe ("" clears it) through the device
// service, which audits the change like any edit, then records the
// ActionDeviceCPEConfirm event saying how the choice relates to the
// proposal. The event is recorded even when the cpe was already that
// name: the person confirmed it again.
func (s *Server) chooseCPE(w http.ResponseWriter, r *http.Request, id int64, cpe, reason string) {
	ctx := r.Context()
	d, err := s.devices.FindDeviceByID(ctx, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	cat, err := s.catalogFor(ctx)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	choice := vuln.Choose(proposeFor(cat, *d), d.ID, d.CPE, cpe, reason)
	if d.CPE != cpe {
		if d, err = s.devices.UpdateDevice(ctx, id, firmward.DeviceUpdate{CPE: &cpe}); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	if err := s.audit.RecordAudit(ctx, choice.AuditEvent()); err != nil {
		s.writeError(w, r, fmt.Errorf("recording the CPE choice of device %d: %w", id, err))
		return
	}
	s.logger.InfoContext(ctx, "device cpe chosen", "device", id, "choice", choice.Choice, "cpe", cpe)
	s.writeJSON(w, r, http.StatusOK, CPEResult{Choice: choice, Device: d})
}
