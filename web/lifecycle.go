package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/lifecycle"
)

// The lifecycle pages (issue 7): the health-check walk-through (/checks,
// /checks/{id}), orphaned devices with their risk assessment
// (/lifecycle) and the procurement page (/vendors).

// lifecycleOn reports whether the lifecycle services are configured; when
// not, it answers 404.
func (h *Handler) lifecycleOn(w http.ResponseWriter, r *http.Request, s *session) bool {
	if h.eol == nil || h.checks == nil {
		h.errorPage(w, r, s, http.StatusNotFound, "Not available", "Lifecycle features are not configured on this server.")
		return false
	}
	return true
}

func (h *Handler) loadFleet(r *http.Request) (*lifecycle.Fleet, error) {
	return lifecycle.Load(r.Context(), lifecycle.Sources{
		Devices: h.devices, Findings: h.findings, Vulns: h.vulns, EOL: h.eol, Checks: h.checks,
	})
}

// checksView is the data of the checks page.
type checksView struct {
	Due        []lifecycle.CheckStatus
	Ok         []lifecycle.CheckStatus
	NextID     int64
	Rules      []firmward.CheckCadence
	Categories []firmward.Category
}

func (h *Handler) checksPage(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.lifecycleOn(w, r, s) {
		return
	}
	fl, err := h.loadFleet(r)
	if err != nil {
		h.serverError(w, r, s, err)
		return
	}
	v := checksView{Rules: fl.Cadences, Categories: firmward.Categories}
	for _, st := range fl.CheckStatuses(h.now().UTC()) {
		if st.Due {
			v.Due = append(v.Due, st)
		} else {
			v.Ok = append(v.Ok, st)
		}
	}
	if len(v.Due) > 0 {
		v.NextID = v.Due[0].DeviceID
	}
	h.render(w, r, s, http.StatusOK, "checks", view{Title: "Health checks", Nav: "checks", Page: v})
}

// setCadence sets (months > 0) or removes (action remove) the cadence of a
// site and category.
func (h *Handler) setCadence(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.lifecycleOn(w, r, s) {
		return
	}
	site := strings.TrimSpace(r.PostFormValue("site"))
	cat := firmward.Category(r.PostFormValue("category"))
	var err error
	var msg string
	if r.PostFormValue("action") == "remove" {
		err = h.checks.DeleteCheckCadence(r.Context(), site, cat)
		msg = "Cadence rule removed."
	} else {
		months, convErr := strconv.Atoi(strings.TrimSpace(r.PostFormValue("months")))
		if convErr != nil {
			months = 0 // refused below with the field named
		}
		err = h.checks.SetCheckCadence(r.Context(), firmward.CheckCadence{Site: site, Category: cat, Months: months})
		msg = fmt.Sprintf("Devices of this rule are now checked every %d months.", months)
	}
	if err != nil {
		switch firmward.ErrorCode(err) {
		case firmward.EINVALID, firmward.ENOTFOUND:
			var reasons []string
			for _, d := range firmward.ErrorDetails(err) {
				reasons = append(reasons, d.Field+": "+d.Reason)
			}
			if len(reasons) == 0 {
				reasons = append(reasons, firmward.ErrorMessage(err))
			}
			h.errorPage(w, r, s, http.StatusUnprocessableEntity, "Cadence not saved", sentence(strings.Join(reasons, "; "))+". Go back and try again.")
		default:
			h.serviceError(w, r, s, fmt.Errorf("setting a check cadence: %w", err))
		}
		return
	}
	h.flash(w, msg)
	http.Redirect(w, r, "/checks#cadences", http.StatusSeeOther)
}

// checkView is the data of one device's guided check.
type checkView struct {
	Device    *firmward.Device
	Status    lifecycle.CheckStatus
	Steps     []stepView
	Hint      lifecycle.Hint
	History   []*firmward.HealthCheck
	Note      string
	NoteErrs  []string
	Other     []string
	Remaining int // due checks after this one
}

// stepView is one step of the guided check as the form shows it.
type stepView struct {
	lifecycle.ChecklistStep
	Number  int
	Choices []choiceView // radio choices; none for the version's text field
	Value   string
	Errors  []string
}

// choiceView is one radio choice.
type choiceView struct {
	ID, Value, Label string
	Checked          bool
}

