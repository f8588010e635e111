package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/firmward/firmward"
)

// deviceEventsLen is how many audit events the device page shows.
const deviceEventsLen = 20

// listView is the data of the device list.
type listView struct {
	Q, Manufacturer, Site, Tag string
	Categories                 []option
	Criticalities              []option
	Exposures                  []option
	Mechanisms                 []option
	Missing                    []option
	Filtered                   bool // any filter is set
	Devices                    []*firmward.Device
	From                       int // number of devices on earlier pages
	NextHref                   string
	FirstHref                  string // set on later pages
	Error                      string
}

// First and Last number the devices of the page for "Devices 51–100".
func (v listView) First() int { return v.From + 1 }
func (v listView) Last() int  { return v.From + len(v.Devices) }

func selectOptions(opts []option, current string) []option {
	for i := range opts {
		opts[i].Selected = opts[i].Value == current
	}
	return opts
}

func (h *Handler) deviceList(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	get := func(k string) string { return strings.TrimSpace(q.Get(k)) }
	f := firmward.DeviceFilter{
		Category:        firmward.Category(get("category")),
		Criticality:     firmward.Criticality(get("criticality")),
		Exposure:        firmward.Exposure(get("exposure")),
		UpdateMechanism: firmward.UpdateMechanism(get("update_mechanism")),
		Manufacturer:    get("manufacturer"),
		Site:            get("site"),
		Tag:             get("tag"),
		Query:           get("q"),
		Missing:         get("missing"),
	}
	if after, err := strconv.ParseInt(get("after"), 10, 64); err == nil && after > 0 {
		f.After = after
	}
	if limit, err := strconv.Atoi(get("limit")); err == nil && limit > 0 {
		f.Limit = min(limit, firmward.MaxPageSize)
	}
	v := listView{
		Q: f.Query, Manufacturer: f.Manufacturer, Site: f.Site, Tag: f.Tag,
		Categories:    selectOptions(enumOptions(firmward.Categories, "Any category"), string(f.Category)),
		Criticalities: selectOptions(enumOptions(firmward.Criticalities, "Any criticality"), string(f.Criticality)),
		Exposures:     selectOptions(enumOptions(firmward.Exposures, "Any exposure"), string(f.Exposure)),
		Mechanisms:    selectOptions(enumOptions(firmward.UpdateMechanisms, "Any mechanism"), string(f.UpdateMechanism)),
		Missing: selectOptions([]option{
			{Value: "", Label: "Anything"},
			{Value: "firmware_version", Label: "Firmware version unknown"},
			{Value: "update_mechanism", Label: "Update mechanism unknown"},
		}, f.Missing),
	}
	v.Filtered = f.Category != "" || f.Criticality != "" || f.Exposure != "" || f.UpdateMechanism != "" ||
		f.Manufacturer != "" || f.Site != "" || f.Tag != "" || f.Query != "" || f.Missing != ""
	if from, err := strconv.Atoi(get("from")); err == nil && from > 0 && f.After > 0 {
		v.From = from
	}
	devs, next, err := h.devices.FindDevices(r.Context(), f)
	switch {
	case firmward.ErrorCode(err) == firmward.EINVALID:
		v.Error = firmward.ErrorMessage(err)
	case err != nil:
		h.serverError(w, r, s, fmt.Errorf("finding devices: %w", err))
		return
	}
	v.Devices = devs
	if next != 0 {
		nq := cloneQuery(q)
		nq.Set("after", strconv.FormatInt(next, 10))
		nq.Set("from", strconv.Itoa(v.From+len(devs)))
		v.NextHref = "/devices?" + nq.Encode()
	}
	if f.After > 0 {
		fq := cloneQuery(q)
		fq.Del("after")
		fq.Del("from")
		v.FirstHref = "/devices"
		if len(fq) > 0 {
			v.FirstHref += "?" + fq.Encode()
		}
	}
	h.render(w, r, s, http.StatusOK, "devices", view{Title: "Devices", Nav: "devices", Page: v})
}

// cloneQuery copies the non-empty parameters of q.
func cloneQuery(q url.Values) url.Values {
	out := url.Values{}
	for k, vs := range q {
		if len(vs) > 0 && strings.TrimSpace(vs[0]) != "" {
			out.Set(k, vs[0])
		}
	}
	return out
}

