package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/httpapi"
)

// releaseCommands are the commands of the release catalog and delivery.
func releaseCommands() []command {
	return []command{
		{
			name: "release add", args: "FILE... --manufacturer M --model M --version V [--fixes CVE]... [--url URL]...",
			summary: "add a release: upload its files (or record vendor URLs) with what it fits and fixes",
			help: "Upload each FILE into the server's content-addressed artifact store (its SHA-256 is computed here\n" +
				"first, so a file damaged on the way is refused), then record the release: manufacturer, compatible\n" +
				"models (--model, repeatable) and hardware versions, version, the vendor's release date, channel,\n" +
				"notes, the CVEs it fixes and the oldest version it may be installed over. --url records a file\n" +
				"the vendor keeps instead of uploading one.",
			run: runReleaseAdd,
		},
		{
			name: "release list", args: "[--manufacturer M] [--model M] [--withdrawn] [--all]",
			summary: "list releases",
			help:    "List releases, oldest first, one page at a time (--limit, --cursor), or every page with --all.",
			run:     runReleaseList,
		},
		{name: "release show", args: "ID", summary: "show one release with its files", help: "Show one release.", run: runReleaseShow},
		{
			name: "release withdraw", args: "ID [--reason TEXT]", summary: "withdraw (recall) a release",
			help: "Withdraw a release: it is no longer deployed; actions not yet started are canceled and devices\n" +
				"working on it are asked to cancel.",
			run: runReleaseWithdraw,
		},
		{
			name: "release deploy", args: "ID --device ID... [--type forced|attempt|skip|downloadonly] [--window-start T --window-end T] [--force]",
			summary: "deploy a release to devices (one action each)",
			help: "Create one action per device: the device installs the release on its next poll. A maintenance\n" +
				"window (RFC 3339 times) lets installs start only inside it; downloads may happen before.\n" +
				"Devices the release does not fit (another model, hardware it does not list, a version below its\n" +
				"minimum from-version or newer than it) are refused by name; --force deploys anyway.",
			run: runReleaseDeploy,
		},
		{
			name: "action show", args: "ID", summary: "show an action and the feedback its device sent",
			help: "Show one action: its status and result, and every feedback the device sent, oldest first.",
			run:  runActionShow,
		},
		{
			name: "device token", args: "ID [--controller-id CID]",
			summary: "issue a device token (pre-registration for the DDI and agent APIs)",
			help: "Issue the token a device authenticates with (hawkBit DDI: Authorization: TargetToken TOKEN), bound\n" +
				"to the controller id the device uses (default: its firmward id). A new token replaces the old one.\n" +
				"The secret is shown once.",
			run: runDeviceToken,
		},
	}
}

