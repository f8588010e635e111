package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/httpapi"
)

// deviceFlags are the flags of every device field, shared by `device add`
// and `device edit`.
type deviceFlags struct {
	name, manufacturer, model, hardwareVersion, firmwareVersion, serial string
	category, criticality, exposure, updateMechanism, autoUpdate        string
	site, location, owner, segment, cpe, eolDate, purchaseDate, notes   string
	replacementCost                                                     float64
	macs, ips, tags                                                     listFlag
}

func oneOf[T ~string](values []T) string {
	return "one of " + strings.Join(stringsOf(values), ", ")
}

func (f *deviceFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.name, "name", "", "device `name`")
	fs.StringVar(&f.manufacturer, "manufacturer", "", "manufacturer, as on the box (TP-Link, Axis Communications)")
	fs.StringVar(&f.model, "model", "", "`model` name or number")
	fs.StringVar(&f.hardwareVersion, "hardware-version", "", "hardware revision")
	fs.StringVar(&f.firmwareVersion, "firmware-version", "", "firmware version as the device shows it")
	fs.StringVar(&f.serial, "serial", "", "serial number")
	fs.StringVar(&f.category, "category", "", oneOf(firmward.Categories)+" (default other)")
	fs.StringVar(&f.criticality, "criticality", "", oneOf(firmward.Criticalities)+" (default medium)")
	fs.StringVar(&f.exposure, "exposure", "", oneOf(firmward.Exposures)+" (default internal)")
	fs.StringVar(&f.updateMechanism, "update-mechanism", "", "how firmware reaches it: "+oneOf(firmward.UpdateMechanisms)+" (default: unknown)")
	fs.StringVar(&f.autoUpdate, "auto-update", "", "whether it updates itself: "+oneOf(firmward.AutoUpdates))
	fs.Var(&f.macs, "mac", "MAC `address` (repeatable)")
	fs.Var(&f.ips, "ip", "IP `address` (repeatable; inventory data, never contacted)")
	fs.Var(&f.tags, "tag", "`tag` (repeatable)")
	fs.StringVar(&f.site, "site", "", "site")
	fs.StringVar(&f.location, "location", "", "where it is (building, floor, room)")
	fs.StringVar(&f.owner, "owner", "", "owning person or team")
	fs.StringVar(&f.segment, "segment", "", "network segment or VLAN")
	fs.StringVar(&f.cpe, "cpe", "", "CPE 2.3 `name` (cpe:2.3:o:vendor:product:version:*:*:*:*:*:*:*)")
	fs.StringVar(&f.eolDate, "eol-date", "", "end-of-life `date` (YYYY-MM-DD)")
	fs.StringVar(&f.purchaseDate, "purchase-date", "", "purchase `date` (YYYY-MM-DD)")
	fs.Float64Var(&f.replacementCost, "replacement-cost", 0, "replacement `cost` in the site's currency")
	fs.StringVar(&f.notes, "notes", "", "free text")
}

// device returns the device the flags describe.
func (f *deviceFlags) device() *firmward.Device {
	return &firmward.Device{
		Name: f.name, Manufacturer: f.manufacturer, Model: f.model,
		HardwareVersion: f.hardwareVersion, FirmwareVersion: f.firmwareVersion, Serial: f.serial,
		Category: firmward.Category(f.category), Criticality: firmward.Criticality(f.criticality),
		Exposure: firmward.Exposure(f.exposure), UpdateMechanism: firmward.UpdateMechanism(f.updateMechanism),
		AutoUpdate: firmward.AutoUpdate(f.autoUpdate),
		MACs:       f.macs.values, IPs: f.ips.values, Tags: f.tags.values,
		Site: f.site, Location: f.location, Owner: f.owner, Segment: f.segment, CPE: f.cpe,
		EOLDate: f.eolDate, PurchaseDate: f.purchaseDate, ReplacementCost: f.replacementCost, Notes: f.notes,
	}
}

