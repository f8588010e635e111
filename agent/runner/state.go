package runner

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Phase is where the agent stands in an action. The state file records the
// phase before its work starts, so that a restart knows what was under way.
type Phase string

// Phases, in order. On a restart: download resumes the partial files;
// install repeats the install (it did not finish); restart skips the
// restart command (the agent was most likely stopped by the reboot it
// asked for) and goes on to the health check; health, commit and rollback
// repeat; rollback-restart skips the restart command; report resends the
// result.
const (
	PhaseIdle            Phase = ""
	PhaseDownload        Phase = "download"
	PhaseDownloaded      Phase = "downloaded"
	PhaseInstall         Phase = "install"
	PhaseRestart         Phase = "restart"
	PhaseHealth          Phase = "health"
	PhaseCommit          Phase = "commit"
	PhaseRollback        Phase = "rollback"
	PhaseRollbackRestart Phase = "rollback-restart"
	PhaseReport          Phase = "report"
)

// State is what the agent persists about the action it works on.
type State struct {
	Phase  Phase   `json:"phase"`
	Action *Action `json:"action,omitempty"`
	// Files are the verified downloads, in artifact order.
	Files []string `json:"files,omitempty"`
	// ToldDownloaded says the "downloaded" feedback went out (waiting for
	// the maintenance window).
	ToldDownloaded bool `json:"told_downloaded,omitempty"`
	// Result and Details are the final report (PhaseReport), and the log
	// collected along the way.
	Result  string   `json:"result,omitempty"`
	Details []string `json:"details,omitempty"`
	// Attempts counts the starts of the current phase (a phase that keeps
	// killing the agent is given up after maxAttempts).
	Attempts int `json:"attempts,omitempty"`
}

// maxAttempts bounds how often the agent restarts one phase.
const maxAttempts = 3

// loadState reads the state file; a missing file is the idle state.
func loadState(path string) (*State, error) {
	b, err := os.ReadFile(path) //nolint:gosec // the agent's own state file
	if errors.Is(err, fs.ErrNotExist) {
		return &State{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the agent state: %w", err)
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("the agent state %s is damaged (remove it to start over): %w", path, err)
	}
	return &s, nil
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory, synced and renamed, so a crash leaves the old or the new
// content, never a mix.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() { _ = os.Remove(tmp) }()
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Chmod(perm); err != nil {
		_ = f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil { //nolint:gosec // the agent's own state directory
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

func saveState(path string, s *State) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the agent state: %w", err)
	}
	return writeFileAtomic(path, b, 0o600)
}
