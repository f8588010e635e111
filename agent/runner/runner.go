// Package runner is firmward-agent's engine: it enrolls the device, polls
// firmward's native agent API with the device's inventory, and carries an
// action through download (resumed with HTTP Range), verification (sha256
// and TUF) before anything is installed, install, restart, health check,
// and commit or rollback, reporting each step as feedback. Every step is
// recorded in a state file (written atomically) before it starts, so an
// agent restarted at any point resumes without repeating a step wrongly.
package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/agent/install"
)

// VerifyFunc checks the file at path against the signed TUF target named
// target (tufclient.Client.VerifyFile, wired by cmd/firmward-agent).
type VerifyFunc func(ctx context.Context, target, path string) error

// Device describes the device at enrollment.
type Device struct {
	Name, Manufacturer, Model, Serial, HardwareVersion string
}

// Config configures an Agent.
type Config struct {
	// Server is firmward's base URL.
	Server string
	// DeviceToken is a pre-registered token; EnrollmentKey is used when
	// there is none and the state directory holds none either.
	DeviceToken, EnrollmentKey string
	// ControllerID names the device.
	ControllerID string
	Device       Device
	// StateDir holds device-token, state.json and downloads/.
	StateDir string
	// Installer installs the artifacts.
	Installer install.Installer
	// Commands runs the restart and health commands.
	Commands install.Runner
	// RestartCommand runs after the install (empty: none).
	RestartCommand string
	// HealthCommand must exit 0 within HealthTimeout (empty: healthy).
	HealthCommand string
	HealthTimeout time.Duration
	// Verify checks each stored artifact against TUF. Nil is allowed only
	// with InsecureSkipTUF (sha256 only).
	Verify          VerifyFunc
	InsecureSkipTUF bool
	// FirmwareVersionCommand or FirmwareVersionFile tell the installed
	// version; UptimeFile is /proc/uptime by default.
	FirmwareVersionCommand, FirmwareVersionFile, UptimeFile string
	// PollInterval is used until the server names one.
	PollInterval time.Duration
	// Nudges, when set, makes the agent poll at once (MQTT).
	Nudges     <-chan struct{}
	HTTPClient *http.Client
	Logger     *slog.Logger
	Now        func() time.Time
}

// Agent runs actions for one device. It is not safe for concurrent use:
// one Run (or Step) at a time owns the state directory.
type Agent struct {
	cfg      Config
	token    string
	deviceID int64
	interval time.Duration
}

// Files in the state directory.
const (
	tokenFile    = "device-token"
	deviceIDFile = "device-id"
	stateFile    = "state.json"
	downloadsDir = "downloads"
)

// steps is the progress total reported: download, verify, install,
// restart, health check, commit.
const steps = 6

// New checks cfg and returns an Agent; it creates the state directory.
func New(cfg Config) (*Agent, error) {
	switch {
	case cfg.Server == "" || cfg.StateDir == "" || cfg.ControllerID == "":
		return nil, firmward.Errorf(firmward.EINVALID, "agent: Server, StateDir and ControllerID are required")
	case cfg.Installer == nil:
		return nil, firmward.Errorf(firmward.EINVALID, "agent: no installer")
	case cfg.Verify == nil && !cfg.InsecureSkipTUF:
		return nil, firmward.Errorf(firmward.EINVALID, "agent: no TUF verification configured (tuf_root)")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Minute}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 5 * time.Minute
	}
	if cfg.HealthTimeout <= 0 {
		cfg.HealthTimeout = 2 * time.Minute
	}
	if cfg.UptimeFile == "" {
		cfg.UptimeFile = "/proc/uptime"
	}
	if err := os.MkdirAll(filepath.Join(cfg.StateDir, downloadsDir), 0o700); err != nil {
		return nil, fmt.Errorf("agent: creating the state directory: %w", err)
	}
	return &Agent{cfg: cfg, interval: cfg.PollInterval}, nil
}

