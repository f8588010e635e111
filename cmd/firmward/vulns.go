package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/httpapi"
)

// runVulns lists findings, most urgent first, one page at a time.
func runVulns(ctx context.Context, a *app, args []string) error {
	const name = "vulns"
	fs := newFlags(name)
	var q httpapi.FindingQuery
	fs.Int64Var(&q.DeviceID, "device", 0, "only the findings of this device `ID`")
	fs.BoolVar(&q.KEV, "kev", false, "only CVEs in CISA's Known Exploited Vulnerabilities catalog")
	fs.BoolVar(&q.Overdue, "overdue", false, "only open findings past their due date")
	fs.StringVar(&q.Decision, "decision", "", "only this SSVC `decision`: Immediate, Out-of-Cycle, Scheduled or Defer")
	fs.StringVar(&q.Status, "status", "", "only this `status`: open (default), fixed, mitigated, risk-accepted, not-affected, or all")
	fs.StringVar(&q.Manufacturer, "manufacturer", "", "only devices of this `manufacturer`")
	fs.StringVar(&q.Cursor, "cursor", "", "the `cursor` printed under the previous page")
	fs.IntVar(&q.Limit, "limit", 0, "findings per page, 1 to 1000 (default 50)")
	if _, err := a.parse(fs, name, args, true, 0, 0); err != nil {
		return err
	}
	if q.Limit < 0 || q.Limit > firmward.MaxPageSize {
		return usageError{cmd: name, msg: fmt.Sprintf("--limit %d: want 1 to %d", q.Limit, firmward.MaxPageSize)}
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	list, err := c.ListFindings(ctx, q)
	if err != nil {
		return err
	}
	if a.json {
		return writeJSON(a.stdout, list)
	}
	if len(list.Findings) == 0 {
		a.printf("No findings. Import feeds (firmward feeds import FILE…): the server matches them within seconds; 'firmward vulns assess' re-matches at once.\n")
		return nil
	}
	t := newTable(a.stdout)
	t.row("PRIORITY", "DECISION", "CVE", "DEVICE", "KEV", "EPSS", "CVSS", "DUE", "STATUS")
	for _, f := range list.Findings {
		kev := "-"
		if f.KEV {
			kev = "yes"
		}
		due := "-"
		if f.DueDate != nil {
			due = f.DueDate.UTC().Format(time.DateOnly)
		}
		status := string(f.Status)
		if !f.Certain {
			status += " (possible)"
		}
		t.row(strconv.Itoa(f.Priority), orDash(f.Decision), f.CVE, strconv.FormatInt(f.DeviceID, 10), kev,
			strconv.FormatFloat(f.EPSS, 'f', 3, 64), strconv.FormatFloat(f.CVSSScore, 'f', 1, 64), due, status)
	}
	t.flush()
	if list.NextCursor != "" {
		a.printf("\n%d findings shown, most urgent first. More: firmward vulns %s\n", len(list.Findings),
			strings.Join(append(vulnsFlags(q), "--cursor", list.NextCursor), " "))
	} else {
		a.printf("\n%d findings. --status all shows fixed and handled ones too; --json every field.\n", len(list.Findings))
	}
	return nil
}

// vulnsFlags repeats the filters of q as flags, for the next-page hint.
func vulnsFlags(q httpapi.FindingQuery) []string {
	var out []string
	if q.DeviceID != 0 {
		out = append(out, "--device", strconv.FormatInt(q.DeviceID, 10))
	}
	if q.KEV {
		out = append(out, "--kev")
	}
	if q.Overdue {
		out = append(out, "--overdue")
	}
	for _, f := range []struct{ name, v string }{{"decision", q.Decision}, {"status", q.Status}, {"manufacturer", q.Manufacturer}} {
		if f.v != "" {
			out = append(out, "--"+f.name, strconv.Quote(f.v))
		}
	}
	if q.Limit != 0 {
		out = append(out, "--limit", strconv.Itoa(q.Limit))
	}
	return out
}

// runVulnsAssess re-matches now: every device against every stored CVE,
// or only the devices and CVEs named with --device and --cve.
func runVulnsAssess(ctx context.Context, a *app, args []string) error {
	const name = "vulns assess"
	fs := newFlags(name)
	var devices, cves listFlag
	fs.Var(&devices, "device", "re-match only this device `ID` (repeatable, or comma-separated); the server also does this by itself when a device changes")
	fs.Var(&cves, "cve", "re-match only this `CVE` (repeatable, or comma-separated), on the devices it names")
	if _, err := a.parse(fs, name, args, true, 0, 0); err != nil {
		return err
	}
	req := &httpapi.AssessRequest{CVEs: cves.values}
	for _, s := range devices.values {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			return usageError{cmd: name, msg: fmt.Sprintf("--device %q: want a device ID (firmward device list shows them)", s)}
		}
		req.Devices = append(req.Devices, id)
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	res, err := c.RunAssessment(ctx, req)
	if err != nil {
		return err
	}
	if a.json {
		return writeJSON(a.stdout, res)
	}
	t := newTable(a.stdout)
	t.row("CVEs", strconv.Itoa(res.CVEs))
	t.row("Devices", strconv.Itoa(res.Devices))
	t.row("With findings", strconv.Itoa(res.DevicesWithFindings))
	t.row("Opened", strconv.Itoa(res.Opened))
	t.row("Updated", strconv.Itoa(res.Updated))
	t.row("Fixed", strconv.Itoa(res.Fixed))
	t.row("Reopened", strconv.Itoa(res.Reopened))
	t.row("Took", res.Duration.Round(time.Millisecond).String())
	t.flush()
	a.printf("\nfirmward vulns lists the open findings, most urgent first.\n")
	return nil
}
