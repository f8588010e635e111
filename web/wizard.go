package web

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/lifecycle"
	"github.com/firmward/firmward/seed"
	"github.com/firmward/firmward/vuln"
)

// The first-run wizard (/setup, issue 7 requirement 6): (1) home or
// organisation, stored as the setup.mode setting; (2) add devices: scan a
// local /24 the person picks (proposed from the server's own interfaces;
// nothing is scanned without the person's click), tick devices of the
// seed catalog, or type them; (3) a reminder channel through the notify
// service, skippable. Only admins may run it, and only while setup is not
// done and either the inventory is empty or the wizard was started; it can
// be skipped at any step, which marks setup done.

// Wizard steps, in order.
const (
	stepMode    = "mode"
	stepDevices = "devices"
	stepNotify  = "notify"
)

// maxWizardNets bounds the /24s proposed for a scan.
const maxWizardNets = 8

// wizardView is the data of the wizard page.
type wizardView struct {
	Step     string
	StepNo   int
	Mode     string
	Modes    []string
	Nets     []string // proposed /24s of the server's interfaces
	CanScan  bool
	Catalog  []catalogItem
	Devices  []addedDevice // added so far
	More     bool
	Types    []firmward.ChannelType
	CanNotif bool
	Errors   []string
	Typed    typedDevice
	Channel  channelForm
}

// channelForm is the state of the reminder channel form (the secret is
// never sent back).
type channelForm struct {
	Type, Name, URL, Topic, SMTPHost, SMTPPort, SMTPUser, From string
}

// addedDevice is one row of the wizard's "devices so far".
type addedDevice struct {
	ID         int64
	Name       string
	MakerModel string
	Firmware   string
}

// catalogItem is one model of the seed catalog offered as a checkbox.
type catalogItem struct {
	Key          string // manufacturer/model, the form value
	Display      string // manufacturer and model for a person
	Name         string
	Manufacturer string
	Model        string
	Category     firmward.Category
	Example      string // a firmware version of the model, as a hint
	Auto         firmward.AutoUpdate
}

// typedDevice is the state of the type-a-device form.
type typedDevice struct {
	Name, Manufacturer, Model, Firmware, Category string
	Categories                                    []firmward.Category
}

// setupState says where setup stands.
type setupState struct {
	Done  bool
	Mode  string // "" before step 1
	Total int64  // devices in the inventory
}

// open reports whether the wizard may run: not finished or skipped, and
// either started or the inventory still empty (an older installation with
// devices is never sent through it).
func (st setupState) open() bool { return !st.Done && (st.Mode != "" || st.Total == 0) }

// setupState reads the settings and the inventory size.
func (h *Handler) setupState(ctx context.Context) (setupState, error) {
	var st setupState
	if h.settings == nil {
		return setupState{Done: true}, nil
	}
	_, err := h.settings.Setting(ctx, firmward.SettingSetupDone)
	switch {
	case err == nil:
		st.Done = true
	case firmward.ErrorCode(err) != firmward.ENOTFOUND:
		return st, fmt.Errorf("reading setup state: %w", err)
	}
	mode, err := h.settings.Setting(ctx, firmward.SettingSetupMode)
	switch {
	case err == nil:
		st.Mode = mode
	case firmward.ErrorCode(err) != firmward.ENOTFOUND:
		return st, fmt.Errorf("reading setup mode: %w", err)
	}
	stats, err := h.devices.DeviceStats(ctx)
	if err != nil {
		return st, fmt.Errorf("device stats: %w", err)
	}
	st.Total = stats.Total
	return st, nil
}

// wizardGate checks that the session may run the wizard now; otherwise it
// answers and returns false.
func (h *Handler) wizardGate(w http.ResponseWriter, r *http.Request, s *session) (setupState, bool) {
	if h.settings == nil {
		h.errorPage(w, r, s, http.StatusNotFound, "Not available", "The setup wizard is not configured on this server.")
		return setupState{}, false
	}
	if !s.token.Role.Includes(firmward.RoleAdmin) {
		h.errorPage(w, r, s, http.StatusForbidden, "Not allowed",
			fmt.Sprintf("Only an admin may set firmward up; your token %q has the %s role.", s.token.Name, s.token.Role))
		return setupState{}, false
	}
	st, err := h.setupState(r.Context())
	if err != nil {
		h.serverError(w, r, s, err)
		return st, false
	}
	if !st.open() {
		h.flash(w, "Setup is already done. Add devices and channels from the menu.")
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return st, false
	}
	return st, true
}

