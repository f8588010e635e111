package main

import (
	"context"
	"io"
	"strconv"

	"github.com/firmward/firmward/httpapi"
	"github.com/firmward/firmward/vuln"
)

// runDeviceCPE shows what firmward proposes as a device's CPE names, or,
// with --set, --confirm or --clear, records a person's choice.
func runDeviceCPE(ctx context.Context, a *app, args []string) error {
	const name = "device cpe"
	fs := newFlags(name)
	set := fs.String("set", "", "set the device's cpe to this CPE 2.3 `name` (the proposed one, an alternative or your own)")
	confirm := fs.Bool("confirm", false, "set the device's cpe to the proposed firmware CPE")
	clearCPE := fs.Bool("clear", false, "remove the device's cpe: matching uses firmward's proposal again")
	reason := fs.String("reason", "", "why (recorded in the audit trail)")
	c, id, err := a.deviceCommand(name, fs, args)
	if err != nil {
		return err
	}
	actions := 0
	for _, on := range []bool{*set != "", *confirm, *clearCPE} {
		if on {
			actions++
		}
	}
	if actions > 1 {
		return usageError{cmd: name, msg: "give at most one of --set, --confirm and --clear"}
	}
	var res *httpapi.CPEResult
	switch {
	case *clearCPE:
		res, err = c.ClearDeviceCPE(ctx, id, *reason)
	case *set != "":
		res, err = c.SetDeviceCPE(ctx, id, *set, *reason)
	case *confirm:
		var got *httpapi.DeviceCPE
		if got, err = c.DeviceCPE(ctx, id); err != nil {
			return notFoundHint(err)
		}
		if got.Proposal.Firmware.CPE == "" {
			return withHint(noProposalError{id: id}, "set one with `firmward device cpe "+strconv.FormatInt(id, 10)+" --set cpe:2.3:o:VENDOR:PRODUCT:VERSION:*:*:*:*:*:*:*`.")
		}
		res, err = c.SetDeviceCPE(ctx, id, got.Proposal.Firmware.CPE, *reason)
	default:
		if *reason != "" {
			return usageError{cmd: name, msg: "--reason goes with --set, --confirm or --clear"}
		}
		got, err := c.DeviceCPE(ctx, id)
		if err != nil {
			return notFoundHint(err)
		}
		if a.json {
			return writeJSON(a.stdout, got)
		}
		printDeviceCPE(a.stdout, got)
		return nil
	}
	if err != nil {
		return notFoundHint(err)
	}
	if a.json {
		return writeJSON(a.stdout, res)
	}
	ch := res.Choice
	switch ch.Choice {
	case vuln.ChoiceCleared:
		a.printf("cleared the cpe of device %d %q: matching uses firmward's proposal again\n", res.Device.ID, res.Device.Name)
	case vuln.ChoiceOverride:
		a.printf("set the cpe of device %d %q to %s (your own name; firmward proposed %s)\n", res.Device.ID, res.Device.Name, ch.CPE, orDash(ch.Proposed.CPE))
	default:
		a.printf("set the cpe of device %d %q to %s (%s, confidence %s)\n", res.Device.ID, res.Device.Name, ch.CPE, ch.Choice, confidence(ch.Confidence))
	}
	a.printf("run `firmward vulns assess` to match the device with it\n")
	return nil
}

// noProposalError says that --confirm has nothing to confirm.
type noProposalError struct{ id int64 }

func (e noProposalError) Error() string {
	return "firmward proposes no firmware CPE for device " + strconv.FormatInt(e.id, 10)
}

func confidence(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }

// printDeviceCPE prints the device's cpe, the names in use and the
// proposal with its alternatives.
func printDeviceCPE(w io.Writer, got *httpapi.DeviceCPE) {
	p := got.Proposal
	t := newTable(w)
	t.row("Device", strconv.FormatInt(got.DeviceID, 10))
	t.row("Device cpe", orDash(got.CPE))
	t.row("Proposal", p.Source)
	t.row("Catalog", strconv.Itoa(got.CatalogProducts)+" products in the imported data")
	t.flush()
	_, _ = io.WriteString(w, "\n")
	t = newTable(w)
	t.row("PART", "CPE", "CONFIDENCE", "WHY")
	row := func(part string, c vuln.Candidate) {
		if c.CPE != "" {
			t.row(part, c.CPE, confidence(c.Confidence), c.Reason)
		}
	}
	row("firmware", p.Firmware)
	row("hardware", p.Hardware)
	for _, alt := range p.Alternatives {
		row("alternative", alt)
	}
	t.flush()
	if p.Explanation != "" {
		_, _ = io.WriteString(w, "\n"+p.Explanation+"\n")
	}
	if got.CPE != "" && got.InUse.Source == vuln.ProposalDevice {
		_, _ = io.WriteString(w, "Matching uses the device's cpe; --clear goes back to the proposal.\n")
	} else if p.Firmware.CPE != "" {
		_, _ = io.WriteString(w, "Matching uses the proposal; --confirm records it as checked, --set CPE chooses another.\n")
	}
}