// DeviceID returns the device's id when enrollment told it (0 otherwise).
func (a *Agent) DeviceID() int64 { return a.deviceID }

// Enroll makes sure the agent has a device token: the one stored in the
// state directory, else the configured device_token, else one got from
// POST /api/v1/enroll with the enrollment key (stored 0600).
func (a *Agent) Enroll(ctx context.Context) error {
	if b, err := os.ReadFile(filepath.Join(a.cfg.StateDir, deviceIDFile)); err == nil { //nolint:gosec // the agent's own state
		a.deviceID, _ = strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	}
	b, err := os.ReadFile(filepath.Join(a.cfg.StateDir, tokenFile)) //nolint:gosec // the agent's own state
	switch {
	case err == nil && strings.HasPrefix(strings.TrimSpace(string(b)), firmward.DeviceTokenPrefix):
		a.token = strings.TrimSpace(string(b))
		return nil
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("reading the device token: %w", err)
	}
	if a.cfg.DeviceToken != "" {
		a.token = a.cfg.DeviceToken
		return nil
	}
	if a.cfg.EnrollmentKey == "" {
		return firmward.Errorf(firmward.EINVALID, "no device token: configure device_token or enrollment_key")
	}
	inv := a.inventory(ctx)
	req := enrollRequest{
		ControllerID: a.cfg.ControllerID, Name: a.cfg.Device.Name, Manufacturer: a.cfg.Device.Manufacturer,
		Model: a.cfg.Device.Model, Serial: a.cfg.Device.Serial, HardwareVersion: a.cfg.Device.HardwareVersion,
		FirmwareVersion: inv.FirmwareVersion,
	}
	if req.Name == "" {
		req.Name = a.cfg.ControllerID
	}
	var res enrollResponse
	if err := a.doJSON(ctx, http.MethodPost, "/api/v1/enroll", "EnrollmentKey "+a.cfg.EnrollmentKey, req, &res); err != nil {
		if statusOf(err) == http.StatusConflict {
			return fmt.Errorf("enrollment refused: controller id %s is taken (if this device enrolled before and lost its state, issue a token with `firmward device token` and set device_token): %w", a.cfg.ControllerID, err)
		}
		return fmt.Errorf("enrollment: %w", err)
	}
	if !strings.HasPrefix(res.Secret, firmward.DeviceTokenPrefix) {
		return fmt.Errorf("enrollment: the server answered no device token")
	}
	if err := writeFileAtomic(filepath.Join(a.cfg.StateDir, tokenFile), []byte(res.Secret+"\n"), 0o600); err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(a.cfg.StateDir, deviceIDFile), []byte(strconv.FormatInt(res.Credential.DeviceID, 10)+"\n"), 0o600); err != nil {
		return err
	}
	a.token, a.deviceID = res.Secret, res.Credential.DeviceID
	a.cfg.Logger.Info("enrolled", "device", res.Credential.DeviceID, "controller_id", res.Credential.ControllerID)
	return nil
}

// inventory collects what each poll reports; a source that fails is left
// out (and logged), never a reason not to poll.
func (a *Agent) inventory(ctx context.Context) PollRequest {
	p := PollRequest{HardwareVersion: a.cfg.Device.HardwareVersion}
	switch {
	case a.cfg.FirmwareVersionCommand != "":
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		out, err := a.cfg.Commands.Run(cctx, a.cfg.FirmwareVersionCommand)
		cancel()
		if err != nil {
			a.cfg.Logger.Warn("firmware version command failed", "err", err)
		} else if len(out) > 0 {
			p.FirmwareVersion = strings.TrimSpace(out[len(out)-1])
		}
	case a.cfg.FirmwareVersionFile != "":
		b, err := os.ReadFile(a.cfg.FirmwareVersionFile)
		if err != nil {
			a.cfg.Logger.Warn("reading the firmware version", "err", err)
		} else {
			p.FirmwareVersion = strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0])
		}
	}
	if len(p.FirmwareVersion) > 128 {
		p.FirmwareVersion = p.FirmwareVersion[:128]
	}
	if up, err := readUptime(a.cfg.UptimeFile); err == nil {
		p.UptimeSeconds = up
	}
	return p
}

