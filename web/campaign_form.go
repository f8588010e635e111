package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/rollout"
)

// formWaves is how many wave rows the campaign form offers.
const formWaves = 5

// maxFormNumber bounds the numbers of the campaign form (minutes, days).
const maxFormNumber = 1_000_000

// waveRow is one wave of the campaign form as typed.
type waveRow struct {
	N                             int
	Size, Success, Error, OnError string
}

// campaignForm is the data of the campaign form: the choices, what was
// typed, and why it was refused.
type campaignForm struct {
	Releases   []*firmward.Release
	Categories []firmward.Category
	Types      []firmward.ActionType
	Values     map[string]string
	Staging    waveRow
	Waves      []waveRow
	Message    string
	Details    []firmward.ErrorDetail
}

// campaignFormFields are the plain text fields echoed back on a refusal.
var campaignFormFields = []string{
	"name", "release_id", "manufacturer", "model", "category", "site", "tags", "firmware_version", "device_ids",
	"dynamic", "type", "timeout_minutes", "window_cron", "window_minutes", "window_tz", "require_approval",
	"task_assignee", "task_due_days",
}

func (h *Handler) newCampaign(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.campaignsReady(w, r, s) {
		return
	}
	f := campaignForm{Values: map[string]string{"type": string(firmward.ActionForced), "release_id": r.URL.Query().Get("release")}}
	def := firmward.DefaultStagingWave
	f.Staging = waveRow{Success: strconv.Itoa(def.SuccessThreshold), Error: strconv.Itoa(def.ErrorThreshold), OnError: def.OnError}
	for i := range formWaves {
		row := waveRow{N: i + 1, OnError: firmward.OnErrorPause}
		if i == 0 {
			dw := firmward.DefaultWave
			row.Size, row.Success, row.Error = strconv.Itoa(dw.Percent)+"%", strconv.Itoa(dw.SuccessThreshold), strconv.Itoa(dw.ErrorThreshold)
		}
		f.Waves = append(f.Waves, row)
	}
	h.showCampaignForm(w, r, s, http.StatusOK, f)
}

func (h *Handler) showCampaignForm(w http.ResponseWriter, r *http.Request, s *session, status int, f campaignForm) {
	var err error
	if f.Releases, err = h.deployableReleases(r); err != nil {
		h.serverError(w, r, s, err)
		return
	}
	f.Categories, f.Types = firmward.Categories, []firmward.ActionType{firmward.ActionForced, firmward.ActionAttempt, firmward.ActionDownloadOnly}
	title := "New campaign"
	if f.Message != "" {
		title = "Campaign refused"
	}
	h.render(w, r, s, status, "campaign_form", view{Title: title, Nav: "campaigns", Page: f})
}

// deployableReleases lists the releases a campaign may use.
func (h *Handler) deployableReleases(r *http.Request) ([]*firmward.Release, error) {
	var all []*firmward.Release
	for f := (firmward.ReleaseFilter{Limit: firmward.MaxPageSize}); ; {
		page, next, err := h.campaigns.Releases.FindReleases(r.Context(), f)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if next == 0 {
			return all, nil
		}
		f.After = next
	}
}

