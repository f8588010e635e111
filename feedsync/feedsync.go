// Package feedsync downloads vulnerability feeds from their publishers'
// HTTP servers: whole files (CISA KEV, FIRST EPSS) with conditional
// requests (ETag / If-Modified-Since) so that an unchanged file is not
// downloaded again, and the NVD CVE API 2.0 page by page, within its rate
// limit and with an optional API key.
//
// It only downloads: importing is the caller's job (the firmward command
// uploads what it gets to the server). A download's validators are
// recorded in State only when the caller says the import succeeded
// (Download.Commit), so a failed import is retried on the next run.
//
// The package is an adapter for one outside thing, the publishers' HTTP
// servers: it imports the standard library, the root package and the pure
// packages only.
package feedsync

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/feeds"
)

// Defaults of Fetcher's zero fields.
const (
	DefaultMaxAttempts = 4
	DefaultBackoff     = 2 * time.Second
	// NVD's published limits: 5 requests in a rolling 30 s window without
	// an API key, 50 with one.
	DefaultRateWindow      = 30 * time.Second
	DefaultRequests        = 5
	DefaultRequestsWithKey = 50
	// DefaultResultsPerPage is the NVD API's largest page.
	DefaultResultsPerPage = 2000
	// maxPageBytes bounds one buffered NVD page (2,000 records are about
	// 10 MB).
	maxPageBytes = 256 << 20
)

// Fetcher downloads feeds. Zero fields take defaults: http.DefaultClient,
// time.Now, a Sleep that waits on a timer, a discarding Logger, the
// Default* limits above. State may be nil: then nothing is remembered and
// every Fetch downloads.
type Fetcher struct {
	HTTP   *http.Client
	State  *State
	Now    func() time.Time
	Sleep  func(ctx context.Context, d time.Duration) error
	Logger *slog.Logger

	// MaxAttempts bounds the requests made for one URL when the server
	// answers 429 or 503 (or the connection fails); Backoff is the first
	// wait, doubled after each attempt, unless the server sends
	// Retry-After.
	MaxAttempts int
	Backoff     time.Duration
	// RateWindow, Requests and RequestsWithKey are the NVD API's rate
	// limit: NVDPages spaces its requests RateWindow/Requests apart
	// (RateWindow/RequestsWithKey with an API key).
	RateWindow      time.Duration
	Requests        int
	RequestsWithKey int
	UserAgent       string

	lastRequest time.Time // when NVDPages last sent a request
}

// Download is the body of a feed that changed since the last recorded
// download. The caller reads and closes it, and calls Commit once what it
// read was imported.
type Download struct {
	io.ReadCloser
	URL string
	// ContentLength is the body's size, -1 when unknown.
	ContentLength int64

	f     *Fetcher
	entry Entry
}

// Commit records the download's ETag and Last-Modified, so that the next
// Fetch of the URL asks the server whether the file changed since. It
// returns an error when the state file cannot be saved.
func (d *Download) Commit() error {
	if d.f.State == nil {
		return nil
	}
	d.entry.Synced = d.f.now().UTC()
	return d.f.State.Set(d.URL, d.entry)
}