// readUptime reads the first field of /proc/uptime, in whole seconds.
func readUptime(path string) (int64, error) {
	b, err := os.ReadFile(path) //nolint:gosec // /proc/uptime or a test's file
	if err != nil {
		return 0, err
	}
	return ParseUptime(string(b))
}

// ParseUptime parses /proc/uptime's content ("12345.67 54321.00").
func ParseUptime(s string) (int64, error) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return 0, fmt.Errorf("uptime: empty")
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil || !(v >= 0 && v <= 1e12) { // also NaN
		return 0, fmt.Errorf("uptime: %q is not a number of seconds", clip(f[0]))
	}
	return int64(v), nil
}

func clip(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}

// Run enrolls and then steps until ctx ends, waiting the server's poll
// interval between polls (or less when nudged). Errors are logged and
// retried at the next poll.
func (a *Agent) Run(ctx context.Context) error {
	for {
		err := a.Enroll(ctx)
		if err == nil {
			break
		}
		a.cfg.Logger.Error("enrollment failed; retrying", "err", err)
		if !a.wait(ctx, a.interval) {
			return ctx.Err()
		}
	}
	for {
		more, err := a.Step(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			a.cfg.Logger.Error("agent step failed", "err", err)
		}
		if more && err == nil {
			continue
		}
		if !a.wait(ctx, a.interval) {
			return ctx.Err()
		}
	}
}

// wait waits d, a nudge or ctx's end; it returns false when ctx ended.
func (a *Agent) wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
	case <-a.cfg.Nudges:
		a.cfg.Logger.Info("nudged: polling now")
	}
	return true
}

// RunOnce enrolls and steps until nothing is left to do now (no action,
// or an action waiting for its maintenance window).
func (a *Agent) RunOnce(ctx context.Context) error {
	if err := a.Enroll(ctx); err != nil {
		return err
	}
	for range 100 {
		more, err := a.Step(ctx)
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
	}
	return fmt.Errorf("agent: the action did not settle in 100 steps")
}

// Step polls once and moves the current action on by one phase. more says
// there is work to do at once (call Step again without waiting).
func (a *Agent) Step(ctx context.Context) (more bool, err error) {
	if a.token == "" {
		return false, firmward.Errorf(firmward.EINVALID, "agent: not enrolled")
	}
	path := filepath.Join(a.cfg.StateDir, stateFile)
	st, err := loadState(path)
	if err != nil {
		return false, err
	}
	var raw json.RawMessage
	var poll PollResponse
	perr := a.doJSON(ctx, http.MethodPost, "/agent/v1/poll", "Bearer "+a.token, a.inventory(ctx), &raw)
	if perr == nil {
		var p *PollResponse
		if p, perr = ParsePollResponse(raw); perr == nil {
			poll = *p
			a.interval = time.Duration(poll.PollSeconds) * time.Second
		}
	}
	if perr != nil && (st.Phase == PhaseIdle || st.Phase == PhaseDownload || st.Phase == PhaseDownloaded) {
		return false, fmt.Errorf("poll: %w", perr)
	}
	if st.Phase == PhaseIdle {
		if poll.Action == nil {
			return false, nil
		}
		if poll.Action.Cancel {
			err := a.feedback(ctx, poll.Action.ID, Feedback{Execution: "canceled", Finished: "success", Details: []string{"canceled before it started"}})
			if err != nil && !isClosed(err) {
				return false, fmt.Errorf("confirming the cancellation: %w", err)
			}
			return false, nil
		}
		st = &State{Phase: PhaseDownload, Action: poll.Action}
		a.cfg.Logger.Info("new action", "action", poll.Action.ID, "version", poll.Action.Version, "type", poll.Action.Type)
		if err := saveState(path, st); err != nil {
			return false, err
		}
		return true, nil
	}
	// Before the install, the server may cancel or replace the action.
	if st.Phase == PhaseDownload || st.Phase == PhaseDownloaded {
		switch {
		case poll.Action == nil || poll.Action.ID != st.Action.ID:
			a.cfg.Logger.Info("action no longer offered; dropping it", "action", st.Action.ID)
			return true, a.finish(path, st)
		case poll.Action.Cancel:
			err := a.feedback(ctx, st.Action.ID, Feedback{Execution: "canceled", Finished: "success", Details: []string{"canceled before the install"}})
			if err != nil && !isClosed(err) {
				return false, fmt.Errorf("confirming the cancellation: %w", err)
			}
			return true, a.finish(path, st)
		}
		st.Action.InstallAllowed, st.Action.Type = poll.Action.InstallAllowed, poll.Action.Type
	} else if perr == nil && poll.Action != nil && poll.Action.ID == st.Action.ID && poll.Action.Cancel {
		// Too late to cancel: the device says so and goes on.
		_ = a.feedback(ctx, st.Action.ID, Feedback{Execution: "rejected", Details: []string{"cannot cancel during " + string(st.Phase)}})
	}
	return a.advance(ctx, path, st)
}

