package assess

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// followPage is how many change log entries CatchUp reads at once.
const followPage = 5000

// CatchUp re-matches the CVEs that the store's change log (Sources.Changes)
// lists after the newest entry this Engine has seen: what other processes
// imported since the last Full or CatchUp. Entries of imports made through
// WatchVulnerabilities with this Engine are skipped: they were queued when
// they committed. CatchUp does Vulnerabilities for the rest, then
// remembers the newest entry; it does Full instead when entries it has not
// seen were pruned, and nothing when nothing is loaded yet (the first Full
// reads everything) or there is no change log. On error nothing is
// remembered, so the next CatchUp redoes the work; re-matching a CVE twice
// rewrites no finding.
func (e *Engine) CatchUp(ctx context.Context) (*RunResult, error) {
	e.run.Lock()
	defer e.run.Unlock()
	if e.src.Changes == nil || !e.Loaded() {
		return &RunResult{}, nil
	}
	start := e.opts.Now()
	after := e.seq
	ids := map[string]struct{}{}
	for {
		page, err := e.src.Changes.VulnerabilityChanges(ctx, after, followPage)
		if err != nil {
			return nil, fmt.Errorf("reading the change log: %w", err)
		}
		if page.Truncated {
			e.log.Warn("changes of CVEs were pruned before this process read them; re-matching everything",
				slog.Int64("seq", after), slog.Int64("newest", page.Newest))
			return e.fullLocked(ctx)
		}
		e.qmu.Lock()
		for _, c := range page.Changes {
			if !e.ownLocked(c.Seq) {
				ids[c.CVE] = struct{}{}
			}
			after = c.Seq
		}
		e.qmu.Unlock()
		if len(page.Changes) < followPage || after >= page.Newest {
			break
		}
	}
	if len(ids) == 0 {
		e.advance(after)
		return &RunResult{Duration: e.opts.Now().Sub(start)}, nil
	}
	list := make([]string, 0, len(ids))
	for id := range ids {
		list = append(list, id)
	}
	res, err := e.vulnerabilitiesLocked(ctx, list)
	if err != nil {
		return nil, err
	}
	e.advance(after)
	res.Duration = e.opts.Now().Sub(start)
	return res, nil
}

// advance remembers seq as the newest change seen and forgets the own
// ranges it passed. e.run is held.
func (e *Engine) advance(seq int64) {
	e.seq = max(e.seq, seq)
	e.qmu.Lock()
	defer e.qmu.Unlock()
	kept := e.own[:0]
	for _, r := range e.own {
		if r[1] > e.seq {
			kept = append(kept, r)
		}
	}
	e.own = kept
}

// ownLocked reports whether seq is in a range this process imported. qmu
// is held.
func (e *Engine) ownLocked(seq int64) bool {
	for _, r := range e.own {
		if r[0] <= seq && seq <= r[1] {
			return true
		}
	}
	return false
}

// imported records the change log range [first, last] of an import made
// through this Engine's watched service and queues its CVEs.
func (e *Engine) imported(first, last int64, cves []string) {
	if e.src.Changes != nil && first > 0 && last >= first {
		e.qmu.Lock()
		e.own = append(e.own, [2]int64{first, last})
		e.qmu.Unlock()
	}
	e.NotifyVulnerabilities(cves...)
}

// NotifyCatchUp queues a CatchUp for the worker (Start).
func (e *Engine) NotifyCatchUp() {
	e.qmu.Lock()
	e.catchUp = true
	e.qmu.Unlock()
	e.kick()
}

// Follow queues a CatchUp every interval until ctx ends, for the worker
// (Start) to run; an interval of 0 or less returns at once.
func (e *Engine) Follow(ctx context.Context, every time.Duration) {
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			e.NotifyCatchUp()
		}
	}
}
