// Package artifact is firmward's content-addressed blob store for firmware
// artifacts.
//
// A blob is named by the lowercase hex SHA-256 of its content and lives at
// ROOT/sha256/ab/abcdef… (the first two hex digits are a fan-out directory).
// Put streams the content through a temporary file under ROOT/tmp (the same
// file system, so the final rename is atomic), computes SHA-256, SHA-1 and MD5
// on the way (hawkBit DDI reports all three), and renames the file into place
// only when the content matches the expected hash, if one was given. A reader
// therefore sees either no blob or the whole blob, never a partial one.
//
// Names that are not exactly 64 lowercase hex digits are refused before any
// file system call, so no name can walk out of the store.
package artifact

import (
	"context"
	"crypto/md5"  //nolint:gosec // MD5 is reported to DDI clients, never trusted for integrity
	"crypto/sha1" //nolint:gosec // SHA-1 is reported to DDI clients, never trusted for integrity
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/firmward/firmward"
)

// Sums describes a stored blob: its size and its hashes as lowercase hex.
// SHA256 is the blob's name; SHA1 and MD5 are for clients that want them.
type Sums struct {
	SHA256 string `json:"sha256"`
	SHA1   string `json:"sha1"`
	MD5    string `json:"md5"`
	Size   int64  `json:"size"`
}

// Info is what Stat reports about a stored blob.
type Info struct {
	SHA256  string
	Size    int64
	ModTime time.Time
}

// Options configure a Store.
type Options struct {
	// MaxSize refuses blobs larger than this many bytes (ETOOLARGE); zero
	// means no limit.
	MaxSize int64
}

// Store is a content-addressed blob store rooted at one directory. It is
// safe for concurrent use: it keeps no state in memory, and concurrent Puts
// of the same content both succeed (the rename is atomic and the content is
// the same).
type Store struct {
	root string
	opts Options
}

// Open returns the store rooted at dir, creating dir, dir/sha256 and dir/tmp
// when they are missing. Temporary files left by a crash (dir/tmp/put-*) are
// removed.
func Open(dir string, opts Options) (*Store, error) {
	if dir == "" {
		return nil, firmward.Errorf(firmward.EINVALID, "artifact store: no directory given")
	}
	if opts.MaxSize < 0 {
		return nil, firmward.Errorf(firmward.EINVALID, "artifact store: MaxSize %d is negative", opts.MaxSize)
	}
	s := &Store{root: dir, opts: opts}
	for _, d := range []string{dir, filepath.Join(dir, "sha256"), s.tmpDir()} {
		if err := os.MkdirAll(d, 0o755); err != nil { //nolint:gosec // blobs are public firmware, served over HTTP
			return nil, fmt.Errorf("artifact store: creating %s: %w", d, err)
		}
	}
	leftovers, err := filepath.Glob(filepath.Join(s.tmpDir(), "put-*"))
	if err != nil {
		return nil, fmt.Errorf("artifact store: listing temporary files: %w", err)
	}
	for _, f := range leftovers {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("artifact store: removing leftover %s: %w", f, err)
		}
	}
	return s, nil
}

// Root returns the directory of the store.
func (s *Store) Root() string { return s.root }

func (s *Store) tmpDir() string { return filepath.Join(s.root, "tmp") }

// ValidSHA256 returns nil when name is a blob name: exactly 64 lowercase hex
// digits. Otherwise it returns an EINVALID error that says why.
func ValidSHA256(name string) error {
	if len(name) != sha256.Size*2 {
		return firmward.Errorf(firmward.EINVALID, "artifact name %q is not a SHA-256: want 64 lowercase hex digits, got %d characters", clip(name), len(name))
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return firmward.Errorf(firmward.EINVALID, "artifact name %q is not a SHA-256: character %d is %q, want 0-9 or a-f", clip(name), i+1, c)
		}
	}
	return nil
}

// clip shortens a name for an error message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// Path returns the file of the blob named sha, after validating the name.
// The file may not exist.
func (s *Store) Path(sha string) (string, error) {
	if err := ValidSHA256(sha); err != nil {
		return "", err
	}
	return filepath.Join(s.root, "sha256", sha[:2], sha), nil
}

