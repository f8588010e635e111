package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/httpapi"
)

func TestReleaseCLI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := startServer(t, filepath.Join(dir, "data"), nil)
	img := filepath.Join(dir, "cam-2.0.bin")
	if err := os.WriteFile(img, []byte(strings.Repeat("firmware", 4096)), 0o600); err != nil {
		t.Fatal(err)
	}

	// Usage mistakes are caught before anything is uploaded.
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no file", []string{"release", "add", "--manufacturer", "Acme", "--model", "C", "--version", "1"}, exitUsage, "at least one FILE"},
		{"no version", []string{"release", "add", img, "--manufacturer", "Acme", "--model", "C"}, exitFailure, "version"},
		{"bad cve", []string{"release", "add", img, "--manufacturer", "Acme", "--model", "C", "--version", "1", "--fixes", "CVE-1"}, exitFailure, "fixes_cves"},
		{"missing file", []string{"release", "add", filepath.Join(dir, "nope.bin"), "--manufacturer", "Acme", "--model", "C", "--version", "1"}, exitFailure, "nope.bin"},
		{"deploy without device", []string{"release", "deploy", "1"}, exitUsage, "--device"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.fails(t, tc.code, tc.args...)
			mustContain(t, tc.name, r.stderr+r.stdout, tc.want)
		})
	}
	var none httpapi.ReleaseList
	s.okJSON(t, &none, "release", "list")
	if len(none.Releases) != 0 {
		t.Fatalf("refused adds stored releases: %+v", none.Releases)
	}

	// Upload with a progress bar on a terminal.
	r := cli(t, nil, true, "--server", s.URL, "--token", s.Token, "release", "add", img, "--manufacturer", "Acme",
		"--model", "Cam 1", "--model", "Cam 2", "--version", "2.0", "--fixes", "CVE-2025-1234,CVE-2025-5678",
		"--url", "https://vendor.example/fw/cam-2.0-recovery.bin", "--release-date", "2025-06-01")
	if r.code != 0 {
		t.Fatalf("release add: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	mustContain(t, "release add", r.stdout, "added release 1: Acme 2.0 for Cam 1, Cam 2")
	mustContain(t, "progress bar", r.stderr, "uploading cam-2.0.bin [", "100%")

	var rel firmward.Release
	s.okJSON(t, &rel, "release", "show", "1")
	if len(rel.Artifacts) != 2 || rel.Artifacts[1].Size != 8*4096 || rel.Artifacts[1].SHA1 == "" || rel.Artifacts[0].URL == "" || len(rel.FixesCVEs) != 2 {
		t.Fatalf("release = %+v", rel)
	}
	mustContain(t, "release list", s.ok(t, "release", "list"), "Acme", "2.0", "Cam 1, Cam 2", "active")
	mustContain(t, "release show", s.ok(t, "release", "show", "1"), "CVE-2025-1234", "sha256 ", "recovery.bin: https://vendor.example")

	var d firmward.Device
	s.okJSON(t, &d, "device", "add", "--name", "cam")
	var tok httpapi.DeviceTokenCreated
	s.okJSON(t, &tok, "device", "token", strconv.FormatInt(d.ID, 10), "--controller-id", "cam-x")
	if tok.Credential.ControllerID != "cam-x" || !strings.HasPrefix(tok.Secret, firmward.DeviceTokenPrefix) {
		t.Fatalf("device token = %+v", tok)
	}
	mustContain(t, "release deploy", s.ok(t, "release", "deploy", "1", "--device", strconv.FormatInt(d.ID, 10), "--type", "attempt"),
		"attempt", "scheduled")
	// A device the release does not fit is refused by name; --force deploys.
	var bell firmward.Device
	s.okJSON(t, &bell, "device", "add", "--name", "bell", "--manufacturer", "Other", "--model", "Bell 2")
	bellID := strconv.FormatInt(bell.ID, 10)
	r = s.fails(t, exitFailure, "release", "deploy", "1", "--device", bellID)
	mustContain(t, "release deploy (misfit)", r.stderr, "does not fit", "made by Other", "force")
	mustContain(t, "release deploy --force", s.ok(t, "release", "deploy", "1", "--device", bellID, "--force"), "scheduled")
	// serve mounts both device APIs: the DDI base poll and the agent poll
	// offer the action to the device holding the token.
	for _, req := range []struct{ method, path, auth, want string }{
		{"GET", "/default/controller/v1/cam-x", "TargetToken " + tok.Secret, "/default/controller/v1/cam-x/deploymentBase/1"},
		{"POST", "/agent/v1/poll", "Bearer " + tok.Secret, `"release_id":1`},
	} {
		hr, err := http.NewRequest(req.method, s.URL+req.path, strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		hr.Header.Set("Authorization", req.auth)
		resp, err := http.DefaultClient.Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), req.want) {
			t.Fatalf("%s %s = %s %s", req.method, req.path, resp.Status, body)
		}
	}
	mustContain(t, "action show", s.ok(t, "action", "show", "1"), "release 1 on device", "scheduled")
	mustContain(t, "release withdraw", s.ok(t, "release", "withdraw", "1", "--reason", "bricks cameras"), "2 open action(s)")
	mustContain(t, "action show", s.ok(t, "action", "show", "1"), "canceled")
	s.fails(t, exitFailure, "release", "deploy", "1", "--device", strconv.FormatInt(d.ID, 10))
	mustContain(t, "release list --withdrawn", s.ok(t, "release", "list", "--withdrawn"), "withdrawn")
	mustContain(t, "audit", s.ok(t, "audit", "list", "--object-type", "release"), "release.create", "release.withdraw")
}
