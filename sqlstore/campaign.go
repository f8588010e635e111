package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/firmward/firmward"
)

// CampaignService keeps campaigns, their members and their tasks in a
// database.
type CampaignService struct {
	db *DB
}

var _ firmward.CampaignService = (*CampaignService)(nil)

// NewCampaignService returns the campaigns kept in db.
func NewCampaignService(db *DB) *CampaignService { return &CampaignService{db: db} }

// campaignSpec is what the spec column holds.
type campaignSpec struct {
	Target               firmward.CampaignTarget       `json:"target"`
	Dynamic              bool                          `json:"dynamic"`
	Type                 firmward.ActionType           `json:"type"`
	Staging              firmward.WaveSpec             `json:"staging"`
	Waves                []firmward.WaveSpec           `json:"waves"`
	ActionTimeoutSeconds int64                         `json:"action_timeout_seconds"`
	Window               *firmward.MaintenanceSchedule `json:"maintenance_window,omitempty"`
	TaskAssignee         string                        `json:"task_assignee,omitempty"`
	TaskDueDays          int                           `json:"task_due_days"`
}

const campaignColumns = "id, name, kind, release_id, rollback_of, spec, status, status_reason, planned, current_wave, wave_started_at," +
	" accepted_failures, override_wave, require_approval, created_by, creator_key, approved_by, approved_at, started_at, finished_at," +
	" created_at, updated_at, version"

func scanCampaign(s scanner) (*firmward.Campaign, error) {
	var c firmward.Campaign
	var spec, status string
	var planned, approval int
	var waveAt, approvedAt, startedAt, finishedAt sql.NullInt64
	var created, updated int64
	if err := s.Scan(&c.ID, &c.Name, &c.Kind, &c.ReleaseID, &c.RollbackOf, &spec, &status, &c.StatusReason, &planned, &c.CurrentWave, &waveAt,
		&c.AcceptedFailures, &c.OverrideWave, &approval, &c.CreatedBy, &c.CreatorKey, &c.ApprovedBy, &approvedAt, &startedAt, &finishedAt,
		&created, &updated, &c.Version); err != nil {
		return nil, err
	}
	var sp campaignSpec
	if err := json.Unmarshal([]byte(spec), &sp); err != nil {
		return nil, fmt.Errorf("reading the spec of campaign %d: %w", c.ID, err)
	}
	c.Target, c.Dynamic, c.Type, c.Staging, c.Waves = sp.Target, sp.Dynamic, sp.Type, sp.Staging, sp.Waves
	c.ActionTimeoutSeconds, c.Window, c.TaskAssignee, c.TaskDueDays = sp.ActionTimeoutSeconds, sp.Window, sp.TaskAssignee, sp.TaskDueDays
	c.Status, c.Planned, c.RequireApproval = firmward.CampaignStatus(status), planned != 0, approval != 0
	c.WaveStarted, c.ApprovedAt, c.StartedAt, c.FinishedAt = fromNullMicros(waveAt), fromNullMicros(approvedAt), fromNullMicros(startedAt), fromNullMicros(finishedAt)
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &c, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func campaignID(id int64) string { return strconv.FormatInt(id, 10) }

// CreateCampaign validates c and stores it as a draft, audited as
// campaign.create.
func (s *CampaignService) CreateCampaign(ctx context.Context, c *firmward.Campaign) error {
	if err := c.Normalize(); err != nil {
		return err
	}
	spec, err := json.Marshal(campaignSpec{
		Target: c.Target, Dynamic: c.Dynamic, Type: c.Type, Staging: c.Staging, Waves: c.Waves, ActionTimeoutSeconds: c.ActionTimeoutSeconds,
		Window: c.Window, TaskAssignee: c.TaskAssignee, TaskDueDays: c.TaskDueDays,
	})
	if err != nil {
		return fmt.Errorf("encoding campaign: %w", err)
	}
	return s.db.write(ctx, func(tx conn) error {
		rel, err := findRelease(ctx, tx, c.ReleaseID, true)
		if err != nil {
			return err
		}
		if rel.Withdrawn {
			return firmward.Errorf(firmward.ECONFLICT, "release %d is withdrawn and cannot be deployed", rel.ID)
		}
		now := s.db.nowUTC()
		actor := firmward.ActorFrom(ctx)
		c.Status, c.StatusReason, c.Planned, c.CurrentWave, c.OverrideWave, c.AcceptedFailures = firmward.CampaignDraft, "", false, -1, -1, 0
		c.CreatedBy, c.CreatorKey, c.CreatedAt, c.UpdatedAt, c.Version = actor.String(), firmward.ActorKey(actor), now, now, 1
		c.ApprovedBy, c.ApprovedAt, c.StartedAt, c.FinishedAt, c.WaveStarted = "", nil, nil, nil, nil
		if err := tx.queryRow(ctx, "INSERT INTO campaigns (name, kind, release_id, rollback_of, spec, status, require_approval, created_by, creator_key,"+
			" created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
			c.Name, c.Kind, c.ReleaseID, c.RollbackOf, string(spec), string(c.Status), boolInt(c.RequireApproval), c.CreatedBy, c.CreatorKey,
			micros(now), micros(now)).Scan(&c.ID); err != nil {
			return fmt.Errorf("inserting campaign: %w", mapError(err))
		}
		changes := []firmward.FieldChange{
			{Field: "name", New: c.Name},
			{Field: "kind", New: c.Kind},
			{Field: "release_id", New: strconv.FormatInt(c.ReleaseID, 10)},
			{Field: "spec", New: string(spec)},
			{Field: "require_approval", New: strconv.FormatBool(c.RequireApproval)},
		}
		if c.RollbackOf != 0 {
			changes = append(changes, firmward.FieldChange{Field: "rollback_of", New: strconv.FormatInt(c.RollbackOf, 10)})
		}
		return appendAudit(ctx, tx, []*firmward.AuditEvent{{Time: now, Action: firmward.ActionCampaignCreate, ObjectType: "campaign", ObjectID: campaignID(c.ID), Changes: changes}})
	})
}

// FindCampaignByID returns a campaign or ENOTFOUND.
func (s *CampaignService) FindCampaignByID(ctx context.Context, id int64) (*firmward.Campaign, error) {
	return findCampaign(ctx, s.db.read(), id, false)
}

func findCampaign(ctx context.Context, c conn, id int64, lock bool) (*firmward.Campaign, error) {
	q := "SELECT " + campaignColumns + " FROM campaigns WHERE id = ?"
	if lock {
		q += c.db.dialect.forUpdate()
	}
	out, err := scanCampaign(c.queryRow(ctx, q, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, firmward.Errorf(firmward.ENOTFOUND, "campaign %d not found", id)
	case err != nil:
		return nil, fmt.Errorf("reading campaign %d: %w", id, err)
	}
	return out, nil
}

// FindCampaigns returns one page of campaigns in id order and the next
// cursor.
func (s *CampaignService) FindCampaigns(ctx context.Context, f firmward.CampaignFilter) ([]*firmward.Campaign, int64, error) {
	where, args := []string{"id > ?"}, []any{f.After}
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, string(f.Status))
	}
	if f.ReleaseID != 0 {
		where, args = append(where, "release_id = ?"), append(args, f.ReleaseID)
	}
	limit := pageSize(f.Limit)
	rows, err := s.db.read().query(ctx, "SELECT "+campaignColumns+" FROM campaigns WHERE "+strings.Join(where, " AND ")+" ORDER BY id LIMIT ?", append(args, limit+1)...)
	if err != nil {
		return nil, 0, fmt.Errorf("listing campaigns: %w", err)
	}
	defer func() { _ = rows.Close() }()
	out := []*firmward.Campaign{}
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("listing campaigns: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("listing campaigns: %w", err)
	}
	var next int64
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	return out, next, nil
}

