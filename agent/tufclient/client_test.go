package tufclient_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/agent/tufclient"
	"github.com/firmward/firmward/artifact"
	"github.com/firmward/firmward/tufrepo"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// clock is a settable test clock shared by the repository and the device.
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

// files is the content of a served directory, by relative path.
type files map[string][]byte

// mirror is the HTTP server a device talks to. Tests fill it with the
// repository's real files, or with what an attacker who controls the
// mirror (but holds no keys) would serve.
type mirror struct {
	mu       sync.Mutex
	meta     files
	targets  files
	requests map[string]int
	srv      *httptest.Server
}

func newMirror(t testing.TB) *mirror {
	t.Helper()
	m := &mirror{meta: files{}, targets: files{}, requests: map[string]int{}}
	m.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		m.requests[r.URL.Path]++
		var b []byte
		var ok bool
		if name, found := strings.CutPrefix(r.URL.Path, "/tuf/"); found {
			b, ok = m.meta[name]
		} else if name, found := strings.CutPrefix(r.URL.Path, "/targets/"); found {
			b, ok = m.targets[name]
		}
		m.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
	}))
	t.Cleanup(m.srv.Close)
	return m
}

func (m *mirror) serve(meta files) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.meta = meta
}

func (m *mirror) serveTarget(name string, b []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.targets[name] = b
}

func (m *mirror) count(path string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.requests[path]
}

