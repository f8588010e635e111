package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/lifecycle"
)

// runEOLImport uploads an end-of-support file: every row or none.
func runEOLImport(ctx context.Context, a *app, args []string) error {
	const name = "eol import"
	var format string
	fs := newFlags(name)
	fs.StringVar(&format, "format", "", "csv or json (default: from the file's extension)")
	pos, err := a.parse(fs, name, args, true, 1, 1)
	if err != nil {
		return err
	}
	path := pos[0]
	format, ok := formatFor(format, path)
	if !ok {
		return usageError{cmd: name, msg: fmt.Sprintf("cannot tell the format of %q: name the file .csv or .json, or pass --format csv or --format json", path)}
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	in := a.stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("opening the end-of-support file: %w", err)
		}
		defer func() { _ = f.Close() }() // read only
		in = f
	}
	res, err := c.ImportEOL(ctx, format, in)
	if err != nil {
		return err
	}
	if a.json {
		return writeJSON(a.stdout, res)
	}
	a.printf("imported end-of-support dates: %d created, %d updated, %d unchanged\n", res.Created, res.Updated, res.Unchanged)
	return nil
}

// runEOLList prints the end-of-support table (as CSV with --csv, which
// eol import reads back).
func runEOLList(ctx context.Context, a *app, args []string) error {
	const name = "eol list"
	var asCSV bool
	fs := newFlags(name)
	fs.BoolVar(&asCSV, "csv", false, "print CSV that 'firmward eol import' reads back")
	if _, err := a.parse(fs, name, args, true, 0, 0); err != nil {
		return err
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	list, err := c.ListEOL(ctx)
	if err != nil {
		return err
	}
	switch {
	case a.json:
		return writeJSON(a.stdout, list)
	case asCSV:
		return lifecycle.WriteEOLCSV(a.stdout, list)
	case len(list) == 0:
		a.printf("No end-of-support dates. Add some with 'firmward eol set' or 'firmward eol import FILE'.\n")
		return nil
	}
	t := newTable(a.stdout)
	t.row("ID", "MANUFACTURER", "MODEL", "RELEASED", "END OF SUPPORT", "SOURCE")
	for _, e := range list {
		model := e.Model
		if model == "" {
			model = "(every model)"
		}
		t.row(strconv.FormatInt(e.ID, 10), e.Manufacturer, model, orDash(e.ReleaseDate), e.EndOfSupport, orDash(e.Source))
	}
	t.flush()
	return nil
}

// runEOLSet creates or changes one entry.
func runEOLSet(ctx context.Context, a *app, args []string) error {
	const name = "eol set"
	var e firmward.EOLEntry
	fs := newFlags(name)
	fs.StringVar(&e.Manufacturer, "manufacturer", "", "the `manufacturer` (required)")
	fs.StringVar(&e.Model, "model", "", "the `model`; empty means every model of the manufacturer")
	fs.StringVar(&e.EndOfSupport, "end-of-support", "", "end of support, `YYYY-MM-DD` (required)")
	fs.StringVar(&e.ReleaseDate, "release-date", "", "when the model came out, `YYYY-MM-DD`")
	fs.StringVar(&e.Source, "source", "", "where the date comes from (a `URL` or a note)")
	if _, err := a.parse(fs, name, args, true, 0, 0); err != nil {
		return err
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	got, err := c.SetEOL(ctx, &e)
	if err != nil {
		return err
	}
	if a.json {
		return writeJSON(a.stdout, got)
	}
	a.printf("end of support of %s %s: %s (entry %d)\n", got.Manufacturer, orDash(got.Model), got.EndOfSupport, got.ID)
	return nil
}

// runEOLRm removes one entry.
func runEOLRm(ctx context.Context, a *app, args []string) error {
	const name = "eol rm"
	pos, err := a.parse(newFlags(name), name, args, true, 1, 1)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id <= 0 {
		return usageError{cmd: name, msg: fmt.Sprintf("%q is not an entry ID ('firmward eol list' shows them)", pos[0])}
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	if err := c.DeleteEOL(ctx, id); err != nil {
		return err
	}
	if a.json {
		return writeJSON(a.stdout, map[string]any{"deleted": id})
	}
	a.printf("deleted end-of-support entry %d\n", id)
	return nil
}

// runEOLOrphans prints the orphaned devices with their risk assessment.
func runEOLOrphans(ctx context.Context, a *app, args []string) error {
	const name = "eol orphans"
	var all bool
	var stale int
	fs := newFlags(name)
	fs.BoolVar(&all, "all", false, "assess every device, not only orphaned ones")
	fs.IntVar(&stale, "stale-months", 0, "orphaned when it has open findings and no firmware newer than this many `months` is known (default: the server's, 18)")
	if _, err := a.parse(fs, name, args, true, 0, 0); err != nil {
		return err
	}
	if stale < 0 {
		return usageError{cmd: name, msg: "--stale-months must be positive"}
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	rep, err := c.Orphans(ctx, all, stale)
	if err != nil {
		return err
	}
	if a.json {
		return writeJSON(a.stdout, rep)
	}
	if len(rep.Assessments) == 0 {
		a.printf("No orphaned devices (rule: vendor end of support passed, or open findings and no firmware newer than %d months known).\n", rep.StaleMonths)
		return nil
	}
	for i, as := range rep.Assessments {
		if i > 0 {
			a.printf("\n")
		}
		state := "orphaned"
		if !as.Orphaned {
			state = "not orphaned"
		}
		a.printf("Device %d %s (%s %s): %s\n", as.DeviceID, as.Name, as.Manufacturer, as.Model, state)
		for _, w := range as.Why {
			a.printf("  - %s\n", w)
		}
		value := string(as.OperationalValue)
		if as.ValueAssumed {
			value = "not given (medium assumed)"
		}
		a.printf("  value %s; likelihood %s; impact %s; risk %s\n", value, as.Likelihood, as.Impact, as.Risk)
		rec := string(as.Recommendation)
		if as.IsolateHow != "" {
			rec += " (" + as.IsolateHow + ")"
		}
		a.printf("  recommendation: %s\n", strings.ToUpper(rec))
		for _, r := range as.Reasoning {
			a.printf("    %s\n", r)
		}
		if !as.Cost.Known {
			a.printf("    %s\n", as.Cost.Summary)
		}
	}
	a.printf("\nTell firmward how much a device is needed: firmward eol value ID low|medium|high\n")
	return nil
}

// runEOLValue records the owner's operational value of a device.
func runEOLValue(ctx context.Context, a *app, args []string) error {
	const name = "eol value"
	var note string
	fs := newFlags(name)
	fs.StringVar(&note, "note", "", "why (kept with the answer)")
	pos, err := a.parse(fs, name, args, true, 2, 2)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id <= 0 {
		return usageError{cmd: name, msg: fmt.Sprintf("%q is not a device ID", pos[0])}
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	ans, err := c.SetOperationalValue(ctx, id, firmward.OperationalValue(pos[1]), note)
	if err != nil {
		return err
	}
	if a.json {
		return writeJSON(a.stdout, ans)
	}
	a.printf("device %d: operational value %s\n", id, ans.Value)
	return nil
}

// runEOLOpenFW lists, adds or removes models of the open-firmware list.
func runEOLOpenFW(ctx context.Context, a *app, args []string) error {
	const name = "eol openfw"
	var m firmward.OpenFirmwareModel
	var add bool
	var rm int64
	fs := newFlags(name)
	fs.BoolVar(&add, "add", false, "add the model given by --manufacturer, --model, --hardware-version")
	fs.Int64Var(&rm, "rm", 0, "remove the entry with this `ID`")
	fs.StringVar(&m.Firmware, "firmware", "OpenWrt", "the open `firmware`")
	fs.StringVar(&m.Manufacturer, "manufacturer", "", "`manufacturer` of the model")
	fs.StringVar(&m.Model, "model", "", "the `model`")
	fs.StringVar(&m.HardwareVersion, "hardware-version", "", "only this hardware `revision` (v2)")
	fs.StringVar(&m.URL, "url", "", "the firmware's page for the model (`URL`)")
	if _, err := a.parse(fs, name, args, true, 0, 0); err != nil {
		return err
	}
	if add && rm != 0 {
		return usageError{cmd: name, msg: "--add and --rm exclude each other"}
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	switch {
	case add:
		got, err := c.SetOpenFirmware(ctx, &m)
		if err != nil {
			return err
		}
		if a.json {
			return writeJSON(a.stdout, got)
		}
		a.printf("added %s %s %s to the %s list (entry %d)\n", got.Manufacturer, got.Model, got.HardwareVersion, got.Firmware, got.ID)
		return nil
	case rm != 0:
		if err := c.DeleteOpenFirmware(ctx, rm); err != nil {
			return err
		}
		if a.json {
			return writeJSON(a.stdout, map[string]any{"deleted": rm})
		}
		a.printf("removed open-firmware entry %d\n", rm)
		return nil
	}
	list, err := c.ListOpenFirmware(ctx)
	if err != nil {
		return err
	}
	if a.json {
		return writeJSON(a.stdout, list)
	}
	t := newTable(a.stdout)
	t.row("ID", "FIRMWARE", "MANUFACTURER", "MODEL", "HARDWARE", "URL")
	for _, m := range list {
		t.row(strconv.FormatInt(m.ID, 10), m.Firmware, m.Manufacturer, m.Model, orDash(m.HardwareVersion), orDash(m.URL))
	}
	t.flush()
	return nil
}
