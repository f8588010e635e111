// Package report builds the compliance report of issue 7 (requirement 5):
// for one site or the whole fleet and one period, how many findings were
// fixed within their SLA, which devices had no overdue finding, the
// overdue findings by SSVC decision, risk acceptances and NAC exemptions
// with their owners and expiry, quarantine events, the campaigns run with
// their outcome, and the verification of the audit chain. It renders the
// report as self-contained HTML (inline SVG charts, print-friendly CSS)
// and as CSV. It only calls the root's service interfaces (and reads NAC
// state through a small interface), so it is pure: the standard library,
// the root and the pure nac package.
package report

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/nac"
)

// Limits of a report.
const (
	// MaxDays bounds the length of a period.
	MaxDays = 366
	// MaxNACEvents is how many of the newest quarantine events are read
	// (the store's own limit); older events of a long period are left out
	// and Report.QuarantineTruncated says so.
	MaxNACEvents = 1000
	// MaxOverdueRows bounds the overdue findings listed one by one (all
	// are counted).
	MaxOverdueRows = 200
	dateLayout     = "2006-01-02"
)

// NACSource reads what the report shows of network access control; package
// sqlstore's NACService implements it. NACEvents returns the newest events
// first (every device when id is 0), at most limit; NACStates with Active
// returns the stored states that hold a decision (exemptions among them).
type NACSource interface {
	NACEvents(ctx context.Context, id int64, limit int) ([]firmward.NACEvent, error)
	NACStates(ctx context.Context, f nac.StateFilter) ([]*firmward.NACState, error)
}

// Sources are the services a report reads. Devices, Findings and Audit are
// required; NAC and Campaigns are optional (their sections say "not
// available" when nil).
type Sources struct {
	Devices   firmward.DeviceService
	Findings  firmward.FindingService
	Audit     firmward.AuditService
	NAC       NACSource
	Campaigns firmward.CampaignService
	Now       func() time.Time // nil means time.Now
}

