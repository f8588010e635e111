package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/feedsync"
)

// Public feed locations: the defaults of `feeds sync`.
const (
	defaultKEVURL  = "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"
	defaultEPSSURL = "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz"
	publicNVDURL   = "https://services.nvd.nist.gov/rest/json/cves/2.0"
)

// syncedSource is what `feeds sync` did with one source.
type syncedSource struct {
	Source      string                     `json:"source"` // kev, epss, nvd
	URL         string                     `json:"url"`
	NotModified bool                       `json:"not_modified"`
	Pages       int                        `json:"pages,omitempty"` // NVD API pages imported
	Result      *firmward.FeedImportResult `json:"result,omitempty"`
}

// runFeedsSync downloads the configured feeds and uploads what changed to
// the server, one source after the other; the first failure stops the
// rest. A file's ETag and Last-Modified are recorded only once the server
// imported it, so a failed source is downloaded again next time.
func runFeedsSync(ctx context.Context, a *app, args []string) error {
	const name = "feeds sync"
	fs := newFlags(name)
	kevURL := fs.String("kev-url", defaultKEVURL, "CISA KEV catalog (JSON) `URL`; empty skips it")
	epssURL := fs.String("epss-url", defaultEPSSURL, "FIRST EPSS scores (CSV, .gz) `URL`; empty skips it")
	nvdURL := fs.String("nvd-url", "", "NVD CVE API 2.0 base `URL`, e.g. "+publicNVDURL+"; empty skips the NVD")
	nvdKey := fs.String("nvd-api-key", "", "NVD API `key`: sent as the apiKey header; allows 50 requests per 30 s instead of 5")
	nvdSince := fs.String("nvd-since", "", "only CVEs modified since `WHEN`: a date (2026-08-01), an RFC 3339 time, or a duration (72h); NVD allows 120 days at most (default: since the last NVD sync recorded in --state, or everything the first time)")
	statePath := fs.String("state", filepath.Join(defaultDataDir, "feeds-state.json"), "`file` that keeps each URL's ETag and Last-Modified")
	if _, err := a.parse(fs, name, args, true, 0, 0); err != nil {
		return err
	}
	now := time.Now()
	if *kevURL == "" && *epssURL == "" && *nvdURL == "" {
		return usageError{cmd: name, msg: "no source: every one of --kev-url, --epss-url and --nvd-url is empty"}
	}
	state, err := feedsync.LoadState(*statePath)
	if err != nil {
		return withHint(err, "Delete the file, or name another with --state: the next sync then downloads every feed again.")
	}
	params := url.Values{}
	if *nvdURL != "" {
		since, err := nvdWindow(*nvdSince, state.Get(*nvdURL), now)
		if err != nil {
			return usageError{cmd: name, msg: err.Error()}
		}
		if !since.IsZero() {
			const nvdTime = "2006-01-02T15:04:05.000Z07:00"
			params.Set("lastModStartDate", since.UTC().Format(nvdTime))
			params.Set("lastModEndDate", now.UTC().Format(nvdTime))
		}
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	f := &feedsync.Fetcher{HTTP: &http.Client{}, State: state, UserAgent: "firmward/" + version()}

	var done []syncedSource
	stop := func(src, u string, err error) error {
		hint := fmt.Sprintf("Nothing was recorded for %s, so the next `firmward feeds sync` downloads it again.", u)
		if len(done) > 0 {
			hint = fmt.Sprintf("The %d sources before %s were synced. ", len(done), src) + hint
		}
		switch {
		case feedsync.IsHTTPStatus(err, http.StatusUnauthorized), feedsync.IsHTTPStatus(err, http.StatusForbidden):
			hint += " The publisher refused the request: check --nvd-api-key (FIRMWARD_NVD_API_KEY)."
		case feedsync.IsHTTPStatus(err, http.StatusNotFound):
			hint += fmt.Sprintf(" Check --%s-url.", src)
		}
		return withHint(err, hint)
	}
	for _, s := range []struct{ src, url string }{{"kev", *kevURL}, {"epss", *epssURL}} {
		if s.url == "" {
			continue
		}
		r, err := a.syncFile(ctx, f, c.ImportFeed, s.src, s.url)
		if err != nil {
			return stop(s.src, s.url, err)
		}
		done = append(done, *r)
	}
	if *nvdURL != "" {
		r, err := syncNVD(ctx, f, c.ImportFeed, *nvdURL, *nvdKey, params)
		if err != nil {
			return stop("nvd", *nvdURL, err)
		}
		// The next sync asks for what changed since this one began.
		if err := state.Set(*nvdURL, feedsync.Entry{Synced: now.UTC()}); err != nil {
			return withHint(err, "The NVD pages were imported; the next sync cannot know when, so pass --nvd-since.")
		}
		done = append(done, *r)
	}

	if a.json {
		return writeJSON(a.stdout, done)
	}
	t := newTable(a.stdout)
	t.row("SOURCE", "URL", "STATUS", "RECORDS", "ADDED", "UPDATED", "UNCHANGED")
	for _, d := range done {
		if d.NotModified {
			t.row(d.Source, d.URL, "not modified", "-", "-", "-", "-")
			continue
		}
		status := "imported"
		if d.Pages > 0 {
			status = fmt.Sprintf("imported (%d pages)", d.Pages)
			if d.Pages == 1 {
				status = "imported (1 page)"
			}
		}
		r := d.Result
		t.row(d.Source, d.URL, status, strconv.Itoa(r.Records), strconv.Itoa(r.Added), strconv.Itoa(r.Updated), strconv.Itoa(r.Unchanged))
	}
	t.flush()
	return nil
}

type uploadFunc = func(context.Context, string, io.Reader) (*firmward.FeedImportResult, error)

// syncFile downloads one feed file unless it is unchanged, uploads it, and
// records its validators once the server imported it.
func (a *app) syncFile(ctx context.Context, f *feedsync.Fetcher, upload uploadFunc, src, u string) (*syncedSource, error) {
	d, err := f.Fetch(ctx, u)
	if err != nil {
		return nil, err
	}
	if d == nil {
		return &syncedSource{Source: src, URL: u, NotModified: true}, nil
	}
	defer func() { _ = d.Close() }() // read only
	base := src + ".json"
	if pu, err := url.Parse(u); err == nil {
		if b := path.Base(pu.Path); b != "." && b != "/" {
			base = b
		}
	}
	bar := a.newProgress("syncing "+base, max(d.ContentLength, 0))
	res, err := upload(ctx, base, bar.reader(d))
	bar.finish()
	if err != nil {
		return nil, fmt.Errorf("importing %s: %w", u, err)
	}
	if err := d.Commit(); err != nil {
		return nil, err
	}
	return &syncedSource{Source: src, URL: u, Result: res}, nil
}

// syncNVD walks the NVD API and uploads each page as one import.
func syncNVD(ctx context.Context, f *feedsync.Fetcher, upload uploadFunc, base, key string, params url.Values) (*syncedSource, error) {
	out := &syncedSource{Source: "nvd", URL: base, Result: &firmward.FeedImportResult{Name: "nvd-api-2.0"}}
	err := f.NVDPages(ctx, base, key, params, func(page io.Reader) error {
		out.Pages++
		res, err := upload(ctx, fmt.Sprintf("nvd-api-2.0-page-%d.json", out.Pages), page)
		if err != nil {
			return fmt.Errorf("importing NVD API page %d: %w", out.Pages, err)
		}
		sum := out.Result
		sum.Format = res.Format
		sum.Records += res.Records
		sum.Added += res.Added
		sum.Updated += res.Updated
		sum.Unchanged += res.Unchanged
		sum.ChangedCVEs = append(sum.ChangedCVEs, res.ChangedCVEs...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// nvdMaxWindow is the longest lastModStartDate..lastModEndDate range the
// NVD CVE API accepts.
const nvdMaxWindow = 120 * 24 * time.Hour

// nvdOverlap is how far before the last sync's start the next one asks
// from, so that clock differences with NVD lose nothing (re-imported
// records are unchanged, which costs nothing).
const nvdOverlap = time.Hour

// nvdWindow returns the start of the NVD window: --nvd-since when given,
// else the start of the last successful NVD sync (last.Synced) less
// nvdOverlap, else the zero time (everything, the first sync). A window
// longer than the API's 120 days is an error that says what to do.
func nvdWindow(flag string, last feedsync.Entry, now time.Time) (time.Time, error) {
	var since time.Time
	switch {
	case flag != "":
		t, err := parseSince(flag, now)
		if err != nil {
			return time.Time{}, err
		}
		since = t
	case !last.Synced.IsZero():
		since = last.Synced.Add(-nvdOverlap)
	default:
		return time.Time{}, nil
	}
	if now.Sub(since) > nvdMaxWindow {
		src := "--nvd-since"
		if flag == "" {
			src = "the last NVD sync (" + last.Synced.Format(time.DateOnly) + ")"
		}
		return time.Time{}, fmt.Errorf("%s is more than 120 days ago, the most the NVD API serves in one window; import the yearly feeds (firmward feeds import nvdcve-1.1-*.json.gz) or pass --nvd-since 2880h, which misses older changes", src)
	}
	return since, nil
}

// parseSince reads --nvd-since: a date, an RFC 3339 time or a duration
// before now.
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		if d <= 0 {
			return time.Time{}, errors.New("--nvd-since: the duration must be positive")
		}
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339, time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--nvd-since %q: want a date (2026-08-01), an RFC 3339 time or a duration (72h)", s)
}

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
