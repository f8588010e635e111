package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/agent/tufclient"
	"github.com/firmward/firmward/agentapi"
	"github.com/firmward/firmward/httpapi"
)

// TestSignedRelease: with a TUF repository (keys init), `firmward serve`
// signs each release it stores and publishes the metadata under /tuf/; a
// device that polls the agent API downloads the artifact and verifies it
// with the TUF client; a tampered file and, after a withdrawal, the
// artifact itself are refused.
func TestSignedRelease(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if r := cli(t, nil, false, "keys", "init", "--root-key-out", filepath.Join(dir, "root.key"), "--dir", filepath.Join(data, "tuf")); r.code != 0 {
		t.Fatalf("keys init: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	s := startServer(t, data, nil)
	ctx := context.Background()
	img := filepath.Join(dir, "router-3.1.bin")
	content := strings.Repeat("signed firmware ", 1000)
	if err := os.WriteFile(img, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	var rel firmward.Release
	s.okJSON(t, &rel, "release", "add", img, "--manufacturer", "Acme", "--model", "R1", "--version", "3.1")
	var d firmward.Device
	s.okJSON(t, &d, "device", "add", "--name", "router")
	var tok httpapi.DeviceTokenCreated
	s.okJSON(t, &tok, "device", "token", strconv.FormatInt(d.ID, 10))
	s.ok(t, "release", "deploy", strconv.FormatInt(rel.ID, 10), "--device", strconv.FormatInt(d.ID, 10))

	do := func(method, url, auth, body string) []byte {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s %s = %s %s", method, url, resp.Status, b)
		}
		return b
	}
	var poll agentapi.PollResponse
	if err := json.Unmarshal(do("POST", s.URL+"/agent/v1/poll", "Bearer "+tok.Secret, `{"firmware_version":"3.0"}`), &poll); err != nil || poll.Action == nil {
		t.Fatalf("poll = %+v, %v", poll, err)
	}
	art := poll.Action.Artifacts[0]
	if art.TUFTarget != "releases/"+strconv.FormatInt(rel.ID, 10)+"/router-3.1.bin" {
		t.Fatalf("tuf target = %q", art.TUFTarget)
	}
	file := filepath.Join(dir, "download.bin")
	if err := os.WriteFile(file, do("GET", art.URL, "Bearer "+tok.Secret, ""), 0o600); err != nil {
		t.Fatal(err)
	}

	// The device was enrolled with the repository's root.json.
	root := do("GET", s.URL+"/tuf/root.json", "", "")
	newClient := func() *tufclient.Client {
		c, err := tufclient.New(tufclient.Config{TrustedRoot: root, MetadataDir: t.TempDir(), MetadataURL: s.URL + "/tuf"})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	target, err := newClient().VerifyFile(ctx, art.TUFTarget, file)
	if err != nil || target.Length != int64(len(content)) {
		t.Fatalf("VerifyFile = %+v, %v", target, err)
	}
	tampered := filepath.Join(dir, "tampered.bin")
	if err := os.WriteFile(tampered, []byte("X"+content[1:]), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := newClient().VerifyFile(ctx, art.TUFTarget, tampered); err == nil {
		t.Fatal("a tampered artifact verified")
	}
	// No directory listing, only metadata files.
	for _, p := range []string{"/tuf/", "/tuf/../keys/targets.key"} {
		resp, err := http.Get(s.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatalf("GET %s = 200", p)
		}
	}

	// Withdrawn: the target leaves the signed metadata.
	s.ok(t, "release", "withdraw", strconv.FormatInt(rel.ID, 10), "--reason", "recalled")
	if _, err := newClient().VerifyFile(ctx, art.TUFTarget, file); err == nil {
		t.Fatal("the artifact of a withdrawn release still verifies")
	}
}
