package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/firmward/firmward"
)

func TestServeFirstStart(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	s := startServer(t, data, nil)

	// The token is printed once, on stdout, and saved with mode 0600 in a
	// 0700 data directory.
	out := s.Stdout.String()
	want := fmt.Sprintf("admin token (shown once, also saved to %s): %s\n", filepath.Join(data, "admin-token"), s.Token)
	if !strings.HasPrefix(out, want) {
		t.Errorf("stdout starts %q, want %q", out, want)
	}
	if !strings.HasPrefix(s.Token, firmward.TokenSecretPrefix) {
		t.Errorf("token %q lacks the fwt_ prefix", s.Token)
	}
	if n := strings.Count(out, "\n"); n != 2 {
		t.Errorf("stdout has %d lines, want the token and the listening line:\n%s", n, out)
	}
	for path, mode := range map[string]os.FileMode{data: 0o700, filepath.Join(data, "admin-token"): 0o600} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != mode {
			t.Errorf("%s has mode %o, want %o", path, st.Mode().Perm(), mode)
		}
	}
	if _, err := os.Stat(filepath.Join(data, "firmward.db")); err != nil {
		t.Errorf("no SQLite database in the data directory: %v", err)
	}

	// /healthz, /metrics (with the database collector), the API and the web
	// UI answer.
	for path, want := range map[string]string{
		"/healthz":             "ok",
		"/metrics":             `go_sql_open_connections{db_name="sqlite"}`,
		"/api/v1/openapi.json": `"openapi"`,
		"/login":               "Sign in to firmward", // the web UI is mounted
	} {
		resp, err := http.Get(s.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: %s, body lacks %q:\n%.500s", path, resp.Status, want, body)
		}
	}
	who := s.ok(t, "token", "list")
	mustContain(t, "token list", who, "admin", "active")
	mustContain(t, "log", s.Stderr.String(), "level=INFO", "serving")

	if code := s.stop(t); code != 0 {
		t.Fatalf("serve exited %d after the signal, want 0\n%s", code, s.Stderr)
	}

	// A second start prints nothing secret and keeps the token.
	s2 := startServer(t, data, nil)
	if out := s2.Stdout.String(); strings.Contains(out, "fwt_") || strings.Count(out, "\n") != 1 {
		t.Errorf("second start printed more than the listening line:\n%s", out)
	}
	if s2.Token != s.Token {
		t.Error("the token file changed on the second start")
	}
	s2.ok(t, "device", "list")
}

// TestServeRecreatesTokenWhenAllRevoked: with no live token left, the next
// start makes a new admin token, so that nobody is locked out.
func TestServeRecreatesTokenWhenAllRevoked(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	s := startServer(t, data, nil)
	s.ok(t, "token", "revoke", "1")
	s.fails(t, 1, "token", "list")
	s.stop(t)
	s2 := startServer(t, data, nil)
	mustContain(t, "stdout", s2.Stdout.String(), "admin token (shown once")
	if s2.Token == s.Token {
		t.Fatal("the revoked token is still in the token file")
	}
	s2.ok(t, "token", "list")
}

