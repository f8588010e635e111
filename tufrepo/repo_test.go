package tufrepo_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/tufrepo"
	"github.com/theupdateframework/go-tuf/v2/metadata/trustedmetadata"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newRepo(t *testing.T) (*tufrepo.Repo, *clock, string) {
	t.Helper()
	clk := &clock{t: time.Date(2026, 11, 25, 1, 0, 0, 0, time.UTC)}
	dir := t.TempDir()
	rootKey := filepath.Join(t.TempDir(), "root.key")
	r, res, err := tufrepo.Init(context.Background(), tufrepo.Config{Dir: filepath.Join(dir, "tuf"), Now: clk.Now}, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	if res.RootKeyPath != rootKey || len(res.RootKeyID) != 64 {
		t.Fatalf("Init result %+v", res)
	}
	return r, clk, rootKey
}

func target(name, content string, custom string) tufrepo.Target {
	sum := sha256.Sum256([]byte(content))
	return tufrepo.Target{Name: name, Length: int64(len(content)), SHA256: hex.EncodeToString(sum[:]), Custom: json.RawMessage(custom)}
}

// verify loads the served metadata the way a TUF client does (walking the
// root chain from 1.root.json, then timestamp, snapshot and targets with
// consistent snapshots) at the given time, and returns the trusted set.
func verify(t *testing.T, r *tufrepo.Repo, at time.Time) (*trustedmetadata.TrustedMetadata, error) {
	t.Helper()
	dir := r.Config().MetadataDir()
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tm, err := trustedmetadata.New(read("1.root.json"))
	if err != nil {
		return nil, err
	}
	tm.RefTime = at
	for v := 2; ; v++ {
		b, err := os.ReadFile(filepath.Join(dir, strconv.Itoa(v)+".root.json"))
		if err != nil {
			break
		}
		if _, err := tm.UpdateRoot(b); err != nil {
			return nil, err
		}
	}
	if _, err := tm.UpdateTimestamp(read("timestamp.json")); err != nil {
		return nil, err
	}
	sv := tm.Timestamp.Signed.Meta["snapshot.json"].Version
	if _, err := tm.UpdateSnapshot(read(fmt.Sprintf("%d.snapshot.json", sv)), false); err != nil {
		return nil, err
	}
	tv := tm.Snapshot.Signed.Meta["targets.json"].Version
	if _, err := tm.UpdateTargets(read(fmt.Sprintf("%d.targets.json", tv))); err != nil {
		return nil, err
	}
	return tm, nil
}

func versions(t *testing.T, r *tufrepo.Repo) map[string]int64 {
	t.Helper()
	st, err := r.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, rs := range st.Roles {
		out[rs.Role] = rs.Version
	}
	return out
}

func TestInitLayout(t *testing.T) {
	t.Parallel()
	r, clk, rootKey := newRepo(t)
	cfg := r.Config()
	for _, f := range []string{"1.root.json", "root.json", "1.targets.json", "targets.json", "1.snapshot.json", "snapshot.json", "timestamp.json"} {
		if _, err := os.Stat(filepath.Join(cfg.MetadataDir(), f)); err != nil {
			t.Errorf("metadata file %s: %v", f, err)
		}
	}
	for _, f := range []string{"root.key", "root.key.new"} {
		if _, err := os.Stat(filepath.Join(cfg.KeyDir(), f)); err == nil {
			t.Errorf("the root key is in the online key directory as %s", f)
		}
	}
	for _, role := range tufrepo.OnlineRoles() {
		fi, err := os.Stat(filepath.Join(cfg.KeyDir(), role+".key"))
		if err != nil {
			t.Fatalf("online key %s: %v", role, err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s.key has mode %v, want 0600", role, fi.Mode().Perm())
		}
	}
	if fi, err := os.Stat(cfg.KeyDir()); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("key dir mode: %v %v", fi.Mode().Perm(), err)
	}
	if fi, err := os.Stat(rootKey); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("root key file: %v", err)
	}
	tm, err := verify(t, r, clk.Now())
	if err != nil {
		t.Fatalf("fresh repository does not verify: %v", err)
	}
	if !tm.Root.Signed.ConsistentSnapshot {
		t.Error("consistent snapshots are off")
	}
	st, _ := r.Status(context.Background())
	for _, want := range []struct {
		role    string
		expires time.Duration
	}{{"root", tufrepo.DefaultRootExpiry}, {"targets", tufrepo.DefaultTargetsExpiry}, {"snapshot", tufrepo.DefaultSnapshotExpiry}, {"timestamp", tufrepo.DefaultTimestampExpiry}} {
		rs := st.Role(want.role)
		if rs.Version != 1 || !rs.Expires.Equal(clk.Now().Add(want.expires)) || len(rs.KeyIDs) != 1 || rs.Threshold != 1 {
			t.Errorf("%s: %+v", want.role, rs)
		}
		if rs.Online != (want.role != "root") || rs.KeyPresent != rs.Online {
			t.Errorf("%s: online %v, key present %v", want.role, rs.Online, rs.KeyPresent)
		}
	}
	// Four different keys.
	ids := map[string]bool{}
	for _, rs := range st.Roles {
		ids[rs.KeyIDs[0]] = true
	}
	if len(ids) != 4 {
		t.Errorf("roles share keys: %v", st.Roles)
	}
}

func TestInitRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, _, rootKey := newRepo(t)
	dir := r.Config().Dir
	tests := []struct {
		name, dir, out, code string
	}{
		{"existing repository", dir, filepath.Join(t.TempDir(), "k"), firmward.ECONFLICT},
		{"no root key path", t.TempDir(), "", firmward.EINVALID},
		{"root key file exists", t.TempDir(), rootKey, firmward.ECONFLICT},
		{"root key into the key dir", filepath.Join(t.TempDir(), "x"), "", firmward.EINVALID},
		{"root key into the served dir", filepath.Join(t.TempDir(), "y"), "", firmward.EINVALID},
	}
	tests[3].out = filepath.Join(tests[3].dir, "keys", "root.key")
	tests[4].out = filepath.Join(tests[4].dir, "metadata", "root.key")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := tufrepo.Init(ctx, tufrepo.Config{Dir: tt.dir}, tt.out)
			if firmward.ErrorCode(err) != tt.code {
				t.Fatalf("Init: %v, want %s", err, tt.code)
			}
		})
	}
	if _, err := tufrepo.Open(ctx, tufrepo.Config{Dir: t.TempDir()}); firmward.ErrorCode(err) != firmward.ENOTFOUND ||
		!strings.Contains(err.Error(), "keys init") {
		t.Fatalf("Open of an empty dir: %v", err)
	}
	if _, err := tufrepo.Open(ctx, tufrepo.Config{Dir: dir, TimestampExpiry: time.Second}); firmward.ErrorCode(err) != firmward.EINVALID {
		t.Fatalf("Open with a one-second timestamp expiry: %v", err)
	}
}