// ApproveCampaign records the approver, audited as campaign.approve.
func (s *CampaignService) ApproveCampaign(ctx context.Context, id int64) (*firmward.Campaign, error) {
	var out *firmward.Campaign
	err := s.db.write(ctx, func(tx conn) error {
		c, err := findCampaign(ctx, tx, id, true)
		if err != nil {
			return err
		}
		actor := firmward.ActorFrom(ctx)
		switch {
		case c.Status.Final():
			return firmward.Errorf(firmward.ECONFLICT, "campaign %d is %s", id, c.Status)
		case c.ApprovedBy != "":
			return firmward.Errorf(firmward.ECONFLICT, "campaign %d was approved by %s already", id, c.ApprovedBy)
		case firmward.ActorKey(actor) == c.CreatorKey:
			return firmward.Errorf(firmward.EFORBIDDEN, "the creator of campaign %d cannot approve it: another token must", id)
		}
		now := s.db.nowUTC()
		if _, err := tx.exec(ctx, "UPDATE campaigns SET approved_by = ?, approved_at = ?, updated_at = ?, version = version + 1 WHERE id = ?",
			actor.String(), micros(now), micros(now), id); err != nil {
			return fmt.Errorf("approving campaign %d: %w", id, err)
		}
		c.ApprovedBy, c.ApprovedAt, c.UpdatedAt, c.Version = actor.String(), &now, now, c.Version+1
		out = c
		return appendAudit(ctx, tx, []*firmward.AuditEvent{{
			Time: now, Action: firmward.ActionCampaignApprove, ObjectType: "campaign", ObjectID: campaignID(id),
			Changes: []firmward.FieldChange{{Field: "approved_by", New: c.ApprovedBy}, {Field: "created_by", Old: c.CreatedBy, New: c.CreatedBy}},
		}})
	})
	return out, err
}