func (h *Handler) wizardPage(w http.ResponseWriter, r *http.Request, s *session) {
	st, ok := h.wizardGate(w, r, s)
	if !ok {
		return
	}
	step := r.URL.Query().Get("step")
	if !slices.Contains([]string{stepMode, stepDevices, stepNotify}, step) || st.Mode == "" {
		step = stepMode
	}
	h.renderWizard(w, r, s, http.StatusOK, st, step, nil, typedDevice{})
}

func (h *Handler) renderWizard(w http.ResponseWriter, r *http.Request, s *session, status int, st setupState, step string, errs []string, typed typedDevice) {
	h.renderWizardView(w, r, s, status, st, step, errs, typed, channelForm{})
}

// renderWizardForm shows step 3 again with a refused channel form.
func (h *Handler) renderWizardForm(w http.ResponseWriter, r *http.Request, s *session, st setupState, errs []string, form channelForm) {
	h.renderWizardView(w, r, s, http.StatusUnprocessableEntity, st, stepNotify, errs, typedDevice{}, form)
}

func (h *Handler) renderWizardView(w http.ResponseWriter, r *http.Request, s *session, status int, st setupState, step string, errs []string, typed typedDevice, form channelForm) {
	v := wizardView{
		Channel: form,
		Step:    step, Mode: st.Mode, Modes: []string{firmward.SetupModeHome, firmward.SetupModeOrganisation},
		Errors: errs, Typed: typed, Types: firmward.ChannelTypes, CanNotif: h.notify != nil,
	}
	v.StepNo = slices.Index([]string{stepMode, stepDevices, stepNotify}, step) + 1
	v.Typed.Categories = firmward.Categories
	if step == stepDevices {
		v.CanScan = h.scans != nil && h.scans.CanScan()
		if v.CanScan {
			v.Nets = h.localNets()
		}
		v.Catalog = homeCatalog()
		devs, next, err := h.devices.FindDevices(r.Context(), firmward.DeviceFilter{Limit: 50})
		if err != nil {
			h.serverError(w, r, s, fmt.Errorf("listing devices: %w", err))
			return
		}
		for _, d := range devs {
			v.Devices = append(v.Devices, addedDevice{ID: d.ID, Name: d.Name, MakerModel: lifecycle.MakerModel(d.Manufacturer, d.Model), Firmware: d.FirmwareVersion})
		}
		v.More = next != 0
	}
	h.render(w, r, s, status, "wizard", view{Title: "Set up firmward", Page: v})
}

// localNets proposes the /24 of each IPv4 address of the server's
// interfaces (not loopback or link-local), at most maxWizardNets.
func (h *Handler) localNets() []string {
	var addrs []netip.Prefix
	if h.localAddrs != nil {
		addrs = h.localAddrs()
	} else {
		ifaddrs, err := net.InterfaceAddrs()
		if err != nil {
			h.log.Warn("web: listing interface addresses", "err", err)
			return nil
		}
		for _, a := range ifaddrs {
			if n, ok := a.(*net.IPNet); ok {
				if p, err := netip.ParsePrefix(n.String()); err == nil {
					addrs = append(addrs, p)
				}
			}
		}
	}
	return proposeNets(addrs, maxWizardNets)
}

// proposeNets returns the distinct /24s holding the private or global
// IPv4 addresses of addrs, in order, at most limit.
func proposeNets(addrs []netip.Prefix, limit int) []string {
	var out []string
	for _, p := range addrs {
		a := p.Addr().Unmap()
		if !a.Is4() || a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsUnspecified() || a.IsMulticast() {
			continue
		}
		n, err := a.Prefix(24)
		if err != nil {
			continue
		}
		if s := n.String(); !slices.Contains(out, s) && len(out) < limit {
			out = append(out, s)
		}
	}
	return out
}

