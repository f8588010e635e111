package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/feedsync"
)

// publisher is a feed publisher on loopback serving real files with an
// ETag, counting its 200 and 304 answers.
type publisher struct {
	mu     sync.Mutex
	counts map[string]int // "kev 200", "epss 304", …
	fail   bool           // answer 404 to everything
}

func (p *publisher) count(k string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts[k]
}

func (p *publisher) serveFile(name, file, etag string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.fail {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			p.counts[name+" 304"]++
			w.WriteHeader(http.StatusNotModified)
			return
		}
		p.counts[name+" 200"]++
		http.ServeFile(w, r, file)
	}
}

func TestFeedsSync(t *testing.T) {
	t.Parallel()
	data := filepath.Join("..", "..", "..", "shared", "data")
	kev := filepath.Join(data, "kev", "known_exploited_vulnerabilities.json")
	epss := filepath.Join(data, "epss", "epss_scores-2026-08-16.csv.gz")
	for _, p := range []string{kev, epss} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("real data absent: %v", err)
		}
	}
	pub := &publisher{counts: map[string]int{}}
	mux := http.NewServeMux()
	mux.Handle("GET /feeds/known_exploited_vulnerabilities.json", pub.serveFile("kev", kev, `"kev-1"`))
	mux.Handle("GET /epss/epss_scores-current.csv.gz", pub.serveFile("epss", epss, `"epss-1"`))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	s := startServer(t, t.TempDir(), nil)
	statePath := filepath.Join(t.TempDir(), "state", "feeds-state.json")
	args := []string{
		"feeds", "sync", "--state", statePath, "--nvd-url", "",
		"--kev-url", srv.URL + "/feeds/known_exploited_vulnerabilities.json",
		"--epss-url", srv.URL + "/epss/epss_scores-current.csv.gz",
	}

	var first []syncedSource
	s.okJSON(t, &first, args...)
	if len(first) != 2 || first[0].Source != "kev" || first[0].NotModified || first[0].Result == nil ||
		first[0].Result.Records != 1404 || first[0].Result.Added == 0 {
		t.Fatalf("first sync: %+v", first)
	}
	if first[1].Source != "epss" || first[1].NotModified || first[1].Result == nil || first[1].Result.Records == 0 {
		t.Fatalf("first sync of EPSS: %+v", first[1])
	}
	out := s.ok(t, "vulns", "show", "CVE-2023-1389")
	mustContain(t, "vulns show after sync", out, "KEV", "added 2023-05-01", "EPSS")

	out = s.ok(t, args...)
	mustContain(t, "second sync", out, "SOURCE", "kev", "epss", "not modified")
	if strings.Contains(out, "imported") {
		t.Errorf("second sync imported something:\n%s", out)
	}
	for k, want := range map[string]int{"kev 200": 1, "kev 304": 1, "epss 200": 1, "epss 304": 1} {
		if got := pub.count(k); got != want {
			t.Errorf("publisher answered %s %d times, want %d", k, got, want)
		}
	}
	// The second sync uploaded nothing: one import audit event per file.
	var audit struct{ Events []firmward.AuditEvent }
	s.okJSON(t, &audit, "audit", "list", "--object-type", "feed", "--limit", "100")
	if len(audit.Events) != 2 {
		t.Errorf("%d feed import audit events, want 2: %+v", len(audit.Events), audit.Events)
	}

	// A publisher error names the URL, exits 1 and hints.
	pub.mu.Lock()
	pub.fail = true
	pub.mu.Unlock()
	r := s.fails(t, 1, "feeds", "sync", "--state", filepath.Join(t.TempDir(), "s.json"), "--nvd-url", "", "--epss-url", "",
		"--kev-url", srv.URL+"/feeds/known_exploited_vulnerabilities.json")
	mustContain(t, "stderr", r.stderr, srv.URL+"/feeds/known_exploited_vulnerabilities.json", "404", "Check --kev-url", "downloads it again")
}

func TestFeedsSyncNVD(t *testing.T) {
	t.Parallel()
	page := filepath.Join("..", "..", "..", "shared", "data", "nvd", "api-2.0", "vunnel", "full-page.json")
	if _, err := os.Stat(page); err != nil {
		t.Skipf("real data absent: %v", err)
	}
	var mu sync.Mutex
	var keys, starts, since []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		keys = append(keys, r.Header.Get("apiKey"))
		starts = append(starts, r.URL.Query().Get("startIndex"))
		since = append(since, r.URL.Query().Get("lastModStartDate"))
		mu.Unlock()
		http.ServeFile(w, r, page) // one page of 38: totalResults 38
	}))
	defer srv.Close()
	s := startServer(t, t.TempDir(), nil)
	env := map[string]string{"FIRMWARD_NVD_API_KEY": "k-123"}
	statePath := filepath.Join(t.TempDir(), "state.json")
	nvdURL := srv.URL + "/rest/json/cves/2.0"
	feedsSync := func(extra ...string) result {
		t.Helper()
		args := append([]string{"--server", s.URL, "--token", s.Token, "feeds", "sync", "--kev-url", "", "--epss-url", "", "--state", statePath, "--nvd-url", nvdURL}, extra...)
		return cli(t, env, false, args...)
	}
	before := time.Now().UTC()
	r := feedsSync()
	if r.code != 0 {
		t.Fatalf("feeds sync --nvd-url: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	mustContain(t, "stdout", r.stdout, "nvd", "imported (1 page)", "38")
	// The second sync asks only for what changed since the first began.
	if r := feedsSync(); r.code != 0 {
		t.Fatalf("second feeds sync: exit %d\n%s", r.code, r.stderr)
	}
	mu.Lock()
	if strings.Join(keys, ",") != "k-123,k-123" || strings.Join(starts, ",") != "0,0" {
		t.Errorf("requests: apiKey %q, startIndex %q; want two requests with the key from FIRMWARD_NVD_API_KEY", keys, starts)
	}
	if since[0] != "" {
		t.Errorf("first sync asked for lastModStartDate %q, want everything", since[0])
	}
	got, err := time.Parse("2006-01-02T15:04:05.000Z07:00", since[1])
	if err != nil || got.Before(before.Add(-nvdOverlap).Truncate(time.Millisecond)) || got.After(time.Now().Add(-nvdOverlap)) {
		t.Errorf("second sync asked for lastModStartDate %q (%v), want the first sync's start less %s (%s)", since[1], err, nvdOverlap, before.Add(-nvdOverlap))
	}
	mu.Unlock()

	// A last sync beyond the API's 120-day window says what to do.
	st, err := feedsync.LoadState(statePath)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Set(nvdURL, feedsync.Entry{Synced: time.Now().Add(-200 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	r = feedsSync()
	if r.code != 2 {
		t.Fatalf("sync after 200 days: exit %d, want 2\n%s", r.code, r.stderr)
	}
	mustContain(t, "stderr", r.stderr, "120 days", "feeds import", "--nvd-since")
}
