package radius_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	firmward "github.com/firmward/firmward"
	"github.com/firmward/firmward/nac"
	"github.com/firmward/firmward/radius"
	"github.com/firmward/firmward/sqlstore"
)

const clientSecret = "radclient-secret"

// newStoreDirectory opens a SQLite store with a compliant camera
// (3c:d9:2b:00:00:13), a camera with an overdue Immediate finding
// (3c:d9:2b:00:00:66) and a safety-critical infusion pump with the same
// kind of finding (3c:d9:2b:00:00:77), under an enforcing policy stored
// for their site, and returns the Directory the server uses:
// sqlstore.NACService (indexed MAC lookup, findings, persisted NAC state,
// the site's stored policy).
func newStoreDirectory(t *testing.T) *sqlstore.NACService {
	t.Helper()
	ctx := t.Context()
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "firmward.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	devices, findings := sqlstore.NewDeviceService(db), sqlstore.NewFindingService(db)
	mk := func(name string, cat firmward.Category, crit firmward.Criticality, mac string) int64 {
		d := &firmward.Device{
			Name: name, Manufacturer: "Hikvision", Model: "DS-2CD2042WD", Category: cat, Criticality: crit,
			Exposure: firmward.ExposureInternal, MACs: []string{mac}, Site: "hq",
		}
		if err := devices.CreateDevice(ctx, d); err != nil {
			t.Fatalf("creating %s: %v", name, err)
		}
		return d.ID
	}
	mk("lobby camera", firmward.CategoryCamera, firmward.CriticalityMedium, "3C-D9-2B-00-00-13")
	garage := mk("garage camera", firmward.CategoryCamera, firmward.CriticalityMedium, "3cd9.2b00.0066")
	pump := mk("infusion pump", firmward.CategoryMedical, firmward.CriticalitySafetyCritical, "3c:d9:2b:00:00:77")
	due := time.Now().AddDate(0, 0, -3).UTC()
	for _, id := range []int64{garage, pump} {
		f := firmward.Finding{
			CVE: "CVE-2017-7921", Certain: true, Decision: firmward.DecisionImmediate, KEV: true, DueDate: &due,
			Evidence: firmward.Evidence{Source: "nvd", Reason: "firmware in the vulnerable range"},
		}
		if _, err := findings.SyncDeviceFindings(ctx, id, []firmward.Finding{f}); err != nil {
			t.Fatalf("storing finding: %v", err)
		}
	}
	store, err := sqlstore.NewNACService(db, sqlstore.NACOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := nac.EnterprisePolicy("hq")
	p.Mode = nac.ModeEnforce
	if err := store.SetSitePolicy(ctx, p); err != nil {
		t.Fatal(err)
	}
	return store
}

// freeradiusBinary finds FreeRADIUS and radclient, skipping (or failing
// under CI=true) when they are missing.
func freeradiusBinary(t *testing.T) (string, string) {
	t.Helper()
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("FreeRADIUS tests skipped in -short mode")
	}
	var server string
	for _, name := range []string{"freeradius", "radiusd"} {
		if p, err := exec.LookPath(name); err == nil {
			server = p
			break
		}
		for _, dir := range []string{"/usr/sbin", "/usr/local/sbin"} {
			if _, err := os.Stat(filepath.Join(dir, name)); err == nil && server == "" {
				server = filepath.Join(dir, name)
			}
		}
	}
	client, _ := exec.LookPath("radclient")
	_, restErr := os.Stat("/usr/lib/freeradius/rlm_rest.so")
	if server == "" || client == "" || restErr != nil {
		msg := fmt.Sprintf("FreeRADIUS not installed (server %q, radclient %q, rlm_rest: %v); install the Debian packages freeradius, freeradius-rest and freeradius-utils", server, client, restErr)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + " (CI=true requires them)")
		}
		t.Skip(msg)
	}
	if _, err := os.ReadFile("/etc/freeradius/3.0/radiusd.conf"); err != nil {
		msg := fmt.Sprintf("FreeRADIUS is installed but its configuration is unreadable (run as root or in group freerad): %v", err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return server, client
}

func freeUDPPorts(t *testing.T) (int, int) {
	t.Helper()
	// Two adjacent-free ports: bind both, then release them for FreeRADIUS.
	a, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pa, pb := a.LocalAddr().(*net.UDPAddr).Port, b.LocalAddr().(*net.UDPAddr).Port
	_ = a.Close()
	_ = b.Close()
	return pa, pb
}

// syncBuffer collects FreeRADIUS's output for the failure message.
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

// startFreeRADIUS writes a configuration directory from Debian's and the
// firmward module and site, starts FreeRADIUS in the foreground and
// returns its authentication and accounting addresses once it is ready.
func startFreeRADIUS(t *testing.T, server string, cfg radius.FreeRADIUSConfig) (string, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "raddb")
	if out, err := exec.Command("cp", "-R", "/etc/freeradius/3.0", dir).CombinedOutput(); err != nil {
		t.Fatalf("copying /etc/freeradius/3.0: %v\n%s", err, out)
	}
	for _, g := range []string{"sites-enabled/*", "mods-enabled/eap"} {
		matches, _ := filepath.Glob(filepath.Join(dir, g))
		for _, m := range matches {
			if err := os.Remove(m); err != nil {
				t.Fatal(err)
			}
		}
	}
	auth, acct := freeUDPPorts(t)
	cfg.Listen, cfg.AuthPort, cfg.AcctPort = "127.0.0.1", auth, acct
	mod, err := cfg.RestModule()
	if err != nil {
		t.Fatal(err)
	}
	site, err := cfg.Site()
	if err != nil {
		t.Fatal(err)
	}
	conf, err := os.ReadFile(filepath.Join(dir, "radiusd.conf"))
	if err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "var")
	for _, sub := range []string{"log", "run"} {
		if err := os.MkdirAll(filepath.Join(state, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	replace := []struct{ re, with string }{
		{`(?m)^raddbdir = .*$`, "raddbdir = \"" + dir + "\""},
		{`(?m)^logdir = .*$`, "logdir = \"" + filepath.Join(state, "log") + "\""},
		{`(?m)^run_dir = .*$`, "run_dir = \"" + filepath.Join(state, "run") + "\""},
		{`(?m)^\s*user = freerad$`, ""},
		{`(?m)^\s*group = freerad$`, ""},
		{`(?m)^\s*reject_delay = .*$`, "\treject_delay = 0"},
		{`(?m)^proxy_requests\s*= .*$`, "proxy_requests = no"},
	}
	for _, r := range replace {
		re := regexp.MustCompile(r.re)
		if !re.Match(conf) {
			t.Fatalf("radiusd.conf has no line matching %s", r.re)
		}
		conf = re.ReplaceAll(conf, []byte(r.with))
	}
	files := map[string]string{
		"radiusd.conf":           string(conf),
		"mods-enabled/firmward":  mod,
		"sites-enabled/firmward": site,
		"clients.conf":           "client localhost {\n\tipaddr = 127.0.0.1\n\tsecret = " + clientSecret + "\n}\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	out := &syncBuffer{}
	cmd := exec.Command(server, "-f", "-l", "stdout", "-d", dir)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", server, err)
	}
	_ = pw.Close()
	ready, readDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(readDone)
		sc := bufio.NewScanner(pr)
		once := sync.Once{}
		for sc.Scan() {
			line := sc.Text()
			_, _ = fmt.Fprintln(out, line)
			if strings.Contains(line, "Ready to process requests") {
				once.Do(func() { close(ready) })
			}
		}
	}()
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		<-readDone
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("FreeRADIUS output:\n%s", out)
		}
	})
	select {
	case <-ready:
	case <-exited:
		t.Fatalf("FreeRADIUS exited before it was ready: %v\n%s", waitErr, out)
	case <-time.After(20 * time.Second):
		t.Fatalf("FreeRADIUS not ready after 20 s:\n%s", out)
	}
	return fmt.Sprintf("127.0.0.1:%d", auth), fmt.Sprintf("127.0.0.1:%d", acct)
}