// advance runs the current phase and records the next.
func (a *Agent) advance(ctx context.Context, path string, st *State) (bool, error) {
	act := st.Action
	log := a.cfg.Logger.With("action", act.ID, "phase", string(st.Phase))
	if st.Phase != PhaseReport && st.Phase != PhaseDownloaded {
		st.Attempts++
		if st.Attempts > maxAttempts {
			return true, a.moveTo(path, st, PhaseReport, func() {
				st.Result = firmward.ResultFailure
				st.Details = append(st.Details, fmt.Sprintf("%s did not complete after %d attempts (the agent was stopped each time)", st.Phase, maxAttempts))
			})
		}
		if err := saveState(path, st); err != nil {
			return false, err
		}
	}
	switch st.Phase {
	case PhaseDownload:
		a.progress(ctx, act.ID, 0, "downloading "+strconv.Itoa(len(act.Artifacts))+" artifact(s) of version "+act.Version)
		files, err := a.fetchAll(ctx, act)
		if err != nil {
			var refused *refusedError
			if errors.As(err, &refused) {
				log.Error("artifact refused", "err", err)
				return true, a.moveTo(path, st, PhaseReport, func() {
					st.Result, st.Details = firmward.ResultFailure, append(st.Details, "refused before install: "+err.Error())
				})
			}
			return false, err // retried at the next poll, resuming the download
		}
		a.progress(ctx, act.ID, 2, "downloaded and verified (sha256 and TUF)")
		return true, a.moveTo(path, st, PhaseDownloaded, func() {
			st.Files = files
			st.Details = append(st.Details, "downloaded and verified "+strings.Join(baseNames(files), ", "))
		})
	case PhaseDownloaded:
		switch {
		case act.Type == string(firmward.ActionDownloadOnly):
			return true, a.moveTo(path, st, PhaseReport, func() {
				st.Result, st.Details = firmward.ResultSuccess, append(st.Details, "download only: not installed")
			})
		case !act.InstallAllowed:
			if !st.ToldDownloaded {
				err := a.feedback(ctx, act.ID, Feedback{Execution: "downloaded", Progress: &Progress{Cnt: 2, Of: steps}, Details: []string{"waiting for the maintenance window"}})
				if err == nil {
					st.ToldDownloaded = true
					return false, saveState(path, st)
				}
				log.Warn("feedback failed", "err", err)
			}
			return false, nil
		}
		return true, a.moveTo(path, st, PhaseInstall, nil)
	case PhaseInstall:
		a.progress(ctx, act.ID, 2, "installing with "+a.cfg.Installer.Name())
		for _, f := range st.Files {
			out, err := a.cfg.Installer.Install(ctx, f)
			st.Details = append(st.Details, prefixed("install: ", out)...)
			if err != nil {
				if ctx.Err() != nil {
					return false, ctx.Err()
				}
				log.Error("install failed", "err", err)
				// A failed install left the running firmware alone, but
				// may have written the other slot: roll it back.
				return true, a.moveTo(path, st, PhaseRollback, func() { st.Details = append(st.Details, "install failed: "+err.Error()) })
			}
		}
		a.progress(ctx, act.ID, 3, "installed")
		return true, a.moveTo(path, st, PhaseRestart, nil)
	case PhaseRestart:
		if st.Attempts > 1 {
			// The agent was stopped while the restart command ran: that
			// was the reboot it asked for.
			log.Info("resuming after the restart")
		} else if a.cfg.RestartCommand != "" {
			out, err := a.cfg.Commands.Run(ctx, a.cfg.RestartCommand)
			st.Details = append(st.Details, prefixed("restart: ", out)...)
			if err != nil {
				if ctx.Err() != nil {
					return false, ctx.Err()
				}
				return true, a.moveTo(path, st, PhaseRollback, func() { st.Details = append(st.Details, "restart command failed: "+err.Error()) })
			}
		}
		a.progress(ctx, act.ID, 4, "restarted; checking health")
		return true, a.moveTo(path, st, PhaseHealth, nil)
	case PhaseHealth:
		if a.cfg.HealthCommand != "" {
			hctx, cancel := context.WithTimeout(ctx, a.cfg.HealthTimeout)
			out, err := a.cfg.Commands.Run(hctx, a.cfg.HealthCommand)
			timedOut := hctx.Err() != nil && ctx.Err() == nil
			cancel()
			st.Details = append(st.Details, prefixed("health: ", out)...)
			if ctx.Err() != nil {
				return false, ctx.Err()
			}
			if err != nil {
				why := "health check failed: " + err.Error()
				if timedOut {
					why = "health check timed out after " + a.cfg.HealthTimeout.String()
				}
				log.Warn(why)
				return true, a.moveTo(path, st, PhaseRollback, func() { st.Details = append(st.Details, why) })
			}
		}
		a.progress(ctx, act.ID, 5, "healthy; committing")
		return true, a.moveTo(path, st, PhaseCommit, nil)
	case PhaseCommit:
		out, err := a.cfg.Installer.Commit(ctx)
		st.Details = append(st.Details, prefixed("commit: ", out)...)
		if err != nil {
			if ctx.Err() != nil {
				return false, ctx.Err()
			}
			return true, a.moveTo(path, st, PhaseRollback, func() { st.Details = append(st.Details, "commit failed: "+err.Error()) })
		}
		return true, a.moveTo(path, st, PhaseReport, func() {
			st.Result, st.Details = firmward.ResultSuccess, append(st.Details, "version "+act.Version+" installed and committed")
		})
	case PhaseRollback:
		a.progress(ctx, act.ID, 0, "rolling back")
		out, restart, err := a.cfg.Installer.Rollback(ctx)
		st.Details = append(st.Details, prefixed("rollback: ", out)...)
		if err != nil {
			if ctx.Err() != nil {
				return false, ctx.Err()
			}
			st.Details = append(st.Details, "rollback failed: "+err.Error())
		} else {
			st.Details = append(st.Details, "rolled back")
		}
		if restart && a.cfg.RestartCommand != "" {
			return true, a.moveTo(path, st, PhaseRollbackRestart, func() { st.Result = firmward.ResultFailure })
		}
		return true, a.moveTo(path, st, PhaseReport, func() { st.Result = firmward.ResultFailure })
	case PhaseRollbackRestart:
		// Report before the reboot, which may stop the agent.
		if err := a.report(ctx, st); err != nil {
			return false, err
		}
		if st.Attempts == 1 {
			out, err := a.cfg.Commands.Run(ctx, a.cfg.RestartCommand)
			if err != nil {
				log.Warn("restart after rollback failed", "err", err, "output", strings.Join(out, "\n"))
			}
		}
		return true, a.finish(path, st)
	case PhaseReport:
		if err := a.report(ctx, st); err != nil {
			return false, err
		}
		return true, a.finish(path, st)
	}
	return false, fmt.Errorf("agent state: unknown phase %q (remove %s to start over)", clip(string(st.Phase)), path)
}

