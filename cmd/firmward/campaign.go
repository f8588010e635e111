package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/httpapi"
)

// campaignCommands are the commands of staged rollouts.
func campaignCommands() []command {
	return []command{
		{
			name: "campaign create", args: "--name N --release ID [target] [--wave 10%|N]... [--window-cron C --window-duration D]",
			summary: "create a staged rollout of a release (a draft)",
			help: "Create a campaign: the devices it targets (--device, or a filter: --manufacturer, --model, --category,\n" +
				"--site, --tag, --from-version; only devices the release fits), then waves. Devices tagged 'staging' go\n" +
				"first (wave 0); each --wave takes a percent (30%) or a count (10) of the others, the last takes the rest.\n" +
				"A wave starts when the previous one reached --success percent; more than --error percent failed pauses\n" +
				"(or aborts with --on-error abort). --timeout fails an action the device leaves open that long.\n" +
				"--window-cron (5 fields, in --window-tz) and --window-duration: installs start only inside a window.\n" +
				"--dynamic: devices matching the filter later join too. Devices firmward cannot push to get a task\n" +
				"(--assignee, --due-days). Network infrastructure waits out a soak period after the vendor's release\n" +
				"date and needs an approval by another token (firmward campaign approve).",
			run: runCampaignCreate,
		},
		{name: "campaign list", args: "[--status S]", summary: "list campaigns", help: "List campaigns, oldest first.", run: runCampaignList},
		{name: "campaign approve", args: "ID", summary: "approve a campaign (another token than its creator)", help: "Approve a campaign; both tokens are recorded.", run: campaignOpCommand("approve")},
		{name: "campaign start", args: "ID", summary: "start a draft campaign", help: "Start a campaign: the runner plans its waves and starts the staging ring.", run: campaignOpCommand(firmward.OpStart)},
		{name: "campaign pause", args: "ID [--reason R]", summary: "pause a campaign", help: "Pause a campaign: no new wave or action starts; actions under way go on.", run: campaignOpCommand(firmward.OpPause)},
		{name: "campaign resume", args: "ID [--reason R]", summary: "resume a paused campaign", help: "Resume a campaign, accepting the failures of its current wave.", run: campaignOpCommand(firmward.OpResume)},
		{name: "campaign cancel", args: "ID [--reason R]", summary: "cancel a campaign", help: "Cancel a campaign: open actions are canceled, open tasks closed.", run: campaignOpCommand(firmward.OpCancel)},
		{name: "campaign rollback", args: "ID", summary: "roll a campaign's devices back to the previous release", help: "Cancel the campaign and start one that installs the previous release on the devices it updated.", run: campaignOpCommand("rollback")},
		{
			name: "campaign members", args: "ID [--state open|succeeded|failed|task] [--limit N]",
			summary: "list a campaign's devices, e.g. its failures",
			help:    "List a campaign's devices with their action, task and version, page by page from the server; --state failed lists the failures. --limit stops after N devices.",
			run:     runCampaignMembers,
		},
		{
			name: "campaign status", args: "ID [--watch INTERVAL] [--members]",
			summary: "show a campaign's waves with progress bars",
			help:    "Show a campaign: status, soak period, approval, and one progress bar per wave. --watch redraws until it ends.",
			run:     runCampaignStatus,
		},
	}
}

type waveFlag struct{ waves []firmward.WaveSpec }

func (w *waveFlag) String() string { return fmt.Sprint(len(w.waves)) }

func (w *waveFlag) Set(s string) error {
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if p, ok := strings.CutSuffix(part, "%"); ok {
			n, err := strconv.Atoi(p)
			if err != nil || n <= 0 || n > 100 {
				return fmt.Errorf("wave %q: a percent is 1%% to 100%%", part)
			}
			w.waves = append(w.waves, firmward.WaveSpec{Percent: n})
			continue
		}
		n, err := strconv.Atoi(part)
		if err != nil || n <= 0 {
			return fmt.Errorf("wave %q: give a percent (30%%) or a count of devices (10)", part)
		}
		w.waves = append(w.waves, firmward.WaveSpec{Count: n})
	}
	return nil
}

