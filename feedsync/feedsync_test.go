package feedsync

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is Now and Sleep without sleeping: Sleep records the wait and
// moves the clock on.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(_ context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	c.now = c.now.Add(d)
	return nil
}

func newFetcher(t *testing.T, srv *httptest.Server) (*Fetcher, *fakeClock) {
	t.Helper()
	st, err := LoadState(filepath.Join(t.TempDir(), "sub", "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	c := &fakeClock{now: time.Date(2026, 8, 16, 12, 0, 0, 0, time.UTC)}
	return &Fetcher{HTTP: srv.Client(), State: st, Now: c.Now, Sleep: c.Sleep}, c
}

// fetchAll fetches u and returns the body ("" and false when not
// modified), committing it when commit is set.
func fetchAll(t *testing.T, f *Fetcher, u string, commit bool) (string, bool) {
	t.Helper()
	d, err := f.Fetch(context.Background(), u)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if d == nil {
		return "", false
	}
	b, err := io.ReadAll(d)
	_ = d.Close()
	if err != nil {
		t.Fatal(err)
	}
	if commit {
		if err := d.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	return string(b), true
}

func TestFetchConditional(t *testing.T) {
	t.Parallel()
	const etag = `"v1"`
	const lastMod = "Sat, 15 Aug 2026 10:00:00 GMT"
	tests := []struct {
		name    string
		headers map[string]string
		// notModified says whether the request is answered 304.
		notModified func(r *http.Request) bool
		sent        func(r *http.Request) string // the validator the second request sent
		want        string
	}{
		{
			name:        "etag",
			headers:     map[string]string{"ETag": etag},
			notModified: func(r *http.Request) bool { return r.Header.Get("If-None-Match") == etag },
			sent:        func(r *http.Request) string { return r.Header.Get("If-None-Match") },
			want:        etag,
		},
		{
			name:        "last-modified",
			headers:     map[string]string{"Last-Modified": lastMod},
			notModified: func(r *http.Request) bool { return r.Header.Get("If-Modified-Since") == lastMod },
			sent:        func(r *http.Request) string { return r.Header.Get("If-Modified-Since") },
			want:        lastMod,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var statuses []int
			var lastReq *http.Request
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				defer mu.Unlock()
				lastReq = r
				for k, v := range tt.headers {
					w.Header().Set(k, v)
				}
				if tt.notModified(r) {
					statuses = append(statuses, 304)
					w.WriteHeader(http.StatusNotModified)
					return
				}
				statuses = append(statuses, 200)
				_, _ = io.WriteString(w, "feed body")
			}))
			defer srv.Close()
			f, _ := newFetcher(t, srv)

			// A download that is not committed leaves no trace.
			if body, ok := fetchAll(t, f, srv.URL+"/feed", false); !ok || body != "feed body" {
				t.Fatalf("first fetch: %q %v", body, ok)
			}
			if _, ok := fetchAll(t, f, srv.URL+"/feed", true); !ok {
				t.Fatal("an uncommitted download was remembered: the second fetch was not modified")
			}
			if _, ok := fetchAll(t, f, srv.URL+"/feed", true); ok {
				t.Fatal("third fetch downloaded again; want not modified")
			}
			mu.Lock()
			defer mu.Unlock()
			if got := tt.sent(lastReq); got != tt.want {
				t.Errorf("validator sent %q, want %q", got, tt.want)
			}
			if want := []int{200, 200, 304}; !equalInts(statuses, want) {
				t.Errorf("statuses %v, want %v", statuses, want)
			}

			// The state survives a reload and is private.
			st, err := LoadState(f.State.Path())
			if err != nil {
				t.Fatal(err)
			}
			e := st.Get(srv.URL + "/feed")
			if e.ETag+e.LastModified != tt.want || e.Synced.IsZero() {
				t.Errorf("reloaded entry %+v", e)
			}
			fi, err := os.Stat(f.State.Path())
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("state file mode %v, want 0600", fi.Mode().Perm())
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestFetchRetriesThenSucceeds(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		n++
		switch n {
		case 1:
			w.WriteHeader(http.StatusServiceUnavailable)
		case 2:
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
		default:
			_, _ = io.WriteString(w, "ok")
		}
	}))
	defer srv.Close()
	f, clock := newFetcher(t, srv)
	f.Backoff = time.Second
	if body, ok := fetchAll(t, f, srv.URL, true); !ok || body != "ok" {
		t.Fatalf("fetch: %q %v", body, ok)
	}
	if want := []time.Duration{time.Second, 7 * time.Second}; !equalDurations(clock.waits, want) {
		t.Errorf("waits %v, want %v (backoff, then Retry-After)", clock.waits, want)
	}
}

func TestFetchGivesUp(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	f, clock := newFetcher(t, srv)
	f.MaxAttempts = 3
	_, err := f.Fetch(context.Background(), srv.URL+"/kev.json")
	if err == nil || !strings.Contains(err.Error(), srv.URL+"/kev.json") || !strings.Contains(err.Error(), "503") || !IsHTTPStatus(err, 503) {
		t.Fatalf("error %v; want one naming the URL and 503", err)
	}
	if want := []time.Duration{DefaultBackoff, 2 * DefaultBackoff}; !equalDurations(clock.waits, want) {
		t.Errorf("waits %v, want %v", clock.waits, want)
	}
}

