package feedsync

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Entry is what State keeps for one URL: the validators of the last
// download that was imported, and when that was.
type Entry struct {
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"last_modified,omitempty"`
	Synced       time.Time `json:"synced"`
}

// State is the per-URL memory of feed downloads, kept in a small JSON
// file. It is not safe for concurrent use.
type State struct {
	path    string
	entries map[string]Entry
}

// LoadState reads the state file at path; a missing file is an empty
// state. It returns an error when the file exists but cannot be read or
// is not a state file.
func LoadState(path string) (*State, error) {
	s := &State{path: path, entries: map[string]Entry{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the feed state: %w", err)
	}
	if err := json.Unmarshal(b, &s.entries); err != nil {
		return nil, fmt.Errorf("reading the feed state %s: %w", path, err)
	}
	if s.entries == nil {
		s.entries = map[string]Entry{}
	}
	return s, nil
}

// Path is the file the state is saved to.
func (s *State) Path() string { return s.path }

// Get returns the entry of url, or the zero Entry.
func (s *State) Get(url string) Entry { return s.entries[url] }

// Set records the entry of url and saves the state file.
func (s *State) Set(url string, e Entry) error {
	s.entries[url] = e
	return s.save()
}

// save writes the state atomically (a temporary file renamed over the old
// one), mode 0600, creating its directory (0700) when needed.
func (s *State) save() error {
	b, err := json.MarshalIndent(s.entries, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the feed state: %w", err)
	}
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("saving the feed state: %w", err)
	}
	f, err := os.CreateTemp(dir, ".feeds-state-*.tmp")
	if err != nil {
		return fmt.Errorf("saving the feed state: %w", err)
	}
	tmp := f.Name()
	_, werr := f.Write(append(b, '\n'))
	if werr == nil {
		werr = f.Chmod(0o600)
	}
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, s.path)
	}
	if werr != nil {
		_ = os.Remove(tmp) // best effort; the old state stays intact
		return fmt.Errorf("saving the feed state %s: %w", s.path, werr)
	}
	return nil
}
