// Package tufrepo maintains firmward's TUF repository (The Update Framework,
// https://theupdateframework.io): the signed metadata through which
// firmward-agent verifies every artifact before it installs it.
//
// The repository has the four top-level roles, each with one ed25519 key and
// a threshold of one:
//
//   - root: lists the keys of every role. Its key can be kept offline: Init
//     writes it to a path the operator chooses (to move to a USB stick) and
//     the server never needs it. SignRoot, given that key, publishes a new
//     root version (expiry extension, rotation of any key) signed by the old
//     and the new root keys, so clients walk the chain 1.root.json,
//     2.root.json, … from the root they were enrolled with.
//   - targets: the artifacts (name, length, sha256, custom metadata such as
//     the release id). Online key.
//   - snapshot: the version of targets.json. Online key.
//   - timestamp: the version of snapshot.json, with a short expiry (a day by
//     default) that Refresh renews; a client that is fed stale metadata
//     notices within that time (freeze attack). Online key.
//
// On disk, under Config.Dir:
//
//	metadata/            served as-is by an HTTP file server
//	  1.root.json …      every root version (the chain clients walk)
//	  root.json          the newest root (what a device is enrolled with)
//	  N.targets.json     consistent snapshots of targets
//	  targets.json
//	  N.snapshot.json
//	  snapshot.json
//	  timestamp.json
//	keys/                mode 0700: targets.key, snapshot.key, timestamp.key
//	.lock                serialises writers across processes
//
// Every change reloads the metadata from disk under the lock, so the server
// and a `firmward keys …` command run beside it never overwrite each other's
// versions. Files are replaced by atomic renames, consistent-snapshot files
// before the files that point to them, timestamp.json last.
package tufrepo

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/firmward/firmward"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// Role names.
const (
	RoleRoot      = metadata.ROOT
	RoleTargets   = metadata.TARGETS
	RoleSnapshot  = metadata.SNAPSHOT
	RoleTimestamp = metadata.TIMESTAMP
)

// OnlineRoles are the roles whose keys the server holds.
var onlineRoles = []string{RoleTargets, RoleSnapshot, RoleTimestamp}

// OnlineRoles returns the roles whose keys live in the server's key
// directory: targets, snapshot and timestamp.
func OnlineRoles() []string { return slices.Clone(onlineRoles) }

// Default expiries.
const (
	DefaultRootExpiry      = 365 * 24 * time.Hour
	DefaultTargetsExpiry   = 90 * 24 * time.Hour
	DefaultSnapshotExpiry  = 7 * 24 * time.Hour
	DefaultTimestampExpiry = 24 * time.Hour
)

// Config configures a Repo. Zero durations take the defaults above.
type Config struct {
	// Dir holds metadata/, keys/ and .lock.
	Dir string
	// Now is the clock expiries are computed from (time.Now when nil).
	Now    func() time.Time
	Logger *slog.Logger

	RootExpiry      time.Duration
	TargetsExpiry   time.Duration
	SnapshotExpiry  time.Duration
	TimestampExpiry time.Duration
}

func (c *Config) defaults() error {
	if c.Dir == "" {
		return firmward.Errorf(firmward.EINVALID, "TUF repository: no directory given")
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
		n   string
	}{
		{&c.RootExpiry, DefaultRootExpiry, "root"},
		{&c.TargetsExpiry, DefaultTargetsExpiry, "targets"},
		{&c.SnapshotExpiry, DefaultSnapshotExpiry, "snapshot"},
		{&c.TimestampExpiry, DefaultTimestampExpiry, "timestamp"},
	} {
		switch {
		case *d.v == 0:
			*d.v = d.def
		case *d.v < time.Minute:
			return firmward.Errorf(firmward.EINVALID, "TUF repository: %s expiry %s is too short (at least 1m)", d.n, *d.v)
		}
	}
	return nil
}

// MetadataDir returns the directory to serve over HTTP.
func (c Config) MetadataDir() string { return filepath.Join(c.Dir, "metadata") }

// KeyDir returns the directory of the online keys.
func (c Config) KeyDir() string { return filepath.Join(c.Dir, "keys") }