var vlanLine = regexp.MustCompile(`Tunnel-Private-Group-Id(?::\d+)? = "?([^"\s]+)"?`)

// radclientMAB sends a MAC authentication bypass request as a switch does
// and returns the answer's code and VLAN.
func radclientMAB(t *testing.T, client, addr, mac string) (string, string) {
	t.Helper()
	hex := strings.ReplaceAll(mac, ":", "")
	dashed := strings.ToUpper(strings.ReplaceAll(mac, ":", "-"))
	return radclient(t, client, addr, fmt.Sprintf("User-Name = \"%s\"\nUser-Password = \"%s\"\nCalling-Station-Id = \"%s\"\nService-Type = Call-Check\nNAS-IP-Address = 127.0.0.1\nNAS-Port = 7\n", hex, hex, dashed))
}

// radclient sends one Access-Request and returns the answer's code and VLAN.
func radclient(t *testing.T, client, addr, in string) (string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, client, "-x", "-r", "1", "-t", "8", addr, "auth", clientSecret)
	cmd.Stdin = strings.NewReader(in)
	out, _ := cmd.CombinedOutput() // radclient exits 1 on a reject; the output says what happened
	text := string(out)
	var code string
	for _, c := range []string{"Access-Accept", "Access-Reject"} {
		if strings.Contains(text, "Received "+c) {
			code = c
		}
	}
	if code == "" {
		t.Fatalf("radclient got no answer for\n%s\n%s", in, text)
	}
	var vlan string
	if m := vlanLine.FindStringSubmatch(text); m != nil {
		vlan = m[1]
	}
	return code, vlan
}