func TestFetchNotFound(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	f, clock := newFetcher(t, srv)
	_, err := f.Fetch(context.Background(), srv.URL+"/missing.json")
	if err == nil || !strings.Contains(err.Error(), srv.URL+"/missing.json") || !strings.Contains(err.Error(), "404 Not Found") {
		t.Fatalf("error %v; want one naming the URL and 404", err)
	}
	if !IsHTTPStatus(err, http.StatusNotFound) {
		t.Errorf("IsHTTPStatus(%v, 404) = false", err)
	}
	if len(clock.waits) != 0 {
		t.Errorf("a 404 was retried: waits %v", clock.waits)
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestLoadStateRefusesGarbage(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(p, []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadState(p); err == nil || !strings.Contains(err.Error(), p) {
		t.Fatalf("LoadState of garbage: %v", err)
	}
}

// nvdPages splits the real 38-record NVD API page into pages of size.
func nvdPages(t *testing.T, size int) [][]byte {
	t.Helper()
	path := filepath.Join("..", "..", "shared", "data", "nvd", "api-2.0", "vunnel", "full-page.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("real data absent: %v", err)
	}
	var full struct {
		Format          string            `json:"format"`
		Version         string            `json:"version"`
		Timestamp       string            `json:"timestamp"`
		Vulnerabilities []json.RawMessage `json:"vulnerabilities"`
	}
	if err := json.Unmarshal(b, &full); err != nil {
		t.Fatal(err)
	}
	var pages [][]byte
	total := len(full.Vulnerabilities)
	for start := 0; start < total; start += size {
		recs := full.Vulnerabilities[start:min(start+size, total)]
		p, err := json.Marshal(map[string]any{
			"resultsPerPage": len(recs), "startIndex": start, "totalResults": total,
			"format": full.Format, "version": full.Version, "timestamp": full.Timestamp,
			"vulnerabilities": recs,
		})
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, p)
	}
	return pages
}

func TestNVDPages(t *testing.T) {
	t.Parallel()
	pages := nvdPages(t, 15)
	if len(pages) != 3 {
		t.Fatalf("%d pages, want 3", len(pages))
	}
	tests := []struct {
		name string
		key  string
		gap  time.Duration
	}{
		{"with key", "secret-key", 600 * time.Millisecond},
		{"without key", "", 6 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var queries []url.Values
			var badKey []string
			unavailableOnce := true
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				defer mu.Unlock()
				if got := r.Header.Get("apiKey"); got != tt.key {
					badKey = append(badKey, got)
				}
				q := r.URL.Query()
				queries = append(queries, q)
				start, _ := strconv.Atoi(q.Get("startIndex"))
				if start == 15 && unavailableOnce { // NVD's usual hiccup
					unavailableOnce = false
					w.WriteHeader(http.StatusServiceUnavailable)
					return
				}
				if start%15 != 0 || start/15 >= len(pages) {
					http.Error(w, "bad startIndex", http.StatusBadRequest)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write(pages[start/15])
			}))
			defer srv.Close()
			f, clock := newFetcher(t, srv)
			f.Backoff = 100 * time.Millisecond
			params := url.Values{
				"lastModStartDate": {"2023-10-01T00:00:00.000Z"},
				"lastModEndDate":   {"2023-10-19T00:00:00.000Z"},
			}
			var got []string
			err := f.NVDPages(context.Background(), srv.URL+"/rest/json/cves/2.0", tt.key, params, func(page io.Reader) error {
				var p struct {
					StartIndex      int               `json:"startIndex"`
					Vulnerabilities []json.RawMessage `json:"vulnerabilities"`
				}
				if err := json.NewDecoder(page).Decode(&p); err != nil {
					return err
				}
				got = append(got, strconv.Itoa(p.StartIndex)+":"+strconv.Itoa(len(p.Vulnerabilities)))
				return nil
			})
			if err != nil {
				t.Fatalf("NVDPages: %v", err)
			}
			if want := "0:15 15:15 30:8"; strings.Join(got, " ") != want {
				t.Errorf("pages %q, want %q", strings.Join(got, " "), want)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(badKey) > 0 {
				t.Errorf("apiKey headers %q, want %q", badKey, tt.key)
			}
			var starts []string
			for _, q := range queries {
				starts = append(starts, q.Get("startIndex"))
				if q.Get("resultsPerPage") != "2000" || q.Get("lastModStartDate") != params.Get("lastModStartDate") || q.Get("lastModEndDate") != params.Get("lastModEndDate") {
					t.Errorf("query %v lacks the paging or the window", q)
				}
			}
			if want := "0 15 15 30"; strings.Join(starts, " ") != want {
				t.Errorf("startIndex sent %q, want %q", strings.Join(starts, " "), want)
			}
			// Every request, the retry too, is at least gap after the one
			// before: the retry's backoff (100 ms) counts towards its gap.
			backoff := 100 * time.Millisecond
			wantWaits := []time.Duration{tt.gap, backoff, tt.gap - backoff, tt.gap}
			if !equalDurations(clock.waits, wantWaits) {
				t.Errorf("waits %v, want %v", clock.waits, wantWaits)
			}
		})
	}
}

func TestNVDPagesStopsOnCallbackError(t *testing.T) {
	t.Parallel()
	pages := nvdPages(t, 15)
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		n++
		_, _ = w.Write(pages[0])
	}))
	defer srv.Close()
	f, _ := newFetcher(t, srv)
	boom := errors.New("import failed")
	err := f.NVDPages(context.Background(), srv.URL, "", nil, func(io.Reader) error { return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("NVDPages: %v, want the callback's error", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if n != 1 {
		t.Errorf("%d requests after a failing page, want 1", n)
	}
}