// Request says what a report covers: Site ("" for the whole fleet) and the
// days From to To, both included (UTC dates).
type Request struct {
	Site string    `json:"site"`
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// End is the first instant after the period (midnight after To).
func (r Request) End() time.Time { return r.To.AddDate(0, 0, 1) }

// Scope names the site or "whole fleet".
func (r Request) Scope() string {
	if r.Site == "" {
		return "whole fleet"
	}
	return "site " + r.Site
}

// PreviousMonth is the calendar month before now's (UTC), the period of the
// scheduled monthly report.
func PreviousMonth(site string, now time.Time) Request {
	now = now.UTC()
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	from := first.AddDate(0, -1, 0)
	return Request{Site: site, From: from, To: first.AddDate(0, 0, -1)}
}

// ParseRequest reads a request from text as the API and CLI receive it:
// dates as YYYY-MM-DD. Both dates empty mean the previous calendar month;
// one empty date is an error. Problems are EINVALID with one detail per
// field: an unparsable date, From after To, a period longer than MaxDays,
// a site name with control characters or longer than 200 bytes.
func ParseRequest(site, from, to string, now time.Time) (Request, error) {
	var details []firmward.ErrorDetail
	bad := func(field, reason string) {
		details = append(details, firmward.ErrorDetail{Field: field, Reason: reason})
	}
	site = strings.TrimSpace(site)
	if len(site) > 200 {
		bad("site", "is longer than 200 bytes")
	} else if strings.ContainsFunc(site, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		bad("site", "contains control characters")
	}
	from, to = strings.TrimSpace(from), strings.TrimSpace(to)
	if from == "" && to == "" {
		if len(details) > 0 {
			return Request{}, &firmward.Error{Code: firmward.EINVALID, Message: "invalid report request", Details: details}
		}
		return PreviousMonth(site, now), nil
	}
	parse := func(field, s string) time.Time {
		if s == "" {
			bad(field, "is required when the other date is given (YYYY-MM-DD)")
			return time.Time{}
		}
		d, err := time.Parse(dateLayout, s)
		if err != nil {
			bad(field, fmt.Sprintf("%q is not a date (YYYY-MM-DD)", s))
			return time.Time{}
		}
		return d
	}
	f, t := parse("from", from), parse("to", to)
	if len(details) == 0 {
		switch {
		case f.After(t):
			bad("to", "is before from")
		case t.Sub(f) >= MaxDays*24*time.Hour:
			bad("to", fmt.Sprintf("the period is longer than %d days", MaxDays))
		}
	}
	if len(details) > 0 {
		return Request{}, &firmward.Error{Code: firmward.EINVALID, Message: "invalid report request", Details: details}
	}
	return Request{Site: site, From: f, To: t}, nil
}

// DecisionCount is a number of findings under an SSVC decision ("" for
// findings without one).
type DecisionCount struct {
	Decision string `json:"decision"`
	Count    int    `json:"count"`
}

// SLA is how the period went against the findings' due dates.
type SLA struct {
	// Fixed counts findings fixed in the period (matching saw the
	// firmware leave every vulnerable range); WithinSLA those fixed on or
	// before their due date (a finding without a due date counts as
	// within). Percent is WithinSLA/Fixed×100, -1 when nothing was fixed.
	Fixed     int     `json:"fixed"`
	WithinSLA int     `json:"within_sla"`
	Percent   float64 `json:"percent"`
	// Devices counts the devices in scope at the end of the period;
	// DevicesCompliant those without an overdue finding then, and
	// DevicesPercent their share (-1 without devices).
	Devices          int     `json:"devices"`
	DevicesCompliant int     `json:"devices_compliant"`
	DevicesPercent   float64 `json:"devices_percent"`
}

// FindingRow is one finding as the report lists it.
type FindingRow struct {
	ID            int64      `json:"id"`
	CVE           string     `json:"cve"`
	DeviceID      int64      `json:"device_id"`
	Device        string     `json:"device"`
	Site          string     `json:"site"`
	Owner         string     `json:"owner"`
	Decision      string     `json:"decision"`
	DueDate       *time.Time `json:"due_date,omitempty"`
	Status        string     `json:"status"`
	Note          string     `json:"note,omitempty"`
	AcceptedUntil string     `json:"accepted_until,omitempty"`
	Expired       bool       `json:"expired,omitempty"` // an acceptance whose date passed before the end of the period
}

// Exemption is a device exempted from automatic quarantine.
type Exemption struct {
	DeviceID int64     `json:"device_id"`
	Device   string    `json:"device"`
	Site     string    `json:"site"`
	Owner    string    `json:"owner"`
	Reason   string    `json:"reason"`
	Until    time.Time `json:"until"`
	By       string    `json:"by"`
	Expired  bool      `json:"expired,omitempty"`
}

// QuarantineEvent is one step of a device's quarantine history.
type QuarantineEvent struct {
	Time     time.Time `json:"time"`
	DeviceID int64     `json:"device_id"`
	Device   string    `json:"device"`
	Kind     string    `json:"kind"`
	Actor    string    `json:"actor"`
	Enforced bool      `json:"enforced"`
	Outcome  string    `json:"outcome,omitempty"`
	Message  string    `json:"message"`
}

// CampaignRow is one campaign active in the period, counted over the
// devices in scope.
type CampaignRow struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Kind       string     `json:"kind"`
	Status     string     `json:"status"`
	Reason     string     `json:"reason,omitempty"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	Devices    int        `json:"devices"`
	Succeeded  int        `json:"succeeded"`
	Failed     int        `json:"failed"`
	Canceled   int        `json:"canceled"`
	Pending    int        `json:"pending"`
	Outcome    string     `json:"outcome"` // one sentence
}

// AuditResult is the verification of the whole audit chain when the
// report was made, and its head.
type AuditResult struct {
	OK        bool   `json:"ok"`
	Checked   int64  `json:"checked"`
	BrokenSeq int64  `json:"broken_seq,omitempty"`
	Reason    string `json:"reason,omitempty"`
	HeadSeq   int64  `json:"head_seq"`
	HeadHash  string `json:"head_hash"`
}

// Report is a compliance report.
type Report struct {
	Request     Request   `json:"request"`
	GeneratedAt time.Time `json:"generated_at"`
	SLA         SLA       `json:"sla"`
	// OverdueByDecision counts the findings overdue at the end of the
	// period, the four SSVC decisions first (zeros included), then ""
	// when some have none. Overdue lists them (at most MaxOverdueRows,
	// most overdue first).
	OverdueByDecision []DecisionCount `json:"overdue_by_decision"`
	OverdueTotal      int             `json:"overdue_total"`
	Overdue           []FindingRow    `json:"overdue"`
	// OverdueByDay is the number of overdue findings at the end of each
	// day of the period (chart).
	OverdueByDay        []firmward.DayCount `json:"overdue_by_day"`
	RiskAcceptances     []FindingRow        `json:"risk_acceptances"`
	Exemptions          []Exemption         `json:"exemptions"`
	NACAvailable        bool                `json:"nac_available"`
	Quarantine          []QuarantineEvent   `json:"quarantine"`
	QuarantineTruncated bool                `json:"quarantine_truncated,omitempty"`
	CampaignsAvailable  bool                `json:"campaigns_available"`
	Campaigns           []CampaignRow       `json:"campaigns"`
	Audit               AuditResult         `json:"audit"`
}

// Build reads the sources and computes the report. A finding's state at an
// instant T is taken from what it records: it exists from FirstSeen; a
// fixed finding is open until FixedAt; a mitigated, risk-accepted or
// not-affected one is open until its last change (UpdatedAt). It is
// overdue at T when open at T with a due date before T.
func Build(ctx context.Context, src Sources, req Request) (*Report, error) {
	if src.Devices == nil || src.Findings == nil || src.Audit == nil {
		return nil, errors.New("report: Devices, Findings and Audit are required")
	}
	now := time.Now
	if src.Now != nil {
		now = src.Now
	}
	r := &Report{Request: req, GeneratedAt: now().UTC()}
	end := req.End()

	devices, err := readDevices(ctx, src.Devices, req.Site)
	if err != nil {
		return nil, err
	}
	findings, err := readFindings(ctx, src.Findings, devices)
	if err != nil {
		return nil, err
	}
	r.SLA = computeSLA(findings, devices, req.From, end)
	r.OverdueByDecision, r.OverdueTotal, r.Overdue = overdueAt(findings, devices, end)
	for d := req.From; d.Before(end); d = d.AddDate(0, 0, 1) {
		n := 0
		for _, f := range findings {
			if overdue(f, d.AddDate(0, 0, 1)) {
				n++
			}
		}
		r.OverdueByDay = append(r.OverdueByDay, firmward.DayCount{Day: d.Format(dateLayout), Count: int64(n)})
	}
	r.RiskAcceptances = acceptances(findings, devices, req.From, end)

	if src.NAC != nil {
		r.NACAvailable = true
		if err := r.readNAC(ctx, src.NAC, devices, req, end); err != nil {
			return nil, err
		}
	}
	if src.Campaigns != nil {
		r.CampaignsAvailable = true
		if r.Campaigns, err = readCampaigns(ctx, src.Campaigns, devices, req, end); err != nil {
			return nil, err
		}
	}
	if r.Audit, err = verifyAudit(ctx, src.Audit); err != nil {
		return nil, err
	}
	return r, nil
}

func readDevices(ctx context.Context, svc firmward.DeviceService, site string) (map[int64]*firmward.Device, error) {
	out := map[int64]*firmward.Device{}
	f := firmward.DeviceFilter{Site: site, Limit: firmward.MaxPageSize}
	for {
		page, _, err := svc.FindDevices(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("reading devices: %w", err)
		}
		for _, d := range page {
			if site == "" || d.Site == site {
				out[d.ID] = d
			}
		}
		if len(page) < f.Limit {
			return out, nil
		}
		f.After = page[len(page)-1].ID
	}
}

func readFindings(ctx context.Context, svc firmward.FindingService, devices map[int64]*firmward.Device) ([]*firmward.Finding, error) {
	var out []*firmward.Finding
	f := firmward.FindingFilter{Statuses: firmward.FindingStatuses, Limit: firmward.MaxPageSize}
	for {
		page, next, err := svc.FindFindings(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("reading findings: %w", err)
		}
		for _, x := range page {
			if devices[x.DeviceID] != nil {
				out = append(out, x)
			}
		}
		if next == "" || len(page) == 0 {
			return out, nil
		}
		f.After = next
	}
}

// openAt says whether the finding was open at t.
func openAt(f *firmward.Finding, t time.Time) bool {
	if f.FirstSeen.After(t) {
		return false
	}
	switch f.Status {
	case firmward.FindingOpen:
		return true
	case firmward.FindingFixed:
		return f.FixedAt == nil || f.FixedAt.After(t)
	default:
		return f.UpdatedAt.After(t)
	}
}

func overdue(f *firmward.Finding, t time.Time) bool {
	return f.DueDate != nil && f.DueDate.Before(t) && openAt(f, t)
}

func pct(n, of int) float64 {
	if of == 0 {
		return -1
	}
	return float64(n) * 100 / float64(of)
}

func computeSLA(findings []*firmward.Finding, devices map[int64]*firmward.Device, from, end time.Time) SLA {
	var s SLA
	late := map[int64]bool{}
	for _, f := range findings {
		if f.Status == firmward.FindingFixed && f.FixedAt != nil && !f.FixedAt.Before(from) && f.FixedAt.Before(end) {
			s.Fixed++
			if f.DueDate == nil || !f.FixedAt.After(*f.DueDate) {
				s.WithinSLA++
			}
		}
		if overdue(f, end) {
			late[f.DeviceID] = true
		}
	}
	s.Percent = pct(s.WithinSLA, s.Fixed)
	for id, d := range devices {
		if d.CreatedAt.After(end) {
			continue
		}
		s.Devices++
		if !late[id] {
			s.DevicesCompliant++
		}
	}
	s.DevicesPercent = pct(s.DevicesCompliant, s.Devices)
	return s
}

func row(f *firmward.Finding, d *firmward.Device) FindingRow {
	return FindingRow{
		ID: f.ID, CVE: f.CVE, DeviceID: f.DeviceID, Device: d.Name, Site: d.Site, Owner: d.Owner,
		Decision: f.Decision, DueDate: f.DueDate, Status: string(f.Status), Note: f.Note, AcceptedUntil: f.AcceptedUntil,
	}
}

var decisions = []string{firmward.DecisionImmediate, firmward.DecisionOutOfCycle, firmward.DecisionScheduled, firmward.DecisionDefer}

func overdueAt(findings []*firmward.Finding, devices map[int64]*firmward.Device, end time.Time) ([]DecisionCount, int, []FindingRow) {
	counts := map[string]int{}
	var rows []FindingRow
	for _, f := range findings {
		if overdue(f, end) {
			counts[f.Decision]++
			rows = append(rows, row(f, devices[f.DeviceID]))
		}
	}
	var by []DecisionCount
	for _, d := range decisions {
		by = append(by, DecisionCount{Decision: d, Count: counts[d]})
		delete(counts, d)
	}
	var others []string
	for d := range counts {
		others = append(others, d)
	}
	slices.Sort(others)
	for _, d := range others {
		by = append(by, DecisionCount{Decision: d, Count: counts[d]})
	}
	slices.SortFunc(rows, func(a, b FindingRow) int {
		if c := a.DueDate.Compare(*b.DueDate); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	})
	total := len(rows)
	if len(rows) > MaxOverdueRows {
		rows = rows[:MaxOverdueRows]
	}
	return by, total, rows
}

// acceptances lists the findings risk-accepted now whose acceptance was in
// force at some time in the period (accepted before its end, until a date
// on or after its start).
func acceptances(findings []*firmward.Finding, devices map[int64]*firmward.Device, from, end time.Time) []FindingRow {
	var out []FindingRow
	for _, f := range findings {
		if f.Status != firmward.FindingRiskAccepted {
			continue
		}
		until, err := time.Parse(dateLayout, f.AcceptedUntil)
		if err != nil || until.Before(from) || !f.UpdatedAt.Before(end) {
			continue
		}
		r := row(f, devices[f.DeviceID])
		r.Expired = until.Before(end.AddDate(0, 0, -1))
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b FindingRow) int {
		return cmpStrings(a.AcceptedUntil+a.CVE, b.AcceptedUntil+b.CVE)
	})
	return out
}

func cmpStrings(a, b string) int { return strings.Compare(a, b) }

func (r *Report) readNAC(ctx context.Context, src NACSource, devices map[int64]*firmward.Device, req Request, end time.Time) error {
	states, err := src.NACStates(ctx, nac.StateFilter{Active: true})
	if err != nil {
		return fmt.Errorf("reading NAC exemptions: %w", err)
	}
	for _, st := range states {
		d := devices[st.DeviceID]
		e := st.Exemption
		if d == nil || e == nil || e.Until.Before(req.From) || !e.At.Before(end) {
			continue
		}
		r.Exemptions = append(r.Exemptions, Exemption{
			DeviceID: d.ID, Device: d.Name, Site: d.Site, Owner: e.Owner, Reason: e.Reason,
			Until: e.Until, By: e.By, Expired: e.Until.Before(end),
		})
	}
	slices.SortFunc(r.Exemptions, func(a, b Exemption) int { return a.Until.Compare(b.Until) })

	events, err := src.NACEvents(ctx, 0, MaxNACEvents)
	if err != nil {
		return fmt.Errorf("reading quarantine events: %w", err)
	}
	for _, e := range events {
		if e.Time.Before(req.From) || !e.Time.Before(end) {
			continue
		}
		d := devices[e.DeviceID]
		if d == nil {
			continue
		}
		r.Quarantine = append(r.Quarantine, QuarantineEvent{
			Time: e.Time, DeviceID: e.DeviceID, Device: d.Name, Kind: e.Kind, Actor: e.Actor,
			Enforced: e.Enforced, Outcome: e.Outcome, Message: e.Message,
		})
	}
	// The store returns the newest events: when it returned a full page
	// whose oldest event is still inside the period, older ones may be
	// missing.
	r.QuarantineTruncated = len(events) >= MaxNACEvents && !events[len(events)-1].Time.Before(req.From)
	slices.SortFunc(r.Quarantine, func(a, b QuarantineEvent) int { return a.Time.Compare(b.Time) })
	return nil
}

func readCampaigns(ctx context.Context, svc firmward.CampaignService, devices map[int64]*firmward.Device, req Request, end time.Time) ([]CampaignRow, error) {
	var out []CampaignRow
	f := firmward.CampaignFilter{Limit: firmward.MaxPageSize}
	for {
		page, next, err := svc.FindCampaigns(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("reading campaigns: %w", err)
		}
		for _, c := range page {
			if c.StartedAt == nil || !c.StartedAt.Before(end) || (c.FinishedAt != nil && c.FinishedAt.Before(req.From)) {
				continue
			}
			members, err := svc.CampaignMembers(ctx, c.ID)
			if err != nil {
				return nil, fmt.Errorf("reading campaign %d: %w", c.ID, err)
			}
			row := CampaignRow{
				ID: c.ID, Name: c.Name, Kind: c.Kind, Status: string(c.Status), Reason: c.StatusReason,
				StartedAt: c.StartedAt, FinishedAt: c.FinishedAt,
			}
			for _, m := range members {
				if devices[m.DeviceID] == nil {
					continue
				}
				row.Devices++
				switch memberOutcome(m) {
				case firmward.ResultSuccess:
					row.Succeeded++
				case firmward.ResultFailure:
					row.Failed++
				case "canceled":
					row.Canceled++
				default:
					row.Pending++
				}
			}
			if req.Site != "" && row.Devices == 0 {
				continue
			}
			row.Outcome = campaignOutcome(row)
			out = append(out, row)
		}
		if next == 0 || len(page) == 0 {
			break
		}
		f.After = next
	}
	slices.SortFunc(out, func(a, b CampaignRow) int { return a.StartedAt.Compare(*b.StartedAt) })
	return out, nil
}

func memberOutcome(m *firmward.CampaignMember) string {
	switch {
	case m.Action != nil:
		switch m.Action.Status {
		case firmward.ActionFinished:
			if m.Action.Result == firmward.ResultSuccess {
				return firmward.ResultSuccess
			}
			return firmward.ResultFailure
		case firmward.ActionCanceled:
			return "canceled"
		}
	case m.Task != nil:
		switch m.Task.Status {
		case firmward.TaskClosed:
			return firmward.ResultSuccess
		case firmward.TaskCanceled:
			return "canceled"
		}
	}
	return "pending"
}

func campaignOutcome(c CampaignRow) string {
	var s string
	switch firmward.CampaignStatus(c.Status) {
	case firmward.CampaignFinished:
		s = "finished"
	case firmward.CampaignAborted:
		s = "aborted"
	case firmward.CampaignCanceled:
		s = "canceled"
	default:
		s = "still " + c.Status
	}
	if c.Reason != "" {
		s += " (" + c.Reason + ")"
	}
	return fmt.Sprintf("%s: %d of %d devices updated, %d failed, %d canceled, %d pending",
		s, c.Succeeded, c.Devices, c.Failed, c.Canceled, c.Pending)
}

func verifyAudit(ctx context.Context, svc firmward.AuditService) (AuditResult, error) {
	rep, err := svc.VerifyAudit(ctx)
	if err != nil {
		return AuditResult{}, fmt.Errorf("verifying the audit chain: %w", err)
	}
	a := AuditResult{OK: rep.OK, Checked: rep.Checked, BrokenSeq: rep.BrokenSeq, Reason: rep.Reason}
	head, _, err := svc.FindAuditEvents(ctx, firmward.AuditFilter{Newest: true, Limit: 1})
	if err != nil {
		return AuditResult{}, fmt.Errorf("reading the audit head: %w", err)
	}
	if len(head) > 0 {
		a.HeadSeq, a.HeadHash = head[0].Seq, head[0].Hash
	}
	return a, nil
}