// report sends the final result; a closed action counts as reported.
func (a *Agent) report(ctx context.Context, st *State) error {
	details := st.Details
	if len(details) > 200 {
		details = details[len(details)-200:]
	}
	fb := Feedback{Execution: "closed", Finished: st.Result, Details: details}
	if st.Result == firmward.ResultSuccess {
		fb.Progress = &Progress{Cnt: steps, Of: steps}
	}
	err := a.feedback(ctx, st.Action.ID, fb)
	if err != nil && !isClosed(err) {
		return fmt.Errorf("reporting the result of action %d: %w", st.Action.ID, err)
	}
	if err != nil {
		a.cfg.Logger.Warn("the action was closed on the server already", "action", st.Action.ID, "err", err)
	}
	a.cfg.Logger.Info("action finished", "action", st.Action.ID, "result", st.Result)
	return nil
}

// moveTo records the next phase (after change, if any).
func (a *Agent) moveTo(path string, st *State, next Phase, change func()) error {
	if change != nil {
		change()
	}
	st.Phase, st.Attempts = next, 0
	return saveState(path, st)
}

// finish removes the action's downloads and returns to idle.
func (a *Agent) finish(path string, st *State) error {
	if st.Action != nil {
		_ = os.RemoveAll(a.actionDir(st.Action.ID))
	}
	return saveState(path, &State{})
}