func TestFreeRADIUS(t *testing.T) {
	t.Parallel()
	server, client := freeradiusBinary(t)
	tests := []struct {
		name     string
		failOpen bool
		unknown  nac.Unknown
		// what radclient gets: code and VLAN per MAC, then with firmward down
		unknownCode, unknownVLAN string
		downCode, downVLAN       string
	}{
		{
			name: "fail-closed and unknown MACs rejected", unknown: nac.Unknown{Action: nac.UnknownReject},
			unknownCode: "Access-Reject", downCode: "Access-Reject",
		},
		{
			name: "fail-open and unknown MACs to the registration VLAN", failOpen: true, unknown: nac.Unknown{Action: nac.UnknownVLAN, VLAN: "99"},
			unknownCode: "Access-Accept", unknownVLAN: "99", downCode: "Access-Accept", downVLAN: "10",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := newStoreDirectory(t)
			sessions := radius.NewSessions(0)
			h, err := radius.NewHandler(radius.Config{Secret: testSecret, Directory: dir, Sessions: sessions, Unknown: tt.unknown})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(h)
			defer srv.Close()
			cfg := radius.FreeRADIUSConfig{URL: srv.URL, Secret: testSecret, FailOpen: tt.failOpen, Timeout: 2 * time.Second}
			if tt.failOpen {
				cfg.FailOpenVLAN = "10"
			}
			addr, acctAddr := startFreeRADIUS(t, server, cfg)

			cases := []struct{ what, mac, code, vlan string }{
				{"compliant camera", "3c:d9:2b:00:00:13", "Access-Accept", "30"},
				{"quarantined camera", "3c:d9:2b:00:00:66", "Access-Accept", "666"},
				{"safety-critical pump with the same finding keeps its segment", "3c:d9:2b:00:00:77", "Access-Accept", "40"},
				{"unknown MAC", "00:11:22:33:44:55", tt.unknownCode, tt.unknownVLAN},
			}
			// A request without any MAC is refused by firmward (400) and
			// rejected by FreeRADIUS in both modes.
			if code, _ := radclient(t, client, addr, "User-Name = \"alice\"\nUser-Password = \"x\"\nNAS-IP-Address = 127.0.0.1\n"); code != "Access-Reject" {
				t.Errorf("request without a MAC: %s, want Access-Reject", code)
			}
			for _, c := range cases {
				code, vlan := radclientMAB(t, client, addr, c.mac)
				if code != c.code || vlan != c.vlan {
					t.Errorf("%s (%s): %s VLAN %q, want %s VLAN %q", c.what, c.mac, code, vlan, c.code, c.vlan)
				}
			}
			// post-auth recorded the NAS of each accepted device.
			if s, err := sessions.LastSession(t.Context(), "3c:d9:2b:00:00:66"); err != nil || s.NASIP.String() != "127.0.0.1" || s.Event != "authenticated" {
				t.Errorf("post-auth session %+v, %v", s, err)
			}

			// accounting through FreeRADIUS records the NAS and session for CoA.
			acct := "User-Name = \"3cd92b000013\"\nAcct-Status-Type = Start\nAcct-Session-Id = \"0000001A\"\n" +
				"NAS-IP-Address = 127.0.0.2\nNAS-Identifier = \"sw-floor-2\"\nCalling-Station-Id = \"3C-D9-2B-00-00-13\"\nNAS-Port = 12\n"
			cmd := exec.CommandContext(t.Context(), client, "-x", "-r", "1", "-t", "8", acctAddr, "acct", clientSecret)
			cmd.Stdin = strings.NewReader(acct)
			if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "Received Accounting-Response") {
				t.Errorf("accounting: %v\n%s", err, out)
			}
			s, err := sessions.LastSession(t.Context(), "3c:d9:2b:00:00:13")
			if err != nil || s.NASIdentifier != "sw-floor-2" || s.NASIP.String() != "127.0.0.2" || s.AcctSessionID != "0000001A" || s.Event != "Start" || s.NASPort != "12" {
				t.Errorf("accounting session %+v, %v", s, err)
			}

			srv.Close() // firmward unreachable
			code, vlan := radclientMAB(t, client, addr, "3c:d9:2b:00:00:13")
			if code != tt.downCode || vlan != tt.downVLAN {
				t.Errorf("firmward unreachable: %s VLAN %q, want %s VLAN %q", code, vlan, tt.downCode, tt.downVLAN)
			}
		})
	}
}

// A FreeRADIUS configured with the wrong secret is refused (403 ->
// userlock) and rejects, even when fail-open: a misconfiguration is not an
// outage.
func TestFreeRADIUSWrongSecret(t *testing.T) {
	t.Parallel()
	server, client := freeradiusBinary(t)
	h, err := radius.NewHandler(radius.Config{Secret: testSecret, Directory: newStoreDirectory(t), Sessions: radius.NewSessions(0)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	addr, _ := startFreeRADIUS(t, server, radius.FreeRADIUSConfig{URL: srv.URL, Secret: "not-the-secret-firmward-has", FailOpen: true, FailOpenVLAN: "10"})
	if code, vlan := radclientMAB(t, client, addr, "3c:d9:2b:00:00:13"); code != "Access-Reject" {
		t.Errorf("wrong secret: %s VLAN %q, want Access-Reject", code, vlan)
	}
}
