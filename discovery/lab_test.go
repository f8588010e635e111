//go:build linux

package discovery_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/firmward/firmward/discovery"
)

// The discovery lab: a bridge in its own network namespace, one namespace
// per fake device and one for the scanner, joined to the bridge by veth
// pairs created inside the bridge's namespace. Nothing is created in the
// machine's own namespace, so no probe, multicast join or IGMP report can
// reach its real interfaces.

// labTools returns the paths of the programs the lab needs. It skips the
// test when one is missing (or the test is not root) unless CI=true, where
// it fails.
func labTools(t *testing.T) map[string]string {
	t.Helper()
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root (network namespaces need CAP_SYS_ADMIN)")
	}
	tools := map[string]string{}
	if _, err := os.Stat(recogDir); err != nil {
		missing = append(missing, "the recog rules at "+recogDir)
	}
	for _, name := range []string{"ip", "snmpd", "avahi-daemon", "unshare", "mount"} {
		p, err := exec.LookPath(name)
		if err != nil {
			for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"} {
				if _, e := os.Stat(filepath.Join(dir, name)); e == nil {
					p, err = filepath.Join(dir, name), nil
					break
				}
			}
		}
		if err != nil {
			missing = append(missing, name)
			continue
		}
		tools[name] = p
	}
	switch {
	case len(missing) > 0 && os.Getenv("CI") == "true":
		t.Fatalf("the discovery lab needs %s (apt-get install iproute2 snmpd avahi-daemon util-linux; run as root)", strings.Join(missing, ", "))
	case len(missing) > 0:
		t.Skipf("discovery lab skipped: needs %s (CI=true makes this a failure)", strings.Join(missing, ", "))
	case testing.Short() && os.Getenv("CI") != "true":
		t.Skip("discovery lab skipped in -short mode")
	}
	return tools
}

// recogDir holds recog's rule files (../shared/data beside the repository).
const recogDir = "../../shared/data/recog/xml"

type lab struct {
	t      *testing.T
	tools  map[string]string
	id     string // unique per run: namespace names carry it
	bridge string // the bridge's namespace
	subnet string // "10.77.N"
	n      int    // veths made so far
}

func newLab(t *testing.T, tools map[string]string) *lab {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	l := &lab{t: t, tools: tools, id: "fw" + hex.EncodeToString(b), subnet: fmt.Sprintf("10.77.%d", 1+int(b[0])%250)}
	l.bridge = l.id + "-br"
	l.netns(l.bridge)
	l.ip("-n", l.bridge, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0")
	l.ip("-n", l.bridge, "link", "set", "br0", "up")
	return l
}

// netns creates a namespace, deleted when the test ends.
func (l *lab) netns(name string) {
	l.ip("netns", "add", name)
	l.t.Cleanup(func() {
		if out, err := exec.Command(l.tools["ip"], "netns", "del", name).CombinedOutput(); err != nil {
			l.t.Errorf("deleting namespace %s: %v %s", name, err, out)
		}
	})
}

func (l *lab) ip(args ...string) {
	l.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, l.tools["ip"], args...).CombinedOutput(); err != nil {
		l.t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// node creates the namespace of one device, plugged into the bridge, with
// address SUBNET.host and the given MAC. It returns the namespace and IP.
func (l *lab) node(role string, host int, mac string) (ns, ip string) {
	l.n++
	ns = l.id + "-" + role
	ip = fmt.Sprintf("%s.%d", l.subnet, host)
	l.netns(ns)
	port := fmt.Sprintf("v%d", l.n)
	l.ip("-n", l.bridge, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns)
	l.ip("-n", l.bridge, "link", "set", port, "master", "br0", "up")
	l.ip("-n", ns, "link", "set", "eth0", "address", mac)
	l.ip("-n", ns, "addr", "add", ip+"/24", "dev", "eth0")
	l.ip("-n", ns, "link", "set", "lo", "up")
	l.ip("-n", ns, "link", "set", "eth0", "up")
	return ns, ip
}

// logBuffer keeps a process's output for failure messages and signals the
// first line containing a marker.
type logBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.lines, "\n")
}

// start runs a command inside namespace ns and waits until it prints
// marker; the process group is killed when the test ends.
func (l *lab) start(ns, marker string, env []string, name string, args ...string) *logBuffer {
	l.t.Helper()
	cmd := exec.Command(l.tools["ip"], append([]string{"netns", "exec", ns, name}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		l.t.Fatalf("starting %s in %s: %v", name, ns, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		_ = pw.Close()
		close(exited)
	}()
	l.t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(3 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	})
	logs := &logBuffer{}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		seen := false
		for sc.Scan() {
			logs.mu.Lock()
			logs.lines = append(logs.lines, sc.Text())
			logs.mu.Unlock()
			if !seen && strings.Contains(sc.Text(), marker) {
				seen = true
				close(ready)
			}
		}
	}()
	select {
	case <-ready:
	case <-exited:
		l.t.Fatalf("%s in %s exited before it was ready:\n%s", name, ns, logs)
	case <-time.After(15 * time.Second):
		l.t.Fatalf("%s in %s not ready after 15 s (waiting for %q):\n%s", name, ns, marker, logs)
	}
	return logs
}

