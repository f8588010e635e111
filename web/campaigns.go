package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/rollout"
)

// CampaignConfig gives the UI the campaign pages (/campaigns).
type CampaignConfig struct {
	Campaigns firmward.CampaignService
	Releases  firmward.ReleaseService
	Delivery  firmward.DeliveryService
	Policy    rollout.Policy
}

// campaignsView is the data of the campaign list.
type campaignsView struct {
	Campaigns []*firmward.Campaign
}

// campaignView is the data of one campaign's page.
type campaignView struct {
	Report   *rollout.CampaignReport
	Failures []campaignFailure
	Tasks    []*firmward.CampaignMember
	IsAdmin  bool
	// FailedTotal and TasksTotal count every failure and task, of which
	// the page lists the first ones.
	FailedTotal, TasksTotal int
}

// campaignFailure is a device whose action failed, with its log.
type campaignFailure struct {
	Member *firmward.CampaignMember
	Log    []string
}

// campaignRefreshSeconds is how often a running campaign's page reloads.
const campaignRefreshSeconds = 5

// maxFailuresShown bounds the failures listed with their logs, and
// maxTasksShown the manual tasks listed.
const (
	maxFailuresShown = 50
	maxTasksShown    = 200
)

func (h *Handler) campaignsReady(w http.ResponseWriter, r *http.Request, s *session) bool {
	if h.campaigns == nil || h.campaigns.Campaigns == nil || h.campaigns.Releases == nil || h.campaigns.Delivery == nil {
		h.errorPage(w, r, s, http.StatusNotFound, "Campaigns are not available", "This server was started without campaigns.")
		return false
	}
	return true
}

func (h *Handler) campaignsPage(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.campaignsReady(w, r, s) {
		return
	}
	var all []*firmward.Campaign
	for f := (firmward.CampaignFilter{Limit: firmward.MaxPageSize}); ; {
		page, next, err := h.campaigns.Campaigns.FindCampaigns(r.Context(), f)
		if err != nil {
			h.serverError(w, r, s, err)
			return
		}
		all = append(all, page...)
		if next == 0 {
			break
		}
		f.After = next
	}
	h.render(w, r, s, http.StatusOK, "campaigns", view{Title: "Campaigns", Nav: "campaigns", Page: campaignsView{Campaigns: all}})
}

func (h *Handler) campaignPage(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.campaignsReady(w, r, s) {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.notFound(w, r)
		return
	}
	ctx := r.Context()
	c, err := h.campaigns.Campaigns.FindCampaignByID(ctx, id)
	if firmward.ErrorCode(err) == firmward.ENOTFOUND {
		h.notFound(w, r)
		return
	}
	if err != nil {
		h.serverError(w, r, s, err)
		return
	}
	rel, err := h.campaigns.Releases.FindReleaseByID(ctx, c.ReleaseID)
	if err != nil {
		h.serverError(w, r, s, err)
		return
	}
	// Counted by the store, and only the first failures and tasks read:
	// the page stays fast for a campaign of any size.
	progress, err := h.campaigns.Campaigns.CampaignProgress(ctx, id)
	if err != nil {
		h.serverError(w, r, s, err)
		return
	}
	v := campaignView{Report: rollout.SummarizeProgress(c, rel, progress, h.campaigns.Policy), IsAdmin: s.token.Role.Includes(firmward.RoleAdmin)}
	for _, ws := range v.Report.Waves {
		v.FailedTotal += ws.Failed
		v.TasksTotal += ws.Tasks
	}
	tasked, _, err := h.campaigns.Campaigns.FindCampaignMembers(ctx, id, firmward.CampaignMemberFilter{State: firmward.MemberTask, Limit: maxTasksShown})
	if err != nil {
		h.serverError(w, r, s, err)
		return
	}
	for _, m := range tasked {
		if m.Task != nil {
			v.Tasks = append(v.Tasks, m)
		}
	}
	failed, _, err := h.campaigns.Campaigns.FindCampaignMembers(ctx, id, firmward.CampaignMemberFilter{State: firmward.MemberFailed, Limit: maxFailuresShown})
	if err != nil {
		h.serverError(w, r, s, err)
		return
	}
	for _, m := range failed {
		a := m.Action
		if a == nil {
			continue
		}
		fbs, err := h.campaigns.Delivery.ActionFeedback(ctx, a.ID)
		if err != nil {
			h.serverError(w, r, s, err)
			return
		}
		f := campaignFailure{Member: m}
		for _, fb := range fbs {
			line := fb.Time.UTC().Format("2006-01-02 15:04:05") + " " + fb.Execution
			if fb.Finished != "" && fb.Finished != "none" {
				line += " " + fb.Finished
			}
			if len(fb.Details) > 0 {
				line += ": " + strings.Join(fb.Details, " / ")
			}
			f.Log = append(f.Log, line)
		}
		v.Failures = append(v.Failures, f)
	}
	pv := view{Title: "Campaign " + c.Name, Nav: "campaigns", Page: v}
	if c.Status == firmward.CampaignRunning {
		pv.Refresh = campaignRefreshSeconds // live progress without script; the CSP allows a meta refresh
	}
	h.render(w, r, s, http.StatusOK, "campaign", pv)
}

// campaignAction approves (admins), starts, pauses, resumes or cancels a
// campaign from its page.
func (h *Handler) campaignAction(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.campaignsReady(w, r, s) {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.notFound(w, r)
		return
	}
	ctx := r.Context()
	verb := r.PathValue("verb")
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	cs := h.campaigns.Campaigns
	switch verb {
	case "approve":
		if !s.token.Role.Includes(firmward.RoleAdmin) {
			h.forbidden(w, r, s)
			return
		}
		_, err = cs.ApproveCampaign(ctx, id)
	case string(firmward.OpStart), string(firmward.OpPause), string(firmward.OpResume), string(firmward.OpCancel):
		_, err = cs.ChangeCampaign(ctx, id, firmward.CampaignOp(verb), reason)
	default:
		h.notFound(w, r)
		return
	}
	back := "/campaigns/" + strconv.FormatInt(id, 10)
	if err != nil {
		switch firmward.ErrorCode(err) {
		case firmward.EINVALID, firmward.ECONFLICT, firmward.ENOTFOUND, firmward.EFORBIDDEN:
			h.flash(w, "Not done: "+sentence(flashText(err)))
			http.Redirect(w, r, back, http.StatusSeeOther)
		default:
			h.serverError(w, r, s, fmt.Errorf("campaign %s of %d: %w", verb, id, err))
		}
		return
	}
	h.log.InfoContext(ctx, "web: campaign action", "campaign", id, "action", verb, "token", s.token.ID)
	h.flash(w, fmt.Sprintf("Campaign %d: %s done.", id, verb))
	http.Redirect(w, r, back, http.StatusSeeOther)
}