func TestAddRemoveTargets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, clk, _ := newRepo(t)
	a := target("releases/1/router-1.2.bin", "image one", `{"release_id": 1}`)
	b := target("releases/2/cam.swu", "image two", "")
	clk.Add(time.Hour)
	v, err := r.AddTargets(ctx, a, b)
	if err != nil {
		t.Fatal(err)
	}
	if v != 2 {
		t.Errorf("targets version %d, want 2", v)
	}
	if got := versions(t, r); got["targets"] != 2 || got["snapshot"] != 2 || got["timestamp"] != 2 || got["root"] != 1 {
		t.Errorf("versions after one add: %v", got)
	}
	tm, err := verify(t, r, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	tf := tm.Targets["targets"].Signed.Targets[a.Name]
	if tf == nil || tf.Length != a.Length || hex.EncodeToString(tf.Hashes["sha256"]) != a.SHA256 || string(*tf.Custom) != `{"release_id":1}` {
		t.Fatalf("signed target %s = %+v", a.Name, tf)
	}
	// The same again: nothing changes.
	if v, err := r.AddTargets(ctx, a); err != nil || v != 2 {
		t.Fatalf("re-adding the same target: %d, %v", v, err)
	}
	// Other content under the same name is refused.
	if _, err := r.AddTargets(ctx, target(a.Name, "evil", "")); firmward.ErrorCode(err) != firmward.ECONFLICT {
		t.Fatalf("replacing a target: %v", err)
	}
	list, err := r.Targets(ctx)
	if err != nil || len(list) != 2 || list[0].Name != a.Name || list[1].Name != b.Name || string(list[0].Custom) != `{"release_id":1}` {
		t.Fatalf("Targets = %+v, %v", list, err)
	}
	if v, err := r.RemoveTargets(ctx, a.Name, "releases/9/missing"); err != nil || v != 3 {
		t.Fatalf("RemoveTargets: %d, %v", v, err)
	}
	if v, err := r.RemoveTargets(ctx, "releases/9/missing"); err != nil || v != 3 {
		t.Fatalf("removing nothing: %d, %v", v, err)
	}
	tm, err = verify(t, r, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tm.Targets["targets"].Signed.Targets[a.Name]; ok {
		t.Error("removed target still signed")
	}
	// Each consistent snapshot stays on disk for clients mid-update.
	for v := 1; v <= 3; v++ {
		if _, err := os.Stat(filepath.Join(r.Config().MetadataDir(), fmt.Sprintf("%d.targets.json", v))); err != nil {
			t.Error(err)
		}
	}
}

func TestAddTargetsRefusesBadInput(t *testing.T) {
	t.Parallel()
	r, _, _ := newRepo(t)
	good := target("releases/1/a.bin", "x", "")
	tests := []struct {
		name string
		t    tufrepo.Target
	}{
		{"traversal", tufrepo.Target{Name: "../etc/passwd", Length: 1, SHA256: good.SHA256}},
		{"absolute", tufrepo.Target{Name: "/a.bin", Length: 1, SHA256: good.SHA256}},
		{"zero length", tufrepo.Target{Name: "a.bin", Length: 0, SHA256: good.SHA256}},
		{"short hash", tufrepo.Target{Name: "a.bin", Length: 1, SHA256: "abcd"}},
		{"uppercase hash", tufrepo.Target{Name: "a.bin", Length: 1, SHA256: strings.ToUpper(good.SHA256)}},
		{"custom not an object", tufrepo.Target{Name: "a.bin", Length: 1, SHA256: good.SHA256, Custom: json.RawMessage(`[1]`)}},
		{"custom not JSON", tufrepo.Target{Name: "a.bin", Length: 1, SHA256: good.SHA256, Custom: json.RawMessage(`{`)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := r.AddTargets(context.Background(), tt.t); firmward.ErrorCode(err) != firmward.EINVALID {
				t.Fatalf("AddTargets(%+v): %v, want invalid", tt.t, err)
			}
		})
	}
	if got := versions(t, r); got["targets"] != 1 || got["timestamp"] != 1 {
		t.Errorf("refused input changed versions: %v", got)
	}
}

func TestRefresh(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, clk, _ := newRepo(t)
	steps := []struct {
		advance  time.Duration
		force    bool
		resigned []string
	}{
		{advance: time.Hour, resigned: nil},
		{advance: time.Hour, force: true, resigned: []string{"timestamp"}},
		{advance: 12 * time.Hour, resigned: []string{"timestamp"}}, // half of a day left → renew
		{advance: time.Hour, resigned: nil},                        // fresh again
		{advance: 4 * 24 * time.Hour, resigned: []string{"snapshot", "timestamp"}},
		{advance: 46 * 24 * time.Hour, resigned: []string{"targets", "snapshot", "timestamp"}},
	}
	ts := int64(1)
	for i, s := range steps {
		clk.Add(s.advance)
		got, err := r.Refresh(ctx, s.force)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, s.resigned) {
			t.Fatalf("step %d: Refresh re-signed %v, want %v", i, got, s.resigned)
		}
		if len(got) > 0 {
			ts++
		}
		st, _ := r.Status(ctx)
		if tsr := st.Role("timestamp"); tsr.Version != ts {
			t.Fatalf("step %d: timestamp version %d, want %d", i, tsr.Version, ts)
		}
		if _, err := verify(t, r, clk.Now()); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	// Without Refresh, a day and a second later the timestamp has expired.
	if _, err := verify(t, r, clk.Now().Add(24*time.Hour+time.Second)); err == nil {
		t.Fatal("an expired timestamp verified")
	}
}

func TestSignRootExtendsAndRotates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, clk, rootKeyPath := newRepo(t)
	rootKey, err := tufrepo.ReadKeyFile(rootKeyPath)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := r.Status(ctx)

	// Expiry extension only.
	clk.Add(300 * 24 * time.Hour)
	st, err := r.SignRoot(ctx, tufrepo.RootSigning{RootKey: rootKey})
	if err != nil {
		t.Fatal(err)
	}
	if rs := st.Role("root"); rs.Version != 2 || !rs.Expires.Equal(clk.Now().Add(tufrepo.DefaultRootExpiry)) || !slices.Equal(rs.KeyIDs, before.Role("root").KeyIDs) {
		t.Fatalf("root after extension: %+v", rs)
	}
	if _, err := verify(t, r, clk.Now()); err != nil {
		t.Fatalf("after extension: %v", err)
	}

	// Rotate the root key and the timestamp key.
	newRoot, _ := tufrepo.GenerateKey()
	st, err = r.SignRoot(ctx, tufrepo.RootSigning{RootKey: rootKey, NewRootKey: newRoot, Rotate: []string{"timestamp"}})
	if err != nil {
		t.Fatal(err)
	}
	newID, _ := tufrepo.KeyID(newRoot)
	if rs := st.Role("root"); rs.Version != 3 || !slices.Equal(rs.KeyIDs, []string{newID}) {
		t.Fatalf("root after rotation: %+v", rs)
	}
	if slices.Equal(st.Role("timestamp").KeyIDs, before.Role("timestamp").KeyIDs) || !st.Role("timestamp").KeyPresent {
		t.Fatalf("timestamp key not rotated: %+v", st.Role("timestamp"))
	}
	if !slices.Equal(st.Role("targets").KeyIDs, before.Role("targets").KeyIDs) {
		t.Fatal("targets key changed without being asked")
	}
	if _, err := os.Stat(filepath.Join(r.Config().KeyDir(), "timestamp.key.new")); err == nil {
		t.Error("timestamp.key.new left behind")
	}
	tm, err := verify(t, r, clk.Now())
	if err != nil {
		t.Fatalf("client cannot walk the rotated root chain: %v", err)
	}
	if tm.Root.Signed.Version != 3 {
		t.Fatalf("client trusts root v%d", tm.Root.Signed.Version)
	}
	// The server keeps working with the rotated keys.
	if _, err := r.AddTargets(ctx, target("releases/3/x.bin", "x", "")); err != nil {
		t.Fatal(err)
	}
	if _, err := verify(t, r, clk.Now()); err != nil {
		t.Fatal(err)
	}
	// The old root key no longer signs.
	if _, err := r.SignRoot(ctx, tufrepo.RootSigning{RootKey: rootKey}); firmward.ErrorCode(err) != firmward.EINVALID ||
		!strings.Contains(err.Error(), "not this repository's root key") {
		t.Fatalf("SignRoot with the retired root key: %v", err)
	}
	if _, err := r.SignRoot(ctx, tufrepo.RootSigning{RootKey: newRoot, Rotate: []string{"root"}}); firmward.ErrorCode(err) != firmward.EINVALID {
		t.Fatalf("rotating root as an online role: %v", err)
	}
}

