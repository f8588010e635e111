package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/httpapi"
)

// TestSwupdateRealClient runs Debian's swupdate (suricatta hawkBit mode)
// against `firmward serve`: a CMS-signed .swu released and deployed through
// the CLI is installed and the action ends as success (after the -c 2
// restart that reports it, see ../shared/notes/real-clients.md); a .swu
// whose install script fails ends as failure.
func TestSwupdateRealClient(t *testing.T) {
	for _, tool := range []string{"swupdate", "cpio", "openssl", "unshare", "mount"} {
		if _, err := exec.LookPath(tool); err != nil {
			needTool(t, tool+" is not installed (Debian packages swupdate, cpio, openssl, util-linux)")
		}
	}
	if os.Geteuid() != 0 {
		needTool(t, "the swupdate test needs root for a private mount namespace (unshare -m)")
	}
	if _, err := os.Stat("/mnt"); err != nil {
		needTool(t, "the swupdate test binds its install directory on /mnt, which is missing")
	}
	t.Parallel()
	lockSwupdate(t)

	dir := t.TempDir()
	s := startServer(t, filepath.Join(dir, "data"), nil,
		"serve", "--addr", "127.0.0.1:0", "--data", filepath.Join(dir, "data"), "--poll-interval", "1s")
	cert := makeSigner(t, dir)

	// Two boards, each pre-registered with its own token.
	type board struct {
		name, token string
		id          int64
		action      int64
	}
	boards := map[string]*board{"good": {name: "board-good"}, "bad": {name: "board-bad"}}
	for _, kind := range []string{"good", "bad"} {
		b := boards[kind]
		var d firmward.Device
		s.okJSON(t, &d, "device", "add", "--name", b.name, "--manufacturer", "Acme", "--model", "B1")
		b.id = d.ID
		var tok httpapi.DeviceTokenCreated
		s.okJSON(t, &tok, "device", "token", strconv.FormatInt(d.ID, 10), "--controller-id", b.name)
		b.token = tok.Secret
		exit := 0
		if kind == "bad" {
			exit = 1
		}
		swu := buildSWU(t, dir, kind, cert, exit)
		var rel firmward.Release
		s.okJSON(t, &rel, "release", "add", swu, "--manufacturer", "Acme", "--model", "B1", "--version", "2.0.0-"+kind,
			"--fixes", "CVE-2025-0001")
		var acts httpapi.ActionList
		s.okJSON(t, &acts, "release", "deploy", strconv.FormatInt(rel.ID, 10), "--device", strconv.FormatInt(d.ID, 10))
		b.action = acts.Actions[0].ID
	}
	client := httpapi.NewClient(s.URL, s.Token)
	action := func(id int64) *httpapi.ActionDetail {
		d, err := client.GetAction(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}

	// The good image: swupdate downloads and installs it, then waits for a
	// reboot that never comes (-B none).
	good := boards["good"]
	installed := filepath.Join(dir, "mnt", "installed-good", "payload.txt")
	runSwupdate(t, dir, s.URL, good.name, good.token, cert, "", 90*time.Second, func() bool {
		if _, err := os.Stat(installed); err != nil {
			return false
		}
		for _, f := range action(good.action).Feedback {
			if f.ProgressOf > 0 && f.ProgressCnt == f.ProgressOf {
				return true
			}
		}
		return false
	})
	if b, err := os.ReadFile(installed); err != nil || string(b) != "payload good\n" {
		t.Fatalf("installed payload = %q, %v", b, err)
	}
	if a := action(good.action).Action; a.Status != firmward.ActionRunning {
		t.Fatalf("after the install the action is %s, want running until the device confirms", a.Status)
	}
	// Restarted with -c 2, it reports closed/success for the action still
	// offered.
	runSwupdate(t, dir, s.URL, good.name, good.token, cert, "-c 2", 60*time.Second, func() bool {
		return !action(good.action).Action.Status.Open()
	})
	if a := action(good.action).Action; a.Status != firmward.ActionFinished || a.Result != firmward.ResultSuccess {
		t.Fatalf("good image: action %s %s, want finished success", a.Status, a.Result)
	}

	// The broken image: its install script exits 1; swupdate reports
	// closed/failure with its log.
	bad := boards["bad"]
	runSwupdate(t, dir, s.URL, bad.name, bad.token, cert, "", 90*time.Second, func() bool {
		return !action(bad.action).Action.Status.Open()
	})
	d := action(bad.action)
	if d.Action.Status != firmward.ActionFinished || d.Action.Result != firmward.ResultFailure {
		t.Fatalf("broken image: action %s %s, want finished failure", d.Action.Status, d.Action.Result)
	}
	last := d.Feedback[len(d.Feedback)-1]
	if last.Execution != firmward.ExecClosed || last.Finished != firmward.ResultFailure || len(last.Details) == 0 {
		t.Fatalf("last feedback of the broken image = %+v", last)
	}
	t.Logf("good image feedback: %d reports; broken image: %d reports, the last: %s/%s %.200q",
		len(action(good.action).Feedback), len(d.Feedback), last.Execution, last.Finished, strings.Join(last.Details, " | "))
	// The failure is our script's: swupdate verified the signature, ran
	// the script and saw its exit status (its own log has every line; the
	// details it posts are a sample).
	swlog, err := os.ReadFile(filepath.Join(dir, "swupdate-"+bad.name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, "swupdate log of the broken image", string(swlog),
		"Verified", "firmward test install script (preinst), exiting 1", "command returned 1", "Installation failed")
	out := s.ok(t, "action", "show", strconv.FormatInt(bad.action, 10))
	mustContain(t, "action show", out, "finished failure", "closed")
	audit := s.ok(t, "audit", "list", "--object-type", "action", "--limit", "100")
	mustContain(t, "audit list", audit, "action.create", "action.update")
}

// needTool skips the test, or fails it under CI=true.
func needTool(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true requires it)", why)
	}
	t.Skip(why)
}