func TestServeEnvTwins(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	env := map[string]string{
		"FIRMWARD_ADDR":       "127.0.0.1:0",
		"FIRMWARD_DATA":       data,
		"FIRMWARD_DB":         filepath.Join(data, "other.db"),
		"FIRMWARD_LOG_FORMAT": "json",
	}
	s := startServer(t, data, env, "serve")
	if _, err := os.Stat(filepath.Join(data, "other.db")); err != nil {
		t.Errorf("FIRMWARD_DB was not used: %v", err)
	}
	line, _, _ := strings.Cut(s.Stderr.String(), "\n")
	if !json.Valid([]byte(line)) {
		t.Errorf("FIRMWARD_LOG_FORMAT=json gave a non-JSON log line: %s", line)
	}

	// The client finds the token through FIRMWARD_DATA, the server through
	// FIRMWARD_SERVER, and FIRMWARD_JSON asks for JSON.
	r := cli(t, map[string]string{"FIRMWARD_DATA": data, "FIRMWARD_SERVER": s.URL, "FIRMWARD_JSON": "true"}, false, "token", "list")
	if r.code != 0 || !json.Valid([]byte(r.stdout)) {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}

	// A flag wins over its twin.
	r = cli(t, map[string]string{"FIRMWARD_SERVER": "http://" + freeAddr(t), "FIRMWARD_TOKEN": "fwt_wrong"}, false,
		"--server", s.URL, "--token", s.Token, "token", "list")
	if r.code != 0 {
		t.Fatalf("flags did not win over the environment: exit %d\n%s", r.code, r.stderr)
	}
	r = cli(t, map[string]string{"FIRMWARD_SERVER": s.URL, "FIRMWARD_TOKEN": "fwt_wrong"}, false, "token", "list")
	if r.code != 1 {
		t.Fatalf("FIRMWARD_TOKEN was not used: exit %d", r.code)
	}
	mustContain(t, "stderr", r.stderr, "The server refused the token")

	// A bad value in a twin is a usage error that names the variable.
	r = cli(t, map[string]string{"FIRMWARD_JSON": "maybe"}, false, "token", "list")
	if r.code != 2 || !strings.Contains(r.stderr, "FIRMWARD_JSON") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestServeDefaults runs the server and the client from one working
// directory with no flags but the address: the data directory is
// ./firmward-data and the client reads its admin-token.
func TestServeDefaults(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	s := startServer(t, defaultDataDir, nil, "serve", "--addr", "127.0.0.1:0")
	if _, err := os.Stat(filepath.Join(dir, defaultDataDir, "firmward.db")); err != nil {
		t.Fatal(err)
	}
	r := cli(t, nil, false, "--server", s.URL, "device", "add", "--name", "no-token-flag")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
}

func TestServeAddrInUse(t *testing.T) {
	t.Parallel()
	s := startServer(t, t.TempDir(), nil)
	addr := strings.TrimPrefix(s.URL, "http://")
	r := cli(t, nil, false, "serve", "--addr", addr, "--data", t.TempDir())
	if r.code != 1 {
		t.Fatalf("exit %d, want 1", r.code)
	}
	mustContain(t, "stderr", r.stderr, "listening on "+addr, "--addr")
}

// TestGracefulShutdown sends half of an import, signals the server (cancels
// its context), checks that it stops accepting connections, sends the rest,
// and checks that the import completes and is stored.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	s := startServer(t, data, nil)
	addr := strings.TrimPrefix(s.URL, "http://")

	const rows = 300
	var body strings.Builder
	body.WriteString("name,manufacturer,notes\n")
	for i := range rows {
		fmt.Fprintf(&body, "in-flight-%03d,Acme,%s\n", i, strings.Repeat("x", 100))
	}
	first, rest := body.String()[:body.Len()/2], body.String()[body.Len()/2:]

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	_, _ = fmt.Fprintf(conn, "POST /api/v1/devices/import?format=csv HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: text/csv\r\nContent-Length: %d\r\n\r\n%s", addr, s.Token, body.Len(), first)
	time.Sleep(100 * time.Millisecond) // the server reads the headers and starts the handler

	exited := make(chan int, 1)
	go func() { exited <- s.stop(t) }()

	// The listener closes: new connections are refused.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		_ = c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the server still accepts connections after the signal")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case code := <-exited:
		t.Fatalf("serve exited (%d) with a request in flight", code)
	default:
	}

	// The request in flight completes.
	if _, err := io.WriteString(conn, rest); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no response to the request in flight: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	var res firmward.ImportResult
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil || resp.StatusCode != http.StatusOK || res.Created != rows {
		t.Fatalf("import in flight: %s, %+v, %v", resp.Status, res, err)
	}
	if code := <-exited; code != 0 {
		t.Fatalf("serve exited %d, want 0\n%s", code, s.Stderr)
	}
	mustContain(t, "log", s.Stderr.String(), "shutting down", "stopped")

	// What it imported was committed before the database closed.
	s2 := startServer(t, data, nil)
	var list struct{ Devices []firmward.Device }
	s2.okJSON(t, &list, "device", "list", "--q", "in-flight", "--all")
	if len(list.Devices) != rows {
		t.Fatalf("%d devices after restart, want %d", len(list.Devices), rows)
	}
}

// TestPublicURL checks where messages link to: --public-url, else the
// listen address, with the machine's name for an unspecified address; a
// bad --public-url stops serve before it starts.
func TestPublicURL(t *testing.T) {
	t.Parallel()
	var lc net.ListenConfig
	for _, tc := range []struct{ addr, flag, want string }{
		{"127.0.0.1:0", "", "http://127.0.0.1:"},
		{"127.0.0.1:0", "https://firmward.example.org/", "https://firmward.example.org"},
		{"0.0.0.0:0", "", "http://" + hostname(t) + ":"},
	} {
		ln, err := lc.Listen(t.Context(), "tcp", tc.addr)
		if err != nil {
			t.Fatal(err)
		}
		m := &Main{PublicURL: tc.flag, ln: ln}
		got := m.publicURL()
		_ = ln.Close()
		if !strings.HasPrefix(got, tc.want) || (tc.flag == "" && strings.HasSuffix(got, ":")) {
			t.Errorf("publicURL(addr %s, flag %q) = %q, want %q…", tc.addr, tc.flag, got, tc.want)
		}
	}
	r := cli(t, nil, false, "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--public-url", "ftp://files.example.org")
	if r.code != 1 || !strings.Contains(r.stderr, "--public-url") {
		t.Fatalf("bad --public-url: exit %d, stderr %q", r.code, r.stderr)
	}
}

func hostname(t *testing.T) string {
	t.Helper()
	name, err := os.Hostname()
	if err != nil {
		t.Skip(err)
	}
	return name
}