func (a *Agent) actionDir(id int64) string {
	return filepath.Join(a.cfg.StateDir, downloadsDir, strconv.FormatInt(id, 10))
}

// progress sends a proceeding feedback; a failure is only logged (the
// final result is what must arrive).
func (a *Agent) progress(ctx context.Context, id int64, cnt int, msg string) {
	if err := a.feedback(ctx, id, Feedback{Execution: "proceeding", Progress: &Progress{Cnt: cnt, Of: steps}, Details: []string{msg}}); err != nil {
		a.cfg.Logger.Warn("progress feedback failed", "action", id, "err", err)
	}
}

// refusedError is an artifact that failed verification: no retry helps.
type refusedError struct{ err error }

func (e *refusedError) Error() string { return e.err.Error() }
func (e *refusedError) Unwrap() error { return e.err }

// fetchAll downloads and verifies every artifact of act.
func (a *Agent) fetchAll(ctx context.Context, act *Action) ([]string, error) {
	if len(act.Artifacts) == 0 {
		return nil, &refusedError{fmt.Errorf("release %d has no artifacts", act.ReleaseID)}
	}
	dir := a.actionDir(act.ID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating %s: %w", dir, err)
	}
	var files []string
	for _, art := range act.Artifacts {
		if why := firmward.ValidArtifactName(art.Name); why != "" {
			return nil, &refusedError{fmt.Errorf("artifact name %q %s", clip(art.Name), why)}
		}
		if art.Vendor && art.SHA256 == "" {
			return nil, &refusedError{fmt.Errorf("vendor artifact %s has no sha256 to check it by", art.Name)}
		}
		if !art.Vendor && art.TUFTarget == "" && !a.cfg.InsecureSkipTUF {
			return nil, &refusedError{fmt.Errorf("artifact %s is not signed (no TUF target): the server has no TUF repository", art.Name)}
		}
		dest := filepath.Join(dir, art.Name)
		if _, err := os.Stat(dest); err != nil {
			if err := a.download(ctx, art, dest); err != nil {
				return nil, err
			}
		}
		if err := a.verify(ctx, art, dest); err != nil {
			var ne net.Error
			if errors.As(err, &ne) || ctx.Err() != nil {
				return nil, err // the TUF metadata could not be fetched: retry
			}
			_ = os.Remove(dest)
			return nil, &refusedError{err}
		}
		files = append(files, dest)
	}
	return files, nil
}

