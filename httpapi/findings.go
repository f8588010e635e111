package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/assess"
)

// FindingList is one page of findings, most urgent first; NextCursor is ""
// on the last page.
type FindingList struct {
	Findings   []*firmward.Finding `json:"findings"`
	NextCursor string              `json:"next_cursor"`
}

var (
	// decisions are the SSVC decisions, most urgent first.
	decisions = []string{firmward.DecisionImmediate, firmward.DecisionOutOfCycle, firmward.DecisionScheduled, firmward.DecisionDefer}
	// findingCursorPattern is the shape of the store's cursors
	// ("priority.id"); the store checks the rest.
	findingCursorPattern = regexp.MustCompile(`^-?\d{1,18}\.\d{1,18}$`)
)

// statusAll is the status parameter that lists findings of every status.
const statusAll = "all"

var listFindingParams = slices.Concat([]param{
	{name: "device", desc: "Only the findings of this device (its id).", schema: map[string]any{"type": "integer", "format": "int64", "minimum": 1}},
	stringParam("cve", "Only findings of this CVE (CVE-YYYY-NNNN)."),
	enumParamDoc("status", "Only findings with this status (default open); all lists every status.", append(names(firmward.FindingStatuses), statusAll)),
	{name: "kev", desc: "Only findings of CVEs in CISA's Known Exploited Vulnerabilities catalog.", schema: map[string]any{"type": "boolean", "default": false}},
	enumParamDoc("decision", "Only findings with this SSVC decision (any case).", decisions),
	{name: "overdue", desc: "Only open findings whose due date has passed (by the server's clock).", schema: map[string]any{"type": "boolean", "default": false}},
	stringParam("manufacturer", "Only findings of devices of this manufacturer, exact, any case."),
}, pageParams)

// findingFilter reads the query of GET /api/v1/findings.
func findingFilter(q query) (firmward.FindingFilter, error) {
	var f firmward.FindingFilter
	var err error
	if raw := q.get("device"); raw != "" {
		if f.DeviceID, err = strconv.ParseInt(raw, 10, 64); err != nil || f.DeviceID < 1 {
			return f, paramError("device", raw, "must be a device id (a positive whole number)")
		}
	}
	if raw := q.get("cve"); raw != "" {
		if f.CVE = strings.ToUpper(raw); !cveIDPattern.MatchString(f.CVE) {
			return f, paramError("cve", raw, "must be a CVE id (CVE-YYYY-NNNN)")
		}
	}
	switch raw := q.get("status"); {
	case raw == statusAll:
		f.Statuses = firmward.FindingStatuses
	case raw != "":
		if f.Status, err = enumParam(q, "status", firmward.FindingStatuses); err != nil {
			return f, err
		}
	}
	if f.KEV, err = boolParam(q, "kev"); err != nil {
		return f, err
	}
	if raw := q.get("decision"); raw != "" {
		i := slices.IndexFunc(decisions, func(d string) bool { return strings.EqualFold(d, raw) })
		if i < 0 {
			return f, paramError("decision", raw, "must be one of "+strings.Join(decisions, ", "))
		}
		f.Decision = decisions[i]
	}
	if f.Overdue, err = boolParam(q, "overdue"); err != nil {
		return f, err
	}
	f.Manufacturer = q.get("manufacturer")
	if f.Limit, err = limitParam(q); err != nil {
		return f, err
	}
	if c := q.get("cursor"); c != "" {
		if !findingCursorPattern.MatchString(c) {
			return f, paramError("cursor", c, "must be the next_cursor of a previous page")
		}
		f.After = c
	}
	return f, nil
}

func (s *Server) handleListFindings(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r.URL.RawQuery, paramNames(listFindingParams))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	f, err := findingFilter(q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	list, next, err := s.findings.FindFindings(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if list == nil {
		list = []*firmward.Finding{}
	}
	s.writeJSON(w, r, http.StatusOK, FindingList{Findings: list, NextCursor: next})
}

func (s *Server) handleGetFinding(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r.PathValue("id"), "finding")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	f, err := s.findings.FindFindingByID(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, f)
}

func (s *Server) handleUpdateFinding(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r.PathValue("id"), "finding")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var u firmward.FindingUpdate
	if err := decodeJSON(w, r, &u); err != nil {
		s.writeError(w, r, err)
		return
	}
	f, err := s.findings.UpdateFinding(r.Context(), id, u)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, f)
}

// AssessRequest narrows POST /api/v1/findings/assess: with Devices, only
// those devices are re-matched (against every CVE); with CVEs, only those
// CVEs are re-matched, on the devices they name; with both, the CVEs
// first. An empty or absent body re-matches everything.
type AssessRequest struct {
	Devices []int64  `json:"devices,omitempty"`
	CVEs    []string `json:"cves,omitempty"`
}

// maxAssessIDs bounds the ids of one AssessRequest.
const maxAssessIDs = 100_000