// update returns a partial update with the fields whose flags were set
// (on the command line or through their environment twins).
func (f *deviceFlags) update(fs *flag.FlagSet) (firmward.DeviceUpdate, int) {
	var u firmward.DeviceUpdate
	n := 0
	fs.Visit(func(fl *flag.Flag) {
		n++
		switch fl.Name {
		case "name":
			u.Name = &f.name
		case "manufacturer":
			u.Manufacturer = &f.manufacturer
		case "model":
			u.Model = &f.model
		case "hardware-version":
			u.HardwareVersion = &f.hardwareVersion
		case "firmware-version":
			u.FirmwareVersion = &f.firmwareVersion
		case "serial":
			u.Serial = &f.serial
		case "category":
			u.Category = (*firmward.Category)(&f.category)
		case "criticality":
			u.Criticality = (*firmward.Criticality)(&f.criticality)
		case "exposure":
			u.Exposure = (*firmward.Exposure)(&f.exposure)
		case "update-mechanism":
			u.UpdateMechanism = (*firmward.UpdateMechanism)(&f.updateMechanism)
		case "auto-update":
			u.AutoUpdate = (*firmward.AutoUpdate)(&f.autoUpdate)
		case "mac":
			u.MACs = &f.macs.values
		case "ip":
			u.IPs = &f.ips.values
		case "tag":
			u.Tags = &f.tags.values
		case "site":
			u.Site = &f.site
		case "location":
			u.Location = &f.location
		case "owner":
			u.Owner = &f.owner
		case "segment":
			u.Segment = &f.segment
		case "cpe":
			u.CPE = &f.cpe
		case "eol-date":
			u.EOLDate = &f.eolDate
		case "purchase-date":
			u.PurchaseDate = &f.purchaseDate
		case "replacement-cost":
			u.ReplacementCost = &f.replacementCost
		case "notes":
			u.Notes = &f.notes
		default:
			n-- // a client flag
		}
	})
	return u, n
}

