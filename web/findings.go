package web

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/vuln"
)

// Limits of the vulnerability views.
const (
	// riskDays is how many days the overdue chart of the risk page shows.
	riskDays = 30
	// riskUrgentLen is how many findings the risk page lists.
	riskUrgentLen = 25
	// riskVendorLen is how many vendors the vendor chart shows.
	riskVendorLen = 8
	// deviceFindingCap is how many findings the device page lists.
	deviceFindingCap = 1000
)

// findingShown are the statuses the device page lists; fixed findings are
// only counted.
var findingShown = []firmward.FindingStatus{
	firmward.FindingOpen, firmward.FindingMitigated, firmward.FindingRiskAccepted, firmward.FindingNotAffected,
}

// findingRow is one finding of a page, with what the template needs
// computed once.
type findingRow struct {
	*firmward.Finding
	Overdue bool
	Device  *firmward.Device // on the risk page
	Form    findingForm      // the status form, with the last input and errors
}

// NVDURL is the finding's CVE page at NVD, a link for people.
func (f findingRow) NVDURL() string { return "https://nvd.nist.gov/vuln/detail/" + f.CVE }

// findingForm is the state of one finding's status form.
type findingForm struct {
	Status, Note, AcceptedUntil, VEX string
	Statuses                         []option
	VEXOptions                       []option
	Errors                           map[string][]string // field → messages
	Other                            []string            // problems not tied to a field
	Open                             bool                // show the form unfolded
}

// fixAdvice is the "update to X" line of a device's findings.
type fixAdvice struct {
	Version string // highest FixedIn among open findings; "" when none has one
	Closes  int    // open findings with a known fix
	Open    int    // open findings
	NoFix   int    // open findings without a known fix
}

// vulnSection is the device page's "Vulnerabilities" section.
type vulnSection struct {
	Findings []findingRow
	Fixed    int // fixed findings, not listed
	Capped   bool
	Advice   fixAdvice
}

func newFindingForm(f *firmward.Finding) findingForm {
	st := f.Status
	if st == firmward.FindingFixed {
		st = firmward.FindingOpen
	}
	return findingForm{Status: string(st), Note: f.Note, AcceptedUntil: f.AcceptedUntil, VEX: f.VEXJustification}
}

// options fills the select options of the form from its values.
func (ff *findingForm) options() {
	ff.Statuses = selectOptions([]option{
		{Value: string(firmward.FindingOpen), Label: "Open (reopen)"},
		{Value: string(firmward.FindingMitigated), Label: "Mitigated: a control covers it (note)"},
		{Value: string(firmward.FindingRiskAccepted), Label: "Risk accepted until a date"},
		{Value: string(firmward.FindingNotAffected), Label: "Not affected (VEX justification)"},
	}, ff.Status)
	vex := []option{{Value: "", Label: "—"}}
	for _, j := range firmward.VEXJustifications {
		vex = append(vex, option{Value: j, Label: label(strings.ReplaceAll(j, "_", " "))})
	}
	ff.VEXOptions = selectOptions(vex, ff.VEX)
}

// adviseFix computes the "update to X to close N of M" advice from the open
// findings' FixedIn values.
func adviseFix(findings []*firmward.Finding) fixAdvice {
	var a fixAdvice
	for _, f := range findings {
		if f.Status != firmward.FindingOpen {
			continue
		}
		a.Open++
		if f.FixedIn == "" {
			a.NoFix++
			continue
		}
		a.Closes++
		if a.Version == "" || vuln.CompareVersions(f.FixedIn, a.Version) > 0 {
			a.Version = f.FixedIn
		}
	}
	return a
}

// overdue reports whether an open finding is past its due date.
func overdue(now time.Time, f *firmward.Finding) bool {
	return f.Status == firmward.FindingOpen && f.DueDate != nil && f.DueDate.Before(now)
}

