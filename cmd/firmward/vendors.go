package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/lifecycle"
)

// runVendors prints the vendor support record, ranked.
func runVendors(ctx context.Context, a *app, args []string) error {
	const name = "vendors"
	var cat string
	fs := newFlags(name)
	fs.StringVar(&cat, "category", "", "rank only manufacturers of this `category` (before you buy a camera: --category camera)")
	if _, err := a.parse(fs, name, args, true, 0, 0); err != nil {
		return err
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	rep, err := c.Vendors(ctx, firmward.Category(cat))
	if err != nil {
		return err
	}
	if a.json {
		return writeJSON(a.stdout, rep)
	}
	if len(rep.Vendors) == 0 {
		a.printf("No manufacturers to rank.\n")
		return nil
	}
	t := newTable(a.stdout)
	t.row("RANK", "MANUFACTURER", "DEVICES", "SCORE", "FIX KNOWN", "KEV", "DAYS TO FIX", "DAYS TO FIXED HERE", "SUPPORT YEARS", "AUTO-UPDATE")
	for i, v := range rep.Vendors {
		t.row(strconv.Itoa(i+1), v.Manufacturer, strconv.Itoa(v.Devices), fmt.Sprintf("%.2f (%s)", v.Score, plural(v.ScoreN, "figure")),
			pct(v.FixShare), kevText(v.KEV, v.CVEs), num(v.DaysToFix), num(v.DaysToFixedInFleet), num(v.SupportYears), pct(v.AutoUpdate))
	}
	t.flush()
	a.printf("\nEach figure shows (n=…) the data points it rests on; \"-\" means firmward has no data for it.\n")
	if !rep.FirmwareDates {
		a.printf("Days to fix needs firmware release dates, which this server does not have yet.\n")
	}
	return nil
}

func pct(f lifecycle.Figure) string {
	if f.N == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%% (n=%d)", f.Value*100, f.N)
}

func num(f lifecycle.Figure) string {
	if f.N == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f (n=%d)", f.Value, f.N)
}

// plural writes "1 figure", "2 figures".
func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// kevText says how many of a manufacturer's CVEs are known exploited.
func kevText(kev, cves int) string {
	if cves == 0 {
		return "-"
	}
	return fmt.Sprintf("%d of %d CVEs", kev, cves)
}
