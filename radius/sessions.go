package radius

import (
	"context"
	"sync"

	firmward "github.com/firmward/firmward"
)

// DefaultMaxSessions bounds an in-memory Sessions table.
const DefaultMaxSessions = 1_000_000

// Sessions is an in-memory SessionRecorder: the last session seen for each
// MAC. It suits a single server; the server may persist sessions instead.
// The zero value is not usable; call NewSessions.
type Sessions struct {
	max  int
	mu   sync.Mutex         // guards last
	last map[string]Session // by MAC
}

// NewSessions returns an empty table holding at most max MACs
// (DefaultMaxSessions when max <= 0).
func NewSessions(max int) *Sessions {
	if max <= 0 {
		max = DefaultMaxSessions
	}
	return &Sessions{max: max, last: map[string]Session{}}
}

var _ SessionRecorder = (*Sessions)(nil)

// RecordSession keeps s as the last session of s.MAC. A new MAC beyond the
// table's size is refused with ETOOLARGE.
func (t *Sessions) RecordSession(_ context.Context, s Session) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.last[s.MAC]; !ok && len(t.last) >= t.max {
		return firmward.Errorf(firmward.ETOOLARGE, "session table full (%d MACs)", t.max)
	}
	t.last[s.MAC] = s
	return nil
}

// LastSession returns the last session recorded for mac (firmward form),
// or ENOTFOUND.
func (t *Sessions) LastSession(_ context.Context, mac string) (Session, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.last[mac]
	if !ok {
		return Session{}, firmward.Errorf(firmward.ENOTFOUND, "no RADIUS session seen for %s", mac)
	}
	return s, nil
}
