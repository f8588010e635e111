// Package install puts a verified firmware artifact onto the device for
// firmward-agent, behind one interface: Script (a command given the
// artifact path), RAUC (rauc install) and SWUpdate (swupdate -i). Each also
// commits a healthy install and rolls back an unhealthy one.
//
// Commands run through /bin/sh in their own process group, so that a
// timeout ends the command and everything it started.
package install

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/firmward/firmward"
)

// Installer installs, commits and rolls back firmware.
type Installer interface {
	// Name is the installer's kind (script, rauc, swupdate).
	Name() string
	// Install writes the artifact at path to the device. An interrupted
	// Install is repeated from the start, so it must tolerate that.
	Install(ctx context.Context, path string) (Output, error)
	// Commit makes a healthy install permanent (for A/B systems: marks the
	// booted slot good).
	Commit(ctx context.Context) (Output, error)
	// Rollback returns to the previous firmware; restart reports whether
	// the device must restart (reboot) to complete it.
	Rollback(ctx context.Context) (out Output, restart bool, err error)
}

// Output is the tail of what a command printed, for the action's log.
type Output []string

// maxOutputLines bounds the output kept per command.
const maxOutputLines = 40

// Runner runs shell commands.
type Runner struct {
	// Shell runs a command line as Shell -c LINE (default /bin/sh).
	Shell string
	// Env is added to the process environment.
	Env []string
}

// Run runs line with /bin/sh -c; args become $1, $2… It returns the last
// lines of its combined output, and an error naming the command and its
// exit status. When ctx ends, the whole process group is killed.
func (r Runner) Run(ctx context.Context, line string, args ...string) (Output, error) {
	shell := r.Shell
	if shell == "" {
		shell = "/bin/sh"
	}
	cmd := exec.CommandContext(ctx, shell, append([]string{"-c", line, "firmward-agent"}, args...)...) //nolint:gosec // the operator's configured command
	cmd.Env = append(os.Environ(), r.Env...)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	setProcessGroup(cmd)
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	out := tail(buf.String())
	if err != nil {
		if ctx.Err() != nil {
			return out, fmt.Errorf("%s: stopped: %w", clip(line), ctx.Err())
		}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return out, fmt.Errorf("%s: exit status %d", clip(line), ee.ExitCode())
		}
		return out, fmt.Errorf("%s: %w", clip(line), err)
	}
	return out, nil
}

func tail(s string) Output {
	lines := strings.Split(strings.TrimRight(strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "?"), "\n"), "\n")
	if len(lines) == 1 && lines[0] == "" {
		return nil
	}
	if len(lines) > maxOutputLines {
		lines = append([]string{fmt.Sprintf("… %d lines before", len(lines)-maxOutputLines)}, lines[len(lines)-maxOutputLines:]...)
	}
	for i, l := range lines {
		if len(l) > 512 {
			lines[i] = l[:512] + "…"
		}
	}
	return lines
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

// Script installs with an operator's command.
type Script struct {
	Runner
	// InstallCommand is run with the artifact path as $1 and
	// $FIRMWARD_ARTIFACT.
	InstallCommand string
	// CommitCommand (optional) runs after a passed health check.
	CommitCommand string
	// RollbackCommand restores the previous firmware; without it a
	// rollback fails.
	RollbackCommand string
	// RestartAfterRollback says the device must restart after a rollback.
	RestartAfterRollback bool
}

var _ Installer = (*Script)(nil)

// Name implements Installer.
func (s *Script) Name() string { return "script" }

// Install implements Installer.
func (s *Script) Install(ctx context.Context, path string) (Output, error) {
	r := s.Runner
	r.Env = append(append([]string(nil), r.Env...), "FIRMWARD_ARTIFACT="+path)
	return r.Run(ctx, s.InstallCommand, path)
}

// Commit implements Installer.
func (s *Script) Commit(ctx context.Context) (Output, error) {
	if s.CommitCommand == "" {
		return nil, nil
	}
	return s.Run(ctx, s.CommitCommand)
}