func TestMissingOnlineKeyIsExplained(t *testing.T) {
	t.Parallel()
	r, _, _ := newRepo(t)
	if err := os.Remove(filepath.Join(r.Config().KeyDir(), "snapshot.key")); err != nil {
		t.Fatal(err)
	}
	_, err := r.AddTargets(context.Background(), target("a.bin", "a", ""))
	if err == nil || !strings.Contains(err.Error(), "keys sign-root --rotate snapshot") {
		t.Fatalf("AddTargets without the snapshot key: %v", err)
	}
	st, _ := r.Status(context.Background())
	if st.Role("snapshot").KeyPresent {
		t.Error("Status says the missing snapshot key is present")
	}
}

// TestConcurrentWriters runs two Repo values on one directory (the server
// and a CLI command) and goroutines within each: every target lands, and
// the versions count every change exactly once.
func TestConcurrentWriters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r1, clk, _ := newRepo(t)
	r2, err := tufrepo.Open(ctx, tufrepo.Config{Dir: r1.Config().Dir, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	const n = 12
	var wg sync.WaitGroup
	errs := make(chan error, n+4)
	for i := range n {
		r := r1
		if i%2 == 1 {
			r = r2
		}
		wg.Go(func() {
			_, err := r.AddTargets(ctx, target(fmt.Sprintf("releases/%d/img.bin", i+1), fmt.Sprint("content ", i), ""))
			errs <- err
		})
	}
	for range 4 {
		wg.Go(func() { _, err := r2.Refresh(ctx, true); errs <- err })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	list, _ := r1.Targets(ctx)
	if len(list) != n {
		t.Fatalf("%d targets signed, want %d", len(list), n)
	}
	got := versions(t, r1)
	if got["targets"] != n+1 || got["timestamp"] != n+1+4 {
		t.Fatalf("versions %v, want targets %d and timestamp %d", got, n+1, n+5)
	}
	if _, err := verify(t, r1, clk.Now()); err != nil {
		t.Fatal(err)
	}
}

func TestKeyFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	k, err := tufrepo.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "k.key")
	if err := tufrepo.WriteNewKeyFile(p, k); err != nil {
		t.Fatal(err)
	}
	back, err := tufrepo.ReadKeyFile(p)
	if err != nil || !back.Equal(k) {
		t.Fatalf("ReadKeyFile: %v", err)
	}
	if err := tufrepo.WriteNewKeyFile(p, k); firmward.ErrorCode(err) != firmward.ECONFLICT {
		t.Fatalf("overwriting a key file: %v", err)
	}
	for name, content := range map[string]string{
		"empty":   "",
		"garbage": "not a key",
		"cert":    "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
		"bad der": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
	} {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := tufrepo.ReadKeyFile(f); firmward.ErrorCode(err) != firmward.EINVALID || !strings.Contains(err.Error(), f) {
			t.Errorf("ReadKeyFile(%s): %v", name, err)
		}
	}
	if _, err := tufrepo.ReadKeyFile(filepath.Join(dir, "missing")); firmward.ErrorCode(err) != firmward.ENOTFOUND {
		t.Errorf("missing key file: %v", err)
	}
}