func runDeviceAdd(ctx context.Context, a *app, args []string) error {
	const name = "device add"
	var df deviceFlags
	fs := newFlags(name)
	df.register(fs)
	if _, err := a.parse(fs, name, args, true, 0, 0); err != nil {
		return err
	}
	if strings.TrimSpace(df.name) == "" {
		return usageError{cmd: name, msg: "--name is required"}
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	d, err := c.CreateDevice(ctx, df.device())
	if err != nil {
		return err
	}
	if a.json {
		return writeJSON(a.stdout, d)
	}
	a.printf("added device %d %q\n", d.ID, d.Name)
	a.hintUnknowns(d)
	return nil
}

// hintUnknowns says which fields that matter for patching are unknown, and
// how to set them.
func (a *app) hintUnknowns(d *firmward.Device) {
	var fields, flags []string
	if d.FirmwareVersion == "" {
		fields, flags = append(fields, "firmware version"), append(flags, "--firmware-version VERSION")
	}
	if d.UpdateMechanism == firmward.UpdateUnknown {
		fields, flags = append(fields, "update mechanism"), append(flags, "--update-mechanism "+strings.Join(stringsOf(firmward.UpdateMechanisms), "|"))
	}
	if len(fields) == 0 {
		return
	}
	verb := "is"
	if len(fields) > 1 {
		verb = "are"
	}
	a.printf("Its %s %s unknown, which counts as unprotected. Set with:\n  firmward device edit %d %s\n",
		strings.Join(fields, " and "), verb, d.ID, strings.Join(flags, " "))
}

func stringsOf[T ~string](values []T) []string {
	s := make([]string, len(values))
	for i, v := range values {
		s[i] = string(v)
	}
	return s
}

func runDeviceList(ctx context.Context, a *app, args []string) error {
	const name = "device list"
	var q httpapi.DeviceQuery
	var category, criticality, exposure, mechanism string
	var all bool
	fs := newFlags(name)
	fs.StringVar(&category, "category", "", oneOf(firmward.Categories))
	fs.StringVar(&criticality, "criticality", "", oneOf(firmward.Criticalities))
	fs.StringVar(&exposure, "exposure", "", oneOf(firmward.Exposures))
	fs.StringVar(&mechanism, "update-mechanism", "", oneOf(firmward.UpdateMechanisms))
	fs.StringVar(&q.Manufacturer, "manufacturer", "", "manufacturer (exact, any case)")
	fs.StringVar(&q.Site, "site", "", "site (exact, any case)")
	fs.StringVar(&q.Tag, "tag", "", "devices with this `tag`")
	fs.StringVar(&q.Q, "q", "", "search `text` in name, manufacturer, model, serial, location, owner, notes, MACs and IPs")
	fs.StringVar(&q.Missing, "missing", "", "devices whose `field` is unknown: firmware_version or update_mechanism")
	fs.IntVar(&q.Limit, "limit", 0, fmt.Sprintf("devices per page, 1 to %d (default %d)", firmward.MaxPageSize, firmward.DefaultPageSize))
	fs.StringVar(&q.Cursor, "cursor", "", "start after this `cursor` (printed at the end of the previous page)")
	fs.BoolVar(&all, "all", false, "list every page")
	if _, err := a.parse(fs, name, args, true, 0, 0); err != nil {
		return err
	}
	q.Category = firmward.Category(category)
	q.Criticality = firmward.Criticality(criticality)
	q.Exposure = firmward.Exposure(exposure)
	q.UpdateMechanism = firmward.UpdateMechanism(mechanism)
	if all && q.Limit == 0 {
		q.Limit = firmward.MaxPageSize
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	var devices []*firmward.Device
	for {
		page, next, err := c.ListDevices(ctx, q)
		if err != nil {
			return err
		}
		devices = append(devices, page...)
		q.Cursor = next
		if !all || next == "" {
			break
		}
	}
	if devices == nil {
		devices = []*firmward.Device{}
	}
	if a.json {
		return writeJSON(a.stdout, httpapi.DeviceList{Devices: devices, NextCursor: q.Cursor})
	}
	if len(devices) > 0 {
		t := newTable(a.stdout)
		t.row("ID", "NAME", "MANUFACTURER", "MODEL", "FIRMWARE", "CATEGORY", "CRITICALITY", "EXPOSURE", "UPDATES")
		for _, d := range devices {
			t.row(strconv.FormatInt(d.ID, 10), cut(d.Name, 32), cut(orDash(d.Manufacturer), 24), cut(orDash(d.Model), 28),
				cut(orUnknown(d.FirmwareVersion), 24), string(d.Category), string(d.Criticality), string(d.Exposure),
				orUnknown(string(d.UpdateMechanism)))
		}
		t.flush()
	}
	plural := "s"
	if len(devices) == 1 {
		plural = ""
	}
	a.eprintf("%d device%s", len(devices), plural)
	if q.Cursor != "" {
		a.eprintf("; more with --cursor %s (or --all)", q.Cursor)
	}
	a.eprintf("\n")
	if len(devices) == 0 && q == (httpapi.DeviceQuery{}) {
		a.eprintf("The inventory is empty: add devices with `firmward device add`, `firmward device import FILE`, or try `firmward seed home`.\n")
	}
	return nil
}

// deviceCommand parses the arguments of a command on one device (its ID
// and flags) and returns a client.
func (a *app) deviceCommand(name string, fs *flag.FlagSet, args []string) (*httpapi.Client, int64, error) {
	pos, err := a.parse(fs, name, args, true, 1, 1)
	if err != nil {
		return nil, 0, err
	}
	id, err := parseID(name, pos[0], "device")
	if err != nil {
		return nil, 0, err
	}
	c, err := a.client()
	return c, id, err
}

// notFoundHint adds what to do when a device ID does not exist.
func notFoundHint(err error) error {
	if firmward.ErrorCode(err) == firmward.ENOTFOUND {
		return withHint(err, "`firmward device list` shows the devices and their IDs.")
	}
	return err
}

func runDeviceShow(ctx context.Context, a *app, args []string) error {
	c, id, err := a.deviceCommand("device show", newFlags("device show"), args)
	if err != nil {
		return err
	}
	d, err := c.GetDevice(ctx, id)
	if err != nil {
		return notFoundHint(err)
	}
	if a.json {
		return writeJSON(a.stdout, d)
	}
	printDevice(a.stdout, d)
	return nil
}

func printDevice(w io.Writer, d *firmward.Device) {
	t := newTable(w)
	list := func(s []string) string { return orDash(strings.Join(s, ", ")) }
	cost := "-"
	if d.ReplacementCost != 0 {
		cost = strconv.FormatFloat(d.ReplacementCost, 'f', -1, 64)
	}
	for _, kv := range [][2]string{
		{"ID", strconv.FormatInt(d.ID, 10)},
		{"Name", d.Name},
		{"Manufacturer", orDash(d.Manufacturer)},
		{"Model", orDash(d.Model)},
		{"Hardware version", orDash(d.HardwareVersion)},
		{"Firmware version", orUnknown(d.FirmwareVersion)},
		{"Serial", orDash(d.Serial)},
		{"Category", string(d.Category)},
		{"Criticality", string(d.Criticality)},
		{"Exposure", string(d.Exposure)},
		{"Update mechanism", orUnknown(string(d.UpdateMechanism))},
		{"Auto-update", string(d.AutoUpdate)},
		{"MACs", list(d.MACs)},
		{"IPs", list(d.IPs)},
		{"Site", orDash(d.Site)},
		{"Location", orDash(d.Location)},
		{"Owner", orDash(d.Owner)},
		{"Segment", orDash(d.Segment)},
		{"CPE", orDash(d.CPE)},
		{"End of life", orDash(d.EOLDate)},
		{"Purchased", orDash(d.PurchaseDate)},
		{"Replacement cost", cost},
		{"Tags", list(d.Tags)},
		{"Source", orDash(string(d.Source))},
		{"First seen", when(d.FirstSeen)},
		{"Last seen", when(d.LastSeen)},
		{"Created", when(&d.CreatedAt)},
		{"Updated", when(&d.UpdatedAt)},
		{"Notes", orDash(d.Notes)},
	} {
		t.row(kv[0], kv[1])
	}
	t.flush()
}

func runDeviceEdit(ctx context.Context, a *app, args []string) error {
	const name = "device edit"
	var df deviceFlags
	fs := newFlags(name)
	df.register(fs)
	c, id, err := a.deviceCommand(name, fs, args)
	if err != nil {
		return err
	}
	u, n := df.update(fs)
	if n == 0 {
		return usageError{cmd: name, msg: "nothing to change: give the fields to change as flags, such as --firmware-version 1.2.3"}
	}
	d, err := c.UpdateDevice(ctx, id, u)
	if err != nil {
		return notFoundHint(err)
	}
	if a.json {
		return writeJSON(a.stdout, d)
	}
	a.printf("updated device %d %q\n", d.ID, d.Name)
	return nil
}

func runDeviceRm(ctx context.Context, a *app, args []string) error {
	c, id, err := a.deviceCommand("device rm", newFlags("device rm"), args)
	if err != nil {
		return err
	}
	if err := c.DeleteDevice(ctx, id); err != nil {
		return notFoundHint(err)
	}
	if a.json {
		return writeJSON(a.stdout, map[string]any{"deleted": id})
	}
	a.printf("deleted device %d\n", id)
	return nil
}

// formatFor picks csv or json: the flag, else the file's extension.
func formatFor(flagValue, path string) (string, bool) {
	f := strings.ToLower(strings.TrimSpace(flagValue))
	if f == "" {
		switch strings.ToLower(filepath.Ext(path)) {
		case ".csv":
			f = "csv"
		case ".json":
			f = "json"
		}
	}
	return f, f == "csv" || f == "json"
}

func runDeviceImport(ctx context.Context, a *app, args []string) error {
	const name = "device import"
	var dryRun bool
	var format string
	fs := newFlags(name)
	fs.BoolVar(&dryRun, "dry-run", false, "check every row and store nothing")
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
	var size int64
	label := "stdin"
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("opening the import file: %w", err)
		}
		defer func() { _ = f.Close() }() // read only
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			size = st.Size()
		}
		in, label = f, filepath.Base(path)
	}
	return a.importDevices(ctx, c, format, "importing "+label, in, size, dryRun)
}

