package install

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func write(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

func TestScript(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	img := filepath.Join(dir, "image with space.bin")
	write(t, img, "firmware 2.0", 0o600)
	s := &Script{
		InstallCommand:  `cp "$1" "` + dir + `/slot" && echo "installed $FIRMWARD_ARTIFACT"`,
		CommitCommand:   `touch "` + dir + `/committed"`,
		RollbackCommand: `rm "` + dir + `/slot" && echo rolled back`,
	}
	out, err := s.Install(ctx, img)
	if err != nil {
		t.Fatalf("Install: %v %v", err, out)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "slot")); string(got) != "firmware 2.0" {
		t.Fatalf("slot = %q", got)
	}
	if len(out) != 1 || out[0] != "installed "+img {
		t.Errorf("output = %q", out)
	}
	if _, err := s.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "committed")); err != nil {
		t.Error("commit command did not run")
	}
	out, restart, err := s.Rollback(ctx)
	if err != nil || restart || len(out) != 1 || out[0] != "rolled back" {
		t.Fatalf("Rollback = %q, %v, %v", out, restart, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "slot")); !os.IsNotExist(err) {
		t.Error("rollback left the slot")
	}
}

func TestRunErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		line    string
		timeout time.Duration
		want    string
	}{
		{"exit status", "echo oops; exit 3", time.Minute, "exit status 3"},
		{"timeout kills the group", "sleep 30 & sleep 30; wait", 200 * time.Millisecond, "stopped"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), tc.timeout)
			defer cancel()
			start := time.Now()
			_, err := Runner{}.Run(ctx, tc.line)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Run = %v, want %q", err, tc.want)
			}
			if time.Since(start) > 10*time.Second {
				t.Errorf("Run took %v: the process group was not killed", time.Since(start))
			}
		})
	}
	if _, _, err := (&Script{}).Rollback(context.Background()); err == nil {
		t.Error("a script rollback without rollback_command succeeded")
	}
	if _, _, err := (&SWUpdate{}).Rollback(context.Background()); err == nil {
		t.Error("a swupdate rollback without rollback_command succeeded")
	}
}

func TestOutputTail(t *testing.T) {
	t.Parallel()
	out, err := Runner{}.Run(context.Background(), "for i in $(seq 1 100); do echo line $i; done")
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != maxOutputLines+1 || out[0] != "… 60 lines before" || out[len(out)-1] != "line 100" {
		t.Fatalf("output = %d lines: %q … %q", len(out), out[0], out[len(out)-1])
	}
}

// TestRAUCCommandLines runs RAUC with a stand-in rauc that records its
// arguments (rauc itself needs a configured system).
func TestRAUCCommandLines(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	logf := filepath.Join(dir, "log")
	bin := filepath.Join(dir, "rauc")
	write(t, bin, "#!/bin/sh\necho \"$@\" >> "+logf+"\n", 0o700)
	r := &RAUC{Binary: bin, Args: []string{"--ignore-compatible"}}
	if _, err := r.Install(ctx, "/data/b.raucb"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	_, restart, err := r.Rollback(ctx)
	if err != nil || !restart {
		t.Fatalf("Rollback = %v, %v", restart, err)
	}
	got, _ := os.ReadFile(logf)
	want := "install --ignore-compatible /data/b.raucb\nstatus mark-good booted\nstatus mark-bad booted\nstatus mark-active other\n"
	if string(got) != want {
		t.Fatalf("rauc calls:\n%s\nwant:\n%s", got, want)
	}
}

// TestSWUpdateRefusesBrokenImage runs Debian's swupdate on a file that is
// no .swu: the install fails with swupdate's own message.
func TestSWUpdateRefusesBrokenImage(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("swupdate"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("swupdate is missing (apt-get install swupdate)")
		}
		t.Skip("swupdate is not installed")
	}
	img := filepath.Join(t.TempDir(), "broken.swu")
	write(t, img, "this is not a cpio archive", 0o600)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := (&SWUpdate{}).Install(ctx, img)
	if err == nil {
		t.Fatalf("swupdate installed a broken image: %q", out)
	}
	if !strings.Contains(err.Error(), "exit status") {
		t.Errorf("error = %v", err)
	}
}