// Repo is a TUF repository on disk. It is safe for concurrent use: mu
// serialises the operations of one process, and a lock file (DIR/.lock)
// serialises writers across processes. It keeps no metadata in memory
// between calls; each call reads the files it needs.
type Repo struct {
	cfg Config
	mu  sync.Mutex // guards the files under cfg.Dir against this process's other calls
}

// Target is one artifact signed into the repository.
type Target struct {
	// Name is the TUF target path, for example releases/12/router-1.2.bin.
	Name   string `json:"name"`
	Length int64  `json:"length"`
	SHA256 string `json:"sha256"`
	// Custom is a JSON object stored as the target's custom metadata
	// (for example {"release_id":12}); empty for none.
	Custom json.RawMessage `json:"custom,omitempty"`
}

// RoleStatus describes one role in Status.
type RoleStatus struct {
	Role      string    `json:"role"`
	Version   int64     `json:"version"`
	Expires   time.Time `json:"expires"`
	KeyIDs    []string  `json:"key_ids"`
	Threshold int       `json:"threshold"`
	// Online says the role's key is in the server's key directory; false
	// for root, whose key is kept offline.
	Online bool `json:"online"`
	// KeyPresent says, for an online role, that a key file matching the
	// root's key id is present.
	KeyPresent bool `json:"key_present"`
}

// Status describes the repository: one entry per role (root, targets,
// snapshot, timestamp) and the number of targets.
type Status struct {
	Dir                string       `json:"dir"`
	ConsistentSnapshot bool         `json:"consistent_snapshot"`
	Roles              []RoleStatus `json:"roles"`
	Targets            int          `json:"targets"`
}

// Role returns the status of the named role.
func (s Status) Role(name string) RoleStatus {
	for _, r := range s.Roles {
		if r.Role == name {
			return r
		}
	}
	return RoleStatus{}
}

// InitResult is what Init created.
type InitResult struct {
	Status
	RootKeyID   string `json:"root_key_id"`
	RootKeyPath string `json:"root_key_path"`
}

// state is the metadata of the repository as read from disk.
type state struct {
	root      *metadata.Metadata[metadata.RootType]
	targets   *metadata.Metadata[metadata.TargetsType]
	snapshot  *metadata.Metadata[metadata.SnapshotType]
	timestamp *metadata.Metadata[metadata.TimestampType]
}

