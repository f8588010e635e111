// Package reportpdf prints an HTML page to PDF with Debian's Chromium in
// headless mode (issue 7, requirement 5: the compliance report as PDF).
// Each call writes the page into its own temporary directory, runs
//
//	chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
//	  --print-to-pdf=OUT --no-pdf-header-footer file://DIR/report.html
//
// in its own process group with a private profile directory, kills the
// whole group when the timeout or the context ends, and removes the
// directory. The page must be self-contained: Chromium is not allowed to
// fetch anything from the network (--disable-background-networking, and
// the report carries no outside resources).
package reportpdf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// DefaultTimeout bounds one rendering when Config.Timeout is zero.
const DefaultTimeout = 60 * time.Second

// MaxPDFBytes bounds the PDF read back (a report is a few hundred KiB).
const MaxPDFBytes = 64 << 20

// Config configures a Renderer.
type Config struct {
	// Chromium is the browser binary; "" looks up chromium, then
	// chromium-browser, in PATH.
	Chromium string
	// Timeout bounds one rendering (0 means DefaultTimeout).
	Timeout time.Duration
	// TempDir is where the per-call directories go ("" means os.TempDir).
	TempDir string
	Logger  *slog.Logger // nil discards
}

// Renderer turns HTML into PDF. It is safe for concurrent use; each call
// runs its own browser.
type Renderer struct {
	cfg Config
}

// New returns a Renderer. It does not look for the browser: Available and
// PDF do.
func New(cfg Config) *Renderer {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Renderer{cfg: cfg}
}

// Chromium returns the path of the browser, or an error naming what was
// looked for.
func (r *Renderer) Chromium() (string, error) {
	if r.cfg.Chromium != "" {
		p, err := exec.LookPath(r.cfg.Chromium)
		if err != nil {
			return "", fmt.Errorf("chromium %q not found: %w", r.cfg.Chromium, err)
		}
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("chromium not found in PATH (Debian package chromium): PDF reports need it")
}

// PDF prints the HTML page read from html and writes the PDF to w. Errors
// name the step that failed and carry the browser's last output lines.
func (r *Renderer) PDF(ctx context.Context, html io.Reader, w io.Writer) error {
	bin, err := r.Chromium()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp(r.cfg.TempDir, "firmward-pdf-")
	if err != nil {
		return fmt.Errorf("making a temporary directory for the PDF: %w", err)
	}
	defer func() { _ = os.RemoveAll(dir) }()
	in := filepath.Join(dir, "report.html")
	out := filepath.Join(dir, "report.pdf")
	f, err := os.OpenFile(in, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("writing the report page: %w", err)
	}
	_, err = io.Copy(f, html)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing the report page: %w", err)
	}

	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, //nolint:gosec // the browser binary is configuration, the arguments are fixed
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-extensions", "--disable-sync", "--no-first-run", "--no-default-browser-check",
		"--disable-dev-shm-usage", "--user-data-dir="+filepath.Join(dir, "profile"),
		"--no-pdf-header-footer", "--print-to-pdf="+out, "file://"+in)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+dir, "XDG_CACHE_HOME="+dir)
	var stderr tailBuffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// The browser forks renderer and GPU processes: kill them all.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err = cmd.Run()
	if cmd.Process != nil {
		// Leftover helpers of a browser that exited are killed too.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("chromium did not print the PDF within %s: %w (%s)", r.cfg.Timeout, ctx.Err(), stderr.tail())
	}
	if err != nil {
		return fmt.Errorf("chromium failed to print the PDF: %w (%s)", err, stderr.tail())
	}
	pdf, err := os.Open(out) //nolint:gosec // our own temporary file
	if err != nil {
		return fmt.Errorf("chromium wrote no PDF: %w (%s)", err, stderr.tail())
	}
	defer func() { _ = pdf.Close() }()
	var head [5]byte
	if _, err := io.ReadFull(pdf, head[:]); err != nil || string(head[:]) != "%PDF-" {
		return fmt.Errorf("chromium wrote something that is not a PDF (%s)", stderr.tail())
	}
	if _, err := w.Write(head[:]); err != nil {
		return fmt.Errorf("writing the PDF: %w", err)
	}
	n, err := io.Copy(w, io.LimitReader(pdf, MaxPDFBytes))
	if err != nil {
		return fmt.Errorf("writing the PDF: %w", err)
	}
	r.cfg.Logger.Debug("report printed to PDF", "bytes", n+5, "took", time.Since(start))
	return nil
}

// tailBuffer keeps the last 4 KiB of the browser's output for errors.
type tailBuffer struct{ b bytes.Buffer }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b.Write(p)
	if t.b.Len() > 8<<10 {
		keep := t.b.Bytes()[t.b.Len()-4<<10:]
		t.b = *bytes.NewBuffer(append([]byte(nil), keep...))
	}
	return len(p), nil
}

func (t *tailBuffer) tail() string {
	s := strings.TrimSpace(t.b.String())
	lines := strings.Split(s, "\n")
	if len(lines) > 3 {
		lines = lines[len(lines)-3:]
	}
	if s == "" {
		return "no output"
	}
	return strings.Join(lines, " | ")
}
