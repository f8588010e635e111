package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer that a server goroutine writes while the
// test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// mapEnv is a getenv over a map.
func mapEnv(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

// testServer is `firmward serve` running in-process on 127.0.0.1:0.
type testServer struct {
	URL    string
	Data   string
	Token  string
	Stdout *syncBuffer
	Stderr *syncBuffer

	cancel context.CancelFunc
	done   chan int
	once   sync.Once
	code   int
}

var listeningLine = regexp.MustCompile(`(?m)^firmward listening on (http://\S+)$`)

// startServer runs `firmward serve --addr 127.0.0.1:0 --data DATA ARGS…`
// and waits for its listening line. env is its environment; when env sets
// FIRMWARD_ADDR and FIRMWARD_DATA, pass data and no --addr by giving
// noFlags.
func startServer(t *testing.T, data string, env map[string]string, args ...string) *testServer {
	t.Helper()
	if args == nil {
		args = []string{"serve", "--addr", "127.0.0.1:0", "--data", data}
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &testServer{Data: data, Stdout: &syncBuffer{}, Stderr: &syncBuffer{}, cancel: cancel, done: make(chan int, 1)}
	a := &app{stdin: strings.NewReader(""), stdout: s.Stdout, stderr: s.Stderr, getenv: mapEnv(env)}
	go func() { s.done <- a.run(ctx, args) }()
	t.Cleanup(func() { s.stop(t) })

	deadline := time.After(20 * time.Second)
	for {
		if m := listeningLine.FindStringSubmatch(s.Stdout.String()); m != nil {
			s.URL = m[1]
			break
		}
		select {
		case code := <-s.done:
			s.done <- code
			t.Fatalf("serve exited with %d before listening\nstdout:\n%s\nstderr:\n%s", code, s.Stdout, s.Stderr)
		case <-deadline:
			t.Fatalf("serve did not print its listening line\nstdout:\n%s\nstderr:\n%s", s.Stdout, s.Stderr)
		case <-time.After(5 * time.Millisecond):
		}
	}
	tok, err := os.ReadFile(filepath.Join(data, tokenFileName))
	if err != nil {
		t.Fatalf("reading the admin token: %v", err)
	}
	s.Token = strings.TrimSpace(string(tok))
	return s
}

// stop cancels the server's context (as SIGINT does) and returns its exit
// status.
func (s *testServer) stop(t *testing.T) int {
	t.Helper()
	s.once.Do(func() {
		s.cancel()
		select {
		case s.code = <-s.done:
		case <-time.After(60 * time.Second):
			t.Errorf("serve did not stop within 60 s after cancel")
			s.code = -1
		}
	})
	return s.code
}

// result is what one CLI run printed and its exit status.
type result struct {
	stdout, stderr string
	code           int
}

// cli runs the firmward command with args, the environment env and, when
// tty is set, a stderr that counts as a terminal.
func cli(t *testing.T, env map[string]string, tty bool, args ...string) result {
	t.Helper()
	return runApp(&app{stdin: strings.NewReader(""), getenv: mapEnv(env), stderrTTY: tty}, args)
}

// cliStdin runs the firmward command with stdin as its standard input.
func cliStdin(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return runApp(&app{stdin: strings.NewReader(stdin), getenv: mapEnv(nil)}, args)
}

func runApp(a *app, args []string) result {
	var stdout, stderr bytes.Buffer
	a.stdout, a.stderr = &stdout, &stderr
	code := a.run(context.Background(), args)
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// run runs a client command against s with --server and --token.
func (s *testServer) run(t *testing.T, args ...string) result {
	t.Helper()
	return cli(t, nil, false, append([]string{"--server", s.URL, "--token", s.Token}, args...)...)
}

// ok runs a client command that must succeed and returns its stdout.
func (s *testServer) ok(t *testing.T, args ...string) string {
	t.Helper()
	r := s.run(t, args...)
	if r.code != 0 {
		t.Fatalf("firmward %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// okJSON runs a client command with --json that must succeed and decodes
// its output into v.
func (s *testServer) okJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	out := s.ok(t, append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("firmward %s --json printed no JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// fails runs a client command that must exit with code and returns what it
// printed.
func (s *testServer) fails(t *testing.T, code int, args ...string) result {
	t.Helper()
	r := s.run(t, args...)
	if r.code != code {
		t.Fatalf("firmward %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
	}
	return r
}

func mustContain(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s does not contain %q:\n%s", what, sub, s)
		}
	}
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

func TestUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr []string
	}{
		{"no-args", nil, 2, nil, []string{"Usage:", "serve", "device add"}},
		{"help", []string{"help"}, 0, []string{"Usage:", "device import", "seed enterprise", "audit verify", "FIRMWARD_UPDATE_MECHANISM", "Exit status"}, nil},
		{"dash-h", []string{"-h"}, 0, []string{"Usage:"}, nil},
		{"help-command", []string{"help", "device", "add"}, 0, []string{"Usage: firmward device add", "--name", "--mac", "[$FIRMWARD_MAC]", "--server", "--json"}, nil},
		{"help-group", []string{"help", "token"}, 0, []string{"token create", "token revoke"}, nil},
		{"command-h", []string{"device", "import", "-h"}, 0, []string{"Usage: firmward device import FILE", "--dry-run", "CSV columns: name, manufacturer"}, nil},
		{"serve-h", []string{"serve", "--help"}, 0, []string{"--addr", "--data", "--db", "--log-format", "[$FIRMWARD_ADDR]"}, nil},
		{"group-h", []string{"device", "-h"}, 0, []string{"device list", "device export"}, nil},
		{"version", []string{"version"}, 0, []string{"firmward "}, nil},
		{"unknown", []string{"frobnicate"}, 2, nil, []string{`unknown command "frobnicate"`, "serve, device, seed, token, audit, feeds, vulns, keys, scan, nac, checks, eol, vendors, report, notify, release, action, campaign, task, sim, help, version"}},
		{"help-unknown", []string{"help", "frobnicate"}, 2, nil, []string{`unknown command "frobnicate"`}},
		{"group-alone", []string{"device"}, 2, nil, []string{"device needs a subcommand", "add, list, show, edit, rm, import, export"}},
		{"group-unknown", []string{"token", "mint"}, 2, nil, []string{`token has no subcommand "mint"`, "create, list, revoke"}},
		{"bad-flag", []string{"device", "list", "--colour", "red"}, 2, nil, []string{"flag provided but not defined: -colour", "Run 'firmward device list -h'"}},
		{"missing-id", []string{"device", "show"}, 2, nil, []string{"missing argument: firmward device show ID"}},
		{"bad-id", []string{"device", "rm", "abc"}, 2, nil, []string{`"abc" is not a device ID`}},
		{"extra-arg", []string{"token", "list", "x"}, 2, nil, []string{`unexpected argument "x"`}},
		{"add-no-name", []string{"device", "add", "--model", "X"}, 2, nil, []string{"--name is required"}},
		{"edit-nothing", []string{"--token", "t", "device", "edit", "3"}, 2, nil, []string{"nothing to change"}},
		{"import-format", []string{"device", "import", "inventory.xlsx"}, 2, nil, []string{"cannot tell the format", "--format csv"}},
		{"bad-log-format", []string{"serve", "--log-format", "xml"}, 2, nil, []string{`--log-format "xml"`}},
		{"bad-count", []string{"seed", "enterprise", "--count", "0"}, 2, nil, []string{"--count 0"}},
		{"bad-role", []string{"token", "create", "--name", "x", "--role", "root"}, 2, nil, []string{`role "root" is not one of`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := cli(t, nil, false, tc.args...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tc.code, r.stdout, r.stderr)
			}
			mustContain(t, "stdout", r.stdout, tc.stdout...)
			mustContain(t, "stderr", r.stderr, tc.stderr...)
		})
	}
}

// TestNoServer checks the messages a user sees before a server exists.
func TestNoServer(t *testing.T) {
	t.Parallel()
	t.Run("no-token", func(t *testing.T) {
		t.Parallel()
		r := cli(t, map[string]string{"FIRMWARD_DATA": t.TempDir()}, false, "device", "list")
		if r.code != 1 {
			t.Fatalf("exit %d, want 1", r.code)
		}
		mustContain(t, "stderr", r.stderr, "no API token", "run `firmward serve` first", "--token")
	})
	t.Run("connection-refused", func(t *testing.T) {
		t.Parallel()
		url := "http://" + freeAddr(t)
		r := cli(t, nil, false, "--server", url, "--token", "fwt_x", "device", "list")
		if r.code != 1 {
			t.Fatalf("exit %d, want 1", r.code)
		}
		mustContain(t, "stderr", r.stderr, "is `firmward serve` running at "+url)
	})
	t.Run("connection-refused-json", func(t *testing.T) {
		t.Parallel()
		r := cli(t, nil, false, "--server", freeAddr(t), "--token", "fwt_x", "--json", "token", "list")
		var body struct {
			Error struct{ Code, Message string }
		}
		if r.code != 1 || json.Unmarshal([]byte(r.stdout), &body) != nil || !strings.Contains(body.Error.Message, "firmward serve") {
			t.Fatalf("exit %d, stdout %q", r.code, r.stdout)
		}
	})
}

func TestParseInterspersed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		pos  string
		json bool
	}{
		{[]string{"3", "--json"}, "3", true},
		{[]string{"--json", "3"}, "3", true},
		{[]string{"3"}, "3", false},
		{[]string{"--", "-3", "--json"}, "-3 --json", false},
		{[]string{"a", "--json", "b"}, "a b", true},
	} {
		fs := newFlags("t")
		j := fs.Bool("json", false, "")
		pos, err := parseInterspersed(fs, tc.args)
		if err != nil || strings.Join(pos, " ") != tc.pos || *j != tc.json {
			t.Errorf("parseInterspersed(%q) = %q, json %v, %v; want %q, %v", tc.args, pos, *j, err, tc.pos, tc.json)
		}
	}
}
