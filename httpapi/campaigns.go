package httpapi

import (
	"errors"
	"net/http"
	"slices"
	"strconv"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/rollout"
)

// CampaignRequest is the body of POST /api/v1/campaigns: what to roll
// out, to whom, in which waves, when and how.
type CampaignRequest struct {
	Name                 string                        `json:"name"`
	ReleaseID            int64                         `json:"release_id"`
	Target               firmward.CampaignTarget       `json:"target"`
	Dynamic              bool                          `json:"dynamic,omitempty"`
	Type                 firmward.ActionType           `json:"type,omitempty"`
	Staging              *firmward.WaveSpec            `json:"staging,omitempty"`
	Waves                []firmward.WaveSpec           `json:"waves,omitempty"`
	ActionTimeoutSeconds int64                         `json:"action_timeout_seconds,omitempty"`
	MaintenanceWindow    *firmward.MaintenanceSchedule `json:"maintenance_window,omitempty"`
	RequireApproval      bool                          `json:"require_approval,omitempty"`
	TaskAssignee         string                        `json:"task_assignee,omitempty"`
	TaskDueDays          int                           `json:"task_due_days,omitempty"`
}

// CampaignOpRequest is the optional body of the campaign operations.
type CampaignOpRequest struct {
	Reason string `json:"reason,omitempty"`
}

// CampaignList answers GET /api/v1/campaigns.
type CampaignList struct {
	Campaigns  []*firmward.Campaign `json:"campaigns"`
	NextCursor string               `json:"next_cursor,omitempty"`
}

// CampaignReport answers GET /api/v1/campaigns/{id}: the campaign, its
// release, per-wave counts, the end of its soak period and (members=true)
// every member with its action, task and device.
type CampaignReport = rollout.CampaignReport

const (
	cursorCampaigns = 'g'
	cursorMembers   = 'm'
)

// CampaignMemberList answers GET /api/v1/campaigns/{id}/members: one page
// of members with their action, task and device.
type CampaignMemberList struct {
	Members    []*firmward.CampaignMember `json:"members"`
	NextCursor string                     `json:"next_cursor,omitempty"`
}

var (
	listCampaignParams = append([]param{
		enumParamDoc("status", "Only campaigns in this status.", []firmward.CampaignStatus{
			firmward.CampaignDraft, firmward.CampaignRunning, firmward.CampaignPaused, firmward.CampaignFinished, firmward.CampaignCanceled, firmward.CampaignAborted,
		}),
		{name: "release", desc: "Only campaigns of this release.", schema: map[string]any{"type": "integer"}},
	}, pageParams...)
	campaignMemberParams = append([]param{
		enumParamDoc("state", "Only members in this state: a pushed device's action open, succeeded or failed; or a device with a task.", firmward.MemberStates),
	}, pageParams...)
	campaignReportParams = []param{
		{name: "members", desc: "Include every member with its action, task and device.", schema: map[string]any{"type": "boolean", "default": false}},
	}
)

// campaignsReady reports whether the campaign services are configured.
func (s *Server) campaignsReady(w http.ResponseWriter, r *http.Request) bool {
	if s.campaigns == nil || s.tasks == nil || s.releases == nil {
		s.writeError(w, r, errors.New("campaigns are not configured on this server"))
		return false
	}
	return true
}

