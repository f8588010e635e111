package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/firmward/firmward/httpapi"
	"github.com/firmward/firmward/report"
)

func reportCommand() command {
	return command{
		name: "report", args: "[--site S] [--from YYYY-MM-DD --to YYYY-MM-DD] [--format pdf|html|csv] [-o FILE]",
		summary: "download the compliance report of a site or the fleet over a period",
		help: "The compliance report: findings fixed within their SLA and devices without an overdue finding, overdue\n" +
			"findings by decision, risk acceptances and NAC exemptions with owners and expiry, quarantine events,\n" +
			"campaigns and their outcome, and the verification of the audit chain with its head hash. Without dates:\n" +
			"the previous calendar month (UTC); --to is included. PDF is printed by Chromium on the server. The file\n" +
			"goes to -o FILE (\"-\" for standard output), by default to the name the server suggests\n" +
			"(compliance-SITE-FROM-TO.EXT) in the current directory.",
		run: runReport,
	}
}

// runReport downloads a compliance report.
func runReport(ctx context.Context, a *app, args []string) error {
	const name = "report"
	var site, from, to, format, out string
	fs := newFlags(name)
	fs.StringVar(&site, "site", "", "only devices of this `site` (default: the whole fleet)")
	fs.StringVar(&from, "from", "", "first `day` of the period, YYYY-MM-DD")
	fs.StringVar(&to, "to", "", "last `day` of the period, YYYY-MM-DD (included)")
	fs.StringVar(&format, "format", report.FormatPDF, "pdf, html or csv")
	fs.StringVar(&out, "o", "", "write to `FILE` (\"-\": standard output)")
	fs.StringVar(&out, "output", "", "same as -o")
	if _, err := a.parse(fs, name, args, true, 0, 0); err != nil {
		return err
	}
	if !slices.Contains(report.Formats, format) {
		return usageError{cmd: name, msg: fmt.Sprintf("--format %q: want pdf, html or csv", format)}
	}
	if (from == "") != (to == "") {
		return usageError{cmd: name, msg: "give both --from and --to, or neither (the previous month)"}
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	suggested, err := c.ComplianceReport(ctx, httpapi.ReportQuery{Site: site, From: from, To: to, Format: format}, &buf)
	if err != nil {
		return err
	}
	if out == "-" {
		_, err := a.stdout.Write(buf.Bytes())
		return err
	}
	if out == "" {
		out = filepath.Base(suggested)
		if out == "." || out == "/" || out == "" || strings.HasPrefix(out, ".") {
			out = "compliance-report." + format
		}
	}
	if err := writeFileAtomic(out, buf.Bytes()); err != nil {
		return err
	}
	if a.json {
		return writeJSON(a.stdout, map[string]any{"file": out, "bytes": buf.Len(), "format": format})
	}
	a.printf("Wrote %s (%d bytes).\n", out, buf.Len())
	return nil
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory, so that a broken run leaves no half-written report.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil { //nolint:gosec // a report the user asked for, readable like any document
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
