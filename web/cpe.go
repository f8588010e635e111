package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/vuln"
)

// choiceOwn is the value of the radio button for a name typed by the user.
const choiceOwn = "own"

// cpePanel is the device page's "CPE name" section: the device's own cpe,
// the names matching uses, firmward's proposal from manufacturer and
// model, and the form that confirms, picks, types or clears the name.
type cpePanel struct {
	Current     string        // the device's cpe; "" when none
	InUse       vuln.Proposal // what matching uses now
	Proposal    vuln.Proposal // from manufacturer and model
	Options     []cpeOption   // proposed names to pick from
	OwnChecked  bool
	Own, Reason string
	Errors      map[string][]string // field → messages
	Other       []string            // problems not tied to a field
	Unavailable bool                // the catalog could not be read: proposals from the alias table only
}

// cpeOption is one radio button of the CPE form.
type cpeOption struct {
	ID, Part string
	vuln.Candidate
	Checked bool
}

// Pct is the confidence as a percentage.
func (o cpeOption) Pct() string { return strconv.Itoa(int(o.Confidence*100+0.5)) + "%" }

// cpeInput is what the user sent in the CPE form, to show again with
// errors when it was refused.
type cpeInput struct {
	Choice, Own, Reason string
	err                 error
}

// cpePanelFor builds the panel of device d; in, when not nil, is a refused
// submission to show again.
func (h *Handler) cpePanelFor(r *http.Request, d *firmward.Device, in *cpeInput) cpePanel {
	cat, err := h.catalog(r)
	p := cpePanel{Current: d.CPE, Unavailable: err != nil}
	if err != nil {
		h.log.ErrorContext(r.Context(), "web: loading the product catalog", "device", d.ID, "err", err)
	}
	p.InUse = vuln.Propose(cat, *d)
	p.Proposal = proposeFor(cat, *d)
	selected := d.CPE
	if in != nil {
		selected, p.Own, p.Reason = in.Choice, in.Own, in.Reason
		p.Errors, p.Other = cpeErrors(in.err)
	}
	add := func(part string, c vuln.Candidate) {
		if c.CPE == "" {
			return
		}
		o := cpeOption{ID: "cpe-opt-" + strconv.Itoa(len(p.Options)), Part: part, Candidate: c}
		o.Checked = strings.EqualFold(selected, c.CPE)
		p.Options = append(p.Options, o)
	}
	add("Firmware", p.Proposal.Firmware)
	add("Hardware", p.Proposal.Hardware)
	for _, a := range p.Proposal.Alternatives {
		part := "Firmware"
		if strings.HasPrefix(a.CPE, "cpe:2.3:h:") {
			part = "Hardware"
		}
		add(part, a)
	}
	checked := false
	for _, o := range p.Options {
		checked = checked || o.Checked
	}
	switch {
	case in != nil && in.Choice == choiceOwn:
		p.OwnChecked = true
	case !checked && d.CPE != "" && in == nil:
		// The device's own name is none of the proposals.
		p.OwnChecked, p.Own = true, d.CPE
	case !checked && len(p.Options) > 0 && in == nil:
		p.Options[0].Checked = true
	}
	return p
}

// catalog returns the product catalog, nil without Config.Catalog.
func (h *Handler) catalog(r *http.Request) (*vuln.Catalog, error) {
	if h.catalogFn == nil {
		return nil, nil
	}
	cat, err := h.catalogFn(r.Context())
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

// cpeErrors sorts the details of a refused choice by form field.
func cpeErrors(err error) (map[string][]string, []string) {
	if err == nil {
		return nil, nil
	}
	fields := map[string][]string{}
	var general []string
	for _, d := range firmward.ErrorDetails(err) {
		switch d.Field {
		case "cpe", "reason":
			fields[d.Field] = append(fields[d.Field], sentence(d.Reason)+".")
		default:
			general = append(general, d.String())
		}
	}
	if len(fields)+len(general) == 0 {
		general = append(general, firmward.ErrorMessage(err))
	}
	return fields, general
}

// setCPE applies the CPE form of a device: the "confirm" button sets the
// cpe to the chosen proposal or the typed name, "clear" removes it. The
// device changes through the device service (audited as an edit) and the
// choice is recorded as ActionDeviceCPEConfirm with how it relates to the
// proposal. A refused name shows the page again with the errors.
func (h *Handler) setCPE(w http.ResponseWriter, r *http.Request, s *session) {
	d := h.findDevice(w, r, s)
	if d == nil {
		return
	}
	get := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	in := cpeInput{Choice: get("choice"), Own: get("own"), Reason: get("reason")}
	cpe := ""
	if get("action") != "clear" {
		cpe = in.Choice
		if in.Choice == choiceOwn {
			cpe = in.Own
		}
		if cpe == "" {
			in.err = &firmward.Error{Code: firmward.EINVALID, Message: "no CPE name chosen", Details: []firmward.ErrorDetail{{
				Field: "cpe", Reason: "choose one of the proposed names or type your own",
			}}}
		}
	}
	var reason string
	if in.err == nil {
		cpe, reason, in.err = vuln.CheckChoice(cpe, in.Reason)
	}
	if in.err != nil {
		h.renderDeviceCPE(w, r, s, http.StatusUnprocessableEntity, d.ID, &in)
		return
	}
	cat, err := h.catalog(r)
	if err != nil {
		h.serverError(w, r, s, err)
		return
	}
	choice := vuln.Choose(proposeFor(cat, *d), d.ID, d.CPE, cpe, reason)
	if d.CPE != cpe {
		if d, err = h.devices.UpdateDevice(r.Context(), d.ID, firmward.DeviceUpdate{CPE: &cpe}); err != nil {
			if firmward.ErrorCode(err) == firmward.EINVALID {
				in.err = err
				h.renderDeviceCPE(w, r, s, http.StatusUnprocessableEntity, choice.DeviceID, &in)
				return
			}
			h.serviceError(w, r, s, fmt.Errorf("updating the cpe of device %d: %w", choice.DeviceID, err))
			return
		}
	}
	if err := h.audit.RecordAudit(r.Context(), choice.AuditEvent()); err != nil {
		h.serverError(w, r, s, fmt.Errorf("recording the CPE choice of device %d: %w", d.ID, err))
		return
	}
	h.log.InfoContext(r.Context(), "web: device cpe chosen", "device", d.ID, "choice", choice.Choice, "cpe", cpe, "token", s.token.ID)
	switch choice.Choice {
	case vuln.ChoiceCleared:
		h.flash(w, "CPE name cleared: firmward's proposal is used again. Run the assessment to match the device with it.")
	default:
		h.flash(w, fmt.Sprintf("CPE name set (%s). Run the assessment to match the device with it.", label(choice.Choice)))
	}
	http.Redirect(w, r, fmt.Sprintf("/devices/%d#cpe", d.ID), http.StatusSeeOther)
}