// Init creates a new repository in cfg.Dir: four fresh ed25519 keys, the
// root key written to rootKeyOut (mode 0600; an existing file is refused)
// and the online keys to DIR/keys, and version 1 of every role. A directory
// that already holds a repository gives ECONFLICT.
func Init(ctx context.Context, cfg Config, rootKeyOut string) (*Repo, InitResult, error) {
	if err := cfg.defaults(); err != nil {
		return nil, InitResult{}, err
	}
	if rootKeyOut == "" {
		return nil, InitResult{}, firmward.Errorf(firmward.EINVALID, "no path for the root key: it must be written to a file you can take offline")
	}
	r := &Repo{cfg: cfg}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, d := range []struct {
		path string
		perm os.FileMode
	}{{cfg.Dir, 0o755}, {cfg.MetadataDir(), 0o755}, {cfg.KeyDir(), 0o700}} {
		if err := os.MkdirAll(d.path, d.perm); err != nil {
			return nil, InitResult{}, fmt.Errorf("creating %s: %w", d.path, err)
		}
	}
	if err := os.Chmod(cfg.KeyDir(), 0o700); err != nil { //nolint:gosec // a directory needs x; only the owner gets in
		return nil, InitResult{}, fmt.Errorf("securing %s: %w", cfg.KeyDir(), err)
	}
	unlock, err := lockDir(ctx, cfg.Dir)
	if err != nil {
		return nil, InitResult{}, err
	}
	defer unlock()
	if _, err := os.Stat(r.metaPath("root.json")); err == nil {
		return nil, InitResult{}, firmward.Errorf(firmward.ECONFLICT,
			"%s already holds a TUF repository; use `firmward keys sign-root` to rotate keys or extend the root's expiry", cfg.Dir)
	}
	for _, d := range []string{cfg.KeyDir(), cfg.MetadataDir()} {
		if within(rootKeyOut, d) {
			return nil, InitResult{}, firmward.Errorf(firmward.EINVALID,
				"the root key must not go into %s (the online keys and the served metadata live there); write it to a path you will move offline", d)
		}
	}

	now := cfg.Now().UTC()
	keys := map[string]ed25519.PrivateKey{}
	root := metadata.Root(expiry(now, cfg.RootExpiry))
	root.Signed.ConsistentSnapshot = true
	for _, role := range []string{RoleRoot, RoleTargets, RoleSnapshot, RoleTimestamp} {
		priv, err := GenerateKey()
		if err != nil {
			return nil, InitResult{}, err
		}
		keys[role] = priv
		k, err := metadata.KeyFromPublicKey(priv.Public())
		if err != nil {
			return nil, InitResult{}, fmt.Errorf("TUF key: %w", err)
		}
		if err := root.Signed.AddKey(k, role); err != nil {
			return nil, InitResult{}, fmt.Errorf("adding the %s key: %w", role, err)
		}
	}
	if err := signWith(root, keys[RoleRoot]); err != nil {
		return nil, InitResult{}, err
	}
	st := &state{
		root:      root,
		targets:   metadata.Targets(expiry(now, cfg.TargetsExpiry)),
		snapshot:  metadata.Snapshot(expiry(now, cfg.SnapshotExpiry)),
		timestamp: metadata.Timestamp(expiry(now, cfg.TimestampExpiry)),
	}
	// The online keys first: without them the repository cannot be used.
	for _, role := range onlineRoles {
		if err := writeKeyFile(r.keyPath(role), keys[role]); err != nil {
			return nil, InitResult{}, err
		}
	}
	if err := WriteNewKeyFile(rootKeyOut, keys[RoleRoot]); err != nil {
		return nil, InitResult{}, err
	}
	signers := map[string]ed25519.PrivateKey{RoleTargets: keys[RoleTargets], RoleSnapshot: keys[RoleSnapshot], RoleTimestamp: keys[RoleTimestamp]}
	if err := r.writeRoot(st.root); err != nil {
		_ = os.Remove(rootKeyOut)
		return nil, InitResult{}, err
	}
	// Version 1 of each online role: publish without bumping.
	if err := r.publish(st, signers, now, publishAll, false); err != nil {
		_ = os.Remove(rootKeyOut)
		return nil, InitResult{}, err
	}
	rootID, _ := KeyID(keys[RoleRoot])
	cfg.Logger.Info("TUF repository created", "dir", cfg.Dir, "root_key", rootID)
	status, err := r.status(st)
	if err != nil {
		return nil, InitResult{}, err
	}
	return r, InitResult{Status: status, RootKeyID: rootID, RootKeyPath: rootKeyOut}, nil
}

