package discovery

import (
	"context"
	"sync"
	"time"
)

// limiter spaces events out to at most rate per second across every
// goroutine of a scan. Its clock and sleep are injected so that tests do not
// wait.
type limiter struct {
	interval time.Duration
	now      func() time.Time
	sleep    func(ctx context.Context, d time.Duration) error

	mu   sync.Mutex // guards next
	next time.Time  // when the next event may happen
}

// newLimiter returns a limiter of rate events per second; rate <= 0 means no
// limit.
func newLimiter(rate int, now func() time.Time) *limiter {
	l := &limiter{now: now, sleep: sleepCtx}
	if rate > 0 {
		l.interval = time.Second / time.Duration(rate)
	}
	return l
}

// wait blocks until the caller may send one probe, or ctx ends.
func (l *limiter) wait(ctx context.Context) error {
	if l.interval == 0 {
		return ctx.Err()
	}
	l.mu.Lock()
	now := l.now()
	at := l.next
	if at.Before(now) {
		at = now
	}
	l.next = at.Add(l.interval)
	l.mu.Unlock()
	if d := at.Sub(now); d > 0 {
		return l.sleep(ctx, d)
	}
	return ctx.Err()
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
