package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/artifact"
	"github.com/firmward/firmward/rollout"
	"github.com/firmward/firmward/sqlstore"
	"github.com/firmward/firmward/web"
)

// deliveryEnv is a web UI with the release catalog and campaigns over a
// real SQLite store and artifact store.
type deliveryEnv struct {
	*env
	releases  firmward.ReleaseService
	campaigns firmward.CampaignService
	store     *artifact.Store
	operator  string
}

func newDeliveryEnv(t *testing.T) *deliveryEnv {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlstore.Open(ctx, filepath.Join(dir, "firmward.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	store, err := artifact.Open(filepath.Join(dir, "artifacts"), artifact.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := &deliveryEnv{env: &env{
		t: t, devices: sqlstore.NewDeviceService(db), tokens: sqlstore.NewTokenService(db), sessions: sqlstore.NewSessionService(db),
		audit: sqlstore.NewAuditService(db), findings: sqlstore.NewFindingService(db),
	}, releases: sqlstore.NewReleaseService(db), campaigns: sqlstore.NewCampaignService(db), store: store}
	h, err := web.New(web.Config{
		Devices: e.devices, Tokens: e.tokens, Sessions: e.sessions, Audit: e.audit, Findings: e.findings,
		Campaigns: &web.CampaignConfig{Campaigns: e.campaigns, Releases: e.releases, Delivery: sqlstore.NewDeliveryService(db), Policy: rollout.DefaultPolicy()},
		Releases:  &web.ReleaseConfig{Releases: e.releases, Artifacts: store, MaxUploadBytes: 1 << 20},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(h)
	t.Cleanup(e.srv.Close)
	for _, tok := range []struct {
		name string
		role firmward.Role
		to   *string
	}{{"alice", firmward.RoleAdmin, &e.admin}, {"olga", firmward.RoleOperator, &e.operator}, {"victor", firmward.RoleViewer, &e.viewer}} {
		if _, *tok.to, err = e.tokens.CreateToken(ctx, tok.name, tok.role); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// blobs counts the files in the artifact store.
func (e *deliveryEnv) blobs() int {
	e.t.Helper()
	n := 0
	err := filepath.WalkDir(filepath.Join(e.store.Root(), "sha256"), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *deliveryEnv) countReleases() int {
	e.t.Helper()
	rs, _, err := e.releases.FindReleases(context.Background(), firmward.ReleaseFilter{IncludeWithdrawn: true, Limit: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(rs)
}

// manyFields is a form with 40 fields besides the CSRF token.
func manyFields(csrf string) map[string]string {
	m := map[string]string{"csrf": csrf}
	for i := range 40 {
		m["x"+itoa(int64(i))] = "y"
	}
	return m
}

func sum256(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// TestReleaseUpload uploads a release through the form, shows it in the
// catalog and on its page with its hashes, and withdraws it; a viewer, a
// form without a valid CSRF token and a file whose hash is not the
// declared one are refused, and nothing is stored for them.
func TestReleaseUpload(t *testing.T) {
	t.Parallel()
	e := newDeliveryEnv(t)
	const firmware = "ACME firmware image 2.1\x00\x01\x02"
	fields := func(csrf, sha string, extra ...string) map[string]string {
		m := map[string]string{
			"csrf": csrf, "manufacturer": "Acme", "models": "Cam 1; Cam 2", "version": "2.1", "release_date": "2026-01-02",
			"channel": "stable", "fixes_cves": "cve-2025-1234, CVE-2025-5678", "notes": "Fixes the login bypass.", "sha256": sha,
		}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}

	viewer := e.browser()
	viewer.signIn(e.viewer)
	wantContains(t, viewer.get("/releases").body, "No releases yet")
	if p := viewer.get("/releases/new"); p.status != http.StatusForbidden {
		t.Errorf("viewer form: %d", p.status)
	}
	op := e.browser()
	op.signIn(e.operator)
	wantContains(t, op.get("/releases/new").body, `enctype="multipart/form-data"`, `name="sha256"`)

	for _, tc := range []struct {
		name   string
		b      *browser
		fields map[string]string
		file   string
		status int
		want   string
	}{
		{"viewer", viewer, fields(viewer.csrf, sum256(firmware)), "cam.bin", http.StatusForbidden, "Not allowed"},
		{"bad CSRF", op, fields("forged", sum256(firmware)), "cam.bin", http.StatusForbidden, "Form refused"},
		{"no CSRF", op, map[string]string{"manufacturer": "Acme", "sha256": sum256(firmware)}, "cam.bin", http.StatusForbidden, "Form refused"},
		{"hash mismatch", op, fields(op.csrf, sum256("another file")), "cam.bin", http.StatusUnprocessableEntity, "hash mismatch"},
		{"no hash", op, fields(op.csrf, ""), "cam.bin", http.StatusUnprocessableEntity, "SHA-256"},
		{"no file", op, fields(op.csrf, sum256(firmware)), "", http.StatusUnprocessableEntity, "Choose the firmware file"},
		{"path traversal", op, fields(op.csrf, sum256(firmware)), "..", http.StatusUnprocessableEntity, "not added"},
		{"bad CVE", op, fields(op.csrf, sum256(firmware), "fixes_cves", "CVE-12"), "cam.bin", http.StatusUnprocessableEntity, "CVE-12"},
		{"too many fields", op, manyFields(op.csrf), "cam.bin", http.StatusBadRequest, "more than 32 fields"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			csrf, before := tc.b.csrf, e.blobs()
			p := tc.b.postFile("/releases", tc.fields, tc.file, firmware)
			tc.b.csrf = csrf
			if p.status != tc.status {
				t.Fatalf("status %d, want %d: %s", p.status, tc.status, p.body)
			}
			wantContains(t, p.body, tc.want)
			if n := e.countReleases(); n != 0 {
				t.Errorf("%d releases stored", n)
			}
			if n := e.blobs(); n != before {
				t.Errorf("%d blobs stored", n-before)
			}
		})
	}
	if p := op.postFile("/releases", fields(op.csrf, sum256("x")), "cam.bin", firmware); !strings.Contains(p.body, "Acme") || !strings.Contains(p.body, "Cam 1; Cam 2") {
		t.Errorf("the refused form does not keep what was typed: %s", p.body)
	}

	p := op.postFile("/releases", fields(op.csrf, strings.ToUpper(sum256(firmware))), `C:\fw\cam.bin`, firmware)
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location(), "/releases/") {
		t.Fatalf("upload: %d %q %s", p.status, p.location(), p.body)
	}
	if n := e.countReleases(); n != 1 {
		t.Fatalf("%d releases after the upload", n)
	}
	loc := p.location()
	p = op.get(loc)
	wantContains(t, p.body, "Release Acme 2.1 added", "cam.bin", sum256(firmware), "sha1 ", "md5 ", "CVE-2025-1234", "Fixes the login bypass.", "Withdraw release")
	wantContains(t, viewer.get("/releases").body, "Acme", "Cam 1, Cam 2", "2.1", "2026-01-02", "stable", "CVE-2025-5678", "available")
	wantNotContains(t, viewer.get(loc).body, "Withdraw release")

	if p := op.postFile("/releases", fields(op.csrf, sum256(firmware)), "cam.bin", firmware); p.status != http.StatusConflict {
		t.Errorf("same version again: %d", p.status)
	}
	if p := viewer.post(loc+"/withdraw", url.Values{"csrf": {viewer.csrf}}); p.status != http.StatusForbidden {
		t.Errorf("viewer withdraw: %d", p.status)
	}
	if p := op.post(loc+"/withdraw", url.Values{"csrf": {"forged"}}); p.status != http.StatusForbidden {
		t.Errorf("forged withdraw: %d", p.status)
	}
	if p := op.post(loc+"/withdraw", url.Values{"csrf": {op.csrf}, "reason": {"bricks Cam 2"}}); p.status != http.StatusSeeOther {
		t.Fatalf("withdraw: %d %s", p.status, p.body)
	}
	wantContains(t, op.get(loc).body, "withdrawn", "bricks Cam 2")
	wantContains(t, op.get("/releases").body, "withdrawn")
	if p := op.get("/releases/999"); p.status != http.StatusNotFound {
		t.Errorf("unknown release: %d", p.status)
	}
}

// TestReleaseUploadTooLarge refuses a file over the limit and stores
// nothing.
func TestReleaseUploadTooLarge(t *testing.T) {
	t.Parallel()
	e := newDeliveryEnv(t)
	op := e.browser()
	op.signIn(e.operator)
	big := strings.Repeat("x", 2<<20)
	p := op.postFile("/releases", map[string]string{"csrf": op.csrf, "manufacturer": "Acme", "models": "Cam", "version": "1", "sha256": sum256(big)}, "big.bin", big)
	if p.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d: %s", p.status, p.body)
	}
	if e.blobs() != 0 || e.countReleases() != 0 {
		t.Error("something was stored")
	}
}