// within says whether path is inside dir (both made absolute).
func within(path, dir string) bool {
	ap, err1 := filepath.Abs(path)
	ad, err2 := filepath.Abs(dir)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(ad, ap)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// roleKeyIDs returns the key ids root lists for role (none for a role it
// does not define).
func roleKeyIDs(root *metadata.Metadata[metadata.RootType], role string) []string {
	if rr := root.Signed.Roles[role]; rr != nil {
		return rr.KeyIDs
	}
	return nil
}

// Open returns the repository in cfg.Dir. It checks that the metadata is
// there and readable; ENOTFOUND when the directory holds no repository.
func Open(ctx context.Context, cfg Config) (*Repo, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r := &Repo{cfg: cfg}
	if _, err := r.load(); err != nil {
		return nil, err
	}
	return r, nil
}

// Config returns the repository's configuration (with defaults applied).
func (r *Repo) Config() Config { return r.cfg }

func (r *Repo) metaPath(name string) string { return filepath.Join(r.cfg.MetadataDir(), name) }
func (r *Repo) keyPath(role string) string  { return filepath.Join(r.cfg.KeyDir(), role+".key") }

// expiry returns now+d, in UTC and whole seconds as TUF writes it.
func expiry(now time.Time, d time.Duration) time.Time {
	return now.UTC().Add(d).Truncate(time.Second)
}

// load reads the newest metadata of every role.
func (r *Repo) load() (*state, error) {
	st := &state{}
	var err error
	if st.root, err = readMeta(r.metaPath("root.json"), metadata.Root()); err != nil {
		return nil, err
	}
	if st.targets, err = readMeta(r.metaPath("targets.json"), metadata.Targets()); err != nil {
		return nil, err
	}
	if st.snapshot, err = readMeta(r.metaPath("snapshot.json"), metadata.Snapshot()); err != nil {
		return nil, err
	}
	if st.timestamp, err = readMeta(r.metaPath("timestamp.json"), metadata.Timestamp()); err != nil {
		return nil, err
	}
	return st, nil
}

func readMeta[T metadata.Roles](path string, m *metadata.Metadata[T]) (*metadata.Metadata[T], error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, firmward.Errorf(firmward.ENOTFOUND, "no TUF repository: %s does not exist; run `firmward keys init --root-key-out PATH` first", path)
	}
	if err != nil {
		return nil, fmt.Errorf("reading TUF metadata: %w", err)
	}
	out, err := m.FromBytes(b)
	if err != nil {
		return nil, fmt.Errorf("reading TUF metadata %s: %w", path, err)
	}
	return out, nil
}

// onlineSigners loads the online key of each role in roles and checks that
// root lists it. A key rotated by SignRoot waits in ROLE.key.new until the
// new root is published; it is adopted here.
func (r *Repo) onlineSigners(root *metadata.Metadata[metadata.RootType], roles ...string) (map[string]ed25519.PrivateKey, error) {
	out := map[string]ed25519.PrivateKey{}
	for _, role := range roles {
		want := roleKeyIDs(root, role)
		var found bool
		var tried []string
		for _, p := range []string{r.keyPath(role), r.keyPath(role) + ".new"} {
			priv, err := ReadKeyFile(p)
			if firmward.ErrorCode(err) == firmward.ENOTFOUND {
				continue
			}
			if err != nil {
				return nil, err
			}
			id, err := KeyID(priv)
			if err != nil {
				return nil, err
			}
			if !slices.Contains(want, id) {
				tried = append(tried, fmt.Sprintf("%s (key %s)", p, short(id)))
				continue
			}
			if filepath.Ext(p) == ".new" {
				if err := os.Rename(p, r.keyPath(role)); err != nil {
					return nil, fmt.Errorf("adopting the rotated %s key: %w", role, err)
				}
			}
			out[role], found = priv, true
			break
		}
		if !found {
			what := "no key file"
			if len(tried) > 0 {
				what = "only keys root.json does not list: " + fmt.Sprint(tried)
			}
			return nil, firmward.Errorf(firmward.EINVALID,
				"cannot sign %s: %s has %s (root.json wants key %v); restore the key file or rotate it with `firmward keys sign-root --rotate %s`",
				role, r.cfg.KeyDir(), what, shortAll(want), role)
		}
	}
	return out, nil
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func shortAll(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = short(id)
	}
	return out
}

func signWith[T metadata.Roles](m *metadata.Metadata[T], priv ed25519.PrivateKey) error {
	s, err := signer(priv)
	if err != nil {
		return err
	}
	if _, err := m.Sign(s); err != nil {
		return fmt.Errorf("signing TUF metadata: %w", err)
	}
	return nil
}

// What publish re-signs.
const (
	publishTimestamp = iota // timestamp only
	publishSnapshot         // snapshot and timestamp
	publishAll              // targets, snapshot and timestamp
)

