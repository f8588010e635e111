// Package e2e holds end-to-end tests that drive the built firmward binary.
//
// TestBrowser builds cmd/firmward, starts `firmward serve` on 127.0.0.1:0
// with a fresh data directory and runs e2e/browser/ui.mjs, a playwright-core
// script, in Debian's Chromium against it. Screenshots go to test-results/
// at the repository root.
//
// Setup: apt-get install chromium nodejs npm; (cd e2e/browser && npm ci).
// Without Chromium, node or node_modules the test is skipped, or fails when
// CI=true.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const listeningPrefix = "firmward listening on "

// need skips the test, or fails it on CI, when a prerequisite is missing.
func need(t *testing.T, ok bool, msg string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

func TestBrowser(t *testing.T) {
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("browser test skipped in -short mode")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	_, err = os.Stat(chromium)
	need(t, err == nil, "no Chromium at "+chromium+" (apt-get install chromium, or set CHROMIUM)")
	node, err := exec.LookPath("node")
	need(t, err == nil, "node is not installed (apt-get install nodejs npm)")
	_, err = os.Stat(filepath.Join(root, "e2e", "browser", "node_modules", "playwright-core", "package.json"))
	need(t, err == nil, "playwright-core is not installed: run (cd e2e/browser && npm ci)")
	goTool, err := exec.LookPath("go")
	need(t, err == nil, "the go tool is not in PATH")

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "firmward")
	build := exec.CommandContext(ctx, goTool, "build", "-o", bin, "./cmd/firmward")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/firmward: %v\n%s", err, out)
	}

	base, token := startServer(t, ctx, bin, filepath.Join(tmp, "data"))

	outDir := filepath.Join(root, "test-results")
	script := exec.CommandContext(ctx, node, filepath.Join("e2e", "browser", "ui.mjs"))
	script.Dir = root
	script.Env = append(cleanEnv(),
		"BASE_URL="+base, "TOKEN="+token, "OUT_DIR="+outDir, "CHROMIUM="+chromium)
	out, err := script.CombinedOutput()
	t.Logf("ui.mjs output:\n%s", out)
	if err != nil {
		t.Fatalf("browser test failed (%v); screenshots in %s", err, outDir)
	}
}

// startServer runs `firmward serve` on a free loopback port and returns its
// URL and admin token. The server is stopped when the test ends; its output
// is logged if the test fails.
func startServer(t *testing.T, ctx context.Context, bin, data string) (string, string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, bin, "serve", "--addr", "127.0.0.1:0", "--data", data)
	cmd.Env = cleanEnv()
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			t.Logf("stopping firmward serve: %v", err) // it has exited already
		}
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			if err := cmd.Process.Kill(); err != nil {
				t.Logf("killing firmward serve: %v", err)
			}
			<-done
		}
		if t.Failed() {
			t.Logf("firmward serve stderr:\n%s", stderr.String())
		}
	})

	urls := make(chan string, 1)
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		found := false
		for sc.Scan() {
			if line := sc.Text(); !found && strings.HasPrefix(line, listeningPrefix) {
				found = true
				urls <- strings.TrimSpace(strings.TrimPrefix(line, listeningPrefix))
			}
		}
		if _, err := io.Copy(io.Discard, stdout); err != nil {
			t.Logf("reading firmward serve output: %v", err)
		}
		if err := cmd.Wait(); err != nil {
			t.Logf("firmward serve: %v", err) // killed by the interrupt
		}
	}()
	var base string
	select {
	case base = <-urls:
	case <-done:
		t.Fatalf("firmward serve exited before listening:\n%s", stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("firmward serve did not print %q within 60s:\n%s", listeningPrefix, stderr.String())
	}
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("listening on %q, want http://127.0.0.1:PORT", base)
	}
	tok, err := os.ReadFile(filepath.Join(data, "admin-token"))
	if err != nil {
		t.Fatalf("reading the admin token: %v", err)
	}
	token := strings.TrimSpace(string(tok))
	if token == "" {
		t.Fatal("the admin-token file is empty")
	}
	return base, token
}

// cleanEnv is the environment without FIRMWARD_* settings of the person
// running the tests.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "FIRMWARD_") {
			env = append(env, kv)
		}
	}
	return env
}

// lockedBuffer is a bytes.Buffer safe for the writes of a process and the
// reads of the test.
type lockedBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