func buildFirmward(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "firmward")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	args := []string{"build", "-o", bin}
	if os.Getenv("FIRMWARD_LAB_RACE") != "" {
		args = append(args, "-race") // the scanner under the race detector
	}
	out, err := exec.CommandContext(ctx, "go", append(args, "../cmd/firmward")...).CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func TestLab(t *testing.T) {
	tools := labTools(t)
	bin := buildFirmward(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	l := newLab(t, tools)
	scanNS, scanIP := l.node("scan", 2, "02:00:5e:10:00:02")
	prnNS, prnIP := l.node("prn", 11, "04:0e:3c:12:34:56")  // HP Inc.
	rtrNS, rtrIP := l.node("rtr", 12, "38:94:ed:00:00:12")  // NETGEAR
	plcNS, plcIP := l.node("plc", 13, "ec:1c:5d:00:00:13")  // Siemens AG
	hubNS, hubIP := l.node("plug", 14, "a8:03:2a:b1:23:45") // Espressif (Shelly's Wi-Fi chip)
	dir := t.TempDir()

	// The printer and the router: this test binary in their namespaces.
	l.start(prnNS, "ready", []string{labRoleEnv + "=printer"}, self, prnIP)
	l.start(rtrNS, "ready", []string{labRoleEnv + "=router"}, self, rtrIP, prnIP)

	// The PLC: Debian's snmpd with a Siemens S7-1200 sysDescr.
	snmpConf := filepath.Join(dir, "snmpd.conf")
	writeFile(t, snmpConf, fmt.Sprintf(`agentAddress udp:%s:161
rocommunity public %s.0/24
sysDescr Siemens, SIMATIC S7-1200, CPU 1214C DC/DC/DC, 6ES7 214-1AG40-0XB0, HW: 5, FW: V4.4.0, S C-H4TS12345678
sysObjectID .1.3.6.1.4.1.4329.6.1.2513.311
sysName plc-line-3
sysLocation Hall 2
sysContact ot@example.org
sysServices 72
`, plcIP, l.subnet))
	l.start(plcNS, "NET-SNMP version", []string{"SNMP_PERSISTENT_DIR=" + filepath.Join(dir, "snmp")},
		tools["snmpd"], "-f", "-C", "-c", snmpConf, "-Lo", "-p", filepath.Join(dir, "snmpd.pid"))

	// The smart plug: Debian's avahi-daemon with a private /run and a
	// private services directory, publishing what a Shelly Plus 1PM does.
	services := filepath.Join(dir, "avahi-services")
	if err := os.MkdirAll(services, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(services, "shelly.service"), `<?xml version="1.0" standalone='no'?>
<!DOCTYPE service-group SYSTEM "avahi-service.dtd">
<service-group>
  <name>shellyplus1pm-a8032ab12345</name>
  <service><type>_shelly._tcp</type><port>80</port>
    <txt-record>gen=2</txt-record><txt-record>app=Plus1PM</txt-record><txt-record>ver=1.0.8</txt-record>
  </service>
  <service><type>_http._tcp</type><port>80</port></service>
</service-group>
`)
	avahiConf := filepath.Join(dir, "avahi-daemon.conf")
	writeFile(t, avahiConf, `[server]
host-name=shellyplus1pm-a8032ab12345
domain-name=local
use-ipv4=yes
use-ipv6=no
allow-interfaces=eth0
enable-dbus=no
ratelimit-interval-usec=1000000
ratelimit-burst=1000
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
publish-addresses=yes
[reflector]
enable-reflector=no
`)
	script := fmt.Sprintf("set -e; mount --make-rprivate /; mount -t tmpfs tmpfs /run; mkdir -p /run/avahi-daemon; "+
		"mount --bind %s /etc/avahi/services; exec %s -f %s --no-drop-root --no-chroot --no-rlimits --no-proc-title",
		services, tools["avahi-daemon"], avahiConf)
	l.start(hubNS, "successfully established", nil, tools["unshare"], "-m", "sh", "-c", script)

	// The scan, from inside the scanner's namespace.
	cidr := l.subnet + ".0/24"
	scanAs := func(command []string, extra ...string) (discovery.Result, time.Duration) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		args := append([]string{"netns", "exec", scanNS}, command...)
		args = append(args, "scan", "--cidr", cidr, "--json",
			"--recog", recogDir, "--oui", "/usr/share/ieee-data/oui.csv", "--listen", "2s", "--timeout", "3s")
		args = append(args, extra...)
		began := time.Now()
		cmd := exec.CommandContext(ctx, tools["ip"], args...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		took := time.Since(began)
		if err != nil {
			t.Fatalf("firmward scan %v: %v\n%s", extra, err, stderr.String())
		}
		var res discovery.Result
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatalf("scan output is not a result: %v\n%s", err, out)
		}
		t.Logf("lab scan %v %v of %s from %s: %d hosts in %s (scanner's own figure %s)", command[0], extra, cidr, scanIP, len(res.Hosts),
			took.Round(time.Millisecond), res.FinishedAt.Sub(res.StartedAt).Round(time.Millisecond))
		if testing.Verbose() && len(extra) == 0 {
			t.Logf("result:\n%s", out)
		}
		return res, took
	}
	res, took := scanAs([]string{bin})
	if !res.Raw {
		t.Errorf("scan as root did not use raw sockets; notes: %v", res.Notes)
	}
	if took > 15*time.Second {
		t.Errorf("the lab /24 took %s, more than 15 s", took)
	}
	if os.Getenv("FIRMWARD_LAB_NMAP") != "" {
		compareNmap(t, tools, scanNS, cidr, []string{prnIP, rtrIP, plcIP, hubIP})
	}
	checkLab(t, res, prnIP, rtrIP, plcIP, hubIP)

	// Without raw sockets (the scanner run as nobody) the scan still finds
	// every device, says why it could not sweep, and reads MAC addresses
	// from the neighbour table.
	t.Run("without raw sockets", func(t *testing.T) {
		setpriv, err := exec.LookPath("setpriv")
		if err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("setpriv (util-linux) is needed to run the scanner unprivileged: %v", err)
			}
			t.Skipf("setpriv not found: %v", err)
		}
		// nobody must be able to run the binary: copy it out of the
		// test's private temporary directory.
		pub, err := os.MkdirTemp("", "firmward-lab-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.RemoveAll(pub) })
		b, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		pubBin := filepath.Join(pub, "firmward")
		if err := os.WriteFile(pubBin, b, 0o755); err != nil { //nolint:gosec // executable on purpose
			t.Fatal(err)
		}
		if err := os.Chmod(pub, 0o755); err != nil { //nolint:gosec // nobody must reach the binary
			t.Fatal(err)
		}
		res, _ := scanAs([]string{setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", pubBin}, "--interface", "eth0")
		if res.Raw || len(res.Notes) == 0 || !strings.Contains(res.Notes[0], "no raw-socket privilege") {
			t.Errorf("raw = %v, notes = %v", res.Raw, res.Notes)
		}
		checkLab(t, res, prnIP, rtrIP, plcIP, hubIP)
	})
}

// checkLab asserts what the scan found of each lab device.
func checkLab(t *testing.T, res discovery.Result, prnIP, rtrIP, plcIP, hubIP string) {
	t.Helper()
	raw := res.Raw
	hosts := map[string]discovery.Host{}
	for _, h := range res.Hosts {
		hosts[h.IP] = h
	}
	if len(res.Hosts) != 4 {
		t.Errorf("found %d hosts, want the 4 lab devices: %v", len(res.Hosts), slices.Collect(mapsKeys(hosts)))
	}
	tests := []struct {
		name, ip, mac, vendorOUI                string
		manufacturer, model, firmware, category string
		serial                                  string
		aliveBy                                 []string
		hints                                   []string
	}{
		{
			name: "printer (HTTP admin page)", ip: prnIP, mac: "04:0e:3c:12:34:56", vendorOUI: "HP Inc.",
			manufacturer: "HP", model: "Color LaserJet Pro MFP M479fdw", firmware: "002_2114A", category: "other", serial: "VNB3R12345",
			aliveBy: []string{"arp", "icmp", "tcp"},
			hints:   []string{discovery.HintTelnet, discovery.HintClearTextAdmin, discovery.HintInternetExposed},
		},
		{
			name: "router (SSDP/UPnP)", ip: rtrIP, mac: "38:94:ed:00:00:12", vendorOUI: "NETGEAR",
			manufacturer: "NETGEAR", model: "RBR750", firmware: "V7.2.6.21", category: "network-infrastructure", serial: "6LA1234567890",
			aliveBy: []string{"arp", "icmp", "ssdp", "tcp"},
			hints:   []string{discovery.HintUPnPPortMapping},
		},
		{
			name: "PLC (snmpd)", ip: plcIP, mac: "ec:1c:5d:00:00:13", vendorOUI: "Siemens AG",
			manufacturer: "Siemens", model: "SIMATIC S7-1200 CPU 1214C DC/DC/DC", firmware: "4.4.0", category: "industrial", serial: "S C-H4TS12345678",
			aliveBy: []string{"arp", "icmp", "snmp"},
			hints:   []string{discovery.HintDefaultSNMP, discovery.HintIoTOnMainNetwork},
		},
		{
			name: "smart plug (avahi mDNS)", ip: hubIP, mac: "a8:03:2a:b1:23:45", vendorOUI: "Espressif Inc.",
			manufacturer: "Shelly", model: "Shelly Plus1PM", firmware: "1.0.8", category: "consumer-smart-home",
			aliveBy: []string{"arp", "icmp", "mdns"},
			hints:   []string{discovery.HintIoTOnMainNetwork},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, ok := hosts[tt.ip]
			if !ok {
				t.Fatalf("%s not found", tt.ip)
			}
			f := h.Fingerprint
			check := func(field string, got discovery.Fact, want string) {
				t.Helper()
				if want == "" {
					return
				}
				if got.Value != want {
					t.Errorf("%s = %q (confidence %.2f, others %v), want %q", field, got.Value, got.Confidence, got.Others, want)
					return
				}
				if got.Confidence <= 0 || got.Confidence > 1 || len(got.Evidence) == 0 {
					t.Errorf("%s %q has confidence %.2f and %d pieces of evidence", field, got.Value, got.Confidence, len(got.Evidence))
				}
			}
			check("manufacturer", f.Manufacturer, tt.manufacturer)
			check("model", f.Model, tt.model)
			check("firmware", f.Firmware, tt.firmware)
			check("category", f.Category, tt.category)
			check("serial", f.Serial, tt.serial)
			if h.MAC != tt.mac || h.MACVendor != tt.vendorOUI {
				t.Errorf("MAC %s (%s), want %s (%s)", h.MAC, h.MACVendor, tt.mac, tt.vendorOUI)
			}
			for _, by := range tt.aliveBy {
				if !raw && (by == "arp" || by == "icmp") {
					continue
				}
				if !slices.Contains(h.AliveBy, by) {
					t.Errorf("alive_by %v lacks %s", h.AliveBy, by)
				}
			}
			var kinds []string
			for _, x := range h.Hints {
				kinds = append(kinds, x.Kind)
				if x.Summary == "" || x.Home == "" || x.Enterprise == "" {
					t.Errorf("hint %s lacks words: %+v", x.Kind, x)
				}
			}
			for _, k := range tt.hints {
				if !slices.Contains(kinds, k) {
					t.Errorf("hints %v lack %s", kinds, k)
				}
			}
			if h.ObservedAt.IsZero() || h.ObservedAt.Before(res.StartedAt) {
				t.Errorf("observed_at %s is not within the scan started at %s", h.ObservedAt, res.StartedAt)
			}
		})
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// compareNmap runs Debian's nmap inside the scanner's namespace beside
// firmward (FIRMWARD_LAB_NMAP=1; for docs/BENCHMARKS.md only, never needed
// by the tests): `nmap -sn` over the CIDR, then `nmap -sV` on the lab
// devices with firmward's TCP ports and SNMP, SSDP and mDNS over UDP. It
// logs the time each took and the product and version strings nmap found.
func compareNmap(t *testing.T, tools map[string]string, ns, cidr string, ips []string) {
	t.Helper()
	nmap, err := exec.LookPath("nmap")
	if err != nil {
		t.Logf("FIRMWARD_LAB_NMAP set but nmap is not installed: %v", err)
		return
	}
	run := func(args ...string) (string, time.Duration) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		began := time.Now()
		out, err := exec.CommandContext(ctx, tools["ip"], append([]string{"netns", "exec", ns, nmap}, args...)...).CombinedOutput()
		if err != nil {
			t.Logf("nmap %v: %v", args, err)
		}
		return string(out), time.Since(began)
	}
	out, took := run("-sn", "-n", cidr)
	t.Logf("nmap -sn -n %s: %d hosts up in %s", cidr, strings.Count(out, "Host is up"), took.Round(time.Millisecond))
	var tcp []string
	for _, p := range discovery.DefaultPorts {
		tcp = append(tcp, fmt.Sprint(p))
	}
	args := append([]string{"-sV", "-sU", "-sS", "-n", "-p", "T:" + strings.Join(tcp, ",") + ",U:161,U:1900,U:5353"}, ips...)
	out, took = run(args...)
	t.Logf("nmap %s: %s\n%s", strings.Join(args, " "), took.Round(time.Millisecond), out)
}
