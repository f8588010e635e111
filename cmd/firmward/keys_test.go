package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/firmward/firmward/tufrepo"
)

// keysRun runs a keys command and fails the test on an unexpected exit
// status.
func keysRun(t *testing.T, env map[string]string, code int, args ...string) result {
	t.Helper()
	r := cli(t, env, false, args...)
	if r.code != code {
		t.Fatalf("firmward %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
	}
	return r
}

func TestKeysLifecycle(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	usb := t.TempDir()
	env := map[string]string{"FIRMWARD_DATA": data}
	rootKey := filepath.Join(usb, "root.key")

	r := keysRun(t, env, 1, "keys", "show")
	mustContain(t, "show before init", r.stderr, "no TUF repository", "firmward keys init --root-key-out")
	r = keysRun(t, env, 2, "keys", "init")
	mustContain(t, "init without a path", r.stderr, "--root-key-out is required")

	r = keysRun(t, env, 0, "keys", "init", "--root-key-out", rootKey)
	mustContain(t, "init", r.stdout, "Created the TUF repository in "+filepath.Join(data, "tuf"),
		"ROOT KEY is in "+rootKey, "Move it offline", "shred -u", filepath.Join(data, "tuf", "metadata", "root.json"))
	if fi, err := os.Stat(rootKey); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("root key file: %v", err)
	}
	r = keysRun(t, env, 1, "keys", "init", "--root-key-out", filepath.Join(usb, "other.key"))
	mustContain(t, "second init", r.stderr, "already holds a TUF repository", "keys show")

	var st tufrepo.Status
	r = keysRun(t, env, 0, "keys", "show", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		t.Fatalf("keys show --json: %v\n%s", err, r.stdout)
	}
	if len(st.Roles) != 4 || st.Role("timestamp").Version != 1 || !st.Role("timestamp").KeyPresent || st.Role("root").Online {
		t.Fatalf("status %+v", st)
	}
	r = keysRun(t, env, 0, "keys", "show")
	mustContain(t, "show", r.stdout, "ROLE", "root", "offline", "timestamp", "server")
	if strings.Contains(r.stdout, "WARNING") {
		t.Errorf("a fresh repository has warnings:\n%s", r.stdout)
	}

	r = keysRun(t, env, 0, "keys", "refresh", "--timestamp-expiry", "6h")
	mustContain(t, "refresh", r.stdout, "Re-signed timestamp: version 2")

	// sign-root with the flags' environment twins.
	newRoot := filepath.Join(usb, "root2.key")
	env2 := map[string]string{"FIRMWARD_DIR": filepath.Join(data, "tuf"), "FIRMWARD_ROOT_KEY": rootKey}
	r = keysRun(t, env2, 0, "keys", "sign-root", "--new-root-key-out", newRoot, "--rotate", "timestamp,snapshot")
	mustContain(t, "sign-root", r.stdout, "Signed root version 2", "NEW ROOT KEY is in "+newRoot, "signs nothing any more",
		"New online keys for timestamp, snapshot")
	r = keysRun(t, env, 0, "keys", "show", "--json")
	var after tufrepo.Status
	if err := json.Unmarshal([]byte(r.stdout), &after); err != nil {
		t.Fatal(err)
	}
	if after.Role("root").Version != 2 || after.Role("timestamp").KeyIDs[0] == st.Role("timestamp").KeyIDs[0] ||
		after.Role("targets").KeyIDs[0] != st.Role("targets").KeyIDs[0] {
		t.Fatalf("after sign-root: %+v", after)
	}

	// The retired root key is refused and no stray new key is left.
	stray := filepath.Join(usb, "root3.key")
	r = keysRun(t, env, 1, "keys", "sign-root", "--root-key", rootKey, "--new-root-key-out", stray)
	mustContain(t, "sign-root with the old key", r.stderr, "not this repository's root key")
	if _, err := os.Stat(stray); !os.IsNotExist(err) {
		t.Errorf("a refused sign-root left %s: %v", stray, err)
	}
	r = keysRun(t, env, 2, "keys", "sign-root", "--root-key", newRoot, "--rotate", "root")
	mustContain(t, "rotate root", r.stderr, "online roles are targets, snapshot and timestamp")
	keysRun(t, env, 2, "keys", "sign-root")
	keysRun(t, env, 0, "keys", "sign-root", "--root-key", newRoot, "--rotate", "all")
}

func TestKeysWarnings(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	healthy := tufrepo.Status{Dir: "d", Roles: []tufrepo.RoleStatus{
		{Role: "root", Expires: now.AddDate(1, 0, 0)},
		{Role: "targets", Expires: now.AddDate(0, 3, 0), Online: true, KeyPresent: true},
		{Role: "snapshot", Expires: now.AddDate(0, 0, 7), Online: true, KeyPresent: true},
		{Role: "timestamp", Expires: now.Add(24 * time.Hour), Online: true, KeyPresent: true},
	}}
	change := func(f func(s *tufrepo.Status)) tufrepo.Status {
		s := healthy
		s.Roles = append([]tufrepo.RoleStatus(nil), healthy.Roles...)
		f(&s)
		return s
	}
	tests := []struct {
		name string
		st   tufrepo.Status
		want []string
	}{
		{"healthy", healthy, nil},
		{"root soon", change(func(s *tufrepo.Status) { s.Roles[0].Expires = now.AddDate(0, 0, 10) }), []string{"root expires on 2026-12-05", "sign-root"}},
		{"root expired", change(func(s *tufrepo.Status) { s.Roles[0].Expires = now.AddDate(0, 0, -1) }), []string{"EXPIRED", "refuse every update"}},
		{"timestamp expired", change(func(s *tufrepo.Status) { s.Roles[3].Expires = now.Add(-time.Minute) }), []string{"timestamp.json expired", "keys refresh"}},
		{"key missing", change(func(s *tufrepo.Status) { s.Roles[2].KeyPresent = false }), []string{"snapshot key is missing", "--rotate snapshot"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(keysWarnings(tt.st, now), "")
			if tt.want == nil && got != "" {
				t.Fatalf("warnings for a healthy repository: %s", got)
			}
			mustContain(t, "warnings", got, tt.want...)
		})
	}
}