// answerChoices are the radio choices of each yes/no step.
var answerChoices = map[string][]string{
	"admin_found":              {firmward.AnswerYes, firmward.AnswerNo},
	"auto_update":              {firmward.AnswerYes, firmward.AnswerNo, firmward.AnswerNA},
	"default_password_changed": {firmward.AnswerYes, firmward.AnswerNo, firmward.AnswerUnknown},
}

// choiceLabel is the words of an answer.
func choiceLabel(a string) string {
	switch a {
	case firmward.AnswerYes:
		return "Yes"
	case firmward.AnswerNo:
		return "No"
	case firmward.AnswerNA:
		return "Not available on this device"
	}
	return "I can't tell"
}

func (h *Handler) checkPage(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.lifecycleOn(w, r, s) {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.errorPage(w, r, s, http.StatusNotFound, "Device not found", "There is no device at this address.")
		return
	}
	h.renderCheck(w, r, s, http.StatusOK, id, nil, nil)
}

// renderCheck renders the guided check of device id, with the answers and
// errors of a refused submission when there are some.
func (h *Handler) renderCheck(w http.ResponseWriter, r *http.Request, s *session, status int, id int64, answers map[string]string, err error) {
	ctx := r.Context()
	d, derr := h.devices.FindDeviceByID(ctx, id)
	if derr != nil {
		h.serviceError(w, r, s, fmt.Errorf("finding device %d: %w", id, derr))
		return
	}
	rules, rerr := h.checks.FindCheckCadences(ctx)
	if rerr != nil {
		h.serverError(w, r, s, rerr)
		return
	}
	hist, herr := h.checks.FindHealthChecks(ctx, id)
	if herr != nil {
		h.serverError(w, r, s, herr)
		return
	}
	var last *firmward.HealthCheck
	for _, c := range hist {
		if c.Complete {
			last = c
			break
		}
	}
	v := checkView{
		Device: d, Status: lifecycle.Status(rules, d, last, h.now().UTC()),
		Hint: lifecycle.HintFor(d.Manufacturer), History: hist, Note: answers["note"],
	}
	if len(v.History) > 5 {
		v.History = v.History[:5]
	}
	errs := map[string][]string{}
	for _, dd := range firmward.ErrorDetails(err) {
		errs[dd.Field] = append(errs[dd.Field], sentence(dd.Reason))
	}
	if err != nil && len(firmward.ErrorDetails(err)) == 0 {
		v.Other = append(v.Other, firmward.ErrorMessage(err))
	}
	v.NoteErrs = errs["note"]
	for i, st := range lifecycle.Checklist(d) {
		sv := stepView{ChecklistStep: st, Number: i + 1, Value: answers[st.Field], Errors: errs[st.Field]}
		for _, c := range answerChoices[st.Field] {
			sv.Choices = append(sv.Choices, choiceView{ID: st.Field + "-" + c, Value: c, Label: choiceLabel(c), Checked: sv.Value == c})
		}
		v.Steps = append(v.Steps, sv)
	}
	if fl, lerr := h.loadFleet(r); lerr == nil {
		for _, st := range fl.CheckStatuses(h.now().UTC()) {
			if st.Due && st.DeviceID != id {
				v.Remaining++
			}
		}
	}
	h.render(w, r, s, status, "check", view{Title: "Health check: " + d.Name, Nav: "checks", Page: v})
}

