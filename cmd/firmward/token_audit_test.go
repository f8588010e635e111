package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/httpapi"
	"github.com/firmward/firmward/sqlstore"
)

func TestTokenCommands(t *testing.T) {
	t.Parallel()
	s := startServer(t, t.TempDir(), nil)

	out := s.ok(t, "token", "create", "--name", "ci", "--role", "operator")
	mustContain(t, "token create", out, `created token 2 "ci" with role operator`, "only time the secret is shown",
		"export FIRMWARD_TOKEN=fwt_", "firmward token revoke 2")

	var viewer httpapi.TokenCreated
	s.okJSON(t, &viewer, "token", "create", "--name", "dashboard")
	if viewer.Token == nil || viewer.Token.Role != firmward.RoleViewer || !strings.HasPrefix(viewer.Secret, "fwt_") {
		t.Fatalf("token create --json = %+v", viewer)
	}

	// The viewer token reads but may not change anything.
	asViewer := func(args ...string) result {
		return cli(t, nil, false, append([]string{"--server", s.URL, "--token", viewer.Secret}, args...)...)
	}
	if r := asViewer("device", "list"); r.code != 0 {
		t.Fatalf("viewer device list: exit %d\n%s", r.code, r.stderr)
	}
	r := asViewer("device", "add", "--name", "x")
	if r.code != 1 {
		t.Fatalf("viewer device add: exit %d", r.code)
	}
	mustContain(t, "stderr", r.stderr, "role does not allow that")

	// list: table and JSON.
	out = s.ok(t, "token", "list")
	mustContain(t, "token list", out, "NAME", "ROLE", "admin", "ci", "operator", "dashboard", "viewer", "active")
	if strings.Contains(out, viewer.Secret) {
		t.Fatal("token list shows a secret")
	}
	var toks httpapi.TokenList
	s.okJSON(t, &toks, "token", "list")
	if len(toks.Tokens) != 3 {
		t.Fatalf("token list --json: %+v", toks)
	}

	// revoke.
	mustContain(t, "token revoke", s.ok(t, "token", "revoke", "3"), "revoked token 3")
	r = asViewer("device", "list")
	if r.code != 1 {
		t.Fatalf("revoked token still works: exit %d", r.code)
	}
	mustContain(t, "stderr", r.stderr, "The server refused the token", "--token")
	mustContain(t, "token list", s.ok(t, "token", "list"), "revoked ")
	s.fails(t, 1, "token", "revoke", "3")
	r = s.fails(t, 1, "token", "revoke", "99")
	mustContain(t, "stderr", r.stderr, "firmward token list")
	var revoked map[string]int64
	s.okJSON(t, &revoked, "token", "revoke", "2")
	if revoked["revoked"] != 2 {
		t.Fatalf("token revoke --json = %v", revoked)
	}
}

