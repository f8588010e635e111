package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/firmward/firmward"
)

// formValues holds the text of a device form by field name (the device's
// JSON names), exactly as the user typed it, so that a form with errors
// comes back as it was sent.
type formValues map[string]string

// fieldSpec describes one input of the device form.
type fieldSpec struct {
	Name, Label, Kind, Hint, Placeholder string // Kind: text, textarea, select, date, number
	Required, Wide                       bool
	Options                              []option // for selects; Selected is set per form
}

// fieldsetSpec is a group of inputs.
type fieldsetSpec struct {
	Legend string
	Fields []fieldSpec
}

// option is one choice of a select.
type option struct {
	Value, Label string
	Selected     bool
}

// formField is one input as rendered: its spec, value and errors.
type formField struct {
	fieldSpec
	Value  string
	Errors []string
}

type fieldset struct {
	Legend string
	Fields []formField
}

func enumOptions[T ~string](values []T, unknown string) []option {
	var opts []option
	if unknown != "" {
		opts = append(opts, option{Value: "", Label: unknown})
	}
	for _, v := range values {
		opts = append(opts, option{Value: string(v), Label: label(v)})
	}
	return opts
}

// deviceFormSpec lists every editable device field, grouped as the form
// shows them.
func deviceFormSpec() []fieldsetSpec {
	return []fieldsetSpec{
		{Legend: "Identity", Fields: []fieldSpec{
			{Name: "name", Label: "Name", Kind: "text", Required: true, Placeholder: "Living-room camera"},
			{Name: "manufacturer", Label: "Manufacturer", Kind: "text", Placeholder: "Acme"},
			{Name: "model", Label: "Model", Kind: "text"},
			{Name: "hardware_version", Label: "Hardware version", Kind: "text"},
			{
				Name: "firmware_version", Label: "Firmware version", Kind: "text",
				Hint: "Leave empty if you do not know it: the dashboard lists the device as unknown.",
			},
			{Name: "serial", Label: "Serial number", Kind: "text"},
		}},
		{Legend: "Risk and updates", Fields: []fieldSpec{
			{Name: "category", Label: "Category", Kind: "select", Options: enumOptions(firmward.Categories, "")},
			{
				Name: "criticality", Label: "Criticality", Kind: "select", Options: enumOptions(firmward.Criticalities, ""),
				Hint: "How much harm a compromise or an outage would do.",
			},
			{
				Name: "exposure", Label: "Exposure", Kind: "select", Options: enumOptions(firmward.Exposures, ""),
				Hint: "How easily an attacker can reach it.",
			},
			{
				Name: "update_mechanism", Label: "Update mechanism", Kind: "select", Options: enumOptions(firmward.UpdateMechanisms, "Unknown"),
				Hint: "How new firmware gets onto the device.",
			},
			{Name: "auto_update", Label: "Installs updates by itself", Kind: "select", Options: enumOptions(firmward.AutoUpdates, "")},
			{Name: "eol_date", Label: "End of support", Kind: "date", Hint: "The day the vendor stops shipping fixes."},
			{
				Name: "cpe", Label: "CPE name", Kind: "text", Wide: true, Placeholder: "cpe:2.3:o:vendor:product:1.0:*:*:*:*:*:*:*",
				Hint: "CPE 2.3 name, used to match published vulnerabilities.",
			},
		}},
		{Legend: "Network", Fields: []fieldSpec{
			{
				Name: "macs", Label: "MAC addresses", Kind: "textarea", Placeholder: "aa:bb:cc:dd:ee:ff",
				Hint: "One per line, or separated by ;",
			},
			{
				Name: "ips", Label: "IP addresses", Kind: "textarea", Placeholder: "192.168.1.20",
				Hint: "One per line, or separated by ;",
			},
			{Name: "segment", Label: "Network segment", Kind: "text", Placeholder: "IoT VLAN"},
		}},
		{Legend: "Place and ownership", Fields: []fieldSpec{
			{Name: "site", Label: "Site", Kind: "text", Placeholder: "Home"},
			{Name: "location", Label: "Location", Kind: "text", Placeholder: "Living room"},
			{Name: "owner", Label: "Owner", Kind: "text"},
			{Name: "purchase_date", Label: "Purchase date", Kind: "date"},
			{Name: "replacement_cost", Label: "Replacement cost", Kind: "number", Placeholder: "0.00"},
		}},
		{Legend: "Tags and notes", Fields: []fieldSpec{
			{
				Name: "tags", Label: "Tags", Kind: "text", Wide: true, Placeholder: "kitchen; wifi",
				Hint: "Separated by ; — letters, digits and - _ . : / only.",
			},
			{Name: "notes", Label: "Notes", Kind: "textarea", Wide: true},
		}},
	}
}

// fieldsets renders the form spec with values and errors.
func (v formValues) fieldsets(errs map[string][]string) []fieldset {
	specs := deviceFormSpec()
	out := make([]fieldset, len(specs))
	for i, fs := range specs {
		out[i].Legend = fs.Legend
		for _, f := range fs.Fields {
			ff := formField{fieldSpec: f, Value: v[f.Name], Errors: errs[f.Name]}
			if f.Kind == "select" {
				ff.Options = make([]option, len(f.Options))
				for j, o := range f.Options {
					o.Selected = o.Value == ff.Value
					ff.Options[j] = o
				}
			}
			out[i].Fields = append(out[i].Fields, ff)
		}
	}
	return out
}