func (s *Server) handleListCampaigns(w http.ResponseWriter, r *http.Request) {
	if !s.campaignsReady(w, r) {
		return
	}
	q, err := parseQuery(r.URL.RawQuery, paramNames(listCampaignParams))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var f firmward.CampaignFilter
	if v := q.get("status"); v != "" {
		f.Status = firmward.CampaignStatus(v)
		switch f.Status {
		case firmward.CampaignDraft, firmward.CampaignRunning, firmward.CampaignPaused, firmward.CampaignFinished, firmward.CampaignCanceled, firmward.CampaignAborted:
		default:
			s.writeError(w, r, paramError("status", v, "must be draft, running, paused, finished, canceled or aborted"))
			return
		}
	}
	if v := q.get("release"); v != "" {
		if f.ReleaseID, err = strconv.ParseInt(v, 10, 64); err != nil || f.ReleaseID < 1 {
			s.writeError(w, r, paramError("release", v, "must be a positive whole number"))
			return
		}
	}
	if f.Limit, err = limitParam(q); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.After, err = cursorParam(q, cursorCampaigns); err != nil {
		s.writeError(w, r, err)
		return
	}
	list, next, err := s.campaigns.FindCampaigns(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := CampaignList{Campaigns: list}
	if next != 0 {
		out.NextCursor = encodeCursor(cursorCampaigns, next)
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

// handleCampaignMembers lists one page of a campaign's members, however
// large the campaign.
func (s *Server) handleCampaignMembers(w http.ResponseWriter, r *http.Request) {
	if !s.campaignsReady(w, r) {
		return
	}
	q, err := parseQuery(r.URL.RawQuery, paramNames(campaignMemberParams))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	id, err := idParam(r.PathValue("id"), "campaign")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	f := firmward.CampaignMemberFilter{State: firmward.MemberState(q.get("state"))}
	if f.State != "" && !slices.Contains(firmward.MemberStates, f.State) {
		s.writeError(w, r, paramError("state", q.get("state"), "must be open, succeeded, failed or task"))
		return
	}
	if f.Limit, err = limitParam(q); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.After, err = cursorParam(q, cursorMembers); err != nil {
		s.writeError(w, r, err)
		return
	}
	list, next, err := s.campaigns.FindCampaignMembers(r.Context(), id, f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := CampaignMemberList{Members: list}
	if next != 0 {
		out.NextCursor = encodeCursor(cursorMembers, next)
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

// handleCreateCampaign stores a draft campaign; a cron expression is
// checked here, and a campaign targeting a category the policy reviews
// needs an approval.
func (s *Server) handleCreateCampaign(w http.ResponseWriter, r *http.Request) {
	if !s.campaignsReady(w, r) {
		return
	}
	var req CampaignRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	c := &firmward.Campaign{
		Name: req.Name, ReleaseID: req.ReleaseID, Target: req.Target, Dynamic: req.Dynamic, Type: req.Type, Waves: req.Waves,
		ActionTimeoutSeconds: req.ActionTimeoutSeconds, Window: req.MaintenanceWindow, RequireApproval: req.RequireApproval,
		TaskAssignee: req.TaskAssignee, TaskDueDays: req.TaskDueDays,
	}
	if req.Staging != nil {
		c.Staging = *req.Staging
	}
	if c.Window != nil {
		if _, err := rollout.ParseCron(c.Window.Cron); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	if c.Target.Category != "" && s.rolloutPolicy.NeedsApproval([]firmward.Category{c.Target.Category}) {
		c.RequireApproval = true
	}
	if err := s.campaigns.CreateCampaign(r.Context(), c); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", apiPrefix+"/campaigns/"+strconv.FormatInt(c.ID, 10))
	s.writeJSON(w, r, http.StatusCreated, c)
}

func (s *Server) handleGetCampaign(w http.ResponseWriter, r *http.Request) {
	if !s.campaignsReady(w, r) {
		return
	}
	q, err := parseQuery(r.URL.RawQuery, paramNames(campaignReportParams))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	withMembers, err := boolParam(q, "members")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	id, err := idParam(r.PathValue("id"), "campaign")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ctx := r.Context()
	c, err := s.campaigns.FindCampaignByID(ctx, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rel, err := s.releases.FindReleaseByID(ctx, c.ReleaseID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var rep *rollout.CampaignReport
	if withMembers {
		members, err := s.campaigns.CampaignMembers(ctx, id)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		rep = rollout.Summarize(c, rel, members, s.rolloutPolicy)
	} else {
		// Counted by the store: fast at any size.
		p, err := s.campaigns.CampaignProgress(ctx, id)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		rep = rollout.SummarizeProgress(c, rel, p, s.rolloutPolicy)
	}
	s.writeJSON(w, r, http.StatusOK, rep)
}

func (s *Server) handleApproveCampaign(w http.ResponseWriter, r *http.Request) {
	if !s.campaignsReady(w, r) {
		return
	}
	id, err := idParam(r.PathValue("id"), "campaign")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	c, err := s.campaigns.ApproveCampaign(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, c)
}

// campaignOp returns the handler of one operation (start, pause, resume,
// cancel); the body, a reason, is optional.
func (s *Server) campaignOp(op firmward.CampaignOp) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.campaignsReady(w, r) {
			return
		}
		id, err := idParam(r.PathValue("id"), "campaign")
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		var req CampaignOpRequest
		if r.ContentLength != 0 {
			if err := decodeJSON(w, r, &req); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		c, err := s.campaigns.ChangeCampaign(r.Context(), id, op, req.Reason)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.writeJSON(w, r, http.StatusOK, c)
	}
}

// handleRollbackCampaign cancels a campaign that is not final and creates
// and starts, in one step, a campaign taking the devices that got (or are
// getting) its release back to the previous release.
func (s *Server) handleRollbackCampaign(w http.ResponseWriter, r *http.Request) {
	if !s.campaignsReady(w, r) {
		return
	}
	ctx := r.Context()
	id, err := idParam(r.PathValue("id"), "campaign")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	c, err := s.campaigns.FindCampaignByID(ctx, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rel, err := s.releases.FindReleaseByID(ctx, c.ReleaseID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var catalog []*firmward.Release
	for f := (firmward.ReleaseFilter{Manufacturer: rel.Manufacturer, Limit: firmward.MaxPageSize}); ; {
		page, next, err := s.releases.FindReleases(ctx, f)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		catalog = append(catalog, page...)
		if next == 0 {
			break
		}
		f.After = next
	}
	prev := rollout.PreviousRelease(rel, catalog)
	if prev == nil {
		s.writeError(w, r, firmward.Errorf(firmward.ECONFLICT, "no earlier release of %s for %v to roll back to", rel.Manufacturer, rel.Models))
		return
	}
	members, err := s.campaigns.CampaignMembers(ctx, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	devices := rollout.RollbackTargets(members)
	if len(devices) == 0 {
		s.writeError(w, r, firmward.Errorf(firmward.ECONFLICT, "no device of campaign %d got release %s: nothing to roll back", id, rel.Version))
		return
	}
	if !c.Status.Final() {
		// The runner may finish the campaign meanwhile: that is as good.
		if _, err := s.campaigns.ChangeCampaign(ctx, id, firmward.OpCancel, "rolled back to "+prev.Version); err != nil {
			now, ferr := s.campaigns.FindCampaignByID(ctx, id)
			if ferr != nil || !now.Status.Final() {
				s.writeError(w, r, err)
				return
			}
		}
	}
	rb := &firmward.Campaign{
		Name: "rollback of " + c.Name, Kind: firmward.CampaignRollback, RollbackOf: id, ReleaseID: prev.ID,
		Target: firmward.CampaignTarget{DeviceIDs: devices}, Type: firmward.ActionForced,
		Waves:                []firmward.WaveSpec{{Percent: 100, SuccessThreshold: 100, ErrorThreshold: 100, OnError: firmward.OnErrorPause}},
		Staging:              firmward.WaveSpec{SuccessThreshold: 0, ErrorThreshold: 100, OnError: firmward.OnErrorPause},
		ActionTimeoutSeconds: c.ActionTimeoutSeconds, TaskAssignee: c.TaskAssignee, TaskDueDays: c.TaskDueDays,
	}
	if err := s.campaigns.CreateCampaign(ctx, rb); err != nil {
		s.writeError(w, r, err)
		return
	}
	if rb, err = s.campaigns.ChangeCampaign(ctx, rb.ID, firmward.OpStart, "rollback of campaign "+strconv.FormatInt(id, 10)); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", apiPrefix+"/campaigns/"+strconv.FormatInt(rb.ID, 10))
	s.writeJSON(w, r, http.StatusCreated, rb)
}