// ChangeCampaign starts, pauses, resumes or cancels a campaign, audited as
// campaign.status.
func (s *CampaignService) ChangeCampaign(ctx context.Context, id int64, op firmward.CampaignOp, reason string) (*firmward.Campaign, error) {
	reason = clip200(strings.TrimSpace(reason))
	var out *firmward.Campaign
	err := s.db.write(ctx, func(tx conn) error {
		c, err := findCampaign(ctx, tx, id, true)
		if err != nil {
			return err
		}
		now := s.db.nowUTC()
		by := firmward.ActorFrom(ctx).String()
		bad := func() error {
			return firmward.Errorf(firmward.ECONFLICT, "campaign %d is %s: it cannot %s", id, c.Status, op)
		}
		var next firmward.CampaignStatus
		switch op {
		case firmward.OpStart:
			if c.Status != firmward.CampaignDraft {
				return bad()
			}
			if c.RequireApproval && c.ApprovedBy == "" {
				return firmward.Errorf(firmward.ECONFLICT, "campaign %d needs an approval by another token before it starts", id)
			}
			next, c.StartedAt = firmward.CampaignRunning, &now
			if reason == "" {
				reason = "started by " + by
			}
		case firmward.OpPause:
			if c.Status != firmward.CampaignRunning {
				return bad()
			}
			next = firmward.CampaignPaused
			if reason == "" {
				reason = "paused by " + by
			}
		case firmward.OpResume:
			if c.Status != firmward.CampaignPaused {
				return bad()
			}
			if c.RequireApproval && c.ApprovedBy == "" {
				return firmward.Errorf(firmward.ECONFLICT, "campaign %d needs an approval by another token before it resumes", id)
			}
			next = firmward.CampaignRunning
			if reason == "" {
				reason = "resumed by " + by
			}
			if c.CurrentWave >= 0 {
				if err := tx.queryRow(ctx, "SELECT COUNT(*) FROM campaign_devices m JOIN actions a ON a.id = m.action_id"+
					" WHERE m.campaign_id = ? AND m.wave = ? AND (a.status = 'canceled' OR (a.status = 'finished' AND a.result <> 'success'))",
					id, c.CurrentWave).Scan(&c.AcceptedFailures); err != nil {
					return fmt.Errorf("counting failures of campaign %d: %w", id, err)
				}
				c.OverrideWave = c.CurrentWave
			}
		case firmward.OpCancel:
			if c.Status.Final() {
				return bad()
			}
			next = firmward.CampaignCanceled
			if reason == "" {
				reason = "canceled by " + by
			}
		default:
			return firmward.Errorf(firmward.EINVALID, "unknown campaign operation %q", clip(string(op)))
		}
		evs, err := setCampaignStatus(ctx, tx, c, next, reason, now)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, "UPDATE campaigns SET started_at = ?, accepted_failures = ?, override_wave = ? WHERE id = ?",
			nullMicros(c.StartedAt), c.AcceptedFailures, c.OverrideWave, id); err != nil {
			return fmt.Errorf("updating campaign %d: %w", id, err)
		}
		out = c
		return appendAudit(ctx, tx, evs)
	})
	return out, err
}

func clip200(s string) string {
	if len(s) > 200 {
		s = s[:200]
	}
	return strings.ToValidUTF8(s, "?")
}

// setCampaignStatus moves c to status (a final status cancels its open
// actions and tasks), bumps its version and returns the audit events.
func setCampaignStatus(ctx context.Context, tx conn, c *firmward.Campaign, status firmward.CampaignStatus, reason string, now time.Time) ([]*firmward.AuditEvent, error) {
	old := c.Status
	c.Status, c.StatusReason, c.UpdatedAt, c.Version = status, reason, now, c.Version+1
	if status.Final() {
		c.FinishedAt = &now
	}
	if _, err := tx.exec(ctx, "UPDATE campaigns SET status = ?, status_reason = ?, finished_at = ?, updated_at = ?, version = ? WHERE id = ?",
		string(status), reason, nullMicros(c.FinishedAt), micros(now), c.Version, c.ID); err != nil {
		return nil, fmt.Errorf("updating campaign %d: %w", c.ID, err)
	}
	evs := []*firmward.AuditEvent{{
		Time: now, Action: firmward.ActionCampaignStatus, ObjectType: "campaign", ObjectID: campaignID(c.ID),
		Changes: []firmward.FieldChange{{Field: "status", Old: string(old), New: string(status)}, {Field: "reason", New: reason}},
	}}
	if status == firmward.CampaignCanceled || status == firmward.CampaignAborted {
		open, err := openActions(ctx, tx, "campaign_id = ?", c.ID)
		if err != nil {
			return nil, err
		}
		for _, a := range open {
			if a.Status == firmward.ActionCanceling {
				continue
			}
			if _, err := cancelAction(ctx, tx, a, now); err != nil {
				return nil, err
			}
		}
		ids, err := queryIDs(ctx, tx, "SELECT id FROM tasks WHERE campaign_id = ? AND status = 'open' ORDER BY id", c.ID)
		if err != nil {
			return nil, fmt.Errorf("reading open tasks: %w", err)
		}
		for _, id := range ids {
			ev, err := finishTask(ctx, tx, id, firmward.TaskCanceled, "", "campaign "+string(status), now)
			if err != nil {
				return nil, err
			}
			evs = append(evs, ev)
		}
	}
	return evs, nil
}