// homeCatalog is the checklist of common devices: the models of
// seed.Home, once each.
func homeCatalog() []catalogItem {
	var out []catalogItem
	seen := map[string]bool{}
	for _, d := range seed.Home() {
		k := catalogKey(d.Manufacturer, d.Model)
		if seen[k] || d.Model == "" {
			continue
		}
		seen[k] = true
		out = append(out, catalogItem{
			Key: k, Display: lifecycle.MakerModel(d.Manufacturer, d.Model), Name: d.Name, Manufacturer: d.Manufacturer, Model: d.Model,
			Category: d.Category, Example: d.FirmwareVersion, Auto: d.AutoUpdate,
		})
	}
	return out
}

func catalogKey(manufacturer, model string) string { return manufacturer + "/" + model }

// catalogDevice turns a ticked catalog model into a new device: the
// model's typical settings (category, criticality, exposure, update path,
// automatic updates) and its firmware CPE without a version, so that the
// firmware version the person typed decides the match. Addresses, serials
// and the sample firmware version are not copied: they belong to the
// sample home, not to the person's.
func catalogDevice(d firmward.Device, firmware string) firmward.Device {
	n := firmward.Device{
		Name: d.Name, Manufacturer: d.Manufacturer, Model: d.Model, HardwareVersion: d.HardwareVersion,
		FirmwareVersion: firmware, Category: d.Category, Criticality: d.Criticality, Exposure: d.Exposure,
		UpdateMechanism: d.UpdateMechanism, AutoUpdate: d.AutoUpdate, Tags: slices.Clone(d.Tags), Source: firmward.SourceManual,
	}
	if d.CPE != "" {
		if c, err := vuln.ParseCPE(d.CPE); err == nil {
			c.Version = vuln.Attr{Kind: vuln.Any}
			n.CPE = c.String()
		}
	}
	return n
}

// setupMode stores step 1.
func (h *Handler) setupMode(w http.ResponseWriter, r *http.Request, s *session) {
	st, ok := h.wizardGate(w, r, s)
	if !ok {
		return
	}
	mode := r.PostFormValue("mode")
	if mode != firmward.SetupModeHome && mode != firmward.SetupModeOrganisation {
		h.renderWizard(w, r, s, http.StatusUnprocessableEntity, st, stepMode, []string{"Choose home or organisation."}, typedDevice{})
		return
	}
	if err := h.settings.SetSetting(r.Context(), firmward.SettingSetupMode, mode); err != nil {
		h.serverError(w, r, s, fmt.Errorf("storing the setup mode: %w", err))
		return
	}
	http.Redirect(w, r, "/setup?step="+stepDevices, http.StatusSeeOther)
}

// setupScan starts a scan of one of the proposed /24s, on the person's
// click; any other range is refused (the scans page takes those).
func (h *Handler) setupScan(w http.ResponseWriter, r *http.Request, s *session) {
	st, ok := h.wizardGate(w, r, s)
	if !ok {
		return
	}
	if h.scans == nil || !h.scans.CanScan() {
		h.renderWizard(w, r, s, http.StatusUnprocessableEntity, st, stepDevices, []string{"This server cannot scan the network."}, typedDevice{})
		return
	}
	cidr := strings.TrimSpace(r.PostFormValue("cidr"))
	if !slices.Contains(h.localNets(), cidr) {
		h.renderWizard(w, r, s, http.StatusUnprocessableEntity, st, stepDevices,
			[]string{fmt.Sprintf("%q is not one of the server's own networks. Pick one of the list, or use the Scans page for other ranges.", cidr)}, typedDevice{})
		return
	}
	site := ""
	if st.Mode == firmward.SetupModeHome {
		site = seed.HomeSite
	}
	run, err := h.scans.Start(r.Context(), firmward.ScanRequest{CIDR: cidr, Site: site}, firmward.TriggerWeb)
	if err != nil {
		if c := firmward.ErrorCode(err); c == firmward.EINVALID || c == firmward.ECONFLICT {
			h.renderWizard(w, r, s, http.StatusUnprocessableEntity, st, stepDevices, []string{firmward.ErrorMessage(err)}, typedDevice{})
			return
		}
		h.serverError(w, r, s, fmt.Errorf("starting a scan: %w", err))
		return
	}
	h.log.InfoContext(r.Context(), "web: setup scan started", "run", run.ID, "cidr", run.CIDR, "token", s.token.ID)
	h.flash(w, fmt.Sprintf("Scanning %s (scan %d). Devices it finds join the inventory; reload this page in a minute.", run.CIDR, run.ID))
	http.Redirect(w, r, "/setup?step="+stepDevices, http.StatusSeeOther)
}

