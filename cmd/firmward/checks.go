package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/httpapi"
)

// runChecks lists the devices' health-check status, due ones first.
func runChecks(ctx context.Context, a *app, args []string) error {
	const name = "checks"
	var q httpapi.CheckQuery
	var cat string
	fs := newFlags(name)
	fs.BoolVar(&q.Due, "due", false, "only devices whose check is due")
	fs.StringVar(&q.Site, "site", "", "only devices of this `site`")
	fs.StringVar(&cat, "category", "", "only devices of this `category`")
	if _, err := a.parse(fs, name, args, true, 0, 0); err != nil {
		return err
	}
	q.Category = firmward.Category(cat)
	c, err := a.client()
	if err != nil {
		return err
	}
	list, err := c.ListChecks(ctx, q)
	if err != nil {
		return err
	}
	if a.json {
		return writeJSON(a.stdout, list)
	}
	if len(list.Checks) == 0 {
		a.printf("No health checks due.\n")
		return nil
	}
	t := newTable(a.stdout)
	t.row("DEVICE", "NAME", "MANUFACTURER", "CADENCE", "LAST CHECK", "DUE", "STATUS")
	for _, s := range list.Checks {
		last := "never"
		if s.Last != nil {
			last = s.Last.Time.Format(time.DateOnly)
		}
		status := "ok"
		if s.Due {
			status = fmt.Sprintf("DUE (%d days)", s.DaysOverdue)
		}
		t.row(strconv.FormatInt(s.DeviceID, 10), s.Name, orDash(s.Manufacturer), cadenceText(s.Months), last, s.DueDate.Format(time.DateOnly), status)
	}
	t.flush()
	a.printf("\n%d due. Walk through a check in the web UI (/checks) or record one: firmward checks record ID --firmware-version V --auto-update yes\n", list.Due)
	return nil
}

func cadenceText(months int) string {
	switch months {
	case 1:
		return "monthly"
	case 3:
		return "quarterly"
	}
	return fmt.Sprintf("every %d months", months)
}

// runChecksRecord records a health check of one device.
func runChecksRecord(ctx context.Context, a *app, args []string) error {
	const name = "checks record"
	var hc firmward.HealthCheck
	var source string
	fs := newFlags(name)
	fs.StringVar(&hc.FirmwareVersion, "firmware-version", "", "the firmware `version` the device shows")
	fs.StringVar(&hc.AutoUpdate, "auto-update", "", "automatic updates are on: yes, no, not-available or unknown")
	fs.StringVar(&hc.DefaultPassword, "default-password-changed", "", "the default password is changed: yes, no or unknown")
	fs.StringVar(&hc.AdminFound, "admin-found", "", "the admin page or app setting was found: yes, no or unknown")
	fs.StringVar(&hc.Note, "note", "", "a `note`")
	fs.StringVar(&source, "source", "person", "who confirmed: person, agent or scan")
	pos, err := a.parse(fs, name, args, true, 1, 1)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id <= 0 {
		return usageError{cmd: name, msg: fmt.Sprintf("%q is not a device ID", pos[0])}
	}
	hc.Source = firmward.CheckSource(source)
	c, err := a.client()
	if err != nil {
		return err
	}
	dc, err := c.RecordCheck(ctx, id, &hc)
	if err != nil {
		return err
	}
	if a.json {
		return writeJSON(a.stdout, dc)
	}
	if len(dc.History) > 0 && dc.History[0].Complete {
		a.printf("check of device %d recorded; next one due %s\n", id, dc.Status.DueDate.Format(time.DateOnly))
	} else {
		a.printf("answers recorded, but the check is not complete: confirm --firmware-version and --auto-update\n")
	}
	for _, ch := range dc.Changes {
		a.printf("device %s: %s → %s\n", ch.Field, orDash(ch.Old), ch.New)
	}
	return nil
}

// runChecksCadence lists or sets the cadence rules.
func runChecksCadence(ctx context.Context, a *app, args []string) error {
	const name = "checks cadence"
	var cad firmward.CheckCadence
	var cat string
	var rm bool
	fs := newFlags(name)
	fs.StringVar(&cad.Site, "site", "", "the rule's `site` (empty: every site)")
	fs.StringVar(&cat, "category", "", "the rule's `category` (empty: every category)")
	fs.IntVar(&cad.Months, "months", 0, "check every this many `months`")
	fs.BoolVar(&rm, "rm", false, "remove the rule of --site and --category")
	if _, err := a.parse(fs, name, args, true, 0, 0); err != nil {
		return err
	}
	cad.Category = firmward.Category(cat)
	c, err := a.client()
	if err != nil {
		return err
	}
	var list *httpapi.CadenceList
	switch {
	case rm && cad.Months != 0:
		return usageError{cmd: name, msg: "--rm and --months exclude each other"}
	case rm:
		if err := c.DeleteCadence(ctx, cad.Site, cad.Category); err != nil {
			return err
		}
		list, err = c.ListCadences(ctx)
	case cad.Months != 0:
		list, err = c.SetCadence(ctx, cad)
	default:
		list, err = c.ListCadences(ctx)
	}
	if err != nil {
		return err
	}
	if a.json {
		return writeJSON(a.stdout, list)
	}
	t := newTable(a.stdout)
	t.row("SITE", "CATEGORY", "CADENCE")
	for _, r := range list.Rules {
		site, cat := r.Site, string(r.Category)
		if site == "" {
			site = "(every site)"
		}
		if cat == "" {
			cat = "(every category)"
		}
		t.row(site, cat, cadenceText(r.Months))
	}
	t.flush()
	a.printf("Defaults: %s.\n", list.Defaults)
	return nil
}
