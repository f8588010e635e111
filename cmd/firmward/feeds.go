package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/firmward/firmward"
)

// runFeedsImport uploads feed files one after the other; each is kept
// whole or not at all, and the first failure stops the rest.
func runFeedsImport(ctx context.Context, a *app, args []string) error {
	const name = "feeds import"
	fs := newFlags(name)
	files, err := a.parse(fs, name, args, true, 1, 1<<20)
	if err != nil {
		return err
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	var results []*firmward.FeedImportResult
	for i, path := range files {
		res, err := a.importFeed(ctx, c.ImportFeed, path)
		if err != nil {
			if i > 0 {
				err = withHint(err, fmt.Sprintf("The %d files before %s were imported; the rest were not tried.", i, path))
			}
			return err
		}
		results = append(results, res)
	}
	if a.json {
		return writeJSON(a.stdout, results)
	}
	t := newTable(a.stdout)
	t.row("FILE", "FORMAT", "RECORDS", "ADDED", "UPDATED", "UNCHANGED")
	for _, r := range results {
		t.row(r.Name, r.Format, strconv.Itoa(r.Records), strconv.Itoa(r.Added), strconv.Itoa(r.Updated), strconv.Itoa(r.Unchanged))
	}
	t.flush()
	return nil
}

// importFeed uploads one file with a progress bar.
func (a *app) importFeed(ctx context.Context, upload func(context.Context, string, io.Reader) (*firmward.FeedImportResult, error), path string) (*firmward.FeedImportResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening the feed file: %w", err)
	}
	defer func() { _ = f.Close() }() // read only
	var size int64
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	base := filepath.Base(path)
	bar := a.newProgress("importing "+base, size)
	res, err := upload(ctx, base, bar.reader(f))
	bar.finish()
	return res, err
}

// runVulnsShow prints one CVE as firmward knows it.
func runVulnsShow(ctx context.Context, a *app, args []string) error {
	const name = "vulns show"
	fs := newFlags(name)
	pos, err := a.parse(fs, name, args, true, 1, 1)
	if err != nil {
		return err
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	v, err := c.GetVulnerability(ctx, strings.ToUpper(pos[0]))
	if err != nil {
		if firmward.ErrorCode(err) == firmward.ENOTFOUND {
			err = withHint(err, "Import the feeds that describe it first: firmward feeds import FILE…")
		}
		return err
	}
	if a.json {
		return writeJSON(a.stdout, v)
	}
	t := newTable(a.stdout)
	t.row("CVE", v.ID)
	t.row("Published", orDash(dateOf(v.Published.Format("2006-01-02"), v.Published.IsZero())))
	t.row("Modified", orDash(dateOf(v.LastModified.Format("2006-01-02"), v.LastModified.IsZero())))
	t.row("Sources", strings.Join(v.Sources, ", "))
	for _, s := range v.CVSS {
		t.row("CVSS "+s.Version, fmt.Sprintf("%.1f %s %s", s.BaseScore, s.Severity, s.Vector))
	}
	if v.KEV != nil {
		ransomware := ""
		if v.KEV.KnownRansomwareUse {
			ransomware = "; used by ransomware"
		}
		t.row("KEV", fmt.Sprintf("added %s, due %s%s", v.KEV.DateAdded, v.KEV.DueDate, ransomware))
	}
	if v.EPSS != nil {
		t.row("EPSS", fmt.Sprintf("%.4f (percentile %.2f)", v.EPSS.Score, v.EPSS.Percentile))
	}
	t.row("Configurations", strconv.Itoa(len(v.Configurations)))
	t.row("Affected entries", strconv.Itoa(len(v.Affected)))
	t.row("Description", cut(v.Description, 300))
	t.flush()
	return nil
}

func dateOf(s string, zero bool) string {
	if zero {
		return ""
	}
	return s
}
