// Package tufclient is firmward-agent's side of TUF (The Update Framework):
// it keeps the device's trusted copy of firmward's signed metadata up to
// date and verifies every artifact against it before the agent installs it.
//
// A device is enrolled with a root.json. Each Refresh walks the root chain
// (N.root.json) from the newest root it trusts, then loads timestamp,
// snapshot and targets with the go-tuf updater, which refuses metadata that
// is not signed by the keys root names (wrong signature), older than what
// was seen before (rollback), expired at the injected clock's time (freeze),
// or inconsistent with the snapshot (mix and match). The trusted metadata
// is kept in Config.MetadataDir, so that those checks hold across restarts.
//
// An artifact is accepted only when its length and SHA-256 match the target
// signed in targets.json; Verify streams the file, so large images need no
// memory.
package tufclient

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/firmward/firmward"
	"github.com/theupdateframework/go-tuf/v2/metadata"
	"github.com/theupdateframework/go-tuf/v2/metadata/config"
	"github.com/theupdateframework/go-tuf/v2/metadata/updater"
)

// Config configures a Client.
type Config struct {
	// TrustedRoot is the root.json the device was enrolled with. It is used
	// only until MetadataDir holds a root of its own.
	TrustedRoot []byte
	// MetadataDir keeps the trusted metadata between runs (required).
	MetadataDir string
	// MetadataURL is the base URL of the TUF metadata (…/N.root.json,
	// …/timestamp.json).
	MetadataURL string
	// TargetBaseURL is the base URL Download fetches targets from: the
	// target releases/12/a.bin is TargetBaseURL/releases/12/a.bin.
	TargetBaseURL string
	// HTTPClient makes every request (http.DefaultClient when nil).
	HTTPClient *http.Client
	// Now is the clock expiries are checked against (time.Now when nil).
	Now    func() time.Time
	Logger *slog.Logger
}

// Client refreshes TUF metadata and verifies artifacts. It is safe for
// concurrent use: mu serialises refreshes, which write MetadataDir.
type Client struct {
	cfg Config
	mu  sync.Mutex // guards the files in cfg.MetadataDir
}