func TestReleaseTargetName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id   int64
		file string
		want string
		ok   bool
	}{
		{12, "router-1.2.bin", "releases/12/router-1.2.bin", true},
		{0, "a.bin", "", false},
		{3, "../a.bin", "", false},
		{3, "a/b.bin", "", false},
		{3, "..", "", false},
		{3, "", "", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.id, tt.file), func(t *testing.T) {
			got, err := tufrepo.ReleaseTargetName(tt.id, tt.file)
			if (err == nil) != tt.ok || got != tt.want {
				t.Fatalf("ReleaseTargetName(%d, %q) = %q, %v", tt.id, tt.file, got, err)
			}
		})
	}
}

func FuzzValidTargetName(f *testing.F) {
	for _, s := range []string{"releases/1/a.bin", "../x", "a//b", "/abs", `a\b`, "a/./b", "a b", "é/ü.bin", "a%2e%2e", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := tufrepo.ValidTargetName(name)
		if err != nil {
			if firmward.ErrorCode(err) != firmward.EINVALID {
				t.Fatalf("ValidTargetName(%q) = %v, want invalid", name, err)
			}
			return
		}
		// An accepted name stays inside any directory it is joined to.
		base := "/srv/targets"
		p := filepath.Join(base, filepath.FromSlash(name))
		if !strings.HasPrefix(p, base+string(filepath.Separator)) || filepath.Clean(p) != p {
			t.Fatalf("ValidTargetName accepted %q, which maps to %q", name, p)
		}
	})
}
