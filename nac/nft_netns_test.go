package nac

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// netnsLab is three network namespaces made by the test: a device and an
// upstream host on either side of a router, joined by veth pairs. Every
// packet stays inside them.
type netnsLab struct {
	router, device, upstream string
	deviceMAC                string
}

const (
	labDeviceIP   = "10.77.1.2"
	labUpstreamIP = "10.77.2.2"
)

// needNetns skips (or, under CI=true, fails) unless the test can create
// namespaces and run nft.
func needNetns(t *testing.T) {
	t.Helper()
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root")
	}
	for _, tool := range []string{"ip", "nft", "ping"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := "the nftables namespace test needs " + strings.Join(missing, ", ")
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (CI=true)")
	}
	t.Skip(msg + "; skipping")
}

func run(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), args[0], args[1:]...) //nolint:gosec // fixed tools, test-made names
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func mustRun(t *testing.T, args ...string) {
	t.Helper()
	if out, err := run(t, "", args...); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func newNetnsLab(t *testing.T) *netnsLab {
	t.Helper()
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	lab := &netnsLab{router: "fwr-" + id, device: "fwd-" + id, upstream: "fwu-" + id, deviceMAC: "02:77:" + id[0:2] + ":" + id[2:4] + ":" + id[4:6] + ":01"}
	for _, ns := range []string{lab.router, lab.device, lab.upstream} {
		mustRun(t, "ip", "netns", "add", ns)
		t.Cleanup(func() {
			if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil { //nolint:gosec // test-made name
				t.Errorf("removing namespace %s: %v %s", ns, err, out)
			}
		})
	}
	in := func(ns string, args ...string) { mustRun(t, append([]string{"ip", "netns", "exec", ns}, args...)...) }
	// veth pairs are created inside the router namespace, so that no
	// interface ever appears in the machine's own namespace.
	rd, dr, ru, ur := "rd"+id, "dr"+id, "ru"+id, "ur"+id
	in(lab.router, "ip", "link", "add", rd, "type", "veth", "peer", "name", dr, "netns", lab.device)
	in(lab.router, "ip", "link", "add", ru, "type", "veth", "peer", "name", ur, "netns", lab.upstream)
	in(lab.router, "ip", "addr", "add", "10.77.1.1/24", "dev", rd)
	in(lab.router, "ip", "addr", "add", "10.77.2.1/24", "dev", ru)
	in(lab.router, "ip", "link", "set", rd, "up")
	in(lab.router, "ip", "link", "set", ru, "up")
	in(lab.router, "ip", "link", "set", "lo", "up")
	in(lab.router, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
	in(lab.device, "ip", "link", "set", dr, "address", lab.deviceMAC)
	in(lab.device, "ip", "addr", "add", labDeviceIP+"/24", "dev", dr)
	in(lab.device, "ip", "link", "set", dr, "up")
	in(lab.device, "ip", "route", "add", "default", "via", "10.77.1.1")
	in(lab.upstream, "ip", "addr", "add", labUpstreamIP+"/24", "dev", ur)
	in(lab.upstream, "ip", "link", "set", ur, "up")
	in(lab.upstream, "ip", "route", "add", "default", "via", "10.77.2.1")
	return lab
}

// reaches pings the upstream host from the device, through the router.
func (l *netnsLab) reaches(t *testing.T) bool {
	t.Helper()
	_, err := run(t, "", "ip", "netns", "exec", l.device, "ping", "-c", "1", "-W", "1", "-n", "-q", labUpstreamIP)
	return err == nil
}

// apply loads a ruleset into the router with nft -f, as the router-side
// sync does.
func (l *netnsLab) apply(t *testing.T, ruleset string) {
	t.Helper()
	if out, err := run(t, ruleset, "ip", "netns", "exec", l.router, "nft", "-f", "-"); err != nil {
		t.Fatalf("nft -f: %v\n%s\nruleset:\n%s", err, out, ruleset)
	}
}

func TestNFTInNamespaces(t *testing.T) {
	needNetns(t)
	lab := newNetnsLab(t)
	start := time.Now()
	if !lab.reaches(t) {
		t.Fatal("before any rule the device cannot reach upstream: the lab is broken")
	}
	steps := []struct {
		name  string
		hosts []Host
		want  bool
	}{
		{"quarantined by MAC", []Host{{DeviceID: 1, MACs: []string{lab.deviceMAC}}}, false},
		{"released", nil, true},
		{"quarantined by IPv4", []Host{{DeviceID: 1, IPv4: []string{labDeviceIP}}}, false},
		{"another device quarantined", []Host{{DeviceID: 2, MACs: []string{"02:00:00:00:00:99"}, IPv4: []string{"10.77.1.99"}}}, true},
	}
	for _, s := range steps {
		rs, err := NFTRuleset(s.hosts, FirewallOptions{Allow: []string{"10.77.9.0/24"}})
		if err != nil {
			t.Fatal(err)
		}
		lab.apply(t, rs) // applied again and again: the table is replaced each time
		if got := lab.reaches(t); got != s.want {
			listing, _ := run(t, "", "ip", "netns", "exec", lab.router, "nft", "list", "table", "inet", "firmward")
			t.Errorf("%s: device reaches upstream = %v, want %v\n%s", s.name, got, s.want, listing)
		}
	}
	// The counters show the rule, not something else, dropped the traffic.
	listing, err := run(t, "", "ip", "netns", "exec", lab.router, "nft", "list", "set", "inet", "firmward", "quarantine_ipv4")
	if err != nil || !strings.Contains(listing, "10.77.1.99") {
		t.Errorf("set after the last step: %v\n%s", err, listing)
	}
	t.Logf("namespace lab: %s", time.Since(start).Round(time.Millisecond))
}

// TestNFTSyncScript runs contrib/nac-nft-sync.sh --once against a server
// on 127.0.0.1 that answers GET /api/v1/nac/nft as firmward does, with
// nft running in the lab's router namespace (a shim on PATH), and shows
// the device cut off and then let through again.
func TestNFTSyncScript(t *testing.T) {
	needNetns(t)
	if _, err := exec.LookPath("curl"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("the sync script test needs curl (CI=true)")
		}
		t.Skip("curl missing; skipping")
	}
	lab := newNetnsLab(t)
	var mu sync.Mutex // guards hosts
	var hosts []Host
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/nac/nft" || r.Header.Get("Authorization") != "Bearer fwt_test" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		mu.Lock()
		rs, err := NFTRuleset(hosts, FirewallOptions{Allow: r.URL.Query()["allow"]})
		mu.Unlock()
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		_, _ = io.WriteString(w, rs)
	}))
	defer srv.Close()
	bin := t.TempDir()
	nftPath, err := exec.LookPath("nft")
	if err != nil {
		t.Fatal(err)
	}
	// The shim names the real nft by its path: by name it would find itself.
	shim := "#!/bin/sh\nexec ip netns exec " + lab.router + " " + nftPath + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "nft"), []byte(shim), 0o755); err != nil { //nolint:gosec // an executable shim
		t.Fatal(err)
	}
	script, err := filepath.Abs(filepath.Join("..", "contrib", "nac-nft-sync.sh"))
	if err != nil {
		t.Fatal(err)
	}
	sync := func(name string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, "sh", script, "--once") //nolint:gosec // the repository's script
		cmd.WaitDelay = time.Second
		cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "FIRMWARD_SERVER="+srv.URL, "FIRMWARD_TOKEN=fwt_test",
			"NAC_ALLOW=10.77.9.1", "NAC_STATE_DIR="+filepath.Join(t.TempDir(), "state"))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: sync script: %v\n%s", name, err, out)
		}
	}
	set := func(h []Host) { mu.Lock(); hosts = h; mu.Unlock() }

	set([]Host{{DeviceID: 1, MACs: []string{lab.deviceMAC}}})
	sync("quarantine")
	if lab.reaches(t) {
		t.Error("after the sync of a quarantine the device still reaches upstream")
	}
	set(nil)
	sync("release")
	if !lab.reaches(t) {
		t.Error("after the sync of the release the device cannot reach upstream")
	}
}