// createCampaign stores a draft campaign from the form, validated as the
// API validates one (the maintenance window's cron expression, the
// approval policy of the target's category, then Campaign.Normalize in
// the service).
func (h *Handler) createCampaign(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.campaignsReady(w, r, s) {
		return
	}
	f := campaignForm{Values: map[string]string{}}
	for _, k := range campaignFormFields {
		f.Values[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	v := f.Values
	var details []firmward.ErrorDetail
	bad := func(field, value, reason string) {
		details = append(details, firmward.ErrorDetail{Field: field, Value: value, Reason: reason})
	}
	num := func(field, label string, min int) int {
		raw := v[field]
		if raw == "" {
			return 0
		}
		n, err := strconv.Atoi(raw)
		if err != nil || n < min || n > maxFormNumber {
			bad(label, raw, fmt.Sprintf("must be a whole number from %d to %d", min, maxFormNumber))
			return 0
		}
		return n
	}
	c := &firmward.Campaign{
		Name: v["name"], Dynamic: v["dynamic"] != "", Type: firmward.ActionType(v["type"]),
		RequireApproval: v["require_approval"] != "", TaskAssignee: v["task_assignee"],
		Target: firmward.CampaignTarget{
			Manufacturer: v["manufacturer"], Model: v["model"], Category: firmward.Category(v["category"]),
			Site: v["site"], Tags: splitList(v["tags"]), FirmwareVersion: v["firmware_version"],
		},
	}
	if rid, err := strconv.ParseInt(v["release_id"], 10, 64); err != nil || rid <= 0 {
		bad("release", v["release_id"], "choose a release")
	} else {
		c.ReleaseID = rid
	}
	for _, raw := range strings.FieldsFunc(v["device_ids"], func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 {
			bad("device ids", raw, "device ids are positive whole numbers")
			continue
		}
		c.Target.DeviceIDs = append(c.Target.DeviceIDs, id)
	}
	c.ActionTimeoutSeconds = int64(num("timeout_minutes", "action timeout", 0)) * 60
	c.TaskDueDays = num("task_due_days", "task due in days", 0)
	if v["window_cron"] != "" {
		c.Window = &firmward.MaintenanceSchedule{Cron: v["window_cron"], DurationMinutes: num("window_minutes", "window duration", 1), TimeZone: v["window_tz"]}
		if _, err := rollout.ParseCron(c.Window.Cron); err != nil {
			details = append(details, firmward.ErrorDetail{Field: "maintenance window", Value: c.Window.Cron, Reason: firmward.ErrorMessage(err)})
		}
	}
	// Waves: a size of "N%" or "N" devices, with its thresholds.
	wave := func(label string, row waveRow, staging bool) (firmward.WaveSpec, bool) {
		var ws firmward.WaveSpec
		def := firmward.DefaultWave
		if staging {
			if row == (waveRow{}) {
				return ws, false // the default staging ring
			}
			def = firmward.DefaultStagingWave
		}
		if !staging && row.Size == "" {
			return ws, false
		}
		pct := func(what, raw string, dflt int) int {
			if raw == "" {
				return dflt
			}
			n, err := strconv.Atoi(strings.TrimSuffix(raw, "%"))
			if err != nil || n < 0 || n > 100 {
				bad(label+" "+what, raw, "must be a percentage from 0 to 100")
			}
			return n
		}
		if !staging {
			if strings.HasSuffix(row.Size, "%") {
				ws.Percent = pct("size", row.Size, 0)
			} else if n, err := strconv.Atoi(row.Size); err != nil || n <= 0 {
				bad(label+" size", row.Size, `must be a percentage ("25%") or a number of devices ("10")`)
			} else {
				ws.Count = n
			}
		}
		ws.SuccessThreshold, ws.ErrorThreshold, ws.OnError = pct("success threshold", row.Success, def.SuccessThreshold), pct("error threshold", row.Error, def.ErrorThreshold), row.OnError
		return ws, true
	}
	readRow := func(prefix string, n int) waveRow {
		return waveRow{
			N: n, Size: strings.TrimSpace(r.PostFormValue(prefix + "_size")), Success: strings.TrimSpace(r.PostFormValue(prefix + "_success")),
			Error: strings.TrimSpace(r.PostFormValue(prefix + "_error")), OnError: strings.TrimSpace(r.PostFormValue(prefix + "_on_error")),
		}
	}
	f.Staging = readRow("staging", 0)
	c.Staging, _ = wave("staging ring", f.Staging, true)
	for i := range formWaves {
		row := readRow("wave"+strconv.Itoa(i+1), i+1)
		f.Waves = append(f.Waves, row)
		if ws, ok := wave(fmt.Sprintf("wave %d", i+1), row, false); ok {
			c.Waves = append(c.Waves, ws)
		}
	}
	if len(c.Waves) == 0 {
		bad("waves", "", "give at least one wave")
	}
	if c.Target.Category != "" && h.campaigns.Policy.NeedsApproval([]firmward.Category{c.Target.Category}) {
		c.RequireApproval = true
	}
	var err error
	if len(details) > 0 {
		err = &firmward.Error{Code: firmward.EINVALID, Message: "the campaign has invalid fields", Details: details}
	} else {
		err = h.campaigns.Campaigns.CreateCampaign(r.Context(), c)
	}
	if err != nil {
		status := http.StatusUnprocessableEntity
		switch firmward.ErrorCode(err) {
		case firmward.EINVALID:
		case firmward.ECONFLICT, firmward.ENOTFOUND:
			status = http.StatusConflict
		default:
			h.serverError(w, r, s, err)
			return
		}
		f.Message, f.Details = sentence(firmward.ErrorMessage(err)), firmward.ErrorDetails(err)
		h.showCampaignForm(w, r, s, status, f)
		return
	}
	h.log.InfoContext(r.Context(), "web: campaign created", "campaign", c.ID, "release", c.ReleaseID, "token", s.token.ID)
	msg := fmt.Sprintf("Campaign %q created as a draft.", c.Name)
	if c.RequireApproval {
		msg += " It needs an approval by another token before it starts."
	}
	h.flash(w, msg)
	http.Redirect(w, r, "/campaigns/"+strconv.FormatInt(c.ID, 10), http.StatusSeeOther)
}