// formNames lists every field name of the form.
func formNames() []string {
	var names []string
	for _, fs := range deviceFormSpec() {
		for _, f := range fs.Fields {
			names = append(names, f.Name)
		}
	}
	return names
}

// valuesFromRequest reads the form fields of a parsed POST.
func valuesFromRequest(r *http.Request) formValues {
	v := formValues{}
	for _, name := range formNames() {
		v[name] = r.PostFormValue(name)
	}
	return v
}

// valuesFromDevice fills a form from a stored device; lists go one per
// line, tags on one line.
func valuesFromDevice(d *firmward.Device) formValues {
	return formValues{
		"name": d.Name, "manufacturer": d.Manufacturer, "model": d.Model,
		"hardware_version": d.HardwareVersion, "firmware_version": d.FirmwareVersion, "serial": d.Serial,
		"category": string(d.Category), "criticality": string(d.Criticality), "exposure": string(d.Exposure),
		"update_mechanism": string(d.UpdateMechanism), "auto_update": string(d.AutoUpdate),
		"eol_date": d.EOLDate, "cpe": d.CPE,
		"macs": strings.Join(d.MACs, "\n"), "ips": strings.Join(d.IPs, "\n"), "segment": d.Segment,
		"site": d.Site, "location": d.Location, "owner": d.Owner, "purchase_date": d.PurchaseDate,
		"replacement_cost": money(d.ReplacementCost),
		"tags":             strings.Join(d.Tags, "; "), "notes": d.Notes,
	}
}

// splitList splits MACs, IPs or tags typed as lines or separated by ";"
// (or ","), dropping empty entries.
func splitList(s string) []string {
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ',' || r == '\n' || r == '\r' })
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// device builds a device from the form. It returns the problems that stop
// the text from even becoming a device (a cost that is not a number);
// everything else is validated by Normalize, in the service.
func (v formValues) device() (firmward.Device, []firmward.ErrorDetail) {
	d := firmward.Device{
		Name: v["name"], Manufacturer: v["manufacturer"], Model: v["model"],
		HardwareVersion: v["hardware_version"], FirmwareVersion: v["firmware_version"], Serial: v["serial"],
		Category:        firmward.Category(v["category"]),
		Criticality:     firmward.Criticality(v["criticality"]),
		Exposure:        firmward.Exposure(v["exposure"]),
		UpdateMechanism: firmward.UpdateMechanism(v["update_mechanism"]),
		AutoUpdate:      firmward.AutoUpdate(v["auto_update"]),
		EOLDate:         v["eol_date"], CPE: v["cpe"],
		MACs: splitList(v["macs"]), IPs: splitList(v["ips"]), Segment: v["segment"],
		Site: v["site"], Location: v["location"], Owner: v["owner"], PurchaseDate: v["purchase_date"],
		Tags: splitList(v["tags"]), Notes: v["notes"],
	}
	var problems []firmward.ErrorDetail
	if cost := strings.TrimSpace(v["replacement_cost"]); cost != "" {
		f, err := strconv.ParseFloat(cost, 64)
		if err != nil {
			problems = append(problems, firmward.ErrorDetail{Field: "replacement_cost", Value: cost, Reason: "must be a number such as 129.99"})
		} else {
			d.ReplacementCost = f
		}
	}
	return d, problems
}

// fullUpdate returns an update that sets every editable field to d's.
func fullUpdate(d *firmward.Device) firmward.DeviceUpdate {
	return firmward.DeviceUpdate{
		Name: &d.Name, Manufacturer: &d.Manufacturer, Model: &d.Model,
		HardwareVersion: &d.HardwareVersion, FirmwareVersion: &d.FirmwareVersion, Serial: &d.Serial,
		Category: &d.Category, Criticality: &d.Criticality, Exposure: &d.Exposure,
		UpdateMechanism: &d.UpdateMechanism, AutoUpdate: &d.AutoUpdate,
		MACs: &d.MACs, IPs: &d.IPs, Site: &d.Site, Location: &d.Location, Owner: &d.Owner,
		Segment: &d.Segment, CPE: &d.CPE, EOLDate: &d.EOLDate, PurchaseDate: &d.PurchaseDate,
		ReplacementCost: &d.ReplacementCost, Notes: &d.Notes, Tags: &d.Tags,
	}
}

// formErrors sorts the details of a validation or conflict error into
// messages per form field and messages for the whole form. A conflict
// without details is a MAC address owned by another device.
func formErrors(err error, details []firmward.ErrorDetail) (map[string][]string, []string) {
	fields := map[string][]string{}
	var general []string
	known := map[string]string{}
	for _, fs := range deviceFormSpec() {
		for _, f := range fs.Fields {
			known[f.Name] = f.Label
		}
	}
	if len(details) == 0 && firmward.ErrorCode(err) == firmward.ECONFLICT {
		fields["macs"] = append(fields["macs"], firmward.ErrorMessage(err))
	}
	for _, d := range details {
		field := d.Field
		switch field { // CSV column spellings, in case a store reports them
		case "mac":
			field = "macs"
		case "ip":
			field = "ips"
		}
		lbl, ok := known[field]
		msg := d.Reason
		if d.Value != "" {
			msg = fmt.Sprintf("“%s” %s", d.Value, d.Reason)
		} else if ok {
			msg = lbl + " " + d.Reason
		}
		if ok {
			fields[field] = append(fields[field], msg)
		} else {
			general = append(general, d.String())
		}
	}
	if len(details) == 0 && firmward.ErrorCode(err) != firmward.ECONFLICT {
		general = append(general, firmward.ErrorMessage(err))
	}
	return fields, general
}
