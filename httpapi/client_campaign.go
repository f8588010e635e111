package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/firmward/firmward"
)

func campaignPath(id int64) string { return "/api/v1/campaigns/" + strconv.FormatInt(id, 10) }

// CreateCampaign creates a draft campaign.
func (c *Client) CreateCampaign(ctx context.Context, req CampaignRequest) (*firmward.Campaign, error) {
	var out firmward.Campaign
	if err := c.call(ctx, http.MethodPost, "/api/v1/campaigns", nil, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListCampaigns returns one page of campaigns (status "" for all) and the
// next cursor.
func (c *Client) ListCampaigns(ctx context.Context, status firmward.CampaignStatus, cursor string) ([]*firmward.Campaign, string, error) {
	v := url.Values{}
	set(v, "status", string(status))
	set(v, "cursor", cursor)
	var out CampaignList
	if err := c.call(ctx, http.MethodGet, "/api/v1/campaigns", v, nil, &out); err != nil {
		return nil, "", err
	}
	return out.Campaigns, out.NextCursor, nil
}

// CampaignStatus returns the status of a campaign, with every member when
// members is set.
func (c *Client) CampaignStatus(ctx context.Context, id int64, members bool) (*CampaignReport, error) {
	v := url.Values{}
	if members {
		v.Set("members", "true")
	}
	var out CampaignReport
	if err := c.call(ctx, http.MethodGet, campaignPath(id), v, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CampaignMembers returns one page of a campaign's members (state "" is
// all) and the cursor of the next.
func (c *Client) CampaignMembers(ctx context.Context, id int64, state firmward.MemberState, cursor string, limit int) (*CampaignMemberList, error) {
	v := url.Values{}
	if state != "" {
		v.Set("state", string(state))
	}
	if cursor != "" {
		v.Set("cursor", cursor)
	}
	if limit > 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	var out CampaignMemberList
	if err := c.call(ctx, http.MethodGet, campaignPath(id)+"/members", v, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ApproveCampaign approves a campaign (as another token than its creator).
func (c *Client) ApproveCampaign(ctx context.Context, id int64) (*firmward.Campaign, error) {
	var out firmward.Campaign
	if err := c.call(ctx, http.MethodPost, campaignPath(id)+"/approve", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ChangeCampaign starts, pauses, resumes or cancels a campaign.
func (c *Client) ChangeCampaign(ctx context.Context, id int64, op firmward.CampaignOp, reason string) (*firmward.Campaign, error) {
	var out firmward.Campaign
	if err := c.call(ctx, http.MethodPost, campaignPath(id)+"/"+string(op), nil, CampaignOpRequest{Reason: reason}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RollbackCampaign cancels a campaign and starts one taking its devices
// back to the previous release; it returns the new campaign.
func (c *Client) RollbackCampaign(ctx context.Context, id int64) (*firmward.Campaign, error) {
	var out firmward.Campaign
	if err := c.call(ctx, http.MethodPost, campaignPath(id)+"/rollback", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListTasks returns one page of tasks and the next cursor.
func (c *Client) ListTasks(ctx context.Context, f firmward.TaskFilter, cursor string) ([]*firmward.Task, string, error) {
	v := url.Values{}
	if f.CampaignID != 0 {
		v.Set("campaign", strconv.FormatInt(f.CampaignID, 10))
	}
	if f.DeviceID != 0 {
		v.Set("device", strconv.FormatInt(f.DeviceID, 10))
	}
	set(v, "assignee", f.Assignee)
	set(v, "status", string(f.Status))
	set(v, "cursor", cursor)
	if f.Limit > 0 {
		v.Set("limit", strconv.Itoa(f.Limit))
	}
	var out TaskList
	if err := c.call(ctx, http.MethodGet, "/api/v1/tasks", v, nil, &out); err != nil {
		return nil, "", err
	}
	return out.Tasks, out.NextCursor, nil
}

// AssignTask assigns a task.
func (c *Client) AssignTask(ctx context.Context, id int64, req TaskAssignRequest) (*firmward.Task, error) {
	var out firmward.Task
	if err := c.call(ctx, http.MethodPost, "/api/v1/tasks/"+strconv.FormatInt(id, 10)+"/assign", nil, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CloseTask closes a task with a note.
func (c *Client) CloseTask(ctx context.Context, id int64, note string) (*firmward.Task, error) {
	var out firmward.Task
	if err := c.call(ctx, http.MethodPost, "/api/v1/tasks/"+strconv.FormatInt(id, 10)+"/close", nil, TaskCloseRequest{Note: note}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