// Put stores the content of r and returns its sums. When expectedSHA256 is
// not empty the content must hash to it: otherwise Put returns an EINVALID
// error naming both hashes and stores nothing. Content larger than
// Options.MaxSize gives ETOOLARGE and stores nothing. Storing content that is
// already present succeeds and leaves the existing blob as it is. Put stops
// with ctx's error when ctx ends.
func (s *Store) Put(ctx context.Context, r io.Reader, expectedSHA256 string) (Sums, error) {
	if expectedSHA256 != "" {
		if err := ValidSHA256(expectedSHA256); err != nil {
			return Sums{}, fmt.Errorf("expected hash: %w", err)
		}
	}
	tmp, err := os.CreateTemp(s.tmpDir(), "put-*")
	if err != nil {
		return Sums{}, fmt.Errorf("artifact store: creating a temporary file: %w", err)
	}
	keep := false
	defer func() {
		if !keep {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()

	h256, h1, h5 := sha256.New(), sha1.New(), md5.New() //nolint:gosec // see imports
	src := io.Reader(ctxReader{ctx: ctx, r: r})
	if s.opts.MaxSize > 0 {
		src = io.LimitReader(src, s.opts.MaxSize+1)
	}
	n, err := io.Copy(io.MultiWriter(tmp, h256, h1, h5), src)
	if err != nil {
		if ctx.Err() != nil {
			return Sums{}, ctx.Err()
		}
		return Sums{}, fmt.Errorf("artifact store: writing the blob: %w", err)
	}
	if s.opts.MaxSize > 0 && n > s.opts.MaxSize {
		return Sums{}, firmward.Errorf(firmward.ETOOLARGE, "artifact is larger than the limit of %d bytes", s.opts.MaxSize)
	}
	sums := Sums{
		SHA256: hex.EncodeToString(h256.Sum(nil)),
		SHA1:   hex.EncodeToString(h1.Sum(nil)),
		MD5:    hex.EncodeToString(h5.Sum(nil)),
		Size:   n,
	}
	if expectedSHA256 != "" && sums.SHA256 != expectedSHA256 {
		return Sums{}, firmward.Errorf(firmward.EINVALID, "artifact hash mismatch: expected sha256 %s, got %s (%d bytes); nothing was stored", expectedSHA256, sums.SHA256, n)
	}
	if err := tmp.Chmod(0o444); err != nil {
		return Sums{}, fmt.Errorf("artifact store: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return Sums{}, fmt.Errorf("artifact store: syncing the blob: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return Sums{}, fmt.Errorf("artifact store: closing the blob: %w", err)
	}
	final, _ := s.Path(sums.SHA256) // a hex digest is always valid
	dir := filepath.Dir(final)
	if err := os.MkdirAll(dir, 0o755); err != nil { //nolint:gosec // public firmware
		return Sums{}, fmt.Errorf("artifact store: creating %s: %w", dir, err)
	}
	if _, err := os.Stat(final); err == nil {
		return sums, nil // already stored; the deferred cleanup removes the copy
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return Sums{}, fmt.Errorf("artifact store: moving the blob into place: %w", err)
	}
	keep = true
	syncDir(dir)
	return sums, nil
}

// syncDir makes a rename in dir durable. Errors are ignored: some file
// systems cannot sync a directory, and the blob itself is already synced.
func syncDir(dir string) {
	d, err := os.Open(dir) //nolint:gosec // dir is built from a validated name
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

// Open returns the blob named sha for reading, with its size. The reader
// also seeks, so http.ServeContent can answer Range requests from it. The
// caller closes it. A bad name gives EINVALID, a missing blob ENOTFOUND.
func (s *Store) Open(ctx context.Context, sha string) (io.ReadSeekCloser, int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	p, err := s.Path(sha)
	if err != nil {
		return nil, 0, err
	}
	f, err := os.Open(p) //nolint:gosec // p is built from a validated name
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, notFound(sha)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("artifact store: opening %s: %w", sha, err)
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, 0, fmt.Errorf("artifact store: %w", err)
	}
	return f, st.Size(), nil
}

// Stat reports the size and modification time of the blob named sha. A bad
// name gives EINVALID, a missing blob ENOTFOUND.
func (s *Store) Stat(ctx context.Context, sha string) (Info, error) {
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}
	p, err := s.Path(sha)
	if err != nil {
		return Info{}, err
	}
	st, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return Info{}, notFound(sha)
	}
	if err != nil {
		return Info{}, fmt.Errorf("artifact store: %w", err)
	}
	return Info{SHA256: sha, Size: st.Size(), ModTime: st.ModTime().UTC()}, nil
}

// Sums reads the blob named sha again and returns its size and hashes. It
// also verifies the content: a blob whose SHA-256 is no longer its name
// (disk corruption, an edit behind the store's back) gives EINTERNAL.
func (s *Store) Sums(ctx context.Context, sha string) (Sums, error) {
	f, _, err := s.Open(ctx, sha)
	if err != nil {
		return Sums{}, err
	}
	defer func() { _ = f.Close() }()
	h256, h1, h5 := sha256.New(), sha1.New(), md5.New() //nolint:gosec // see imports
	n, err := io.Copy(io.MultiWriter(h256, h1, h5), ctxReader{ctx: ctx, r: f})
	if err != nil {
		if ctx.Err() != nil {
			return Sums{}, ctx.Err()
		}
		return Sums{}, fmt.Errorf("artifact store: reading %s: %w", sha, err)
	}
	sums := Sums{
		SHA256: hex.EncodeToString(h256.Sum(nil)),
		SHA1:   hex.EncodeToString(h1.Sum(nil)),
		MD5:    hex.EncodeToString(h5.Sum(nil)),
		Size:   n,
	}
	if sums.SHA256 != sha {
		return Sums{}, firmward.Errorf(firmward.EINTERNAL, "artifact %s is corrupt: its content hashes to %s", sha, sums.SHA256)
	}
	return sums, nil
}

// Delete removes the blob named sha. A bad name gives EINVALID, a missing
// blob ENOTFOUND.
func (s *Store) Delete(ctx context.Context, sha string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := s.Path(sha)
	if err != nil {
		return err
	}
	if err := os.Remove(p); errors.Is(err, fs.ErrNotExist) {
		return notFound(sha)
	} else if err != nil {
		return fmt.Errorf("artifact store: deleting %s: %w", sha, err)
	}
	syncDir(filepath.Dir(p))
	return nil
}

func notFound(sha string) error {
	return firmward.Errorf(firmward.ENOTFOUND, "artifact %s is not stored", sha)
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