// recordCheck stores the answers of the guided check (each one audited),
// updates the device when the person confirmed another version or
// automatic-update setting, and goes on to the next due device.
func (h *Handler) recordCheck(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.lifecycleOn(w, r, s) {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.errorPage(w, r, s, http.StatusNotFound, "Device not found", "There is no device at this address.")
		return
	}
	get := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	answers := map[string]string{
		"admin_found": get("admin_found"), "auto_update": get("auto_update"),
		"default_password_changed": get("default_password_changed"), "firmware_version": get("firmware_version"), "note": get("note"),
	}
	hc := &firmward.HealthCheck{
		DeviceID: id, Source: firmward.CheckByPerson, AdminFound: answers["admin_found"], AutoUpdate: answers["auto_update"],
		DefaultPassword: answers["default_password_changed"], FirmwareVersion: answers["firmware_version"], Note: answers["note"],
	}
	changes, err := lifecycle.RecordCheck(r.Context(), h.devices, h.checks, hc)
	if err != nil {
		if firmward.ErrorCode(err) == firmward.EINVALID {
			h.renderCheck(w, r, s, http.StatusUnprocessableEntity, id, answers, err)
			return
		}
		h.serviceError(w, r, s, fmt.Errorf("recording the check of device %d: %w", id, err))
		return
	}
	h.log.InfoContext(r.Context(), "web: health check recorded", "device", id, "complete", hc.Complete, "token", s.token.ID)
	name := "device " + strconv.FormatInt(id, 10)
	if d, err := h.devices.FindDeviceByID(r.Context(), id); err == nil {
		name = d.Name
	}
	msg := "Check of " + name + " recorded."
	if !hc.Complete {
		msg = "Answers for " + name + " recorded. The check stays due until the firmware version and the automatic-update setting are confirmed."
	}
	for _, c := range changes {
		switch c.Field {
		case "firmware_version":
			msg += " Its firmware version is now " + c.New + "."
		case "auto_update":
			msg += " Automatic updates: " + c.New + "."
		}
	}
	h.flash(w, msg)
	if !hc.Complete {
		http.Redirect(w, r, fmt.Sprintf("/checks/%d", id), http.StatusSeeOther)
		return
	}
	next := "/checks"
	if fl, err := h.loadFleet(r); err == nil {
		for _, st := range fl.CheckStatuses(h.now().UTC()) {
			if st.Due && st.DeviceID != id {
				next = fmt.Sprintf("/checks/%d", st.DeviceID)
				break
			}
		}
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// orphansView is the data of the lifecycle page.
type orphansView struct {
	Assessments []lifecycle.Assessment
	StaleMonths int
	Values      []firmward.OperationalValue
}

func (h *Handler) lifecyclePage(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.lifecycleOn(w, r, s) {
		return
	}
	fl, err := h.loadFleet(r)
	if err != nil {
		h.serverError(w, r, s, err)
		return
	}
	stale := h.lifecyclePolicy.StaleMonths
	if stale <= 0 {
		stale = lifecycle.DefaultStaleMonths
	}
	v := orphansView{Assessments: fl.Assessments(h.lifecyclePolicy, h.now().UTC(), true), StaleMonths: stale, Values: firmward.OperationalValues}
	h.render(w, r, s, http.StatusOK, "lifecycle", view{Title: "End of life", Nav: "lifecycle", Page: v})
}

// setValue stores the owner's operational value of a device.
func (h *Handler) setValue(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.lifecycleOn(w, r, s) {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.errorPage(w, r, s, http.StatusNotFound, "Device not found", "There is no device at this address.")
		return
	}
	a, err := h.eol.SetOperationalValue(r.Context(), id, firmward.OperationalValue(r.PostFormValue("value")), r.PostFormValue("note"))
	if err != nil {
		if firmward.ErrorCode(err) == firmward.EINVALID {
			h.errorPage(w, r, s, http.StatusUnprocessableEntity, "Not saved", "Choose low, medium or high. "+firmward.ErrorMessage(err))
			return
		}
		h.serviceError(w, r, s, fmt.Errorf("setting the value of device %d: %w", id, err))
		return
	}
	h.flash(w, fmt.Sprintf("Operational value of device %d: %s. The recommendation below takes it into account.", id, a.Value))
	http.Redirect(w, r, fmt.Sprintf("/lifecycle#device-%d", id), http.StatusSeeOther)
}

// vendorsView is the data of the procurement page.
type vendorsView struct {
	Category   firmward.Category
	Categories []firmward.Category
	Vendors    []rankedVendor
	BadInput   string
}

// rankedVendor is a vendor record with its place in the ranking.
type rankedVendor struct {
	Rank int
	lifecycle.VendorRecord
}

func (h *Handler) vendorsPage(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.lifecycleOn(w, r, s) {
		return
	}
	v := vendorsView{Categories: firmward.Categories}
	if c := r.URL.Query().Get("category"); c != "" {
		for _, known := range firmward.Categories {
			if string(known) == c {
				v.Category = known
			}
		}
		if v.Category == "" {
			v.BadInput = c
		}
	}
	fl, err := h.loadFleet(r)
	if err != nil {
		h.serverError(w, r, s, err)
		return
	}
	for i, rec := range fl.VendorRecords(v.Category) {
		v.Vendors = append(v.Vendors, rankedVendor{Rank: i + 1, VendorRecord: rec})
	}
	title := "Vendor support record"
	if v.Category != "" {
		title = "Before you buy: " + label(string(v.Category))
	}
	h.render(w, r, s, http.StatusOK, "vendors", view{Title: title, Nav: "vendors", Page: v})
}