// lockSwupdate serialises swupdate runs across test processes: every
// swupdate on a host shares the abstract socket @NotifyServer.
func lockSwupdate(t *testing.T) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "firmward-swupdate-test.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Minute)
	for syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		if time.Now().After(deadline) {
			t.Fatal("another swupdate test held the lock for 5 minutes")
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Cleanup(func() { _ = f.Close() }) // closing releases the lock
}

// makeSigner writes a self-signed signing certificate and key into dir/mnt
// and returns the certificate's path.
func makeSigner(t *testing.T, dir string) string {
	t.Helper()
	mnt := filepath.Join(dir, "mnt")
	if err := os.MkdirAll(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	cert, key := filepath.Join(mnt, "cert.pem"), filepath.Join(dir, "key.pem")
	run(t, dir, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2",
		"-subj", "/CN=firmward test signer", "-addext", "keyUsage=digitalSignature", "-addext", "extendedKeyUsage=emailProtection")
	return cert
}

func run(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// buildSWU builds dir/KIND.swu: sw-description, its CMS signature, a
// payload installed to /mnt/installed-KIND/ and a shell script handler
// that exits with exit.
func buildSWU(t *testing.T, dir, kind, cert string, exit int) string {
	t.Helper()
	src := filepath.Join(dir, "swu-"+kind)
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, content string) string {
		if err := os.WriteFile(filepath.Join(src, name), []byte(content), 0o644); err != nil { //nolint:gosec // test files
			t.Fatal(err)
		}
		h := sha256.Sum256([]byte(content))
		return hex.EncodeToString(h[:])
	}
	payloadSum := write("payload.txt", "payload "+kind+"\n")
	scriptSum := write("install.sh", fmt.Sprintf("#!/bin/sh\necho \"firmward test install script ($1), exiting %d\"\nexit %d\n", exit, exit))
	write("sw-description", fmt.Sprintf(`software =
{
	version = "2.0.0";
	description = "firmward %s test image";
	hardware-compatibility: [ "1.0" ];
	files: (
		{
			filename = "payload.txt";
			path = "/mnt/installed-%s/payload.txt";
			sha256 = "%s";
			properties = { create-destination = "true"; };
		}
	);
	scripts: (
		{
			filename = "install.sh";
			type = "shellscript";
			sha256 = "%s";
		}
	);
};
`, kind, kind, payloadSum, scriptSum))
	run(t, src, "openssl", "cms", "-sign", "-in", "sw-description", "-out", "sw-description.sig", "-signer", cert,
		"-inkey", filepath.Join(dir, "key.pem"), "-outform", "DER", "-nosmimecap", "-binary")
	out := filepath.Join(dir, kind+".swu")
	run(t, src, "sh", "-c", "printf 'sw-description\\nsw-description.sig\\npayload.txt\\ninstall.sh\\n' | cpio -o -H crc > "+out)
	return out
}

// runSwupdate runs swupdate as a suricatta hawkBit client in a private
// mount namespace (dir/mnt bound on /mnt, a tmpfs on /tmp) until done
// reports true, checking every 200 ms, and kills it. It fails the test
// when done is not reached within limit.
func runSwupdate(t *testing.T, dir, server, controller, token, cert, extra string, limit time.Duration, done func() bool) {
	t.Helper()
	suricatta := fmt.Sprintf("-t default -u %s -i %s -k %s -p 1 %s", server, controller, token, extra)
	script := fmt.Sprintf(`set -e
mount --bind %q /mnt
mount -t tmpfs tmpfs /tmp
exec swupdate -v -H board:1.0 -k /mnt/%s -u %q`, filepath.Join(dir, "mnt"), filepath.Base(cert), strings.TrimSpace(suricatta))
	log, err := os.Create(filepath.Join(dir, "swupdate-"+controller+".log")) //nolint:gosec // test file
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = log.Close() }()
	cmd := exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c", script)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var waitErr error // set before exited is closed
	exited := make(chan struct{})
	go func() { waitErr = cmd.Wait(); close(exited) }()
	stop := func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	}
	var once bool
	t.Cleanup(func() {
		if !once {
			stop()
		}
	})
	deadline := time.Now().Add(limit)
	for !done() {
		select {
		case <-exited:
			once = true
			b, _ := os.ReadFile(log.Name())
			t.Fatalf("swupdate %s exited early (%v):\n%s", extra, waitErr, tail(string(b), 4000))
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			once = true
			b, _ := os.ReadFile(log.Name())
			t.Fatalf("swupdate %s did not get there within %s:\n%s", extra, limit, tail(string(b), 4000))
		}
	}
	stop()
	once = true
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
