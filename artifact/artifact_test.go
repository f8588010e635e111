package artifact_test

import (
	"bytes"
	"context"
	"crypto/md5"  //nolint:gosec // the test checks the MD5 the store reports
	"crypto/sha1" //nolint:gosec // the test checks the SHA-1 the store reports
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/artifact"
)

func sum256(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func newStore(t *testing.T, opts artifact.Options) *artifact.Store {
	t.Helper()
	s, err := artifact.Open(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// files lists every regular file under dir, relative to it.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPutOpenStatDelete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t, artifact.Options{})
	content := bytes.Repeat([]byte("firmware image 1.2.3\n"), 5000)
	want256 := sum256(content)
	w1 := sha1.Sum(content) //nolint:gosec // see imports
	w5 := md5.Sum(content)  //nolint:gosec // see imports

	got, err := s.Put(ctx, bytes.NewReader(content), "")
	if err != nil {
		t.Fatal(err)
	}
	want := artifact.Sums{SHA256: want256, SHA1: hex.EncodeToString(w1[:]), MD5: hex.EncodeToString(w5[:]), Size: int64(len(content))}
	if got != want {
		t.Fatalf("Put = %+v, want %+v", got, want)
	}
	if fl := files(t, s.Root()); len(fl) != 1 || fl[0] != filepath.Join("sha256", want256[:2], want256) {
		t.Fatalf("files in the store = %v, want only sha256/%s/%s", fl, want256[:2], want256)
	}

	// Putting the same content again (with the expected hash) succeeds and
	// leaves one file.
	again, err := s.Put(ctx, bytes.NewReader(content), want256)
	if err != nil || again != want {
		t.Fatalf("second Put = %+v, %v", again, err)
	}
	if fl := files(t, s.Root()); len(fl) != 1 {
		t.Fatalf("after a duplicate Put the store holds %v", fl)
	}

	f, size, err := s.Open(ctx, want256)
	if err != nil {
		t.Fatal(err)
	}
	if size != int64(len(content)) {
		t.Errorf("Open size = %d, want %d", size, len(content))
	}
	if _, err := f.Seek(100, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	tail, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(tail, content[100:]) {
		t.Error("content read back after a seek differs")
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	info, err := s.Stat(ctx, want256)
	if err != nil || info.Size != int64(len(content)) || info.SHA256 != want256 || info.ModTime.IsZero() {
		t.Fatalf("Stat = %+v, %v", info, err)
	}
	sums, err := s.Sums(ctx, want256)
	if err != nil || sums != want {
		t.Fatalf("Sums = %+v, %v; want %+v", sums, err, want)
	}

	if err := s.Delete(ctx, want256); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"Stat":   func() error { _, err := s.Stat(ctx, want256); return err }(),
		"Open":   func() error { _, _, err := s.Open(ctx, want256); return err }(),
		"Delete": s.Delete(ctx, want256),
	} {
		if firmward.ErrorCode(err) != firmward.ENOTFOUND {
			t.Errorf("%s after Delete: %v, want not_found", name, err)
		}
	}
}

func TestPutEmptyContent(t *testing.T) {
	t.Parallel()
	s := newStore(t, artifact.Options{})
	got, err := s.Put(context.Background(), strings.NewReader(""), "")
	if err != nil {
		t.Fatal(err)
	}
	if got.SHA256 != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" || got.Size != 0 ||
		got.MD5 != "d41d8cd98f00b204e9800998ecf8427e" || got.SHA1 != "da39a3ee5e6b4b0d3255bfef95601890afd80709" {
		t.Fatalf("empty Put = %+v", got)
	}
}

func TestPutHashMismatchLeavesNothing(t *testing.T) {
	t.Parallel()
	s := newStore(t, artifact.Options{})
	content := []byte("the real image")
	wrong := sum256([]byte("another image"))
	_, err := s.Put(context.Background(), bytes.NewReader(content), wrong)
	if firmward.ErrorCode(err) != firmward.EINVALID {
		t.Fatalf("Put with a wrong hash: %v, want invalid", err)
	}
	for _, h := range []string{wrong, sum256(content)} {
		if !strings.Contains(err.Error(), h) {
			t.Errorf("error %q does not name %s", err, h)
		}
	}
	if fl := files(t, s.Root()); len(fl) != 0 {
		t.Fatalf("a refused Put left files: %v", fl)
	}
}

func TestPutRefusals(t *testing.T) {
	t.Parallel()
	s := newStore(t, artifact.Options{MaxSize: 10})
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name     string
		ctx      context.Context
		body     string
		expected string
		code     string
		is       error
	}{
		{name: "too large", ctx: context.Background(), body: "01234567890", code: firmward.ETOOLARGE},
		{name: "bad expected hash", ctx: context.Background(), body: "x", expected: "../../etc/passwd", code: firmward.EINVALID},
		{name: "uppercase expected hash", ctx: context.Background(), body: "x", expected: strings.ToUpper(sum256([]byte("x"))), code: firmward.EINVALID},
		{name: "canceled", ctx: canceled, body: "x", is: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Put(tt.ctx, strings.NewReader(tt.body), tt.expected)
			if tt.is != nil {
				if !errors.Is(err, tt.is) {
					t.Fatalf("Put: %v, want %v", err, tt.is)
				}
			} else if firmward.ErrorCode(err) != tt.code {
				t.Fatalf("Put: %v, want code %s", err, tt.code)
			}
		})
	}
	// Exactly MaxSize bytes is allowed.
	if _, err := s.Put(context.Background(), strings.NewReader("0123456789"), ""); err != nil {
		t.Fatalf("Put of MaxSize bytes: %v", err)
	}
	if fl := files(t, s.Root()); len(fl) != 1 {
		t.Fatalf("store holds %v, want the one accepted blob", fl)
	}
}

type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("disk on fire")
	}
	f.n--
	return copy(p, "abcd"), nil
}