// hashFile returns the hex SHA-256 and size of a file.
func hashFile(p string) (string, int64, error) {
	f, err := os.Open(p) //nolint:gosec // the user names the file to upload
	if err != nil {
		return "", 0, err
	}
	defer func() { _ = f.Close() }()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("reading %s: %w", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

func runReleaseAdd(ctx context.Context, a *app, args []string) error {
	const name = "release add"
	var rel firmward.Release
	var models, hw, fixes, urls listFlag
	var notesFile string
	fs := newFlags(name)
	fs.StringVar(&rel.Manufacturer, "manufacturer", "", "`manufacturer` of the devices it is for")
	fs.Var(&models, "model", "compatible `model` (repeatable, or comma-separated)")
	fs.Var(&hw, "hardware-version", "compatible hardware `version` (repeatable)")
	fs.StringVar(&rel.Version, "version", "", "firmware `version` of the release")
	fs.StringVar(&rel.ReleaseDate, "release-date", "", "the vendor's release `date` (YYYY-MM-DD)")
	fs.StringVar(&rel.Channel, "channel", firmward.ChannelStable, "`channel`: "+strings.Join(firmward.ReleaseChannels, ", "))
	fs.StringVar(&rel.Notes, "notes", "", "release `notes`")
	fs.StringVar(&notesFile, "notes-file", "", "read the release notes from `FILE`")
	fs.Var(&fixes, "fixes", "a `CVE` the release fixes (repeatable)")
	fs.StringVar(&rel.MinFromVersion, "min-from", "", "oldest `version` it may be installed over")
	fs.Var(&urls, "url", "vendor download `URL` of a file not uploaded (repeatable)")
	files, err := a.parse(fs, name, args, true, 0, 1000)
	if err != nil {
		return err
	}
	if len(files) == 0 && len(urls.values) == 0 {
		return usageError{cmd: name, msg: "give at least one FILE to upload or a --url"}
	}
	if notesFile != "" {
		b, err := os.ReadFile(notesFile) //nolint:gosec // the user names the file
		if err != nil {
			return fmt.Errorf("reading the release notes: %w", err)
		}
		rel.Notes = string(b)
	}
	rel.Models, rel.HardwareVersions, rel.FixesCVEs = models.values, hw.values, fixes.values
	for _, u := range urls.values {
		pu, err := url.Parse(u)
		if err != nil || pu.Path == "" {
			return usageError{cmd: name, msg: fmt.Sprintf("--url %q is not a URL of a file", u)}
		}
		rel.Artifacts = append(rel.Artifacts, firmward.ReleaseArtifact{Name: path.Base(pu.Path), URL: u})
	}
	for _, f := range files {
		rel.Artifacts = append(rel.Artifacts, firmward.ReleaseArtifact{Name: filepath.Base(f)})
	}
	// Check everything the server would refuse before uploading anything.
	check := rel
	check.Artifacts = append([]firmward.ReleaseArtifact(nil), rel.Artifacts...)
	for i := range check.Artifacts {
		if check.Artifacts[i].URL == "" {
			check.Artifacts[i].SHA256 = strings.Repeat("0", 64)
		}
	}
	if err := check.Normalize(); err != nil {
		return err
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	for i, f := range files {
		sum, size, err := hashFile(f)
		if err != nil {
			return err
		}
		in, err := os.Open(f) //nolint:gosec // the user names the file to upload
		if err != nil {
			return err
		}
		bar := a.newProgress("uploading "+filepath.Base(f), size)
		sums, err := c.UploadArtifact(ctx, bar.reader(in), sum)
		bar.finish()
		_ = in.Close()
		if err != nil {
			return fmt.Errorf("uploading %s: %w", f, err)
		}
		art := &rel.Artifacts[len(urls.values)+i]
		art.SHA256, art.SHA1, art.MD5, art.Size = sums.SHA256, sums.SHA1, sums.MD5, sums.Size
	}
	out, err := c.CreateRelease(ctx, &rel)
	if err != nil {
		return err
	}
	if a.json {
		return writeJSON(a.stdout, out)
	}
	a.printf("added release %d: %s %s for %s\n", out.ID, out.Manufacturer, out.Version, strings.Join(out.Models, ", "))
	a.printf("Deploy it with: firmward release deploy %d --device ID\n", out.ID)
	return nil
}

func runReleaseList(ctx context.Context, a *app, args []string) error {
	const name = "release list"
	var q httpapi.ReleaseQuery
	var all bool
	fs := newFlags(name)
	fs.StringVar(&q.Manufacturer, "manufacturer", "", "only this `manufacturer`")
	fs.StringVar(&q.Model, "model", "", "only releases for this `model`")
	fs.BoolVar(&q.Withdrawn, "withdrawn", false, "include withdrawn releases")
	fs.BoolVar(&all, "all", false, "every page")
	fs.StringVar(&q.Cursor, "cursor", "", "`cursor` of the page to show")
	fs.IntVar(&q.Limit, "limit", 0, "page `size`")
	if _, err := a.parse(fs, name, args, true, 0, 0); err != nil {
		return err
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	var rels []*firmward.Release
	next := ""
	for {
		page, n, err := c.ListReleases(ctx, q)
		if err != nil {
			return err
		}
		rels, next = append(rels, page...), n
		if !all || n == "" {
			break
		}
		q.Cursor = n
	}
	if rels == nil {
		rels = []*firmward.Release{}
	}
	if a.json {
		return writeJSON(a.stdout, httpapi.ReleaseList{Releases: rels, NextCursor: next})
	}
	t := newTable(a.stdout)
	t.row("ID", "MANUFACTURER", "VERSION", "MODELS", "CHANNEL", "DATE", "FIXES", "FILES", "STATUS")
	for _, r := range rels {
		status := "active"
		if r.Withdrawn {
			status = "withdrawn"
		}
		t.row(strconv.FormatInt(r.ID, 10), cut(r.Manufacturer, 24), cut(r.Version, 20), cut(strings.Join(r.Models, ", "), 30),
			r.Channel, orDash(r.ReleaseDate), strconv.Itoa(len(r.FixesCVEs)), strconv.Itoa(len(r.Artifacts)), status)
	}
	t.flush()
	if next != "" {
		a.printf("\nmore: firmward release list --cursor %s\n", next)
	}
	return nil
}

func runReleaseShow(ctx context.Context, a *app, args []string) error {
	const name = "release show"
	pos, err := a.parse(newFlags(name), name, args, true, 1, 1)
	if err != nil {
		return err
	}
	id, err := parseID(name, pos[0], "release")
	if err != nil {
		return err
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	r, err := c.GetRelease(ctx, id)
	if err != nil {
		return err
	}
	if a.json {
		return writeJSON(a.stdout, r)
	}
	a.printf("release %d: %s %s (%s)\n", r.ID, r.Manufacturer, r.Version, r.Channel)
	a.printf("  models:            %s\n", strings.Join(r.Models, ", "))
	a.printf("  hardware versions: %s\n", orDash(strings.Join(r.HardwareVersions, ", ")))
	a.printf("  release date:      %s\n", orDash(r.ReleaseDate))
	a.printf("  fixes:             %s\n", orDash(strings.Join(r.FixesCVEs, ", ")))
	a.printf("  min from version:  %s\n", orDash(r.MinFromVersion))
	a.printf("  added:             %s by %s\n", when(&r.CreatedAt), r.CreatedBy)
	if r.Withdrawn {
		a.printf("  WITHDRAWN:         %s %s\n", when(r.WithdrawnAt), r.WithdrawReason)
	}
	for _, art := range r.Artifacts {
		if art.URL != "" {
			a.printf("  file %s: %s\n", art.Name, art.URL)
			continue
		}
		a.printf("  file %s: %s, sha256 %s\n", art.Name, formatBytes(art.Size), art.SHA256)
	}
	if r.Notes != "" {
		a.printf("\n%s\n", r.Notes)
	}
	return nil
}

func runReleaseWithdraw(ctx context.Context, a *app, args []string) error {
	const name = "release withdraw"
	var reason string
	fs := newFlags(name)
	fs.StringVar(&reason, "reason", "", "why the release is recalled (kept in the audit trail)")
	pos, err := a.parse(fs, name, args, true, 1, 1)
	if err != nil {
		return err
	}
	id, err := parseID(name, pos[0], "release")
	if err != nil {
		return err
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	res, err := c.WithdrawRelease(ctx, id, reason)
	if err != nil {
		return err
	}
	if a.json {
		return writeJSON(a.stdout, res)
	}
	a.printf("withdrew release %d; %d open action(s) canceled or asked to cancel\n", id, res.CanceledActions)
	return nil
}

// int64List is a repeatable flag of ids.
type int64List []int64

func (l *int64List) String() string { return fmt.Sprint([]int64(*l)) }

func (l *int64List) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return fmt.Errorf("%q is not a device id", v)
		}
		*l = append(*l, n)
	}
	return nil
}

func runReleaseDeploy(ctx context.Context, a *app, args []string) error {
	const name = "release deploy"
	var devices int64List
	var typ, start, end string
	fs := newFlags(name)
	fs.Var(&devices, "device", "device `ID` (repeatable, or comma-separated)")
	fs.StringVar(&typ, "type", string(firmward.ActionForced), "`type`: forced, attempt, skip or downloadonly")
	fs.StringVar(&start, "window-start", "", "maintenance window start (RFC 3339 `time`)")
	fs.StringVar(&end, "window-end", "", "maintenance window end (RFC 3339 `time`)")
	force := fs.Bool("force", false, "deploy even to devices the release does not fit (model, hardware, minimum from-version, a newer version)")
	pos, err := a.parse(fs, name, args, true, 1, 1)
	if err != nil {
		return err
	}
	id, err := parseID(name, pos[0], "release")
	if err != nil {
		return err
	}
	if len(devices) == 0 {
		return usageError{cmd: name, msg: "--device is required"}
	}
	req := httpapi.DeployRequest{Devices: devices, Type: firmward.ActionType(typ), Force: *force}
	if start != "" || end != "" {
		s, err1 := time.Parse(time.RFC3339, start)
		e, err2 := time.Parse(time.RFC3339, end)
		if err1 != nil || err2 != nil {
			return usageError{cmd: name, msg: "--window-start and --window-end must both be RFC 3339 times (2026-01-31T22:00:00Z)"}
		}
		req.MaintenanceWindow = &firmward.MaintenanceWindow{Start: s, End: e}
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	acts, err := c.DeployRelease(ctx, id, req)
	if err != nil {
		return err
	}
	if a.json {
		return writeJSON(a.stdout, httpapi.ActionList{Actions: acts})
	}
	t := newTable(a.stdout)
	t.row("ACTION", "DEVICE", "TYPE", "STATUS")
	for _, x := range acts {
		t.row(strconv.FormatInt(x.ID, 10), strconv.FormatInt(x.DeviceID, 10), string(x.Type), string(x.Status))
	}
	t.flush()
	return nil
}

func runActionShow(ctx context.Context, a *app, args []string) error {
	const name = "action show"
	pos, err := a.parse(newFlags(name), name, args, true, 1, 1)
	if err != nil {
		return err
	}
	id, err := parseID(name, pos[0], "action")
	if err != nil {
		return err
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	d, err := c.GetAction(ctx, id)
	if err != nil {
		return err
	}
	if a.json {
		return writeJSON(a.stdout, d)
	}
	x := d.Action
	a.printf("action %d: release %d on device %d, %s, %s %s\n", x.ID, x.ReleaseID, x.DeviceID, x.Type, x.Status, x.Result)
	t := newTable(a.stdout)
	t.row("TIME", "EXECUTION", "FINISHED", "PROGRESS", "DETAILS")
	for _, f := range d.Feedback {
		prog := "-"
		if f.ProgressOf > 0 {
			prog = fmt.Sprintf("%d/%d", f.ProgressCnt, f.ProgressOf)
		}
		t.row(when(&f.Time), f.Execution, f.Finished, prog, cut(strings.Join(f.Details, " | "), 80))
	}
	t.flush()
	return nil
}

func runDeviceToken(ctx context.Context, a *app, args []string) error {
	const name = "device token"
	var controller string
	fs := newFlags(name)
	fs.StringVar(&controller, "controller-id", "", "controller `id` the device uses (default: its firmward id)")
	c, id, err := a.deviceCommand(name, fs, args)
	if err != nil {
		return err
	}
	res, err := c.CreateDeviceToken(ctx, id, controller)
	if err != nil {
		return notFoundHint(err)
	}
	if a.json {
		return writeJSON(a.stdout, res)
	}
	a.printf("device %d: controller id %s, token (shown once):\n\n  %s\n\n", id, res.Credential.ControllerID, res.Secret)
	a.printf("hawkBit DDI clients use: -i %s -k %s (Authorization: TargetToken …)\n", res.Credential.ControllerID, res.Secret)
	return nil
}