// deviceView is the data of a device page.
type deviceView struct {
	Device     *firmward.Device
	CPE        cpePanel
	Vulns      vulnSection
	Events     []*firmward.AuditEvent
	MoreEvents bool
}

// findDevice loads the device named by the {id} of the path; when there is
// none it answers the request and returns nil.
func (h *Handler) findDevice(w http.ResponseWriter, r *http.Request, s *session) *firmward.Device {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.errorPage(w, r, s, http.StatusNotFound, "Device not found", "There is no device at this address.")
		return nil
	}
	d, err := h.devices.FindDeviceByID(r.Context(), id)
	if err != nil {
		if firmward.ErrorCode(err) == firmward.ENOTFOUND {
			h.errorPage(w, r, s, http.StatusNotFound, "Device not found",
				"There is no device with this number. It may have been deleted.")
			return nil
		}
		h.serverError(w, r, s, fmt.Errorf("finding device %d: %w", id, err))
		return nil
	}
	return d
}

func (h *Handler) showDevice(w http.ResponseWriter, r *http.Request, s *session) {
	if d := h.findDevice(w, r, s); d != nil {
		h.renderDevice(w, r, s, http.StatusOK, d.ID, nil)
	}
}

// renderDevice shows device id's page; failed, when not nil, is a finding
// whose status form was refused, shown with the user's input and errors.
func (h *Handler) renderDevice(w http.ResponseWriter, r *http.Request, s *session, status int, id int64, failed *findingRow) {
	h.renderDevicePage(w, r, s, status, id, failed, nil)
}

// renderDeviceCPE shows device id's page with a refused CPE choice in its
// CPE section.
func (h *Handler) renderDeviceCPE(w http.ResponseWriter, r *http.Request, s *session, status int, id int64, in *cpeInput) {
	h.renderDevicePage(w, r, s, status, id, nil, in)
}

// renderDevicePage shows device id's page, with a refused finding form
// (failed) or CPE choice (cpeIn) when not nil.
func (h *Handler) renderDevicePage(w http.ResponseWriter, r *http.Request, s *session, status int, id int64, failed *findingRow, cpeIn *cpeInput) {
	d, err := h.devices.FindDeviceByID(r.Context(), id)
	if err != nil {
		h.serviceError(w, r, s, fmt.Errorf("finding device %d: %w", id, err))
		return
	}
	events, next, err := h.audit.FindAuditEvents(r.Context(), firmward.AuditFilter{
		ObjectType: "device", ObjectID: strconv.FormatInt(d.ID, 10), Newest: true, Limit: deviceEventsLen,
	})
	if err != nil {
		h.serverError(w, r, s, fmt.Errorf("finding audit events of device %d: %w", d.ID, err))
		return
	}
	vulns, err := h.deviceVulns(r, d.ID, failed)
	if err != nil {
		h.serverError(w, r, s, err)
		return
	}
	h.render(w, r, s, status, "device", view{
		Title: d.Name, Nav: "devices",
		Page: deviceView{Device: d, CPE: h.cpePanelFor(r, d, cpeIn), Vulns: vulns, Events: events, MoreEvents: next != 0},
	})
}

// formView is the data of the add and edit forms.
type formView struct {
	Heading   string
	Action    string
	Submit    string
	Cancel    string
	Device    *firmward.Device // nil when adding
	Fieldsets []fieldset
	Errors    []string // problems not tied to one field
	HasErrors bool
}

func (h *Handler) renderForm(w http.ResponseWriter, r *http.Request, s *session, status int, d *firmward.Device, v formValues, err error, details []firmward.ErrorDetail) {
	fv := formView{Heading: "Add a device", Action: "/devices", Submit: "Add device", Cancel: "/devices", Device: d}
	title := "Add device"
	nav := "new"
	if d != nil {
		fv.Heading, fv.Action, fv.Submit = "Edit "+d.Name, fmt.Sprintf("/devices/%d", d.ID), "Save changes"
		fv.Cancel, title, nav = fv.Action, "Edit "+d.Name, "devices"
	}
	var fieldErrs map[string][]string
	if err != nil || len(details) > 0 {
		fieldErrs, fv.Errors = formErrors(err, details)
		fv.HasErrors = true
	}
	fv.Fieldsets = v.fieldsets(fieldErrs)
	h.render(w, r, s, status, "form", view{Title: title, Nav: nav, Page: fv})
}