// setupCatalog adds the ticked catalog models, all or none.
func (h *Handler) setupCatalog(w http.ResponseWriter, r *http.Request, s *session) {
	st, ok := h.wizardGate(w, r, s)
	if !ok {
		return
	}
	byKey := map[string]firmward.Device{}
	var order []string
	for _, d := range seed.Home() {
		k := catalogKey(d.Manufacturer, d.Model)
		if _, dup := byKey[k]; !dup {
			byKey[k] = d
			order = append(order, k)
		}
	}
	picked := r.PostForm["pick"]
	var rows []firmward.ImportRow
	var errs []string
	for i, k := range order {
		if !slices.Contains(picked, k) {
			continue
		}
		fw := strings.TrimSpace(r.PostFormValue("fw-" + strconv.Itoa(i)))
		if len(fw) > 200 {
			errs = append(errs, byKey[k].Name+": the firmware version is longer than 200 characters.")
			continue
		}
		rows = append(rows, firmward.ImportRow{Line: len(rows) + 1, Device: catalogDevice(byKey[k], fw)})
	}
	for _, k := range picked {
		if _, ok := byKey[k]; !ok {
			errs = append(errs, fmt.Sprintf("%q is not in the catalog.", k))
		}
	}
	if len(rows) == 0 && len(errs) == 0 {
		errs = append(errs, "Tick at least one device.")
	}
	if len(errs) > 0 {
		h.renderWizard(w, r, s, http.StatusUnprocessableEntity, st, stepDevices, errs, typedDevice{})
		return
	}
	if st.Mode == firmward.SetupModeHome {
		for i := range rows {
			rows[i].Device.Site = seed.HomeSite
		}
	}
	res, err := h.devices.ImportDevices(r.Context(), rows, firmward.ImportOptions{})
	if err != nil {
		if firmward.ErrorCode(err) == firmward.EINVALID || firmward.ErrorCode(err) == firmward.ECONFLICT {
			for _, d := range firmward.ErrorDetails(err) {
				errs = append(errs, d.String())
			}
			if len(errs) == 0 {
				errs = append(errs, firmward.ErrorMessage(err))
			}
			h.renderWizard(w, r, s, http.StatusUnprocessableEntity, st, stepDevices, errs, typedDevice{})
			return
		}
		h.serverError(w, r, s, fmt.Errorf("adding catalog devices: %w", err))
		return
	}
	h.flash(w, fmt.Sprintf("Added %d %s.", res.Created, pluralWord(res.Created, "device", "devices")))
	http.Redirect(w, r, "/setup?step="+stepDevices, http.StatusSeeOther)
}

// setupDevice adds one typed device.
func (h *Handler) setupDevice(w http.ResponseWriter, r *http.Request, s *session) {
	st, ok := h.wizardGate(w, r, s)
	if !ok {
		return
	}
	get := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	t := typedDevice{Name: get("name"), Manufacturer: get("manufacturer"), Model: get("model"), Firmware: get("firmware"), Category: get("category")}
	d := &firmward.Device{Name: t.Name, Manufacturer: t.Manufacturer, Model: t.Model, FirmwareVersion: t.Firmware, Category: firmward.Category(t.Category)}
	if st.Mode == firmward.SetupModeHome {
		d.Site = seed.HomeSite
	}
	if err := h.devices.CreateDevice(r.Context(), d); err != nil {
		if c := firmward.ErrorCode(err); c != firmward.EINVALID && c != firmward.ECONFLICT {
			h.serverError(w, r, s, fmt.Errorf("adding a device: %w", err))
			return
		}
		var errs []string
		for _, det := range firmward.ErrorDetails(err) {
			errs = append(errs, det.String())
		}
		if len(errs) == 0 {
			errs = append(errs, firmward.ErrorMessage(err))
		}
		h.renderWizard(w, r, s, http.StatusUnprocessableEntity, st, stepDevices, errs, t)
		return
	}
	h.flash(w, fmt.Sprintf("Added %s.", d.Name))
	http.Redirect(w, r, "/setup?step="+stepDevices, http.StatusSeeOther)
}