// verify checks dest's sha256 against the action's and, for stored
// artifacts, against the signed TUF target.
func (a *Agent) verify(ctx context.Context, art Artifact, dest string) error {
	if art.SHA256 != "" {
		f, err := os.Open(dest) //nolint:gosec // the agent's own download
		if err != nil {
			return fmt.Errorf("verifying %s: %w", art.Name, err)
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		_ = f.Close()
		if err != nil {
			return fmt.Errorf("verifying %s: %w", art.Name, err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); !strings.EqualFold(got, art.SHA256) {
			return fmt.Errorf("artifact %s has sha256 %s, the server announced %s", art.Name, got, art.SHA256)
		}
	}
	if art.TUFTarget != "" && a.cfg.Verify != nil {
		if err := a.cfg.Verify(ctx, art.TUFTarget, dest); err != nil {
			return fmt.Errorf("artifact %s: TUF verification failed: %w", art.Name, err)
		}
	}
	return nil
}

func baseNames(files []string) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = filepath.Base(f)
	}
	return out
}

func prefixed(p string, lines install.Output) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = p + l
	}
	return out
}

// SetNudges sets the channel whose values make Run poll at once (MQTT);
// call it before Run.
func (a *Agent) SetNudges(c <-chan struct{}) { a.cfg.Nudges = c }

// Bounds of the poll interval a server may ask for.
const (
	minPollSeconds = 1
	maxPollSeconds = 24 * 60 * 60
)

// ParsePollResponse decodes and checks the server's answer to a poll: a
// poll interval within 1 s and a day (clamped; 0 keeps the default of 5
// minutes), and an action with a positive id, known type and artifacts
// with valid names and URLs. Anything else is an error naming the field.
func ParsePollResponse(b []byte) (*PollResponse, error) {
	var p PollResponse
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("the poll answer is not the expected JSON: %w", err)
	}
	switch {
	case p.PollSeconds <= 0:
		p.PollSeconds = 300
	case p.PollSeconds < minPollSeconds:
		p.PollSeconds = minPollSeconds
	case p.PollSeconds > maxPollSeconds:
		p.PollSeconds = maxPollSeconds
	}
	act := p.Action
	if act == nil {
		return &p, nil
	}
	if act.ID <= 0 {
		return nil, fmt.Errorf("the poll answer's action has id %d", act.ID)
	}
	switch firmward.ActionType(act.Type) {
	case firmward.ActionForced, firmward.ActionAttempt, firmward.ActionSkip, firmward.ActionDownloadOnly:
	default:
		return nil, fmt.Errorf("action %d has the unknown type %q", act.ID, clip(act.Type))
	}
	if len(act.Artifacts) > 64 {
		return nil, fmt.Errorf("action %d has %d artifacts; at most 64 are handled", act.ID, len(act.Artifacts))
	}
	for _, art := range act.Artifacts {
		if why := firmward.ValidArtifactName(art.Name); why != "" {
			return nil, fmt.Errorf("action %d: artifact name %q %s", act.ID, clip(art.Name), why)
		}
		u, err := url.Parse(art.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("action %d: artifact %s has no http(s) URL", act.ID, art.Name)
		}
		if art.Size < 0 {
			return nil, fmt.Errorf("action %d: artifact %s has a negative size", act.ID, art.Name)
		}
	}
	return &p, nil
}