func runCampaignCreate(ctx context.Context, a *app, args []string) error {
	const name = "campaign create"
	var req httpapi.CampaignRequest
	var devices int64List
	var tags listFlag
	var waves waveFlag
	var category, typ, onError, cron, tz string
	var success, errPct int
	var timeout, windowDur time.Duration
	fs := newFlags(name)
	fs.StringVar(&req.Name, "name", "", "campaign `name`")
	fs.Int64Var(&req.ReleaseID, "release", 0, "release `ID` to roll out")
	fs.Var(&devices, "device", "target device `ID` (repeatable; instead of a filter)")
	fs.StringVar(&req.Target.Manufacturer, "manufacturer", "", "target devices of this `manufacturer`")
	fs.StringVar(&req.Target.Model, "model", "", "target devices of this `model`")
	fs.StringVar(&category, "category", "", "target devices of this `category`")
	fs.StringVar(&req.Target.Site, "site", "", "target devices at this `site`")
	fs.Var(&tags, "tag", "target devices with this `tag` (repeatable: all of them)")
	fs.StringVar(&req.Target.FirmwareVersion, "from-version", "", "target devices running this firmware `version`")
	fs.BoolVar(&req.Dynamic, "dynamic", false, "devices matching the filter later join too")
	fs.StringVar(&typ, "type", string(firmward.ActionForced), "`mode`: forced, attempt or downloadonly")
	fs.Var(&waves, "wave", "a wave after the staging ring: `30%` or a count (repeatable)")
	fs.IntVar(&success, "success", 90, "success threshold of each wave, `percent`")
	fs.IntVar(&errPct, "error", 10, "error threshold of each wave, `percent`")
	fs.StringVar(&onError, "on-error", firmward.OnErrorPause, "pause or abort when a wave crosses its error threshold")
	fs.DurationVar(&timeout, "timeout", 24*time.Hour, "fail an action left open this `long` (0: never)")
	fs.StringVar(&cron, "window-cron", "", "maintenance windows open at this cron `expression` (5 fields)")
	fs.DurationVar(&windowDur, "window-duration", time.Hour, "maintenance window `length`")
	fs.StringVar(&tz, "window-tz", "UTC", "IANA time `zone` of the cron expression")
	fs.BoolVar(&req.RequireApproval, "approval", false, "require an approval by another token before it starts")
	fs.StringVar(&req.TaskAssignee, "assignee", "", "who gets the manual tasks (default: each device's owner)")
	fs.IntVar(&req.TaskDueDays, "due-days", 14, "manual tasks are due this many `days` after their wave starts")
	if _, err := a.parse(fs, name, args, true, 0, 0); err != nil {
		return err
	}
	if req.Name == "" || req.ReleaseID <= 0 {
		return usageError{cmd: name, msg: "--name and --release are required"}
	}
	req.Target.DeviceIDs, req.Target.Tags, req.Target.Category = devices, tags.values, firmward.Category(category)
	req.Type, req.ActionTimeoutSeconds = firmward.ActionType(typ), int64(timeout/time.Second)
	req.Waves = waves.waves
	if len(req.Waves) == 0 {
		req.Waves = []firmward.WaveSpec{{Percent: 100}}
	}
	for i := range req.Waves {
		req.Waves[i].SuccessThreshold, req.Waves[i].ErrorThreshold, req.Waves[i].OnError = success, errPct, onError
	}
	if cron != "" {
		req.MaintenanceWindow = &firmward.MaintenanceSchedule{Cron: cron, DurationMinutes: int(windowDur / time.Minute), TimeZone: tz}
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	out, err := c.CreateCampaign(ctx, req)
	if err != nil {
		return err
	}
	if a.json {
		return writeJSON(a.stdout, out)
	}
	a.printf("created campaign %d (%s), a draft\n", out.ID, out.Name)
	if out.RequireApproval {
		a.printf("It needs an approval by another token: firmward campaign approve %d\n", out.ID)
	}
	a.printf("Start it with: firmward campaign start %d\n", out.ID)
	return nil
}

func runCampaignList(ctx context.Context, a *app, args []string) error {
	const name = "campaign list"
	var status string
	fs := newFlags(name)
	fs.StringVar(&status, "status", "", "only campaigns in this `status`")
	if _, err := a.parse(fs, name, args, true, 0, 0); err != nil {
		return err
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	var all []*firmward.Campaign
	for cursor := ""; ; {
		page, next, err := c.ListCampaigns(ctx, firmward.CampaignStatus(status), cursor)
		if err != nil {
			return err
		}
		all = append(all, page...)
		if next == "" {
			break
		}
		cursor = next
	}
	if a.json {
		return writeJSON(a.stdout, httpapi.CampaignList{Campaigns: all})
	}
	t := newTable(a.stdout)
	t.row("ID", "NAME", "RELEASE", "STATUS", "WAVE", "CREATED BY", "APPROVED BY")
	for _, x := range all {
		t.row(strconv.FormatInt(x.ID, 10), cut(x.Name, 30), strconv.FormatInt(x.ReleaseID, 10), string(x.Status), strconv.Itoa(x.CurrentWave), x.CreatedBy, orDash(x.ApprovedBy))
	}
	t.flush()
	return nil
}

// campaignOpCommand runs approve, start, pause, resume, cancel or rollback.
func campaignOpCommand(op firmward.CampaignOp) func(context.Context, *app, []string) error {
	return func(ctx context.Context, a *app, args []string) error {
		name := "campaign " + string(op)
		var reason string
		fs := newFlags(name)
		if op == firmward.OpPause || op == firmward.OpResume || op == firmward.OpCancel {
			fs.StringVar(&reason, "reason", "", "why (kept in the audit trail)")
		}
		pos, err := a.parse(fs, name, args, true, 1, 1)
		if err != nil {
			return err
		}
		id, err := parseID(name, pos[0], "campaign")
		if err != nil {
			return err
		}
		c, err := a.client()
		if err != nil {
			return err
		}
		var out *firmward.Campaign
		switch op {
		case "approve":
			out, err = c.ApproveCampaign(ctx, id)
		case "rollback":
			out, err = c.RollbackCampaign(ctx, id)
		default:
			out, err = c.ChangeCampaign(ctx, id, op, reason)
		}
		if err != nil {
			return err
		}
		if a.json {
			return writeJSON(a.stdout, out)
		}
		switch op {
		case "approve":
			a.printf("campaign %d approved by %s (created by %s)\n", out.ID, out.ApprovedBy, out.CreatedBy)
		case "rollback":
			a.printf("campaign %d canceled; rollback campaign %d started (release %d)\n", id, out.ID, out.ReleaseID)
		default:
			a.printf("campaign %d is %s\n", out.ID, out.Status)
		}
		return nil
	}
}

func runCampaignMembers(ctx context.Context, a *app, args []string) error {
	const name = "campaign members"
	var state string
	var limit int
	fs := newFlags(name)
	fs.StringVar(&state, "state", "", "only devices in this `state`: open, succeeded, failed or task")
	fs.IntVar(&limit, "limit", 0, "stop after `n` devices (0: all)")
	pos, err := a.parse(fs, name, args, true, 1, 1)
	if err != nil {
		return err
	}
	id, err := parseID(name, pos[0], "campaign")
	if err != nil {
		return err
	}
	if state != "" && !slices.Contains(firmward.MemberStates, firmward.MemberState(state)) {
		return usageError{cmd: name, msg: fmt.Sprintf("--state %q: use open, succeeded, failed or task", state)}
	}
	if limit < 0 {
		return usageError{cmd: name, msg: "--limit must not be negative"}
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	out, err := allMembers(ctx, c, id, firmward.MemberState(state), limit)
	if err != nil {
		return err
	}
	if a.json {
		return writeJSON(a.stdout, out)
	}
	if len(out) == 0 {
		_, _ = fmt.Fprintf(a.stdout, "no devices%s in campaign %d\n", map[bool]string{true: " in state " + state}[state != ""], id)
		return nil
	}
	printMembers(a.stdout, out)
	return nil
}

// allMembers reads a campaign's members in state ("" all), page by page,
// up to limit (0: all).
func allMembers(ctx context.Context, c *httpapi.Client, id int64, state firmward.MemberState, limit int) ([]*firmward.CampaignMember, error) {
	out := []*firmward.CampaignMember{}
	for cursor := ""; ; {
		page, err := c.CampaignMembers(ctx, id, state, cursor, firmward.MaxPageSize)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Members...)
		if limit > 0 && len(out) >= limit {
			return out[:limit], nil
		}
		if page.NextCursor == "" {
			return out, nil
		}
		cursor = page.NextCursor
	}
}

func runCampaignStatus(ctx context.Context, a *app, args []string) error {
	const name = "campaign status"
	var watch time.Duration
	var members bool
	fs := newFlags(name)
	fs.DurationVar(&watch, "watch", 0, "redraw every `interval` until the campaign ends")
	fs.BoolVar(&members, "members", false, "list every device with its action or task")
	pos, err := a.parse(fs, name, args, true, 1, 1)
	if err != nil {
		return err
	}
	id, err := parseID(name, pos[0], "campaign")
	if err != nil {
		return err
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	for {
		rep, err := c.CampaignStatus(ctx, id, false)
		if err != nil {
			return err
		}
		if members { // page by page: the server never lists a large campaign in one answer
			if rep.Members, err = allMembers(ctx, c, id, "", 0); err != nil {
				return err
			}
		}
		if a.json {
			if err := writeJSON(a.stdout, rep); err != nil {
				return err
			}
		} else {
			printCampaignReport(a.stdout, rep)
		}
		if watch <= 0 || rep.Campaign.Status.Final() {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(watch):
		}
		if !a.json {
			_, _ = fmt.Fprintln(a.stdout)
		}
	}
}

// waveBar draws one wave's bar with the upload bar's style: the share of
// its devices whose action is closed.
func waveBar(label string, done, total int) string {
	var b strings.Builder
	p := &progress{w: &b, label: label, total: int64(total), done: int64(done), unit: "devices"}
	if total == 0 {
		p.total, p.done = 1, 1
	}
	p.draw()
	return strings.TrimRight(strings.TrimPrefix(b.String(), "\r"), " ")
}

func printCampaignReport(w io.Writer, rep *httpapi.CampaignReport) {
	c := rep.Campaign
	pf := func(format string, args ...any) { _, _ = fmt.Fprintf(w, format, args...) }
	pf("campaign %d: %s — %s\n", c.ID, c.Name, c.Status)
	if c.StatusReason != "" {
		pf("  reason:    %s\n", c.StatusReason)
	}
	if rep.Release != nil {
		pf("  release:   %d (%s %s)\n", rep.Release.ID, rep.Release.Manufacturer, rep.Release.Version)
	}
	pf("  mode:      %s", c.Type)
	if c.Dynamic {
		pf(", dynamic")
	}
	pf("\n  created:   %s by %s\n", when(&c.CreatedAt), c.CreatedBy)
	switch {
	case c.ApprovedBy != "":
		pf("  approved:  %s by %s\n", when(c.ApprovedAt), c.ApprovedBy)
	case c.RequireApproval:
		pf("  approval:  needed (by another token than %s)\n", c.CreatedBy)
	}
	if rep.SoakUntil != nil {
		pf("  soak:      until %s (%s)\n", rep.SoakUntil.Format(time.DateOnly), rep.SoakFor)
	}
	if c.Window != nil {
		pf("  window:    %q for %d min (%s)\n", c.Window.Cron, c.Window.DurationMinutes, c.Window.TimeZone)
	}
	for _, s := range rep.Waves {
		label := fmt.Sprintf("wave %d", s.Wave)
		if s.Wave == 0 {
			label = "staging"
		}
		mark := " "
		switch {
		case s.Wave == c.CurrentWave:
			mark = ">"
		case s.Wave > c.CurrentWave:
			mark = "."
		}
		pf("%s %s  ok %d, failed %d, open %d", mark, waveBar(fmt.Sprintf("%-7s", label), s.Succeeded+s.Failed, s.Devices), s.Succeeded, s.Failed, s.Open)
		if s.Tasks > 0 {
			pf(", tasks %d (%d open)", s.Tasks, s.TasksOpen)
		}
		pf("\n")
	}
	if len(rep.Members) > 0 {
		printMembers(w, rep.Members)
	}
}

// printMembers prints campaign members as a table.
func printMembers(w io.Writer, members []*firmward.CampaignMember) {
	{
		t := newTable(w)
		t.row("DEVICE", "NAME", "WAVE", "ACTION", "STATUS", "TASK", "VERSION")
		for _, m := range members {
			nameCol, version, action, status, task := "-", "-", "-", "-", "-"
			if m.Device != nil {
				nameCol, version = cut(m.Device.Name, 24), orDash(m.Device.FirmwareVersion)
			}
			if m.Action != nil {
				action, status = strconv.FormatInt(m.Action.ID, 10), string(m.Action.Status)
				if m.Action.Result != "" {
					status += " " + m.Action.Result
				}
			}
			if m.Task != nil {
				task = strconv.FormatInt(m.Task.ID, 10) + " " + string(m.Task.Status)
			}
			t.row(strconv.FormatInt(m.DeviceID, 10), nameCol, strconv.Itoa(m.Wave), action, status, task, version)
		}
		t.flush()
	}
}