// publish signs and writes the online roles from level down to timestamp.
// With bump, each role's version goes up by one and its expiry is renewed;
// without (Init), the versions stay at 1. Consistent-snapshot files are
// written before the files that point to them; timestamp.json is last.
func (r *Repo) publish(st *state, keys map[string]ed25519.PrivateKey, now time.Time, level int, bump bool) error {
	if level >= publishAll {
		t := st.targets
		if bump {
			t.Signed.Version++
		}
		t.Signed.Expires = expiry(now, r.cfg.TargetsExpiry)
		t.ClearSignatures()
		if err := signWith(t, keys[RoleTargets]); err != nil {
			return err
		}
		b, err := t.ToBytes(false)
		if err != nil {
			return fmt.Errorf("encoding targets: %w", err)
		}
		if err := r.writeMeta(strconv.FormatInt(t.Signed.Version, 10)+".targets.json", b); err != nil {
			return err
		}
		if err := r.writeMeta("targets.json", b); err != nil {
			return err
		}
		st.snapshot.Signed.Meta["targets.json"] = metaFile(t.Signed.Version, b)
	}
	if level >= publishSnapshot {
		s := st.snapshot
		if bump {
			s.Signed.Version++
		}
		s.Signed.Expires = expiry(now, r.cfg.SnapshotExpiry)
		s.ClearSignatures()
		if err := signWith(s, keys[RoleSnapshot]); err != nil {
			return err
		}
		b, err := s.ToBytes(false)
		if err != nil {
			return fmt.Errorf("encoding snapshot: %w", err)
		}
		if err := r.writeMeta(strconv.FormatInt(s.Signed.Version, 10)+".snapshot.json", b); err != nil {
			return err
		}
		if err := r.writeMeta("snapshot.json", b); err != nil {
			return err
		}
		st.timestamp.Signed.Meta["snapshot.json"] = metaFile(s.Signed.Version, b)
	}
	ts := st.timestamp
	if bump {
		ts.Signed.Version++
	}
	ts.Signed.Expires = expiry(now, r.cfg.TimestampExpiry)
	ts.ClearSignatures()
	if err := signWith(ts, keys[RoleTimestamp]); err != nil {
		return err
	}
	b, err := ts.ToBytes(false)
	if err != nil {
		return fmt.Errorf("encoding timestamp: %w", err)
	}
	return r.writeMeta("timestamp.json", b)
}

// metaFile describes a metadata file by version, length and sha256, so that
// a client checks the exact bytes it is given (mix-and-match).
func metaFile(version int64, b []byte) *metadata.MetaFiles {
	sum := sha256.Sum256(b)
	return &metadata.MetaFiles{Version: version, Length: int64(len(b)), Hashes: metadata.Hashes{"sha256": sum[:]}}
}

func (r *Repo) writeMeta(name string, b []byte) error {
	return writeAtomic(r.metaPath(name), b, 0o644)
}

// writeRoot writes N.root.json and then root.json.
func (r *Repo) writeRoot(root *metadata.Metadata[metadata.RootType]) error {
	b, err := root.ToBytes(false)
	if err != nil {
		return fmt.Errorf("encoding root: %w", err)
	}
	if err := r.writeMeta(strconv.FormatInt(root.Signed.Version, 10)+".root.json", b); err != nil {
		return err
	}
	return r.writeMeta("root.json", b)
}