// deviceVulns loads the device page's vulnerability section. form, when
// not nil, replaces the form state of its finding (a refused update).
func (h *Handler) deviceVulns(r *http.Request, deviceID int64, failed *findingRow) (vulnSection, error) {
	var v vulnSection
	all, capped, err := h.allFindings(r, firmward.FindingFilter{DeviceID: deviceID, Statuses: findingShown}, deviceFindingCap)
	if err != nil {
		return v, fmt.Errorf("finding the findings of device %d: %w", deviceID, err)
	}
	v.Capped = capped
	now := h.now()
	for _, f := range all {
		row := findingRow{Finding: f, Overdue: overdue(now, f), Form: newFindingForm(f)}
		if failed != nil && failed.ID == f.ID {
			row.Form = failed.Form
		}
		row.Form.options()
		v.Findings = append(v.Findings, row)
	}
	v.Advice = adviseFix(all)
	fixed, _, err := h.allFindings(r, firmward.FindingFilter{DeviceID: deviceID, Status: firmward.FindingFixed}, deviceFindingCap)
	if err != nil {
		return v, fmt.Errorf("counting the fixed findings of device %d: %w", deviceID, err)
	}
	v.Fixed = len(fixed)
	return v, nil
}

// allFindings reads pages of findings matching f, most urgent first, until
// the end or limit findings; capped says whether it stopped at limit.
func (h *Handler) allFindings(r *http.Request, f firmward.FindingFilter, limit int) (out []*firmward.Finding, capped bool, err error) {
	f.Limit = firmward.MaxPageSize
	for {
		page, next, err := h.findings.FindFindings(r.Context(), f)
		if err != nil {
			return nil, false, err
		}
		out = append(out, page...)
		if len(out) >= limit {
			return out[:limit], next != "" || len(out) > limit, nil
		}
		if next == "" {
			return out, false, nil
		}
		f.After = next
	}
}

// updateFinding applies the status form of one finding and goes back to
// its device's page; a refused change shows the page again with the
// errors beside the form.
func (h *Handler) updateFinding(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.errorPage(w, r, s, http.StatusNotFound, "Finding not found", "There is no finding at this address.")
		return
	}
	f, err := h.findings.FindFindingByID(r.Context(), id)
	if err != nil {
		h.serviceError(w, r, s, fmt.Errorf("finding finding %d: %w", id, err))
		return
	}
	get := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	u := firmward.FindingUpdate{Status: firmward.FindingStatus(get("status")), Note: get("note")}
	switch u.Status {
	case firmward.FindingRiskAccepted:
		u.AcceptedUntil = get("accepted_until")
	case firmward.FindingNotAffected:
		u.VEXJustification = get("vex_justification")
	}
	saved, err := h.findings.UpdateFinding(r.Context(), id, u)
	if err != nil {
		switch firmward.ErrorCode(err) {
		case firmward.EINVALID, firmward.ECONFLICT:
		default:
			h.serviceError(w, r, s, fmt.Errorf("updating finding %d: %w", id, err))
			return
		}
		row := findingRow{Finding: f, Form: findingForm{
			Status: string(u.Status), Note: u.Note, AcceptedUntil: get("accepted_until"), VEX: get("vex_justification"), Open: true,
		}}
		row.Form.Errors, row.Form.Other = findingErrors(err)
		h.renderDevice(w, r, s, http.StatusUnprocessableEntity, f.DeviceID, &row)
		return
	}
	h.log.InfoContext(r.Context(), "web: finding updated", "finding", id, "cve", saved.CVE, "status", saved.Status, "token", s.token.ID)
	h.flash(w, fmt.Sprintf("%s is now %s.", saved.CVE, label(string(saved.Status))))
	http.Redirect(w, r, fmt.Sprintf("/devices/%d#finding-%d", saved.DeviceID, saved.ID), http.StatusSeeOther)
}

// findingErrors sorts the details of a refused finding update into
// messages per form field and messages for the whole form.
func findingErrors(err error) (map[string][]string, []string) {
	fields := map[string][]string{}
	var general []string
	details := firmward.ErrorDetails(err)
	for _, d := range details {
		switch d.Field {
		case "status", "note", "accepted_until", "vex_justification":
			msg := sentence(d.Reason)
			if d.Value != "" {
				msg = fmt.Sprintf("“%s” %s", d.Value, d.Reason)
			}
			fields[d.Field] = append(fields[d.Field], msg)
		default:
			general = append(general, d.String())
		}
	}
	if len(details) == 0 {
		general = append(general, firmward.ErrorMessage(err))
	}
	return fields, general
}

// riskView is the data of the fleet risk page.
type riskView struct {
	Open, KEV, Overdue int64
	Days               int // of the overdue history
	Charts             []chart
	OverdueChart       lineChart
	Urgent             []findingRow
}