// New checks cfg and returns a Client. It does no I/O beyond creating
// MetadataDir.
func New(cfg Config) (*Client, error) {
	if cfg.MetadataDir == "" {
		return nil, firmward.Errorf(firmward.EINVALID, "TUF client: no metadata directory given")
	}
	if cfg.MetadataURL == "" {
		return nil, firmward.Errorf(firmward.EINVALID, "TUF client: no metadata URL given")
	}
	if _, err := os.Stat(filepath.Join(cfg.MetadataDir, "root.json")); err != nil && len(cfg.TrustedRoot) == 0 {
		return nil, firmward.Errorf(firmward.EINVALID, "TUF client: no trusted root: %s/root.json does not exist and no enrollment root.json was given", cfg.MetadataDir)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(cfg.MetadataDir, 0o700); err != nil {
		return nil, fmt.Errorf("TUF client: creating %s: %w", cfg.MetadataDir, err)
	}
	return &Client{cfg: cfg}, nil
}

// Config returns the client's configuration, with defaults applied.
func (c *Client) Config() Config { return c.cfg }

// Target is a signed target as the device trusts it.
type Target struct {
	Name   string `json:"name"`
	Length int64  `json:"length"`
	// Hashes maps algorithm (sha256, sha512) to lowercase hex.
	Hashes map[string]string `json:"hashes"`
	// Custom is the target's custom metadata (such as the release id).
	Custom json.RawMessage `json:"custom,omitempty"`
}

// SHA256 returns the target's SHA-256 in hex.
func (t Target) SHA256() string { return t.Hashes["sha256"] }

// Trusted is the verified metadata after a Refresh.
type Trusted struct {
	RootVersion      int64
	TargetsVersion   int64
	SnapshotVersion  int64
	TimestampVersion int64
	// TimestampExpires is when a device that cannot refresh stops trusting
	// this metadata.
	TimestampExpires time.Time
	targets          map[string]Target
}

// Target returns the signed target called name; ENOTFOUND when targets.json
// does not list it (never signed, or withdrawn).
func (t *Trusted) Target(name string) (Target, error) {
	tg, ok := t.targets[name]
	if !ok {
		return Target{}, firmward.Errorf(firmward.ENOTFOUND, "target %s is not signed in targets.json version %d", name, t.TargetsVersion)
	}
	return tg, nil
}

// Targets returns the number of signed targets.
func (t *Trusted) Targets() int { return len(t.targets) }

// Refresh updates the trusted metadata from MetadataURL and returns it.
// Its errors wrap go-tuf's: *metadata.ErrBadVersionNumber for a rollback or
// a mix and match, *metadata.ErrExpiredMetadata for a freeze,
// *metadata.ErrUnsignedMetadata for a bad signature,
// *metadata.ErrLengthOrHashMismatch for metadata that differs from what the
// snapshot or timestamp describes. On error nothing less trustworthy than
// before is kept.
func (c *Client) Refresh(ctx context.Context) (*Trusted, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	root, err := os.ReadFile(filepath.Join(c.cfg.MetadataDir, "root.json"))
	if errors.Is(err, fs.ErrNotExist) {
		root = c.cfg.TrustedRoot
	} else if err != nil {
		return nil, fmt.Errorf("TUF client: reading the trusted root: %w", err)
	}
	uc, err := config.New(c.cfg.MetadataURL, root)
	if err != nil {
		return nil, fmt.Errorf("TUF client: %w", err)
	}
	uc.LocalMetadataDir = c.cfg.MetadataDir
	uc.LocalTargetsDir = c.cfg.MetadataDir // unused: Download writes where it is told
	uc.Fetcher = fetcher{ctx: ctx, client: c.cfg.HTTPClient}
	up, err := updater.New(uc)
	if err != nil {
		return nil, fmt.Errorf("TUF client: loading the trusted root: %w", err)
	}
	up.UnsafeSetRefTime(c.cfg.Now().UTC())
	if err := up.Refresh(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		c.cfg.Logger.Warn("TUF metadata refused", "url", c.cfg.MetadataURL, "err", err)
		return nil, fmt.Errorf("TUF metadata from %s refused: %w", c.cfg.MetadataURL, err)
	}
	tm := up.GetTrustedMetadataSet()
	tr := &Trusted{
		RootVersion:      tm.Root.Signed.Version,
		TargetsVersion:   tm.Targets[metadata.TARGETS].Signed.Version,
		SnapshotVersion:  tm.Snapshot.Signed.Version,
		TimestampVersion: tm.Timestamp.Signed.Version,
		TimestampExpires: tm.Timestamp.Signed.Expires.UTC(),
		targets:          map[string]Target{},
	}
	for name, tf := range up.GetTopLevelTargets() {
		t := Target{Name: name, Length: tf.Length, Hashes: map[string]string{}}
		for alg, h := range tf.Hashes {
			t.Hashes[alg] = hex.EncodeToString(h)
		}
		if tf.Custom != nil {
			t.Custom = append(json.RawMessage(nil), *tf.Custom...)
		}
		tr.targets[name] = t
	}
	c.cfg.Logger.Debug("TUF metadata refreshed", "root", tr.RootVersion, "targets", tr.TargetsVersion, "timestamp", tr.TimestampVersion)
	return tr, nil
}

// Verify reads r to its end and checks it against t: exactly t.Length
// bytes, and every hash t lists. A target without a SHA-256, or with an
// algorithm Verify does not know, is refused. Mismatches wrap
// *metadata.ErrLengthOrHashMismatch.
func Verify(r io.Reader, t Target) error {
	if t.Hashes["sha256"] == "" {
		return &metadata.ErrLengthOrHashMismatch{Msg: fmt.Sprintf("target %s has no sha256", t.Name)}
	}
	hashers := map[string]hash.Hash{}
	writers := []io.Writer{}
	for alg := range t.Hashes {
		var h hash.Hash
		switch alg {
		case "sha256":
			h = sha256.New()
		case "sha512":
			h = sha512.New()
		default:
			return &metadata.ErrLengthOrHashMismatch{Msg: fmt.Sprintf("target %s: unknown hash algorithm %q", t.Name, alg)}
		}
		hashers[alg] = h
		writers = append(writers, h)
	}
	n, err := io.Copy(io.MultiWriter(writers...), io.LimitReader(r, t.Length+1))
	if err != nil {
		return fmt.Errorf("reading %s: %w", t.Name, err)
	}
	if n != t.Length {
		more := ""
		if n > t.Length {
			more = "more than "
		}
		return &metadata.ErrLengthOrHashMismatch{Msg: fmt.Sprintf("artifact %s is %s%d bytes, the signed target says %d", t.Name, more, n, t.Length)}
	}
	for alg, h := range hashers {
		if got := hex.EncodeToString(h.Sum(nil)); got != t.Hashes[alg] {
			return &metadata.ErrLengthOrHashMismatch{Msg: fmt.Sprintf("artifact %s has %s %s, the signed target says %s", t.Name, alg, got, t.Hashes[alg])}
		}
	}
	return nil
}

// VerifyFile refreshes the metadata and checks the file at path against the
// target called name. It returns the target on success.
func (c *Client) VerifyFile(ctx context.Context, name, path string) (Target, error) {
	tr, err := c.Refresh(ctx)
	if err != nil {
		return Target{}, err
	}
	t, err := tr.Target(name)
	if err != nil {
		return Target{}, err
	}
	f, err := os.Open(path) //nolint:gosec // the agent's own download path
	if err != nil {
		return Target{}, fmt.Errorf("verifying %s: %w", name, err)
	}
	defer func() { _ = f.Close() }()
	if err := Verify(ctxReader{ctx, f}, t); err != nil {
		return Target{}, err
	}
	return t, nil
}

// Download refreshes the metadata and downloads the target called name to
// dest, resuming a partial download left in dest+".part" with an HTTP Range
// request. dest appears only once the whole file verified; a file that does
// not verify is deleted, so the next attempt starts over.
func (c *Client) Download(ctx context.Context, name, dest string) (Target, error) {
	if c.cfg.TargetBaseURL == "" {
		return Target{}, firmward.Errorf(firmward.EINVALID, "TUF client: no target base URL given")
	}
	tr, err := c.Refresh(ctx)
	if err != nil {
		return Target{}, err
	}
	t, err := tr.Target(name)
	if err != nil {
		return Target{}, err
	}
	part := dest + ".part"
	if err := c.fetch(ctx, t, part); err != nil {
		return Target{}, err
	}
	f, err := os.Open(part) //nolint:gosec // the agent's own download path
	if err != nil {
		return Target{}, fmt.Errorf("verifying %s: %w", name, err)
	}
	verr := Verify(ctxReader{ctx, f}, t)
	_ = f.Close()
	if verr != nil {
		_ = os.Remove(part)
		return Target{}, verr
	}
	if err := os.Rename(part, dest); err != nil {
		return Target{}, fmt.Errorf("download of %s: %w", name, err)
	}
	return t, nil
}

// targetURL returns the URL of target name under TargetBaseURL, each
// segment escaped.
func (c *Client) targetURL(name string) string {
	segs := strings.Split(name, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.TrimRight(c.cfg.TargetBaseURL, "/") + "/" + strings.Join(segs, "/")
}

// fetch completes the partial file part to t.Length bytes (never more).
func (c *Client) fetch(ctx context.Context, t Target, part string) error {
	f, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o600) //nolint:gosec // the agent's own download path
	if err != nil {
		return fmt.Errorf("download of %s: %w", t.Name, err)
	}
	defer func() { _ = f.Close() }()
	have, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("download of %s: %w", t.Name, err)
	}
	if have > t.Length {
		if err := f.Truncate(0); err != nil {
			return fmt.Errorf("download of %s: %w", t.Name, err)
		}
		have = 0
	}
	if have == t.Length {
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.targetURL(t.Name), nil)
	if err != nil {
		return fmt.Errorf("download of %s: %w", t.Name, err)
	}
	if have > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(have, 10)+"-")
	}
	res, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("download of %s: %w", t.Name, err)
	}
	defer func() { _ = res.Body.Close() }()
	switch {
	case res.StatusCode == http.StatusPartialContent && have > 0 &&
		strings.HasPrefix(res.Header.Get("Content-Range"), "bytes "+strconv.FormatInt(have, 10)+"-"):
		// resume where we are
	case res.StatusCode == http.StatusOK:
		if err := f.Truncate(0); err != nil {
			return fmt.Errorf("download of %s: %w", t.Name, err)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("download of %s: %w", t.Name, err)
		}
		have = 0
	case res.StatusCode == http.StatusRequestedRangeNotSatisfiable:
		// The server's file is shorter than our partial one: start over
		// on the next attempt.
		_ = f.Truncate(0)
		return fmt.Errorf("download of %s from %s: the server refused to resume (HTTP %s); the next attempt starts over", t.Name, req.URL, res.Status)
	default:
		return fmt.Errorf("download of %s from %s: HTTP %s", t.Name, req.URL, res.Status)
	}
	// Never take more than the signed length: an endless body is cut off.
	if _, err := io.Copy(f, io.LimitReader(res.Body, t.Length-have+1)); err != nil {
		return fmt.Errorf("download of %s: %w", t.Name, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("download of %s: %w", t.Name, err)
	}
	return nil
}

// fetcher downloads metadata for go-tuf with the client's HTTP client and
// the caller's context.
type fetcher struct {
	ctx    context.Context
	client *http.Client
}

// DownloadFile implements go-tuf's fetcher.Fetcher.
func (f fetcher) DownloadFile(urlPath string, maxLength int64, _ time.Duration) ([]byte, error) {
	req, err := http.NewRequestWithContext(f.ctx, http.MethodGet, urlPath, nil)
	if err != nil {
		return nil, err
	}
	res, err := f.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = res.Body.Close() }()
	if res.StatusCode != http.StatusOK {
		return nil, &metadata.ErrDownloadHTTP{StatusCode: res.StatusCode, URL: urlPath}
	}
	data, err := io.ReadAll(io.LimitReader(res.Body, maxLength+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > maxLength {
		return nil, &metadata.ErrDownloadLengthMismatch{Msg: fmt.Sprintf("%s is larger than %d bytes", urlPath, maxLength)}
	}
	return data, nil
}

// ctxReader stops reading once ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