// change runs fn on the current state with the lock held. fn returns the
// publish level, or -1 when nothing changed.
func (r *Repo) change(ctx context.Context, fn func(st *state) (int, error)) (*state, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	unlock, err := lockDir(ctx, r.cfg.Dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	st, err := r.load()
	if err != nil {
		return nil, err
	}
	level, err := fn(st)
	if err != nil || level < 0 {
		return st, err
	}
	keys, err := r.onlineSigners(st.root, onlineRoles...)
	if err != nil {
		return nil, err
	}
	if err := r.publish(st, keys, r.cfg.Now(), level, true); err != nil {
		return nil, err
	}
	return st, nil
}

// AddTargets signs targets into the repository: one new version of
// targets, snapshot and timestamp for the whole batch. A name that is
// already signed with the same length and hash is left as it is; with other
// content it is refused (ECONFLICT): remove it first. Names must pass
// ValidTargetName, hashes must be 64 lowercase hex digits, lengths
// positive, Custom a JSON object (EINVALID). It returns the new targets
// version.
func (r *Repo) AddTargets(ctx context.Context, targets ...Target) (int64, error) {
	files := make(map[string]*metadata.TargetFiles, len(targets))
	for _, t := range targets {
		tf, err := targetFile(t)
		if err != nil {
			return 0, err
		}
		if prev, dup := files[t.Name]; dup && !prev.Equal(*tf) {
			return 0, firmward.Errorf(firmward.EINVALID, "target %s is given twice with different content", t.Name)
		}
		files[t.Name] = tf
	}
	st, err := r.change(ctx, func(st *state) (int, error) {
		changed := false
		for name, tf := range files {
			if old, ok := st.targets.Signed.Targets[name]; ok {
				if old.Equal(*tf) && bytes.Equal(rawOrNil(old.Custom), rawOrNil(tf.Custom)) {
					continue
				}
				return 0, firmward.Errorf(firmward.ECONFLICT, "target %s is already signed with other content (sha256 %x, %d bytes); remove it first",
					name, old.Hashes["sha256"], old.Length)
			}
			st.targets.Signed.Targets[name] = tf
			changed = true
		}
		if !changed {
			return -1, nil
		}
		return publishAll, nil
	})
	if err != nil {
		return 0, err
	}
	r.cfg.Logger.Info("TUF targets signed", "count", len(targets), "targets_version", st.targets.Signed.Version)
	return st.targets.Signed.Version, nil
}

func rawOrNil(m *json.RawMessage) []byte {
	if m == nil {
		return nil
	}
	return *m
}

func targetFile(t Target) (*metadata.TargetFiles, error) {
	if err := ValidTargetName(t.Name); err != nil {
		return nil, err
	}
	if t.Length <= 0 {
		return nil, firmward.Errorf(firmward.EINVALID, "target %s: length %d is not positive", t.Name, t.Length)
	}
	sum, err := hex.DecodeString(t.SHA256)
	if err != nil || len(sum) != sha256.Size || hex.EncodeToString(sum) != t.SHA256 {
		return nil, firmward.Errorf(firmward.EINVALID, "target %s: sha256 %q is not 64 lowercase hex digits", t.Name, t.SHA256)
	}
	tf := &metadata.TargetFiles{Length: t.Length, Hashes: metadata.Hashes{"sha256": sum}, Path: t.Name}
	if len(t.Custom) > 0 {
		var obj map[string]any
		if err := json.Unmarshal(t.Custom, &obj); err != nil || obj == nil {
			return nil, firmward.Errorf(firmward.EINVALID, "target %s: custom metadata is not a JSON object", t.Name)
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, t.Custom); err != nil {
			return nil, firmward.Errorf(firmward.EINVALID, "target %s: custom metadata: %v", t.Name, err)
		}
		raw := json.RawMessage(buf.Bytes())
		tf.Custom = &raw
	}
	return tf, nil
}

// RemoveTargets removes targets (a withdrawn release) and publishes new
// versions; names that are not signed are ignored. It returns the targets
// version, new or unchanged.
func (r *Repo) RemoveTargets(ctx context.Context, names ...string) (int64, error) {
	st, err := r.change(ctx, func(st *state) (int, error) {
		changed := false
		for _, n := range names {
			if _, ok := st.targets.Signed.Targets[n]; ok {
				delete(st.targets.Signed.Targets, n)
				changed = true
			}
		}
		if !changed {
			return -1, nil
		}
		return publishAll, nil
	})
	if err != nil {
		return 0, err
	}
	return st.targets.Signed.Version, nil
}

// Targets lists the signed targets, by name.
func (r *Repo) Targets(ctx context.Context) ([]Target, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	t, err := readMeta(r.metaPath("targets.json"), metadata.Targets())
	if err != nil {
		return nil, err
	}
	out := make([]Target, 0, len(t.Signed.Targets))
	for name, tf := range t.Signed.Targets {
		out = append(out, fromTargetFile(name, tf))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func fromTargetFile(name string, tf *metadata.TargetFiles) Target {
	t := Target{Name: name, Length: tf.Length, SHA256: hex.EncodeToString(tf.Hashes["sha256"])}
	if tf.Custom != nil {
		t.Custom = slices.Clone(*tf.Custom)
	}
	return t
}

// Refresh renews what is close to expiring: a role with less than half of
// its lifetime left is re-signed with a new version (targets → snapshot →
// timestamp, each forcing the ones below it). With force the timestamp is
// re-signed even when it is fresh. The server calls it periodically (every
// few minutes; the timestamp lives a day by default). It returns the roles
// it re-signed, none when all were fresh.
func (r *Repo) Refresh(ctx context.Context, force bool) ([]string, error) {
	var resigned []string
	_, err := r.change(ctx, func(st *state) (int, error) {
		now := r.cfg.Now()
		due := func(expires time.Time, life time.Duration) bool { return !now.Add(life / 2).Before(expires) }
		level := -1
		switch {
		case due(st.targets.Signed.Expires, r.cfg.TargetsExpiry):
			level, resigned = publishAll, []string{RoleTargets, RoleSnapshot, RoleTimestamp}
		case due(st.snapshot.Signed.Expires, r.cfg.SnapshotExpiry):
			level, resigned = publishSnapshot, []string{RoleSnapshot, RoleTimestamp}
		case force || due(st.timestamp.Signed.Expires, r.cfg.TimestampExpiry):
			level, resigned = publishTimestamp, []string{RoleTimestamp}
		}
		return level, nil
	})
	if err != nil {
		return nil, err
	}
	if len(resigned) > 0 {
		r.cfg.Logger.Info("TUF metadata refreshed", "roles", resigned)
	}
	return resigned, nil
}

// RootSigning asks SignRoot for a new root version.
type RootSigning struct {
	// RootKey is the current (offline) root key. Required.
	RootKey ed25519.PrivateKey
	// NewRootKey, when set, replaces the root key. The new root is signed
	// by both the old and the new key, so clients accept it.
	NewRootKey ed25519.PrivateKey
	// Rotate lists online roles (targets, snapshot, timestamp) whose key is
	// replaced by a fresh one written to the key directory.
	Rotate []string
}

// SignRoot publishes a new root version with a renewed expiry, signed by
// the current root key (and the new one when the root key is rotated), and
// re-signs the online roles with new versions. A key that is not the
// current root key gives EINVALID. The root key itself is never written by
// SignRoot: the caller keeps NewRootKey.
func (r *Repo) SignRoot(ctx context.Context, req RootSigning) (Status, error) {
	if len(req.RootKey) != ed25519.PrivateKeySize {
		return Status{}, firmward.Errorf(firmward.EINVALID, "no root key given")
	}
	for _, role := range req.Rotate {
		if !slices.Contains(onlineRoles, role) {
			return Status{}, firmward.Errorf(firmward.EINVALID, "cannot rotate %q: online roles are %v (the root key is rotated with a new root key)", role, onlineRoles)
		}
	}
	oldID, err := KeyID(req.RootKey)
	if err != nil {
		return Status{}, err
	}
	st, err := r.change(ctx, func(st *state) (int, error) {
		root := st.root
		if !slices.Contains(roleKeyIDs(root, RoleRoot), oldID) {
			return 0, firmward.Errorf(firmward.EINVALID, "the key given (id %s) is not this repository's root key (root.json lists %v)",
				short(oldID), shortAll(roleKeyIDs(root, RoleRoot)))
		}
		next := &metadata.Metadata[metadata.RootType]{}
		b, err := root.ToBytes(false)
		if err != nil {
			return 0, fmt.Errorf("copying root: %w", err)
		}
		if next, err = next.FromBytes(b); err != nil {
			return 0, fmt.Errorf("copying root: %w", err)
		}
		next.Signed.Version++
		next.Signed.Expires = expiry(r.cfg.Now(), r.cfg.RootExpiry)
		next.ClearSignatures()
		if req.NewRootKey != nil {
			if err := replaceKey(next, RoleRoot, req.NewRootKey); err != nil {
				return 0, err
			}
		}
		newKeys := map[string]ed25519.PrivateKey{}
		for _, role := range req.Rotate {
			priv, err := GenerateKey()
			if err != nil {
				return 0, err
			}
			if err := replaceKey(next, role, priv); err != nil {
				return 0, err
			}
			newKeys[role] = priv
		}
		if err := signWith(next, req.RootKey); err != nil {
			return 0, err
		}
		if req.NewRootKey != nil {
			if err := signWith(next, req.NewRootKey); err != nil {
				return 0, err
			}
		}
		// Check the chain as a client will: the old root accepts the new
		// one, and the new one is signed by its own keys.
		if err := root.VerifyDelegate(RoleRoot, next); err != nil {
			return 0, fmt.Errorf("the new root does not verify with the old one: %w", err)
		}
		if err := next.VerifyDelegate(RoleRoot, next); err != nil {
			return 0, fmt.Errorf("the new root does not verify with itself: %w", err)
		}
		// New online keys wait as ROLE.key.new until the root naming them
		// is published; onlineSigners adopts them.
		for role, priv := range newKeys {
			if err := writeKeyFile(r.keyPath(role)+".new", priv); err != nil {
				return 0, err
			}
		}
		if err := r.writeRoot(next); err != nil {
			return 0, err
		}
		st.root = next
		return publishAll, nil
	})
	if err != nil {
		return Status{}, err
	}
	r.cfg.Logger.Info("TUF root signed", "version", st.root.Signed.Version, "rotated", req.Rotate, "new_root_key", req.NewRootKey != nil)
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.status(st)
}

// replaceKey revokes every key of role in root and adds priv's public key.
func replaceKey(root *metadata.Metadata[metadata.RootType], role string, priv ed25519.PrivateKey) error {
	for _, id := range slices.Clone(roleKeyIDs(root, role)) {
		if err := root.Signed.RevokeKey(id, role); err != nil {
			return fmt.Errorf("revoking the %s key: %w", role, err)
		}
	}
	k, err := metadata.KeyFromPublicKey(priv.Public())
	if err != nil {
		return fmt.Errorf("TUF key: %w", err)
	}
	if err := root.Signed.AddKey(k, role); err != nil {
		return fmt.Errorf("adding the %s key: %w", role, err)
	}
	return nil
}

// Status describes the repository: versions, expiries and key ids of every
// role, and whether the online keys are present.
func (r *Repo) Status(ctx context.Context) (Status, error) {
	if err := ctx.Err(); err != nil {
		return Status{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st, err := r.load()
	if err != nil {
		return Status{}, err
	}
	return r.status(st)
}

func (r *Repo) status(st *state) (Status, error) {
	s := Status{Dir: r.cfg.Dir, ConsistentSnapshot: st.root.Signed.ConsistentSnapshot, Targets: len(st.targets.Signed.Targets)}
	versions := map[string]struct {
		v int64
		e time.Time
	}{
		RoleRoot:      {st.root.Signed.Version, st.root.Signed.Expires},
		RoleTargets:   {st.targets.Signed.Version, st.targets.Signed.Expires},
		RoleSnapshot:  {st.snapshot.Signed.Version, st.snapshot.Signed.Expires},
		RoleTimestamp: {st.timestamp.Signed.Version, st.timestamp.Signed.Expires},
	}
	for _, role := range []string{RoleRoot, RoleTargets, RoleSnapshot, RoleTimestamp} {
		rs := RoleStatus{
			Role: role, Version: versions[role].v, Expires: versions[role].e.UTC(),
			KeyIDs: slices.Clone(roleKeyIDs(st.root, role)), Online: role != RoleRoot,
		}
		if rr := st.root.Signed.Roles[role]; rr != nil {
			rs.Threshold = rr.Threshold
		}
		if rs.Online {
			for _, p := range []string{r.keyPath(role), r.keyPath(role) + ".new"} {
				if priv, err := ReadKeyFile(p); err == nil {
					if id, err := KeyID(priv); err == nil && slices.Contains(rs.KeyIDs, id) {
						rs.KeyPresent = true
					}
				}
			}
		}
		s.Roles = append(s.Roles, rs)
	}
	return s, nil
}

// RootJSON returns the newest root.json: what a device is enrolled with.
func (r *Repo) RootJSON(ctx context.Context) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(r.metaPath("root.json"))
	if err != nil {
		return nil, fmt.Errorf("reading root.json: %w", err)
	}
	return b, nil
}