// Rollback implements Installer.
func (s *Script) Rollback(ctx context.Context) (Output, bool, error) {
	if s.RollbackCommand == "" {
		return nil, false, firmward.Errorf(firmward.EINVALID, "script installer: no rollback_command configured")
	}
	out, err := s.Run(ctx, s.RollbackCommand)
	return out, s.RestartAfterRollback, err
}

// RAUC installs a bundle with rauc (https://rauc.io) into the inactive
// slot; Commit marks the booted slot good, Rollback marks it bad and the
// other slot active, then asks for a restart.
type RAUC struct {
	Runner
	// Binary is the rauc executable (default rauc).
	Binary string
	// Args are extra arguments for rauc install.
	Args []string
	// CommitCommand and RollbackCommand replace the defaults when set.
	CommitCommand, RollbackCommand string
}

var _ Installer = (*RAUC)(nil)

func (r *RAUC) bin() string {
	if r.Binary == "" {
		return "rauc"
	}
	return r.Binary
}

// Name implements Installer.
func (r *RAUC) Name() string { return "rauc" }

// Install implements Installer: rauc install [ARGS] PATH.
func (r *RAUC) Install(ctx context.Context, path string) (Output, error) {
	return r.Run(ctx, `exec "$@"`, append(append([]string{r.bin(), "install"}, r.Args...), path)...)
}

// Commit implements Installer: rauc status mark-good booted.
func (r *RAUC) Commit(ctx context.Context) (Output, error) {
	if r.CommitCommand != "" {
		return r.Run(ctx, r.CommitCommand)
	}
	return r.Run(ctx, `exec "$@"`, r.bin(), "status", "mark-good", "booted")
}

// Rollback implements Installer: rauc status mark-bad booted, then
// rauc status mark-active other; a restart boots the previous slot.
func (r *RAUC) Rollback(ctx context.Context) (Output, bool, error) {
	if r.RollbackCommand != "" {
		out, err := r.Run(ctx, r.RollbackCommand)
		return out, true, err
	}
	out, err := r.Run(ctx, `"$1" status mark-bad booted && "$1" status mark-active other`, r.bin())
	return out, true, err
}

// SWUpdate installs an .swu image with swupdate -i; its commit and
// rollback are the bootloader's business (for U-Boot, fw_setenv), so they
// are the configured commands.
type SWUpdate struct {
	Runner
	// Binary is the swupdate executable (default swupdate).
	Binary string
	// Args are extra arguments (such as -k public.pem, -e stable,copy2).
	Args []string
	// CommitCommand and RollbackCommand are run on commit and rollback;
	// without RollbackCommand a rollback fails.
	CommitCommand, RollbackCommand string
}

var _ Installer = (*SWUpdate)(nil)

// Name implements Installer.
func (s *SWUpdate) Name() string { return "swupdate" }

// Install implements Installer: swupdate [ARGS] -i PATH.
func (s *SWUpdate) Install(ctx context.Context, path string) (Output, error) {
	bin := s.Binary
	if bin == "" {
		bin = "swupdate"
	}
	return s.Run(ctx, `exec "$@"`, append(append([]string{bin}, s.Args...), "-i", path)...)
}

// Commit implements Installer.
func (s *SWUpdate) Commit(ctx context.Context) (Output, error) {
	if s.CommitCommand == "" {
		return nil, nil
	}
	return s.Run(ctx, s.CommitCommand)
}

// Rollback implements Installer.
func (s *SWUpdate) Rollback(ctx context.Context) (Output, bool, error) {
	if s.RollbackCommand == "" {
		return nil, false, firmward.Errorf(firmward.EINVALID, "swupdate installer: no rollback_command configured (such as fw_setenv to boot the other copy)")
	}
	out, err := s.Run(ctx, s.RollbackCommand)
	return out, true, err
}