func TestPutReaderErrorLeavesNothing(t *testing.T) {
	t.Parallel()
	s := newStore(t, artifact.Options{})
	_, err := s.Put(context.Background(), &failingReader{n: 3}, "")
	if err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("Put from a failing reader: %v", err)
	}
	if fl := files(t, s.Root()); len(fl) != 0 {
		t.Fatalf("a failed Put left files: %v", fl)
	}
}

func TestOpenRemovesLeftovers(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := artifact.Open(dir, artifact.Options{}); err != nil {
		t.Fatal(err)
	}
	leftover := filepath.Join(dir, "tmp", "put-12345")
	if err := os.WriteFile(leftover, []byte("half a blob"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := artifact.Open(dir, artifact.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(leftover); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("leftover temporary file still there: %v", err)
	}
}

func TestSumsDetectsCorruption(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t, artifact.Options{})
	sums, err := s.Put(ctx, strings.NewReader("good image"), "")
	if err != nil {
		t.Fatal(err)
	}
	p, _ := s.Path(sums.SHA256)
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("evil image"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sums(ctx, sums.SHA256); firmward.ErrorCode(err) != firmward.EINTERNAL || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("Sums of a corrupted blob: %v", err)
	}
}

func TestNamesAreValidated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t, artifact.Options{})
	// A file outside the blob tree that a traversal would reach.
	secret := filepath.Join(s.Root(), "secret")
	if err := os.WriteFile(secret, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := sum256([]byte("x"))
	for _, name := range []string{
		"", "../secret", "../../secret", "/etc/passwd", strings.ToUpper(good), good[:63], good + "0",
		good[:62] + "/.", good[:60] + "%2e%2e", good[:63] + "\x00", good[:63] + "g", "..",
	} {
		t.Run(name, func(t *testing.T) {
			if err := artifact.ValidSHA256(name); err == nil {
				t.Fatalf("ValidSHA256(%q) accepted it", name)
			}
			if _, _, err := s.Open(ctx, name); firmward.ErrorCode(err) != firmward.EINVALID {
				t.Errorf("Open(%q): %v, want invalid", name, err)
			}
			if _, err := s.Stat(ctx, name); firmward.ErrorCode(err) != firmward.EINVALID {
				t.Errorf("Stat(%q): %v, want invalid", name, err)
			}
			if err := s.Delete(ctx, name); firmward.ErrorCode(err) != firmward.EINVALID {
				t.Errorf("Delete(%q): %v, want invalid", name, err)
			}
		})
	}
	if _, err := os.Stat(secret); err != nil {
		t.Fatalf("the file outside the store is gone: %v", err)
	}
	if err := artifact.ValidSHA256(good); err != nil {
		t.Fatalf("ValidSHA256 refused a real digest: %v", err)
	}
}

// TestServeContentRange shows that Open's reader gives HTTP Range through
// http.ServeContent, which resumable downloads rely on.
func TestServeContentRange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t, artifact.Options{})
	content := bytes.Repeat([]byte("0123456789"), 1000)
	sums, err := s.Put(ctx, bytes.NewReader(content), "")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, _, err := s.Open(r.Context(), r.URL.Path[1:])
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		defer func() { _ = f.Close() }()
		http.ServeContent(w, r, "", time.Time{}, f)
	}))
	defer srv.Close()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/"+sums.SHA256, nil)
	req.Header.Set("Range", "bytes=9990-")
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusPartialContent || string(body) != "0123456789" {
		t.Fatalf("Range request: %d %q", res.StatusCode, body)
	}
}

func TestConcurrentPuts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t, artifact.Options{})
	content := bytes.Repeat([]byte("same"), 10000)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			_, err := s.Put(ctx, bytes.NewReader(content), sum256(content))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if fl := files(t, s.Root()); len(fl) != 1 {
		t.Fatalf("store holds %v after concurrent Puts of one content", fl)
	}
	if _, err := s.Sums(ctx, sum256(content)); err != nil {
		t.Fatal(err)
	}
}

func FuzzValidSHA256(f *testing.F) {
	for _, seed := range []string{
		"", "..", "../x", sum256(nil), strings.ToUpper(sum256(nil)), sum256(nil)[:63] + "/", "sha256:" + sum256(nil),
	} {
		f.Add(seed)
	}
	dir := f.TempDir()
	s, err := artifact.Open(dir, artifact.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := artifact.ValidSHA256(name)
		p, perr := s.Path(name)
		if (err == nil) != (perr == nil) {
			t.Fatalf("ValidSHA256 and Path disagree on %q: %v / %v", name, err, perr)
		}
		if err != nil {
			if firmward.ErrorCode(err) != firmward.EINVALID {
				t.Fatalf("ValidSHA256(%q) = %v, want an invalid error", name, err)
			}
			return
		}
		// An accepted name is 64 lowercase hex digits and maps inside the store.
		if _, derr := hex.DecodeString(name); derr != nil || len(name) != 64 || strings.ToLower(name) != name {
			t.Fatalf("ValidSHA256 accepted %q", name)
		}
		rel, rerr := filepath.Rel(filepath.Join(dir, "sha256"), p)
		if rerr != nil || strings.HasPrefix(rel, "..") || rel != filepath.Join(name[:2], name) {
			t.Fatalf("Path(%q) = %q is not inside the store", name, p)
		}
	})
}
