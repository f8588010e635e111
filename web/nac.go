package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/nac"
)

// NACConfig gives the UI the quarantine page (/nac).
type NACConfig struct {
	Store nac.Store
	// Reconcile re-evaluates devices at once after a person's action, so
	// that the network (CoA, webhook) learns; nil waits for the next pass.
	Reconcile func(ctx context.Context, ids ...int64) error
	// PolicyChanged asks for every device to be re-evaluated soon after a
	// site's settings changed; nil waits for the next periodic pass.
	PolicyChanged func()
}

// nacView is the data of the quarantine page.
type nacView struct {
	Report  *nac.Report
	Rows    []nacRow
	IsAdmin bool
	Sites   []sitePolicyForm
	Today   string // min of the exemption date fields
	Levels  []string
}

// nacRow is one device of the page.
type nacRow struct {
	nac.DeviceReport
	StateWord string // quarantined, would-quarantine, needs-approval, exempt, compliant
	Monitor   string // in monitor mode: what enforce mode would do
}

// sitePolicyForm is one site's settings form.
type sitePolicyForm struct {
	nac.Policy
	Stored  bool
	VLANs   string // segment=VLAN lines
	Subnets string // segment=prefix lines
}

func (h *Handler) nacReady(w http.ResponseWriter, r *http.Request, s *session) bool {
	if h.nac == nil || h.nac.Store == nil {
		h.errorPage(w, r, s, http.StatusNotFound, "Quarantine is not available", "This server was started without network access control.")
		return false
	}
	return true
}

func (h *Handler) nacPage(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.nacReady(w, r, s) {
		return
	}
	ctx := r.Context()
	rep, err := nac.BuildReport(ctx, h.nac.Store, h.devices, "")
	if err != nil {
		h.serverError(w, r, s, fmt.Errorf("building the NAC report: %w", err))
		return
	}
	v := nacView{
		Report: rep, IsAdmin: s.token.Role.Includes(firmward.RoleAdmin), Today: h.now().UTC().Format(time.DateOnly),
		Levels: []string{firmward.DecisionImmediate, firmward.DecisionOutOfCycle, firmward.DecisionScheduled, firmward.DecisionDefer},
	}
	for _, d := range rep.Devices {
		row := nacRow{DeviceReport: d, StateWord: stateWord(d.Decision)}
		if d.Decision.Quarantine && !d.Decision.Enforced {
			p, err := h.nac.Store.SitePolicy(ctx, d.Site)
			if err != nil {
				h.serverError(w, r, s, err)
				return
			}
			if p.QuarantineVLAN == "" {
				row.Monitor = "enforce mode would reject it (no quarantine VLAN)"
			} else {
				row.Monitor = "enforce mode would move it to quarantine VLAN " + p.QuarantineVLAN + " and disconnect it"
			}
		}
		v.Rows = append(v.Rows, row)
	}
	stored := map[string]bool{}
	for _, p := range rep.Policies {
		stored[p.Site] = true
		v.Sites = append(v.Sites, policyForm(p, true))
	}
	// Sites of listed devices without a stored policy run on the default.
	for _, d := range rep.Devices {
		if !stored[d.Site] {
			stored[d.Site] = true
			v.Sites = append(v.Sites, policyForm(nac.EnterprisePolicy(d.Site), false))
		}
	}
	if !stored[nac.DefaultSite] {
		v.Sites = append(v.Sites, policyForm(nac.EnterprisePolicy(nac.DefaultSite), false))
	}
	h.render(w, r, s, http.StatusOK, "nac", view{Title: "Quarantine", Nav: "nac", Page: v})
}

func stateWord(d nac.Decision) string {
	switch {
	case d.Enforced:
		return "quarantined"
	case d.Quarantine:
		return "would-quarantine"
	case d.NeedsApproval:
		return "needs-approval"
	case d.Exempt != "":
		return "exempt"
	}
	return "compliant"
}

func policyForm(p nac.Policy, stored bool) sitePolicyForm {
	lines := func(m map[string]string) string {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var b strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&b, "%s=%s\n", k, m[k])
		}
		return b.String()
	}
	return sitePolicyForm{Policy: p, Stored: stored, VLANs: lines(p.VLANs), Subnets: lines(p.Subnets)}
}