// importDevices uploads one inventory with a progress bar and reports the
// result.
func (a *app) importDevices(ctx context.Context, c *httpapi.Client, format, label string, in io.Reader, size int64, dryRun bool) error {
	bar := a.newProgress(label, size)
	res, err := c.ImportDevices(ctx, format, bar.reader(in), dryRun)
	bar.finish()
	if err != nil {
		switch {
		case len(firmward.ErrorDetails(err)) == 0:
		case dryRun:
			err = withHint(err, "Fix the rows above and check again.")
		default:
			err = withHint(err, "Nothing was imported. Fix the rows above and run the import again; --dry-run checks a file without storing it.")
		}
		return err
	}
	if a.json {
		return writeJSON(a.stdout, res)
	}
	if res.DryRun {
		a.printf("dry run: all %d devices are valid; nothing was stored\n", res.Created)
		return nil
	}
	a.printf("imported %d devices\n", res.Created)
	return nil
}

func runDeviceExport(ctx context.Context, a *app, args []string) error {
	const name = "device export"
	var format, output string
	fs := newFlags(name)
	fs.StringVar(&format, "format", "", "csv or json (default: from -o's extension, else csv)")
	fs.StringVar(&output, "output", "", "write to `file` instead of standard output")
	fs.StringVar(&output, "o", "", "short for --output")
	if _, err := a.parse(fs, name, args, true, 0, 0); err != nil {
		return err
	}
	format, ok := formatFor(format, output)
	switch {
	case !ok && format == "":
		format = "csv"
		if a.json {
			format = "json"
		}
	case !ok:
		return usageError{cmd: name, msg: fmt.Sprintf("--format %q: use csv or json", format)}
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	if output == "" || output == "-" {
		return c.ExportDevices(ctx, format, a.stdout)
	}
	// Write a temporary file next to the target and rename it at the end, so
	// that a broken export never leaves a short file that looks whole. The
	// file is private (0600): an inventory maps the network.
	f, err := os.CreateTemp(filepath.Dir(output), "."+filepath.Base(output)+".*")
	if err != nil {
		return fmt.Errorf("creating the export file: %w", err)
	}
	defer func() { _ = os.Remove(f.Name()) }() // after a successful rename this fails harmlessly
	err = c.ExportDevices(ctx, format, f)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("writing %s: %w", output, cerr)
	}
	if err == nil {
		err = os.Rename(f.Name(), output)
	}
	if err != nil {
		return err
	}
	if a.json {
		return writeJSON(a.stdout, map[string]any{"file": output, "format": format})
	}
	a.eprintf("exported the inventory to %s (%s)\n", output, format)
	return nil
}