// Fetch downloads rawURL unless the server says it has not changed since
// the download recorded in State: then it returns a nil *Download and a nil
// error. The returned error names the URL and, for an HTTP error, the
// status.
func (f *Fetcher) Fetch(ctx context.Context, rawURL string) (*Download, error) {
	h := http.Header{}
	if f.State != nil {
		e := f.State.Get(rawURL)
		if e.ETag != "" {
			h.Set("If-None-Match", e.ETag)
		}
		if e.LastModified != "" {
			h.Set("If-Modified-Since", e.LastModified)
		}
	}
	resp, err := f.get(ctx, rawURL, h, nil)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusNotModified {
		_ = resp.Body.Close()
		f.logger().InfoContext(ctx, "feed not modified", "url", rawURL)
		return nil, nil
	}
	f.logger().InfoContext(ctx, "feed downloading", "url", rawURL, "bytes", resp.ContentLength)
	return &Download{
		ReadCloser:    resp.Body,
		URL:           rawURL,
		ContentLength: resp.ContentLength,
		f:             f,
		entry:         Entry{ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified")},
	}, nil
}

// NVDPages walks the NVD CVE API 2.0 at base (for example
// https://services.nvd.nist.gov/rest/json/cves/2.0) with the query params
// (lastModStartDate, lastModEndDate, …): it asks for page after page
// (startIndex, resultsPerPage) until totalResults records came, and calls fn
// with each page's whole response. apiKey, when set, is sent in the apiKey
// header. Requests are spaced to stay within the rate limit. The first
// error of a request, a page or fn stops the walk and is returned; pages
// handed to fn before it are not taken back.
func (f *Fetcher) NVDPages(ctx context.Context, base, apiKey string, params url.Values, fn func(page io.Reader) error) error {
	u, err := url.Parse(base)
	if err != nil {
		return firmward.Errorf(firmward.EINVALID, "the NVD API URL %q: %v", base, err)
	}
	q := u.Query()
	for k, vs := range params {
		q[k] = vs
	}
	if q.Get("resultsPerPage") == "" {
		q.Set("resultsPerPage", strconv.Itoa(DefaultResultsPerPage))
	}
	h := http.Header{}
	if apiKey != "" {
		h.Set("apiKey", apiKey)
	}
	start := 0
	for {
		q.Set("startIndex", strconv.Itoa(start))
		u.RawQuery = q.Encode()
		body, err := f.getAll(ctx, u.String(), h, func(ctx context.Context) error { return f.waitRate(ctx, apiKey != "") })
		if err != nil {
			return err
		}
		page, err := feeds.ParseNVD20Page(bytes.NewReader(body), func(*firmward.Vulnerability) error { return nil })
		if err != nil {
			return fmt.Errorf("NVD API page at %s: %w", u, err)
		}
		if err := fn(bytes.NewReader(body)); err != nil {
			return err
		}
		next := page.StartIndex + page.Records
		f.logger().InfoContext(ctx, "NVD page", "url", u.String(), "records", page.Records, "total", page.TotalResults)
		if page.Records == 0 || next >= page.TotalResults {
			return nil
		}
		start = next
	}
}

// waitRate sleeps until the next NVD request is allowed.
func (f *Fetcher) waitRate(ctx context.Context, withKey bool) error {
	window, n := f.RateWindow, f.Requests
	if window <= 0 {
		window = DefaultRateWindow
	}
	if withKey {
		n = f.RequestsWithKey
		if n <= 0 {
			n = DefaultRequestsWithKey
		}
	} else if n <= 0 {
		n = DefaultRequests
	}
	gap := window / time.Duration(n)
	if !f.lastRequest.IsZero() {
		if wait := f.lastRequest.Add(gap).Sub(f.now()); wait > 0 {
			if err := f.sleep(ctx, wait); err != nil {
				return err
			}
		}
	}
	f.lastRequest = f.now()
	return nil
}

// getAll is get that reads the whole (bounded) body of a 200 answer.
func (f *Fetcher) getAll(ctx context.Context, rawURL string, h http.Header, limit func(context.Context) error) ([]byte, error) {
	resp, err := f.get(ctx, rawURL, h, limit)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPageBytes+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: reading the body: %w", rawURL, err)
	}
	if len(body) > maxPageBytes {
		return nil, firmward.Errorf(firmward.ETOOLARGE, "GET %s: the page is larger than %d bytes", rawURL, maxPageBytes)
	}
	return body, nil
}

// errStatus is an HTTP answer that is neither 200 nor 304.
type errStatus struct {
	url    string
	code   int
	status string
}

func (e *errStatus) Error() string {
	return fmt.Sprintf("GET %s: the server answered %s", e.url, e.status)
}

// get sends a GET with the headers h and returns a 200 or 304 response,
// retrying on 429, 503 and connection errors up to MaxAttempts times.
// limit, when set, is called before every attempt (the rate limiter).
func (f *Fetcher) get(ctx context.Context, rawURL string, h http.Header, limit func(context.Context) error) (*http.Response, error) {
	attempts := f.MaxAttempts
	if attempts <= 0 {
		attempts = DefaultMaxAttempts
	}
	backoff := f.Backoff
	if backoff <= 0 {
		backoff = DefaultBackoff
	}
	client := f.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	var lastErr error
	for attempt := 1; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
		if err != nil {
			return nil, firmward.Errorf(firmward.EINVALID, "the feed URL %q: %v", rawURL, err)
		}
		for k, vs := range h {
			req.Header[k] = vs
		}
		if f.UserAgent != "" {
			req.Header.Set("User-Agent", f.UserAgent)
		}
		if limit != nil {
			if err := limit(ctx); err != nil {
				return nil, err
			}
		}
		wait := backoff
		resp, err := client.Do(req)
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return nil, fmt.Errorf("GET %s: %w", rawURL, ctx.Err())
			}
			lastErr = fmt.Errorf("GET %s: %w", rawURL, err)
		case resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusNotModified:
			return resp, nil
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
			if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
				wait = time.Duration(s) * time.Second
			}
			_ = resp.Body.Close()
			lastErr = &errStatus{url: rawURL, code: resp.StatusCode, status: resp.Status}
		default:
			_ = resp.Body.Close()
			return nil, &errStatus{url: rawURL, code: resp.StatusCode, status: resp.Status}
		}
		if attempt >= attempts {
			return nil, fmt.Errorf("gave up after %d attempts: %w", attempt, lastErr)
		}
		f.logger().WarnContext(ctx, "feed download failed; retrying", "url", rawURL, "error", lastErr, "wait", wait)
		if err := f.sleep(ctx, wait); err != nil {
			return nil, err
		}
		backoff *= 2
	}
}

// IsHTTPStatus reports whether err is an HTTP answer with the given status
// code.
func IsHTTPStatus(err error, code int) bool {
	var e *errStatus
	return errors.As(err, &e) && e.code == code
}

func (f *Fetcher) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

func (f *Fetcher) sleep(ctx context.Context, d time.Duration) error {
	if f.Sleep != nil {
		return f.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (f *Fetcher) logger() *slog.Logger {
	if f.Logger != nil {
		return f.Logger
	}
	return slog.New(slog.DiscardHandler)
}