// nacAction handles the buttons of a device row: quarantine, release,
// exempt (operator) and approve (admin).
func (h *Handler) nacAction(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.nacReady(w, r, s) {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.errorPage(w, r, s, http.StatusNotFound, "Device not found", "There is no device at this address.")
		return
	}
	ctx := r.Context()
	get := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	store := h.nac.Store
	verb := r.PathValue("verb")
	var done string
	switch verb {
	case "quarantine":
		_, err = store.Quarantine(ctx, id, get("reason"))
		done = "quarantined"
	case "release":
		_, err = store.Release(ctx, id, get("reason"))
		done = "released"
	case "exempt":
		var until time.Time
		if u := get("until"); u != "" {
			t, perr := time.Parse(time.DateOnly, u)
			if perr != nil {
				err = firmward.Errorf(firmward.EINVALID, "until %q is not a date", u)
				break
			}
			until = t.AddDate(0, 0, 1) // to the end of that day
		} else {
			err = firmward.Errorf(firmward.EINVALID, "give the date the exemption ends")
			break
		}
		_, err = store.Exempt(ctx, id, firmward.NACExemption{Reason: get("reason"), Owner: get("owner"), Until: until})
		done = "exempt until " + get("until")
	case "approve":
		if !s.token.Role.Includes(firmward.RoleAdmin) {
			h.forbidden(w, r, s)
			return
		}
		_, err = store.Approve(ctx, id, get("reason"))
		done = "approved for quarantine"
	default:
		h.notFound(w, r)
		return
	}
	if err != nil {
		switch firmward.ErrorCode(err) {
		case firmward.EINVALID, firmward.ECONFLICT, firmward.ENOTFOUND:
			h.flash(w, "Not done: "+sentence(flashText(err)))
			http.Redirect(w, r, "/nac", http.StatusSeeOther)
		default:
			h.serverError(w, r, s, fmt.Errorf("nac %s of device %d: %w", verb, id, err))
		}
		return
	}
	msg := fmt.Sprintf("Device %d %s.", id, done)
	if h.nac.Reconcile != nil {
		if err := h.nac.Reconcile(ctx, id); err != nil {
			msg += " Telling the network failed; firmward retries at its next pass: " + firmward.ErrorMessage(err)
		}
	}
	h.log.InfoContext(ctx, "web: nac action", "device", id, "action", verb, "token", s.token.ID)
	h.flash(w, msg)
	http.Redirect(w, r, "/nac", http.StatusSeeOther)
}

// flashText is an error's message with its details, short enough for a
// flash.
func flashText(err error) string {
	msg := firmward.ErrorMessage(err)
	for _, d := range firmward.ErrorDetails(err) {
		msg += "; " + d.String()
	}
	if len(msg) > 400 {
		msg = msg[:400] + "…"
	}
	return msg
}

// nacSite saves a site's settings (admin).
func (h *Handler) nacSite(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.nacReady(w, r, s) {
		return
	}
	ctx := r.Context()
	get := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	site := get("site")
	if site == "" {
		site = r.PathValue("site")
	}
	p, err := h.nac.Store.SitePolicy(ctx, site)
	if err != nil {
		h.serverError(w, r, s, err)
		return
	}
	p.Site = site
	p.Mode = nac.Mode(get("mode"))
	p.QuarantineVLAN = get("quarantine_vlan")
	p.Unknown = nac.Unknown{Action: nac.UnknownAction(get("unknown_action")), VLAN: get("unknown_vlan")}
	if p.Unknown.Action == nac.UnknownReject {
		p.Unknown.VLAN = ""
	}
	on := func(k string) bool { return r.PostFormValue(k) == "on" }
	p.Rules = nac.Rules{
		Overdue: on("overdue"), OverdueLevel: get("overdue_level"), OverdueKEV: on("overdue_kev"),
		KEVInternetFacing: on("kev_internet_facing"), EndOfLife: on("end_of_life"), Unreviewed: on("unreviewed"),
	}
	var bad []string
	if p.VLANs, bad = parseLines(r.PostFormValue("vlans")); len(bad) > 0 {
		h.flash(w, "Not saved: VLAN lines must read segment=VLAN: "+strings.Join(bad, ", "))
		http.Redirect(w, r, "/nac#site-settings", http.StatusSeeOther)
		return
	}
	if p.Subnets, bad = parseLines(r.PostFormValue("subnets")); len(bad) > 0 {
		h.flash(w, "Not saved: subnet lines must read segment=prefix: "+strings.Join(bad, ", "))
		http.Redirect(w, r, "/nac#site-settings", http.StatusSeeOther)
		return
	}
	if err := h.nac.Store.SetSitePolicy(ctx, p); err != nil {
		if firmward.ErrorCode(err) == firmward.EINVALID {
			h.flash(w, "Not saved: "+flashText(err))
			http.Redirect(w, r, "/nac#site-settings", http.StatusSeeOther)
			return
		}
		h.serverError(w, r, s, err)
		return
	}
	h.log.InfoContext(ctx, "web: nac site policy", "site", site, "mode", p.Mode, "token", s.token.ID)
	if h.nac.PolicyChanged != nil {
		h.nac.PolicyChanged()
	}
	h.flash(w, fmt.Sprintf("Site %s: %s mode saved. Devices are re-evaluated in the background.", site, p.Mode))
	http.Redirect(w, r, "/nac#site-settings", http.StatusSeeOther)
}

// parseLines reads "key=value" lines; blank lines are skipped, bad ones
// returned.
func parseLines(s string) (map[string]string, []string) {
	out := map[string]string{}
	var bad []string
	for line := range strings.Lines(s) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || v == "" {
			bad = append(bad, strconv.Quote(line))
			continue
		}
		out[k] = v
	}
	return out, bad
}

// nacQuarantineForm is the "quarantine by hand" form: the device ID comes
// in the body.
func (h *Handler) nacQuarantineForm(w http.ResponseWriter, r *http.Request, s *session) {
	r.SetPathValue("id", strings.TrimSpace(r.PostFormValue("id")))
	r.SetPathValue("verb", "quarantine")
	h.nacAction(w, r, s)
}