// riskPage shows the fleet's open findings: totals, charts by decision and
// vendor and of overdue findings over time, all counted by the store over
// every finding, and the most urgent findings.
func (h *Handler) riskPage(w http.ResponseWriter, r *http.Request, s *session) {
	now := h.now()
	st, err := h.findings.FindingStats(r.Context(), firmward.FindingStatsFilter{Days: riskDays, Vendors: riskVendorLen, Now: now})
	if err != nil {
		h.serverError(w, r, s, fmt.Errorf("counting open findings: %w", err))
		return
	}
	v := riskView{Open: st.Open, KEV: st.KEV, Overdue: st.Overdue, Days: riskDays}
	urgent, _, err := h.findings.FindFindings(r.Context(), firmward.FindingFilter{Status: firmward.FindingOpen, Limit: riskUrgentLen})
	if err != nil {
		h.serverError(w, r, s, fmt.Errorf("finding the most urgent findings: %w", err))
		return
	}
	devices := map[int64]*firmward.Device{}
	for _, f := range urgent {
		d, ok := devices[f.DeviceID]
		if !ok {
			d, err = h.devices.FindDeviceByID(r.Context(), f.DeviceID)
			if firmward.ErrorCode(err) == firmward.ENOTFOUND {
				d, err = &firmward.Device{ID: f.DeviceID, Name: fmt.Sprintf("device %d", f.DeviceID)}, nil // deleted meanwhile
			}
			if err != nil {
				h.serverError(w, r, s, fmt.Errorf("finding device %d: %w", f.DeviceID, err))
				return
			}
			devices[f.DeviceID] = d
		}
		v.Urgent = append(v.Urgent, findingRow{Finding: f, Overdue: overdue(now, f), Device: d})
	}
	if v.Open > 0 {
		byDecision := map[string]int64{}
		for _, c := range st.ByDecision {
			byDecision[c.Name] += c.Count
		}
		byVendor := map[string]int64{}
		for _, c := range st.Vendors {
			byVendor[cmp.Or(strings.TrimSpace(c.Name), "Unknown")] += c.Count
		}
		v.Charts = []chart{decisionChart(byDecision), vendorChart(byVendor, st.OtherVendors)}
	}
	v.OverdueChart = newLineChart("chart-overdue", fmt.Sprintf("Overdue findings, last %d days", riskDays), "finding", st.OverdueByDay)
	h.render(w, r, s, http.StatusOK, "risk", view{Title: "Risk", Nav: "risk", Page: v})
}

// decisionChart draws open findings by SSVC decision, most urgent first;
// findings not yet assessed count as "Not decided".
func decisionChart(counts map[string]int64) chart {
	var rows []chartRow
	for _, d := range []string{firmward.DecisionImmediate, firmward.DecisionOutOfCycle, firmward.DecisionScheduled, firmward.DecisionDefer} {
		rows = append(rows, chartRow{Key: strings.ToLower(d), Label: d, Short: d, Count: counts[d]})
		delete(counts, d)
	}
	var rest int64
	for _, n := range counts {
		rest += n
	}
	if rest > 0 {
		rows = append(rows, chartRow{Key: "other", Label: "Not decided", Short: "Not decided", Count: rest})
	}
	c := newChart("chart-decision", "Open findings by decision", "c-dec-", rows)
	c.Unit = "finding"
	return c
}

// vendorChart draws the vendors with the most open findings; other, when
// not zero, is drawn last as the open findings of every other vendor.
func vendorChart(counts map[string]int64, other int64) chart {
	rows := make([]chartRow, 0, len(counts))
	for name, n := range counts {
		short := name
		if len([]rune(short)) > 16 {
			short = string([]rune(short)[:15]) + "…"
		}
		rows = append(rows, chartRow{Key: "vendor", Label: name, Short: short, Count: n})
	}
	slices.SortFunc(rows, func(a, b chartRow) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Label, b.Label))
	})
	title := "Top vendors by open findings"
	if len(rows) > riskVendorLen {
		rows = rows[:riskVendorLen]
	}
	if other > 0 {
		rows = append(rows, chartRow{Key: "other", Label: "Other vendors", Short: "Other vendors", Count: other})
	}
	c := newChart("chart-vendor", title, "c-", rows)
	c.Unit = "finding"
	return c
}