// CampaignMembers returns the members of a campaign with their action,
// task and device, by wave and device id.
func (s *CampaignService) CampaignMembers(ctx context.Context, id int64) ([]*firmward.CampaignMember, error) {
	var out []*firmward.CampaignMember
	err := s.db.snapshot(ctx, func(tx conn) error {
		if _, err := findCampaign(ctx, tx, id, false); err != nil {
			return err
		}
		rows, err := tx.query(ctx, "SELECT device_id, wave, joined_at, action_id, task_id FROM campaign_devices WHERE campaign_id = ? ORDER BY wave, device_id", id)
		if err != nil {
			return fmt.Errorf("reading members of campaign %d: %w", id, err)
		}
		defer func() { _ = rows.Close() }()
		for rows.Next() {
			m := &firmward.CampaignMember{CampaignID: id}
			var joined int64
			if err := rows.Scan(&m.DeviceID, &m.Wave, &joined, &m.ActionID, &m.TaskID); err != nil {
				return fmt.Errorf("reading members of campaign %d: %w", id, err)
			}
			m.JoinedAt = fromMicros(joined)
			out = append(out, m)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("reading members of campaign %d: %w", id, err)
		}
		actions, err := queryActions(ctx, tx, "SELECT "+actionColumns+" FROM actions WHERE campaign_id = ?", id)
		if err != nil {
			return err
		}
		byAction := map[int64]*firmward.Action{}
		for _, a := range actions {
			byAction[a.ID] = a
		}
		tasks, err := queryTasks(ctx, tx, "SELECT "+taskColumns+" FROM tasks WHERE campaign_id = ?", id)
		if err != nil {
			return err
		}
		byTask := map[int64]*firmward.Task{}
		for _, t := range tasks {
			byTask[t.ID] = t
		}
		drows, err := tx.query(ctx, "SELECT "+selectDeviceColumns+" FROM devices d WHERE d.id IN (SELECT device_id FROM campaign_devices WHERE campaign_id = ?)", id)
		if err != nil {
			return fmt.Errorf("reading devices of campaign %d: %w", id, err)
		}
		defer func() { _ = drows.Close() }()
		byDevice := map[int64]*firmward.Device{}
		for drows.Next() {
			d, err := scanDevice(drows)
			if err != nil {
				return fmt.Errorf("reading devices of campaign %d: %w", id, err)
			}
			byDevice[d.ID] = d
		}
		if err := drows.Err(); err != nil {
			return fmt.Errorf("reading devices of campaign %d: %w", id, err)
		}
		for _, m := range out {
			m.Action, m.Task, m.Device = byAction[m.ActionID], byTask[m.TaskID], byDevice[m.DeviceID]
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []*firmward.CampaignMember{}
	}
	return out, nil
}

// CampaignProgress counts the members of every wave of a campaign in one
// grouped query and lists its devices' categories.
func (s *CampaignService) CampaignProgress(ctx context.Context, id int64) (*firmward.CampaignProgress, error) {
	out := &firmward.CampaignProgress{}
	err := s.db.snapshot(ctx, func(tx conn) error {
		c, err := findCampaign(ctx, tx, id, false)
		if err != nil {
			return err
		}
		out.Waves = make([]firmward.WaveStats, len(c.Waves)+1)
		for i := range out.Waves {
			out.Waves[i].Wave = i
		}
		rows, err := tx.query(ctx, "SELECT cd.wave, d.id IS NULL OR d.update_mechanism IN ('agent', 'ddi'), d.id IS NOT NULL AND cd.action_id = 0 AND cd.task_id = 0,"+
			" COALESCE(a.status, ''), COALESCE(a.result, ''), COALESCE(t.status, ''), COUNT(*)"+
			" FROM campaign_devices cd LEFT JOIN devices d ON d.id = cd.device_id"+
			" LEFT JOIN actions a ON cd.action_id <> 0 AND a.id = cd.action_id"+
			" LEFT JOIN tasks t ON cd.task_id <> 0 AND t.id = cd.task_id"+
			" WHERE cd.campaign_id = ? GROUP BY 1, 2, 3, 4, 5, 6", id)
		if err != nil {
			return fmt.Errorf("counting members of campaign %d: %w", id, err)
		}
		defer func() { _ = rows.Close() }()
		for rows.Next() {
			var wave, n int
			var pushed, unassigned bool
			var status, result, task string
			if err := rows.Scan(&wave, &pushed, &unassigned, &status, &result, &task, &n); err != nil {
				return fmt.Errorf("counting members of campaign %d: %w", id, err)
			}
			if wave < 0 || wave >= len(out.Waves) {
				continue
			}
			w := &out.Waves[wave]
			if unassigned {
				w.Unassigned += n
			}
			if !pushed {
				w.Tasks += n
				if task == "" || task == string(firmward.TaskOpen) {
					w.TasksOpen += n
				}
				continue
			}
			w.Devices += n
			switch st := firmward.ActionStatus(status); {
			case status == "" || st.Open():
				w.Open += n
			case st == firmward.ActionFinished && result == firmward.ResultSuccess:
				w.Succeeded += n
			default:
				w.Failed += n
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("counting members of campaign %d: %w", id, err)
		}
		cats, err := tx.query(ctx, "SELECT DISTINCT d.category FROM campaign_devices cd JOIN devices d ON d.id = cd.device_id WHERE cd.campaign_id = ? ORDER BY 1", id)
		if err != nil {
			return fmt.Errorf("reading the categories of campaign %d: %w", id, err)
		}
		defer func() { _ = cats.Close() }()
		for cats.Next() {
			var cat string
			if err := cats.Scan(&cat); err != nil {
				return fmt.Errorf("reading the categories of campaign %d: %w", id, err)
			}
			out.Categories = append(out.Categories, firmward.Category(cat))
		}
		return cats.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// StepMembers reads the members a rollout step at now acts on (see
// firmward.CampaignService): one pass over the campaign's rows, then their
// actions, tasks and devices by id.
func (s *CampaignService) StepMembers(ctx context.Context, id int64, wave int, now time.Time) ([]*firmward.CampaignMember, error) {
	var out []*firmward.CampaignMember
	err := s.db.snapshot(ctx, func(tx conn) error {
		c, err := findCampaign(ctx, tx, id, false)
		if err != nil {
			return err
		}
		nowMicros := micros(now.UTC())
		timeout := c.ActionTimeoutSeconds
		dueBefore := nowMicros - timeout*1_000_000
		out, err = queryMembers(ctx, tx, id, "((cd.wave = ? AND cd.action_id = 0 AND cd.task_id = 0) OR t.status = 'open'"+
			" OR (cd.wave <= ? AND a.status IN ('scheduled', 'running', 'canceling') AND ("+
			"(? > 0 AND (CASE WHEN a.window_start IS NOT NULL AND a.window_start > a.created_at THEN a.window_start ELSE a.created_at END) <= ?)"+
			" OR (a.status = 'scheduled' AND a.window_end IS NOT NULL AND a.window_end <= ?))))"+
			" ORDER BY cd.wave, cd.device_id", wave, wave, timeout, dueBefore, nowMicros)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// memberFrom joins a campaign's member rows to their action and task, for
// conditions on either.
const memberFrom = "SELECT cd.device_id, cd.wave, cd.joined_at, cd.action_id, cd.task_id FROM campaign_devices cd" +
	" LEFT JOIN devices d ON d.id = cd.device_id" +
	" LEFT JOIN actions a ON cd.action_id <> 0 AND a.id = cd.action_id" +
	" LEFT JOIN tasks t ON cd.task_id <> 0 AND t.id = cd.task_id WHERE cd.campaign_id = ? AND "

// queryMembers reads the members of campaign id meeting cond (with its
// ORDER BY and LIMIT) and attaches their action, task and device.
func queryMembers(ctx context.Context, tx conn, id int64, cond string, args ...any) ([]*firmward.CampaignMember, error) {
	rows, err := tx.query(ctx, memberFrom+cond, append([]any{id}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("reading members of campaign %d: %w", id, err)
	}
	defer func() { _ = rows.Close() }()
	out := []*firmward.CampaignMember{}
	for rows.Next() {
		m := &firmward.CampaignMember{CampaignID: id}
		var joined int64
		if err := rows.Scan(&m.DeviceID, &m.Wave, &joined, &m.ActionID, &m.TaskID); err != nil {
			return nil, fmt.Errorf("reading members of campaign %d: %w", id, err)
		}
		m.JoinedAt = fromMicros(joined)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading members of campaign %d: %w", id, err)
	}
	_ = rows.Close()
	return out, attachMembers(ctx, tx, out)
}

// memberStates are the conditions of each firmward.MemberState, as
// CampaignProgress counts them.
var memberStates = map[firmward.MemberState]string{
	firmward.MemberOpen:      "(d.id IS NULL OR d.update_mechanism IN ('agent', 'ddi')) AND (a.id IS NULL OR a.status IN ('scheduled', 'running', 'canceling'))",
	firmward.MemberSucceeded: "(d.id IS NULL OR d.update_mechanism IN ('agent', 'ddi')) AND a.status = 'finished' AND a.result = 'success'",
	firmward.MemberFailed: "(d.id IS NULL OR d.update_mechanism IN ('agent', 'ddi')) AND a.id IS NOT NULL AND a.status NOT IN ('scheduled', 'running', 'canceling')" +
		" AND NOT (a.status = 'finished' AND a.result = 'success')",
	firmward.MemberTask: "d.id IS NOT NULL AND d.update_mechanism NOT IN ('agent', 'ddi')",
}

// FindCampaignMembers returns one page of a campaign's members.
func (s *CampaignService) FindCampaignMembers(ctx context.Context, id int64, f firmward.CampaignMemberFilter) ([]*firmward.CampaignMember, int64, error) {
	if err := f.Validate(); err != nil {
		return nil, 0, err
	}
	limit := pageSize(f.Limit)
	var out []*firmward.CampaignMember
	err := s.db.snapshot(ctx, func(tx conn) error {
		if _, err := findCampaign(ctx, tx, id, false); err != nil {
			return err
		}
		cond := "cd.device_id > ?"
		if f.State != "" {
			cond += " AND " + memberStates[f.State]
		}
		var err error
		out, err = queryMembers(ctx, tx, id, cond+" ORDER BY cd.device_id LIMIT ?", f.After, limit+1)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	var next int64
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].DeviceID
	}
	return out, next, nil
}

// attachMembers reads the action, task and device of each member by id,
// 500 at a time.
func attachMembers(ctx context.Context, tx conn, ms []*firmward.CampaignMember) error {
	var actionIDs, taskIDs, deviceIDs []any
	for _, m := range ms {
		if m.ActionID != 0 {
			actionIDs = append(actionIDs, m.ActionID)
		}
		if m.TaskID != 0 {
			taskIDs = append(taskIDs, m.TaskID)
		}
		deviceIDs = append(deviceIDs, m.DeviceID)
	}
	byAction := map[int64]*firmward.Action{}
	for chunk := range slices.Chunk(actionIDs, 500) {
		as, err := queryActions(ctx, tx, "SELECT "+actionColumns+" FROM actions WHERE id IN ("+inList(len(chunk))+")", chunk...)
		if err != nil {
			return err
		}
		for _, a := range as {
			byAction[a.ID] = a
		}
	}
	byTask := map[int64]*firmward.Task{}
	for chunk := range slices.Chunk(taskIDs, 500) {
		ts, err := queryTasks(ctx, tx, "SELECT "+taskColumns+" FROM tasks WHERE id IN ("+inList(len(chunk))+")", chunk...)
		if err != nil {
			return err
		}
		for _, t := range ts {
			byTask[t.ID] = t
		}
	}
	byDevice := map[int64]*firmward.Device{}
	for chunk := range slices.Chunk(deviceIDs, 500) {
		if err := func() error {
			rows, err := tx.query(ctx, "SELECT "+selectDeviceColumns+" FROM devices d WHERE d.id IN ("+inList(len(chunk))+")", chunk...)
			if err != nil {
				return fmt.Errorf("reading member devices: %w", err)
			}
			defer func() { _ = rows.Close() }()
			for rows.Next() {
				d, err := scanDevice(rows)
				if err != nil {
					return fmt.Errorf("reading member devices: %w", err)
				}
				byDevice[d.ID] = d
			}
			return rows.Err()
		}(); err != nil {
			return err
		}
	}
	for _, m := range ms {
		m.Action, m.Task, m.Device = byAction[m.ActionID], byTask[m.TaskID], byDevice[m.DeviceID]
	}
	return nil
}

// CampaignDeviceIDs returns the ids of every member device, in order.
func (s *CampaignService) CampaignDeviceIDs(ctx context.Context, id int64) ([]int64, error) {
	var out []int64
	err := s.db.snapshot(ctx, func(tx conn) error {
		if _, err := findCampaign(ctx, tx, id, false); err != nil {
			return err
		}
		var err error
		out, err = queryIDs(ctx, tx, "SELECT device_id FROM campaign_devices WHERE campaign_id = ? ORDER BY device_id", id)
		return err
	})
	return out, err
}

// ApplyCampaignStep applies decisions computed on version of campaign id
// in one transaction; ECONFLICT when the campaign's version moved on.
// Every change is audited; the system actor unless ctx names one.
func (s *CampaignService) ApplyCampaignStep(ctx context.Context, id, version int64, ds []firmward.CampaignDecision) (*firmward.Campaign, error) {
	var out *firmward.Campaign
	err := s.db.write(ctx, func(tx conn) error {
		now := s.db.nowUTC()
		res, err := tx.exec(ctx, "UPDATE campaigns SET version = version + 1, updated_at = ? WHERE id = ? AND version = ?", micros(now), id, version)
		if err != nil {
			return fmt.Errorf("claiming campaign %d: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			if _, ferr := findCampaign(ctx, tx, id, false); ferr != nil {
				return ferr
			}
			return firmward.Errorf(firmward.ECONFLICT, "campaign %d changed since version %d", id, version)
		}
		c, err := findCampaign(ctx, tx, id, true)
		if err != nil {
			return err
		}
		a := applier{tx: tx, c: c, now: now, by: firmward.ActorFrom(ctx).String()}
		for _, d := range ds {
			if err := a.apply(ctx, d); err != nil {
				return fmt.Errorf("campaign %d, %s: %w", id, d, err)
			}
		}
		if err := a.flushJoins(); err != nil {
			return err
		}
		out = a.c
		return appendAudit(ctx, tx, a.evs)
	})
	return out, err
}

// applier applies the decisions of one step inside its transaction.
type applier struct {
	tx    conn
	c     *firmward.Campaign
	now   time.Time
	by    string
	evs   []*firmward.AuditEvent
	joins map[int][]string  // wave → device ids joined in this step
	rel   *firmward.Release // the campaign's release, once read
}

func (a *applier) event(action, objType, objID string, changes ...firmward.FieldChange) {
	a.evs = append(a.evs, &firmward.AuditEvent{Time: a.now, Action: action, ObjectType: objType, ObjectID: objID, Changes: changes})
}

// flushJoins audits the joins of the step, one event per wave and 500
// devices.
func (a *applier) flushJoins() error {
	waves := make([]int, 0, len(a.joins))
	for w := range a.joins {
		waves = append(waves, w)
	}
	slices.Sort(waves)
	for _, w := range waves {
		for chunk := range slices.Chunk(a.joins[w], 500) {
			a.event(firmward.ActionCampaignJoin, "campaign", campaignID(a.c.ID),
				firmward.FieldChange{Field: "wave", New: strconv.Itoa(w)}, firmward.FieldChange{Field: "devices", New: strings.Join(chunk, ",")})
		}
	}
	return nil
}

func (a *applier) apply(ctx context.Context, d firmward.CampaignDecision) error {
	tx, c, now := a.tx, a.c, a.now
	switch d.Kind {
	case firmward.DecideJoin:
		res, err := tx.exec(ctx, "INSERT INTO campaign_devices (campaign_id, device_id, wave, joined_at) VALUES (?, ?, ?, ?)"+
			" ON CONFLICT (campaign_id, device_id) DO NOTHING", c.ID, d.DeviceID, d.Wave, micros(now))
		if err != nil {
			return fmt.Errorf("adding device %d: %w", d.DeviceID, mapError(err))
		}
		if n, _ := res.RowsAffected(); n == 1 {
			if a.joins == nil {
				a.joins = map[int][]string{}
			}
			a.joins[d.Wave] = append(a.joins[d.Wave], strconv.FormatInt(d.DeviceID, 10))
		}
	case firmward.DecidePlanned:
		c.Planned = true
		if _, err := tx.exec(ctx, "UPDATE campaigns SET planned = 1 WHERE id = ?", c.ID); err != nil {
			return err
		}
		a.event(firmward.ActionCampaignStatus, "campaign", campaignID(c.ID), firmward.FieldChange{Field: "planned", Old: "false", New: "true"},
			firmward.FieldChange{Field: "reason", New: d.Reason})
	case firmward.DecideStartWave:
		old := c.CurrentWave
		c.CurrentWave, c.WaveStarted = d.Wave, &now
		if _, err := tx.exec(ctx, "UPDATE campaigns SET current_wave = ?, wave_started_at = ? WHERE id = ?", d.Wave, micros(now), c.ID); err != nil {
			return err
		}
		a.event(firmward.ActionCampaignWave, "campaign", campaignID(c.ID), firmward.FieldChange{Field: "current_wave", Old: strconv.Itoa(old), New: strconv.Itoa(d.Wave)})
	case firmward.DecideCreateAction:
		return a.createAction(ctx, d)
	case firmward.DecideCreateTask:
		return a.createTask(ctx, d)
	case firmward.DecideTimeoutAction:
		return a.timeoutAction(ctx, d)
	case firmward.DecideRewindowAction:
		act, err := findAction(ctx, tx, d.ActionID, true)
		if err != nil {
			return err
		}
		if act.CampaignID != c.ID || act.Status != firmward.ActionScheduled || d.Window == nil {
			return nil
		}
		if _, err := tx.exec(ctx, "UPDATE actions SET window_start = ?, window_end = ?, updated_at = ? WHERE id = ?",
			micros(d.Window.Start), micros(d.Window.End), micros(now), act.ID); err != nil {
			return err
		}
		old := ""
		if act.Window != nil {
			old = act.Window.Start.Format(time.RFC3339) + "/" + act.Window.End.Format(time.RFC3339)
		}
		a.event(firmward.ActionActionUpdate, "action", actionID(act.ID), firmward.FieldChange{
			Field: "maintenance_window", Old: old,
			New: d.Window.Start.UTC().Format(time.RFC3339) + "/" + d.Window.End.UTC().Format(time.RFC3339),
		})
	case firmward.DecideCloseTask:
		t, err := findTask(ctx, tx, d.TaskID, true)
		if err != nil {
			return err
		}
		if t.Status != firmward.TaskOpen || t.CampaignID != c.ID {
			return nil
		}
		ev, err := finishTask(ctx, tx, t.ID, firmward.TaskClosed, d.Version, "the device runs "+clip(d.Version), now)
		if err != nil {
			return err
		}
		a.evs = append(a.evs, ev)
	case firmward.DecidePause, firmward.DecideAbort, firmward.DecideFinish, firmward.DecideRequireApprove:
		next := map[firmward.DecisionKind]firmward.CampaignStatus{
			firmward.DecidePause: firmward.CampaignPaused, firmward.DecideAbort: firmward.CampaignAborted,
			firmward.DecideFinish: firmward.CampaignFinished, firmward.DecideRequireApprove: firmward.CampaignPaused,
		}[d.Kind]
		if c.Status.Final() {
			return nil
		}
		if d.Kind == firmward.DecideRequireApprove {
			c.RequireApproval = true
			if _, err := tx.exec(ctx, "UPDATE campaigns SET require_approval = 1 WHERE id = ?", c.ID); err != nil {
				return err
			}
		}
		evs, err := setCampaignStatus(ctx, tx, c, next, clip200(d.Reason), now)
		if err != nil {
			return err
		}
		a.evs = append(a.evs, evs...)
	default:
		return firmward.Errorf(firmward.EINVALID, "unknown decision %q", clip(string(d.Kind)))
	}
	return nil
}

// member reads one member of the campaign.
func (a *applier) member(ctx context.Context, deviceID int64) (actionID, taskID int64, err error) {
	err = a.tx.queryRow(ctx, "SELECT action_id, task_id FROM campaign_devices WHERE campaign_id = ? AND device_id = ?", a.c.ID, deviceID).Scan(&actionID, &taskID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, firmward.Errorf(firmward.ENOTFOUND, "device %d is not in campaign %d", deviceID, a.c.ID)
	}
	return actionID, taskID, err
}

// openActionOfRelease finds a device's open action for a release. The
// device's open actions are few (index actions_open); "+" keeps the
// planners off actions_release, which would scan every action of the
// release for each device: quadratic in a wave's size.
const openActionOfRelease = "SELECT id FROM actions WHERE device_id = ? AND status IN ('scheduled', 'running', 'canceling') AND +release_id = ?" +
	" ORDER BY device_id, id LIMIT 1"

func (a *applier) createAction(ctx context.Context, d firmward.CampaignDecision) error {
	tx, c, now := a.tx, a.c, a.now
	have, _, err := a.member(ctx, d.DeviceID)
	if err != nil || have != 0 {
		return err
	}
	if a.rel == nil { // read once per step: a wave start creates thousands
		if a.rel, err = findRelease(ctx, tx, c.ReleaseID, false); err != nil {
			return err
		}
	}
	rel := a.rel
	if rel.Withdrawn {
		return nil // the next step pauses the campaign
	}
	// A device with an open action for this release already keeps it.
	ids, err := queryIDs(ctx, tx, openActionOfRelease, d.DeviceID, rel.ID)
	if err != nil {
		return err
	}
	var id int64
	if len(ids) > 0 {
		id = ids[0]
	} else {
		var ws, we sql.NullInt64
		if d.Window != nil {
			ws, we = sql.NullInt64{Int64: micros(d.Window.Start.UTC()), Valid: true}, sql.NullInt64{Int64: micros(d.Window.End.UTC()), Valid: true}
		}
		if err := tx.queryRow(ctx, "INSERT INTO actions (device_id, release_id, campaign_id, type, status, window_start, window_end,"+
			" created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
			d.DeviceID, rel.ID, c.ID, string(c.Type), string(firmward.ActionScheduled), ws, we, a.by, micros(now), micros(now)).Scan(&id); err != nil {
			return fmt.Errorf("inserting action: %w", mapError(err))
		}
		changes := []firmward.FieldChange{
			{Field: "device_id", New: strconv.FormatInt(d.DeviceID, 10)},
			{Field: "release_id", New: strconv.FormatInt(rel.ID, 10)},
			{Field: "type", New: string(c.Type)},
			{Field: "status", New: string(firmward.ActionScheduled)},
			{Field: "campaign_id", New: strconv.FormatInt(c.ID, 10)},
		}
		if d.Window != nil {
			changes = append(changes, firmward.FieldChange{Field: "maintenance_window", New: d.Window.Start.UTC().Format(time.RFC3339) + "/" + d.Window.End.UTC().Format(time.RFC3339)})
		}
		a.event(firmward.ActionActionCreate, "action", actionID(id), changes...)
	}
	_, err = tx.exec(ctx, "UPDATE campaign_devices SET action_id = ? WHERE campaign_id = ? AND device_id = ?", id, c.ID, d.DeviceID)
	return err
}

func (a *applier) createTask(ctx context.Context, d firmward.CampaignDecision) error {
	tx, c, now := a.tx, a.c, a.now
	_, have, err := a.member(ctx, d.DeviceID)
	if err != nil || have != 0 {
		return err
	}
	t := d.Task
	if t == nil {
		return firmward.Errorf(firmward.EINVALID, "create_task for device %d carries no task", d.DeviceID)
	}
	t.CampaignID, t.DeviceID, t.ReleaseID, t.Status, t.CreatedBy, t.CreatedAt = c.ID, d.DeviceID, c.ReleaseID, firmward.TaskOpen, a.by, now
	lines := storableLines(t.Instructions)
	if err := tx.queryRow(ctx, "INSERT INTO tasks (campaign_id, device_id, release_id, kind, status, title, instructions, target_version, assignee,"+
		" due_at, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
		c.ID, d.DeviceID, c.ReleaseID, string(t.Kind), string(t.Status), storable(t.Title), strings.Join(lines, "\n"), storable(t.TargetVersion),
		storable(t.Assignee), micros(t.DueAt), t.CreatedBy, micros(now)).Scan(&t.ID); err != nil {
		return fmt.Errorf("inserting task: %w", mapError(err))
	}
	a.event(firmward.ActionTaskCreate, "task", strconv.FormatInt(t.ID, 10),
		firmward.FieldChange{Field: "device_id", New: strconv.FormatInt(d.DeviceID, 10)},
		firmward.FieldChange{Field: "kind", New: string(t.Kind)},
		firmward.FieldChange{Field: "target_version", New: t.TargetVersion},
		firmward.FieldChange{Field: "assignee", New: t.Assignee},
		firmward.FieldChange{Field: "due_at", New: t.DueAt.UTC().Format(time.RFC3339)},
		firmward.FieldChange{Field: "campaign_id", New: strconv.FormatInt(c.ID, 10)})
	_, err = tx.exec(ctx, "UPDATE campaign_devices SET task_id = ? WHERE campaign_id = ? AND device_id = ?", t.ID, c.ID, d.DeviceID)
	return err
}

// timeoutAction fails an open action of the campaign: a feedback line
// records why, audited as action.update.
func (a *applier) timeoutAction(ctx context.Context, d firmward.CampaignDecision) error {
	tx, now := a.tx, a.now
	act, err := findAction(ctx, tx, d.ActionID, true)
	if err != nil {
		return err
	}
	if act.CampaignID != a.c.ID || !act.Status.Open() {
		return nil // the device answered meanwhile
	}
	details, err := json.Marshal([]string{"firmward: " + clip200(d.Reason)})
	if err != nil {
		return err
	}
	if _, err := tx.exec(ctx, "INSERT INTO action_feedback (action_id, occurred_at, execution, finished, details) VALUES (?, ?, ?, ?, ?)",
		act.ID, micros(now), firmward.ExecClosed, firmward.ResultFailure, string(details)); err != nil {
		return fmt.Errorf("recording the timeout of action %d: %w", act.ID, err)
	}
	if _, err := tx.exec(ctx, "UPDATE actions SET status = ?, result = ?, updated_at = ? WHERE id = ?",
		string(firmward.ActionFinished), firmward.ResultFailure, micros(now), act.ID); err != nil {
		return fmt.Errorf("failing action %d: %w", act.ID, err)
	}
	a.event(firmward.ActionActionUpdate, "action", actionID(act.ID),
		firmward.FieldChange{Field: "status", Old: string(act.Status), New: string(firmward.ActionFinished)},
		firmward.FieldChange{Field: "result", Old: act.Result, New: firmward.ResultFailure},
		firmward.FieldChange{Field: "reason", New: clip200(d.Reason)})
	return nil
}