// handleRunAssessment assesses devices against the stored CVEs through
// the server's Engine (all of them, or what AssessRequest names) and
// answers when the findings are stored.
func (s *Server) handleRunAssessment(w http.ResponseWriter, r *http.Request) {
	var req AssessRequest
	if r.ContentLength != 0 {
		// A chunked body (unknown length) may turn out empty: that is no body.
		if err := decodeJSON(w, r, &req); err != nil && (r.ContentLength > 0 || !isEmptyBody(err)) {
			s.writeError(w, r, err)
			return
		}
	}
	if n := len(req.Devices) + len(req.CVEs); n > maxAssessIDs {
		s.writeError(w, r, firmward.Errorf(firmward.EINVALID, "at most %d devices and CVEs per request, got %d; leave both out to re-match everything", maxAssessIDs, n))
		return
	}
	var details []firmward.ErrorDetail
	for i, id := range req.CVEs {
		if !cveIDPattern.MatchString(strings.ToUpper(strings.TrimSpace(id))) {
			details = append(details, firmward.ErrorDetail{Line: i + 1, Field: "cves", Value: id, Reason: "not a CVE id (want CVE-YYYY-NNNN)"})
		}
	}
	for i, id := range req.Devices {
		if id <= 0 {
			details = append(details, firmward.ErrorDetail{Line: i + 1, Field: "devices", Value: strconv.FormatInt(id, 10), Reason: "not a device id"})
		}
	}
	if len(details) > 0 {
		s.writeError(w, r, &firmward.Error{Code: firmward.EINVALID, Message: "the assessment request is not valid", Details: details})
		return
	}
	for i := range req.CVEs {
		req.CVEs[i] = strings.ToUpper(strings.TrimSpace(req.CVEs[i]))
	}
	ctx := r.Context()
	var total assess.RunResult
	start := time.Now()
	run := func(res *assess.RunResult, err error) bool {
		if err != nil {
			s.writeError(w, r, err)
			return false
		}
		total.CVEs += res.CVEs
		total.Devices += res.Devices
		total.DevicesWithFindings += res.DevicesWithFindings
		total.Opened += res.Opened
		total.Updated += res.Updated
		total.Fixed += res.Fixed
		total.Reopened += res.Reopened
		return true
	}
	switch {
	case len(req.CVEs) == 0 && len(req.Devices) == 0:
		if !run(s.engine.Full(ctx)) {
			return
		}
	default:
		if len(req.CVEs) > 0 && !run(s.engine.Vulnerabilities(ctx, req.CVEs)) {
			return
		}
		if len(req.Devices) > 0 && !run(s.engine.Devices(ctx, req.Devices)) {
			return
		}
	}
	total.Duration = time.Since(start)
	s.logger.Info("assessment", "cves", total.CVEs, "devices", total.Devices, "opened", total.Opened, "fixed", total.Fixed, "duration", total.Duration)
	s.writeJSON(w, r, http.StatusOK, total)
}

// isEmptyBody reports whether a decoding error says the body was empty.
func isEmptyBody(err error) bool {
	return strings.Contains(err.Error(), "request body is empty")
}

// FindingQuery selects findings for ListFindings; empty fields do not
// filter. Status "" lists open findings, "all" every status.
type FindingQuery struct {
	DeviceID     int64
	CVE          string
	Status       string
	KEV          bool
	Decision     string
	Overdue      bool
	Manufacturer string
	Cursor       string
	Limit        int
}

func (q FindingQuery) values() url.Values {
	v := url.Values{}
	if q.DeviceID != 0 {
		v.Set("device", strconv.FormatInt(q.DeviceID, 10))
	}
	set(v, "cve", q.CVE)
	set(v, "status", q.Status)
	if q.KEV {
		v.Set("kev", "true")
	}
	set(v, "decision", q.Decision)
	if q.Overdue {
		v.Set("overdue", "true")
	}
	set(v, "manufacturer", q.Manufacturer)
	set(v, "cursor", q.Cursor)
	if q.Limit != 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	return v
}

// ListFindings returns one page of findings, most urgent first.
func (c *Client) ListFindings(ctx context.Context, q FindingQuery) (*FindingList, error) {
	var list FindingList
	if err := c.call(ctx, http.MethodGet, "/api/v1/findings", q.values(), nil, &list); err != nil {
		return nil, err
	}
	return &list, nil
}

// GetFinding returns one finding.
func (c *Client) GetFinding(ctx context.Context, id int64) (*firmward.Finding, error) {
	var f firmward.Finding
	if err := c.call(ctx, http.MethodGet, findingPath(id), nil, nil, &f); err != nil {
		return nil, err
	}
	return &f, nil
}

// UpdateFinding applies a person's decision to a finding and returns it.
func (c *Client) UpdateFinding(ctx context.Context, id int64, u firmward.FindingUpdate) (*firmward.Finding, error) {
	var f firmward.Finding
	if err := c.call(ctx, http.MethodPatch, findingPath(id), nil, u, &f); err != nil {
		return nil, err
	}
	return &f, nil
}

// RunAssessment re-matches what req names (everything when req is nil or
// empty) and returns what changed; it answers when the findings are
// stored.
func (c *Client) RunAssessment(ctx context.Context, req *AssessRequest) (*assess.RunResult, error) {
	var res assess.RunResult
	var body any
	if req != nil && (len(req.Devices) > 0 || len(req.CVEs) > 0) {
		body = req
	}
	if err := c.call(ctx, http.MethodPost, "/api/v1/findings/assess", nil, body, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

func findingPath(id int64) string { return "/api/v1/findings/" + strconv.FormatInt(id, 10) }