// fixture is a real firmward TUF repository, a mirror and the clock.
type fixture struct {
	repo    *tufrepo.Repo
	rootKey string
	clk     *clock
	mirror  *mirror
	root1   []byte // the root.json a device is enrolled with
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	clk := &clock{t: time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)}
	rootKey := filepath.Join(t.TempDir(), "root.key")
	repo, _, err := tufrepo.Init(context.Background(), tufrepo.Config{Dir: t.TempDir(), Now: clk.Now}, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	root1, err := repo.RootJSON(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{repo: repo, rootKey: rootKey, clk: clk, mirror: newMirror(t), root1: root1}
	f.publish(t)
	return f
}

// state returns the repository's metadata files as they are now.
func (f *fixture) state(t testing.TB) files {
	t.Helper()
	dir := f.repo.Config().MetadataDir()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := files{}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

// publish serves the repository's current state.
func (f *fixture) publish(t testing.TB) files {
	t.Helper()
	s := f.state(t)
	f.mirror.serve(s)
	return s
}

// release signs an artifact into the repository and serves its bytes.
func (f *fixture) release(t testing.TB, name string, content []byte) {
	t.Helper()
	sum := sha256.Sum256(content)
	_, err := f.repo.AddTargets(context.Background(), tufrepo.Target{
		Name: name, Length: int64(len(content)), SHA256: hex.EncodeToString(sum[:]), Custom: json.RawMessage(`{"release_id":7}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	f.mirror.serveTarget(name, content)
}

// device returns a client with its own metadata directory, as a freshly
// enrolled device.
func (f *fixture) device(t *testing.T) *tufclient.Client {
	t.Helper()
	return f.deviceIn(t, t.TempDir())
}

func (f *fixture) deviceIn(t testing.TB, dir string) *tufclient.Client {
	t.Helper()
	c, err := tufclient.New(tufclient.Config{
		TrustedRoot:   f.root1,
		MetadataDir:   dir,
		MetadataURL:   f.mirror.srv.URL + "/tuf/",
		TargetBaseURL: f.mirror.srv.URL + "/targets",
		HTTPClient:    f.mirror.srv.Client(),
		Now:           f.clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// writeFile writes an artifact as the agent's downloader would leave it.
func writeFile(t *testing.T, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "artifact")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// mustRefuse checks that err is the go-tuf error of the given kind and that
// the device then refuses the artifact that the attack tried to get
// installed.
func mustRefuse(t *testing.T, err error, kind error, c *tufclient.Client, name string, artifact []byte) {
	t.Helper()
	if err == nil {
		t.Fatalf("Refresh accepted the attack's metadata")
	}
	if !errors.Is(err, kind) {
		t.Fatalf("Refresh error %v (%T chain), want %T", err, errors.Unwrap(err), kind)
	}
	if _, err := c.VerifyFile(context.Background(), name, writeFile(t, artifact)); err == nil {
		t.Fatalf("the device accepted %s after the attack", name)
	}
}

var (
	imageV1 = bytes.Repeat([]byte("router firmware 1.0\n"), 200)
	imageV2 = bytes.Repeat([]byte("router firmware 2.0\n"), 300)
)

func TestHappyPath(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.release(t, "releases/7/router-2.0.bin", imageV2)
	f.publish(t)
	c := f.device(t)

	tr, err := c.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tr.RootVersion != 1 || tr.TargetsVersion != 2 || tr.SnapshotVersion != 2 || tr.TimestampVersion != 2 || tr.Targets() != 1 {
		t.Fatalf("trusted %+v", tr)
	}
	if !tr.TimestampExpires.Equal(f.clk.Now().Add(tufrepo.DefaultTimestampExpiry)) {
		t.Errorf("timestamp expires %v", tr.TimestampExpires)
	}
	tg, err := tr.Target("releases/7/router-2.0.bin")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(imageV2)
	if tg.Length != int64(len(imageV2)) || tg.SHA256() != hex.EncodeToString(sum[:]) || string(tg.Custom) != `{"release_id":7}` {
		t.Fatalf("target %+v", tg)
	}
	if _, err := tr.Target("releases/1/other.bin"); firmward.ErrorCode(err) != firmward.ENOTFOUND {
		t.Fatalf("unsigned target: %v", err)
	}
	if _, err := c.VerifyFile(ctx, "releases/7/router-2.0.bin", writeFile(t, imageV2)); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "image.bin")
	if _, err := c.Download(ctx, "releases/7/router-2.0.bin", dest); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(dest); !bytes.Equal(b, imageV2) {
		t.Fatal("downloaded file differs")
	}
	// The metadata is cached: a second refresh of an unchanged repository
	// fetches only timestamp.json (and probes for a newer root).
	before := f.mirror.count("/tuf/2.snapshot.json")
	if _, err := c.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if f.mirror.count("/tuf/2.snapshot.json") != before {
		t.Error("an unchanged snapshot was downloaded again")
	}
}

func TestDownloadResumes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.release(t, "releases/7/router-2.0.bin", imageV2)
	f.publish(t)
	c := f.device(t)
	dest := filepath.Join(t.TempDir(), "image.bin")
	// A previous attempt stopped after 1000 bytes.
	if err := os.WriteFile(dest+".part", imageV2[:1000], 0o600); err != nil {
		t.Fatal(err)
	}
	var ranges []string
	var mu sync.Mutex
	inner := f.mirror.srv.Config.Handler
	f.mirror.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/targets/") {
			mu.Lock()
			ranges = append(ranges, r.Header.Get("Range"))
			mu.Unlock()
		}
		inner.ServeHTTP(w, r)
	})
	if _, err := c.Download(ctx, "releases/7/router-2.0.bin", dest); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(dest); !bytes.Equal(b, imageV2) {
		t.Fatal("resumed download differs")
	}
	if len(ranges) != 1 || ranges[0] != "bytes=1000-" {
		t.Fatalf("target requests with ranges %q, want one from byte 1000", ranges)
	}
	if _, err := os.Stat(dest + ".part"); !errors.Is(err, os.ErrNotExist) {
		t.Error("the partial file is left behind")
	}
}

// TestRollback: the device saw version 3, where release 1 had been
// withdrawn; the mirror then replays the genuine, still unexpired files of
// version 2, which list release 1. The device must refuse them, also after a
// restart, and so refuse release 1's artifact.
func TestRollback(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.release(t, "releases/1/router-1.0.bin", imageV1)
	old := f.publish(t) // version 2: release 1 signed
	c := f.device(t)
	if _, err := c.VerifyFile(ctx, "releases/1/router-1.0.bin", writeFile(t, imageV1)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.repo.RemoveTargets(ctx, "releases/1/router-1.0.bin"); err != nil {
		t.Fatal(err)
	}
	f.publish(t) // version 3: withdrawn
	tr, err := c.Refresh(ctx)
	if err != nil || tr.TimestampVersion != 3 {
		t.Fatalf("refresh to version 3: %+v, %v", tr, err)
	}

	tests := []struct {
		name   string
		served files
	}{
		{"whole older repository", old},
		{"older timestamp with the newer files", merge(f.state(t), files{"timestamp.json": old["timestamp.json"]})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.mirror.serve(tt.served)
			_, err := c.Refresh(ctx)
			mustRefuse(t, err, &metadata.ErrBadVersionNumber{}, c, "releases/1/router-1.0.bin", imageV1)
			// A restarted agent (a new client on the same directory) still
			// remembers version 3.
			restarted := f.deviceIn(t, clientDir(t, c))
			_, err = restarted.Refresh(ctx)
			mustRefuse(t, err, &metadata.ErrBadVersionNumber{}, restarted, "releases/1/router-1.0.bin", imageV1)
		})
	}
}

// clientDir returns a client's metadata directory.
func clientDir(t *testing.T, c *tufclient.Client) string {
	t.Helper()
	return c.Config().MetadataDir
}

func merge(base, over files) files {
	out := files{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}

// TestFreeze: the repository withdraws release 1, but the mirror keeps
// serving the old, genuine metadata. Once its timestamp expires (a day), the
// device refuses it and the withdrawn artifact. Time is driven by the
// injected clock.
func TestFreeze(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.release(t, "releases/1/router-1.0.bin", imageV1)
	f.publish(t)
	c := f.device(t)
	if _, err := c.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	// Frozen: the repository moves on, the mirror does not.
	if _, err := f.repo.RemoveTargets(ctx, "releases/1/router-1.0.bin"); err != nil {
		t.Fatal(err)
	}
	f.clk.Add(23 * time.Hour)
	if _, err := c.VerifyFile(ctx, "releases/1/router-1.0.bin", writeFile(t, imageV1)); err != nil {
		t.Fatalf("within the timestamp's lifetime the old metadata is still valid: %v", err)
	}
	f.clk.Add(time.Hour + time.Second)
	_, err := c.Refresh(ctx)
	mustRefuse(t, err, &metadata.ErrExpiredMetadata{}, c, "releases/1/router-1.0.bin", imageV1)
	// A fresh device enrolled now is not fooled either.
	_, err = f.device(t).Refresh(ctx)
	if !errors.Is(err, &metadata.ErrExpiredMetadata{}) {
		t.Fatalf("new device: %v", err)
	}
	// Once the mirror serves the refreshed repository, all is well again.
	if _, err := f.repo.Refresh(ctx, false); err != nil {
		t.Fatal(err)
	}
	f.publish(t)
	tr, err := c.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Target("releases/1/router-1.0.bin"); err == nil {
		t.Fatal("withdrawn target still trusted")
	}
}

// TestMixAndMatch: the mirror serves the newest timestamp and snapshot
// (fresh, where release 1 is withdrawn) together with the older, genuinely
// signed targets.json that still lists release 1, under the names the
// snapshot points to.
func TestMixAndMatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.release(t, "releases/1/router-1.0.bin", imageV1)
	old := f.state(t)
	if _, err := f.repo.RemoveTargets(ctx, "releases/1/router-1.0.bin"); err != nil {
		t.Fatal(err)
	}
	f.release(t, "releases/2/router-2.0.bin", imageV2)
	now := f.state(t) // targets 4, snapshot 4, timestamp 4
	mixed := merge(now, files{"4.targets.json": old["2.targets.json"], "targets.json": old["2.targets.json"]})
	f.mirror.serve(mixed)
	c := f.device(t)
	_, err := c.Refresh(ctx)
	// The snapshot records the targets file's length and hash, so the
	// mismatch is caught before the version is even read.
	mustRefuse(t, err, &metadata.ErrLengthOrHashMismatch{}, c, "releases/1/router-1.0.bin", imageV1)

	// Older snapshot with newer targets: the snapshot does not match the
	// timestamp. (A fresh device: c already holds the genuine snapshot 4
	// and would not download it again.)
	f.mirror.serve(merge(now, files{"4.snapshot.json": old["2.snapshot.json"]}))
	c2 := f.device(t)
	_, err = c2.Refresh(ctx)
	mustRefuse(t, err, &metadata.ErrLengthOrHashMismatch{}, c2, "releases/2/router-2.0.bin", imageV2)

	// The consistent repository is accepted.
	f.mirror.serve(now)
	if _, err := c.VerifyFile(ctx, "releases/2/router-2.0.bin", writeFile(t, imageV2)); err != nil {
		t.Fatal(err)
	}
}

func TestWrongArtifact(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.release(t, "releases/7/router-2.0.bin", imageV2)
	f.publish(t)
	c := f.device(t)
	flipped := bytes.Clone(imageV2)
	flipped[len(flipped)/2] ^= 1
	tests := []struct {
		name    string
		content []byte
		want    string
	}{
		{"one bit flipped", flipped, "sha256"},
		{"truncated", imageV2[:len(imageV2)-1], "bytes"},
		{"extra byte", append(bytes.Clone(imageV2), '\n'), "more than"},
		{"other release", imageV1, "bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.VerifyFile(ctx, "releases/7/router-2.0.bin", writeFile(t, tt.content))
			if !errors.Is(err, &metadata.ErrLengthOrHashMismatch{}) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("VerifyFile: %v", err)
			}
		})
	}
	// A mirror serving a tampered artifact: Download fails and leaves
	// nothing to install.
	f.mirror.serveTarget("releases/7/router-2.0.bin", flipped)
	dest := filepath.Join(t.TempDir(), "image.bin")
	if _, err := c.Download(ctx, "releases/7/router-2.0.bin", dest); !errors.Is(err, &metadata.ErrLengthOrHashMismatch{}) {
		t.Fatalf("Download of a tampered artifact: %v", err)
	}
	for _, p := range []string{dest, dest + ".part"} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s exists after a refused download", p)
		}
	}
	// An endless body is cut off at the signed length.
	f.mirror.serveTarget("releases/7/router-2.0.bin", bytes.Repeat(imageV2, 50))
	if _, err := c.Download(ctx, "releases/7/router-2.0.bin", dest); !errors.Is(err, &metadata.ErrLengthOrHashMismatch{}) {
		t.Fatalf("Download of an oversized artifact: %v", err)
	}
}

// TestWrongSignature: metadata signed by keys that root does not list.
func TestWrongSignature(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.release(t, "releases/7/router-2.0.bin", imageV2)
	genuine := f.publish(t)

	// The attacker runs a repository of their own (their own keys) that
	// signs their image under the same name and higher versions.
	evil := bytes.Repeat([]byte("evil"), 100)
	attacker := newFixture(t)
	attacker.release(t, "releases/7/router-2.0.bin", evil)
	attacker.release(t, "releases/8/x.bin", evil)
	forged := attacker.state(t)
	delete(forged, "root.json")
	delete(forged, "1.root.json")

	// The timestamp.json made valid-looking by hand: a higher version and
	// a later expiry, with the genuine signature kept.
	var ts map[string]any
	if err := json.Unmarshal(genuine["timestamp.json"], &ts); err != nil {
		t.Fatal(err)
	}
	signed := ts["signed"].(map[string]any)
	signed["version"] = 99
	edited, _ := json.Marshal(ts)

	tests := []struct {
		name   string
		served files
	}{
		{"attacker's keys", merge(genuine, forged)},
		{"edited after signing", merge(genuine, files{"timestamp.json": edited})},
		{"no signatures", merge(genuine, files{"timestamp.json": stripSignatures(t, genuine["timestamp.json"])})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := f.device(t)
			f.mirror.serve(tt.served)
			_, err := c.Refresh(ctx)
			mustRefuse(t, err, &metadata.ErrUnsignedMetadata{}, c, "releases/7/router-2.0.bin", evil)
		})
	}
}

func stripSignatures(t *testing.T, b []byte) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	m["signatures"] = []any{}
	out, _ := json.Marshal(m)
	return out
}

// TestRootRotation: the operator rotates the root key and every online key
// (twice, so a device offline meanwhile walks two steps of the chain). A
// device enrolled with version 1 follows; a forged version 2 signed only by
// an attacker's root key is refused.
func TestRootRotation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	c := f.device(t)
	if _, err := c.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	enrolled := f.state(t)

	rootKey, err := tufrepo.ReadKeyFile(f.rootKey)
	if err != nil {
		t.Fatal(err)
	}
	key2, _ := tufrepo.GenerateKey()
	if _, err := f.repo.SignRoot(ctx, tufrepo.RootSigning{RootKey: rootKey, NewRootKey: key2, Rotate: tufrepo.OnlineRoles()}); err != nil {
		t.Fatal(err)
	}
	key3, _ := tufrepo.GenerateKey()
	if _, err := f.repo.SignRoot(ctx, tufrepo.RootSigning{RootKey: key2, NewRootKey: key3, Rotate: []string{"timestamp"}}); err != nil {
		t.Fatal(err)
	}
	f.release(t, "releases/9/router-3.0.bin", imageV2) // signed with the rotated keys
	f.publish(t)

	tr, err := c.Refresh(ctx)
	if err != nil {
		t.Fatalf("the device did not follow the rotation: %v", err)
	}
	if tr.RootVersion != 3 {
		t.Fatalf("device trusts root v%d, want 3", tr.RootVersion)
	}
	if _, err := c.VerifyFile(ctx, "releases/9/router-3.0.bin", writeFile(t, imageV2)); err != nil {
		t.Fatal(err)
	}
	// A device enrolled with root v1 that comes online only now also
	// follows.
	if _, err := f.device(t).VerifyFile(ctx, "releases/9/router-3.0.bin", writeFile(t, imageV2)); err != nil {
		t.Fatalf("late device: %v", err)
	}

	// The forgery: an attacker's repository whose 2.root.json is signed
	// by the attacker's root key only, served beside the genuine v1 files.
	attacker := newFixture(t)
	attacker.release(t, "releases/9/router-3.0.bin", imageV1)
	// Re-sign a v2 of the attacker's root with the attacker's root key.
	attackerKey, err := tufrepo.ReadKeyFile(attacker.rootKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := attacker.repo.SignRoot(ctx, tufrepo.RootSigning{RootKey: attackerKey}); err != nil {
		t.Fatal(err)
	}
	attacker.release(t, "releases/10/y.bin", imageV1)
	forged := attacker.state(t)
	served := merge(enrolled, files{})
	for _, name := range []string{"2.root.json", "timestamp.json", "3.snapshot.json", "3.targets.json", "snapshot.json", "targets.json"} {
		served[name] = forged[name]
	}
	f.mirror.serve(served)
	victim := f.device(t)
	_, err = victim.Refresh(ctx)
	mustRefuse(t, err, &metadata.ErrUnsignedMetadata{}, victim, "releases/9/router-3.0.bin", imageV1)
}

func TestVerifyRefusesOddTargets(t *testing.T) {
	t.Parallel()
	content := []byte("abc")
	sum := sha256.Sum256(content)
	tests := []struct {
		name string
		tg   tufclient.Target
	}{
		{name: "no sha256", tg: tufclient.Target{Name: "a", Length: 3, Hashes: map[string]string{}}},
		{name: "unknown algorithm", tg: tufclient.Target{Name: "a", Length: 3, Hashes: map[string]string{"sha256": hex.EncodeToString(sum[:]), "md5": "x"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tufclient.Verify(bytes.NewReader(content), tt.tg); !errors.Is(err, &metadata.ErrLengthOrHashMismatch{}) {
				t.Fatalf("Verify: %v", err)
			}
		})
	}
	ok := tufclient.Target{Name: "a", Length: 3, Hashes: map[string]string{"sha256": hex.EncodeToString(sum[:])}}
	if err := tufclient.Verify(bytes.NewReader(content), ok); err != nil {
		t.Fatal(err)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]tufclient.Config{
		"no dir":  {TrustedRoot: []byte("{}"), MetadataURL: "http://127.0.0.1/"},
		"no url":  {TrustedRoot: []byte("{}"), MetadataDir: t.TempDir()},
		"no root": {MetadataDir: t.TempDir(), MetadataURL: "http://127.0.0.1/"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := tufclient.New(cfg); firmward.ErrorCode(err) != firmward.EINVALID {
				t.Fatalf("New: %v", err)
			}
		})
	}
	// A corrupt enrollment root is refused at the first refresh.
	c, err := tufclient.New(tufclient.Config{TrustedRoot: []byte("not json"), MetadataDir: t.TempDir(), MetadataURL: "http://127.0.0.1:1/"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Refresh(context.Background()); err == nil {
		t.Fatal("Refresh with a corrupt root succeeded")
	}
}

// TestEndToEndFileServer wires the pieces the way firmward serve will: the
// artifact is stored content-addressed, signed into the repository, the
// metadata directory is served as-is by http.FileServer, and artifacts by
// http.ServeContent from the store. A device downloads (with a resume) and
// verifies it.
func TestEndToEndFileServer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)}
	repo, _, err := tufrepo.Init(ctx, tufrepo.Config{Dir: t.TempDir(), Now: clk.Now}, filepath.Join(t.TempDir(), "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	store, err := artifact.Open(t.TempDir(), artifact.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sums, err := store.Put(ctx, bytes.NewReader(imageV2), "")
	if err != nil {
		t.Fatal(err)
	}
	name, err := tufrepo.ReleaseTargetName(42, "router-2.0.bin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.AddTargets(ctx, tufrepo.Target{Name: name, Length: sums.Size, SHA256: sums.SHA256, Custom: json.RawMessage(`{"release_id":42}`)}); err != nil {
		t.Fatal(err)
	}
	byName := map[string]string{name: sums.SHA256} // the release catalog's job
	mux := http.NewServeMux()
	mux.Handle("/tuf/", http.StripPrefix("/tuf/", http.FileServer(http.Dir(repo.Config().MetadataDir()))))
	mux.HandleFunc("/artifacts/", func(w http.ResponseWriter, r *http.Request) {
		sha, ok := byName[strings.TrimPrefix(r.URL.Path, "/artifacts/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		f, _, err := store.Open(r.Context(), sha)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer func() { _ = f.Close() }()
		http.ServeContent(w, r, "", time.Time{}, f)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	root, err := repo.RootJSON(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := tufclient.New(tufclient.Config{
		TrustedRoot: root, MetadataDir: t.TempDir(), MetadataURL: srv.URL + "/tuf/",
		TargetBaseURL: srv.URL + "/artifacts/", HTTPClient: srv.Client(), Now: clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "image.bin")
	if err := os.WriteFile(dest+".part", imageV2[:777], 0o600); err != nil {
		t.Fatal(err)
	}
	tg, err := c.Download(ctx, name, dest)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(dest); !bytes.Equal(b, imageV2) || tg.SHA256() != sums.SHA256 || string(tg.Custom) != `{"release_id":42}` {
		t.Fatalf("downloaded %+v", tg)
	}
	// The timestamp runs out while the server does not refresh; once it
	// does, the device is happy again.
	clk.Add(25 * time.Hour)
	if _, err := c.Refresh(ctx); !errors.Is(err, &metadata.ErrExpiredMetadata{}) {
		t.Fatalf("refresh with an expired timestamp: %v", err)
	}
	if _, err := repo.Refresh(ctx, false); err != nil {
		t.Fatal(err)
	}
	if _, err := c.VerifyFile(ctx, name, dest); err != nil {
		t.Fatal(err)
	}
}