// setupChannel adds the reminder channel and finishes setup.
func (h *Handler) setupChannel(w http.ResponseWriter, r *http.Request, s *session) {
	st, ok := h.wizardGate(w, r, s)
	if !ok {
		return
	}
	if h.notify == nil {
		h.renderWizard(w, r, s, http.StatusUnprocessableEntity, st, stepNotify, []string{"Notifications are not configured on this server."}, typedDevice{})
		return
	}
	get := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	form := channelForm{
		Type: get("type"), Name: get("name"), URL: get("url"), Topic: get("topic"),
		SMTPHost: get("smtp_host"), SMTPPort: get("smtp_port"), SMTPUser: get("smtp_user"), From: get("from"),
	}
	port, _ := strconv.Atoi(form.SMTPPort)
	ch := &firmward.NotifyChannel{
		Name: form.Name, Type: firmward.ChannelType(form.Type), Enabled: true,
		SMTPHost: form.SMTPHost, SMTPPort: port, SMTPUser: form.SMTPUser, From: form.From,
		URL: form.URL, Topic: form.Topic, Secret: r.PostFormValue("secret"),
	}
	if ch.Name == "" {
		ch.Name = "Reminders"
	}
	if err := h.notify.CreateChannel(r.Context(), ch); err != nil {
		if c := firmward.ErrorCode(err); c != firmward.EINVALID && c != firmward.ECONFLICT {
			h.serverError(w, r, s, fmt.Errorf("adding a channel: %w", err))
			return
		}
		var errs []string
		for _, d := range firmward.ErrorDetails(err) {
			errs = append(errs, d.Field+": "+d.Reason)
		}
		if len(errs) == 0 {
			errs = append(errs, firmward.ErrorMessage(err))
		}
		h.renderWizardForm(w, r, s, st, errs, form)
		return
	}
	h.finishSetup(w, r, s, fmt.Sprintf("Setup done. Reminders go to channel %q; add who receives what under Notifications.", ch.Name))
}

// setupFinish finishes (or skips) setup.
func (h *Handler) setupFinish(w http.ResponseWriter, r *http.Request, s *session) {
	st, ok := h.wizardGate(w, r, s)
	if !ok {
		return
	}
	msg := "Setup done."
	if r.PostFormValue("skip") != "" {
		msg = "Setup skipped. Everything it does is also in the menu."
		if st.Mode == "" {
			// Skipping at step 1 keeps the organisation dashboard.
			if err := h.settings.SetSetting(r.Context(), firmward.SettingSetupMode, firmward.SetupModeOrganisation); err != nil {
				h.serverError(w, r, s, fmt.Errorf("storing the setup mode: %w", err))
				return
			}
		}
	}
	h.finishSetup(w, r, s, msg)
}

func (h *Handler) finishSetup(w http.ResponseWriter, r *http.Request, s *session, msg string) {
	if err := h.settings.SetSetting(r.Context(), firmward.SettingSetupDone, h.now().UTC().Format("2006-01-02T15:04:05Z07:00")); err != nil {
		h.serverError(w, r, s, fmt.Errorf("marking setup done: %w", err))
		return
	}
	h.flash(w, msg)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// homeMode reports whether the installation was set up for a home.
func (h *Handler) homeMode(ctx context.Context) (bool, error) {
	if h.settings == nil {
		return false, nil
	}
	mode, err := h.settings.Setting(ctx, firmward.SettingSetupMode)
	if firmward.ErrorCode(err) == firmward.ENOTFOUND {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading setup mode: %w", err)
	}
	return mode == firmward.SetupModeHome, nil
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