func TestAuditCommands(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	s := startServer(t, data, nil)
	s.ok(t, "device", "add", "--name", "a")
	s.ok(t, "device", "add", "--name", "b")
	s.ok(t, "device", "edit", "1", "--owner", "Facilities")
	s.ok(t, "device", "rm", "2")

	out := s.ok(t, "audit", "list")
	mustContain(t, "audit list", out, "SEQ", "ACTOR", "ACTION", "device.create", "device.update", "device.delete", "token:1(admin)", "owner")
	if strings.Index(out, "device.delete") > strings.Index(out, "device.create") {
		t.Errorf("audit list is not newest first:\n%s", out)
	}
	var list httpapi.AuditList
	s.okJSON(t, &list, "audit", "list", "--object-type", "device", "--object-id", "1")
	if len(list.Events) != 2 || list.Events[0].Action != firmward.ActionDeviceUpdate {
		t.Fatalf("audit list for device 1: %+v", list.Events)
	}
	s.okJSON(t, &list, "audit", "list", "--action", "device.delete")
	if len(list.Events) != 1 || list.Events[0].ObjectID != "2" {
		t.Fatalf("--action device.delete: %+v", list.Events)
	}
	s.okJSON(t, &list, "audit", "list", "--limit", "1", "--oldest")
	if len(list.Events) != 1 || list.NextCursor == "" {
		t.Fatalf("--limit 1 --oldest: %+v", list)
	}
	r := s.run(t, "audit", "list", "--limit", "1")
	mustContain(t, "stderr", r.stderr, "more with --cursor")

	mustContain(t, "audit verify", s.ok(t, "audit", "verify"), "OK: the audit trail is intact (5 events verified)")
	var rep firmward.AuditReport
	s.okJSON(t, &rep, "audit", "verify")
	if !rep.OK || rep.Checked != 5 {
		t.Fatalf("audit verify --json = %+v", rep)
	}

	// Someone edits an event behind firmward's back.
	db, err := sqlstore.Open(context.Background(), filepath.Join(data, "firmward.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL().Exec("UPDATE audit_events SET actor = 'token:9(mallory)' WHERE seq = 3"); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	r = s.fails(t, 1, "audit", "verify")
	mustContain(t, "stdout", r.stdout, "BROKEN: audit event 3", "edited", "2 events before it verified")
	r = s.fails(t, 1, "audit", "verify", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || rep.OK || rep.BrokenSeq != 3 {
		t.Fatalf("audit verify --json of a broken chain: %v %+v", err, rep)
	}
}

func TestSeedCommands(t *testing.T) {
	t.Parallel()
	s := startServer(t, t.TempDir(), nil)

	out := s.ok(t, "seed", "home")
	mustContain(t, "seed home", out, "created 21 devices of a sample home", "Next:", s.URL+"/", "firmward device list")
	var list httpapi.DeviceList
	s.okJSON(t, &list, "device", "list", "--all")
	if len(list.Devices) != 21 {
		t.Fatalf("%d devices after seed home", len(list.Devices))
	}
	s.okJSON(t, &list, "device", "list", "--exposure", "internet-facing")
	if len(list.Devices) != 1 || list.Devices[0].Model != "Archer AX21" {
		t.Fatalf("internet-facing after seed home: %+v", list.Devices)
	}
	r := s.fails(t, 1, "seed", "home")
	mustContain(t, "stderr", r.stderr, "is already used by device", "loaded already")

	// Enterprise: JSON output, progress bar on a terminal, per-site MACs.
	r = cli(t, nil, true, "--server", s.URL, "--token", s.Token, "--json", "seed", "enterprise", "--count", "60", "--site", "North Campus")
	var res firmward.ImportResult
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &res) != nil || res.Created != 60 || len(res.IDs) != 60 {
		t.Fatalf("seed enterprise: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	mustContain(t, "progress bar", r.stderr, "\rseeding 60 devices [", "100%")
	s.okJSON(t, &list, "device", "list", "--site", "north campus", "--category", "medical")
	if len(list.Devices) == 0 {
		t.Fatal("no medical devices on the seeded campus")
	}
	r = s.fails(t, 1, "seed", "enterprise", "--count", "60", "--site", "North Campus", "--dry-run")
	mustContain(t, "stderr", r.stderr, "loaded already")
	mustContain(t, "dry run", s.ok(t, "seed", "enterprise", "--count", "60", "--site", "South Campus", "--dry-run"),
		"dry run: the 60 devices of a sample hospital campus are valid")
}

// TestSeedBatches seeds more devices than one import request carries.
func TestSeedBatches(t *testing.T) {
	if testing.Short() {
		t.Skip("imports 5,001 devices")
	}
	t.Parallel()
	s := startServer(t, t.TempDir(), nil)
	out := s.ok(t, "seed", "enterprise", "--count", "5001")
	mustContain(t, "seed enterprise", out, "created 5001 devices")
	var st firmward.DeviceStats
	c := httpapi.NewClient(s.URL, s.Token)
	got, err := c.DeviceStats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	st = *got
	if st.Total != 5001 {
		t.Fatalf("%d devices stored", st.Total)
	}
}