func (h *Handler) newDevice(w http.ResponseWriter, r *http.Request, s *session) {
	h.renderForm(w, r, s, http.StatusOK, nil, formValues{
		"category": string(firmward.CategoryOther), "criticality": string(firmward.CriticalityMedium),
		"exposure": string(firmward.ExposureInternal), "auto_update": string(firmward.AutoUpdateUnknown),
	}, nil, nil)
}

func (h *Handler) editDevice(w http.ResponseWriter, r *http.Request, s *session) {
	if d := h.findDevice(w, r, s); d != nil {
		h.renderForm(w, r, s, http.StatusOK, d, valuesFromDevice(d), nil, nil)
	}
}

// parseDevice builds a device from a posted form. When the text cannot
// become a device, it validates the rest too, so that the user sees every
// problem at once, and returns the details.
func parseDevice(v formValues) (firmward.Device, []firmward.ErrorDetail) {
	d, problems := v.device()
	if len(problems) == 0 {
		return d, nil
	}
	check := d
	return d, append(problems, firmward.ErrorDetails(check.Normalize())...)
}

// formFailed answers a refused add or edit: the form again, with the
// user's input and the errors, or an error page for other failures.
func (h *Handler) formFailed(w http.ResponseWriter, r *http.Request, s *session, d *firmward.Device, v formValues, err error) {
	switch firmward.ErrorCode(err) {
	case firmward.EINVALID, firmward.ECONFLICT:
		h.renderForm(w, r, s, http.StatusUnprocessableEntity, d, v, err, firmward.ErrorDetails(err))
	default:
		h.serviceError(w, r, s, err)
	}
}

func (h *Handler) createDevice(w http.ResponseWriter, r *http.Request, s *session) {
	v := valuesFromRequest(r)
	d, problems := parseDevice(v)
	if len(problems) > 0 {
		h.renderForm(w, r, s, http.StatusUnprocessableEntity, nil, v, nil, problems)
		return
	}
	d.Source = firmward.SourceManual
	if err := h.devices.CreateDevice(r.Context(), &d); err != nil {
		h.formFailed(w, r, s, nil, v, err)
		return
	}
	h.log.InfoContext(r.Context(), "web: device added", "device", d.ID, "token", s.token.ID)
	h.flash(w, fmt.Sprintf("Added %s.", d.Name))
	http.Redirect(w, r, fmt.Sprintf("/devices/%d", d.ID), http.StatusSeeOther)
}

func (h *Handler) updateDevice(w http.ResponseWriter, r *http.Request, s *session) {
	old := h.findDevice(w, r, s)
	if old == nil {
		return
	}
	v := valuesFromRequest(r)
	d, problems := parseDevice(v)
	if len(problems) > 0 {
		h.renderForm(w, r, s, http.StatusUnprocessableEntity, old, v, nil, problems)
		return
	}
	saved, err := h.devices.UpdateDevice(r.Context(), old.ID, fullUpdate(&d))
	if err != nil {
		h.formFailed(w, r, s, old, v, err)
		return
	}
	h.flash(w, fmt.Sprintf("Saved the changes to %s.", saved.Name))
	http.Redirect(w, r, fmt.Sprintf("/devices/%d", saved.ID), http.StatusSeeOther)
}

func (h *Handler) confirmDelete(w http.ResponseWriter, r *http.Request, s *session) {
	if d := h.findDevice(w, r, s); d != nil {
		h.render(w, r, s, http.StatusOK, "delete", view{Title: "Delete " + d.Name, Nav: "devices", Page: d})
	}
}

func (h *Handler) deleteDevice(w http.ResponseWriter, r *http.Request, s *session) {
	d := h.findDevice(w, r, s)
	if d == nil {
		return
	}
	if err := h.devices.DeleteDevice(r.Context(), d.ID); err != nil {
		h.serviceError(w, r, s, fmt.Errorf("deleting device %d: %w", d.ID, err))
		return
	}
	h.log.InfoContext(r.Context(), "web: device deleted", "device", d.ID, "token", s.token.ID)
	h.flash(w, fmt.Sprintf("Deleted %s.", d.Name))
	http.Redirect(w, r, "/devices", http.StatusSeeOther)
}
