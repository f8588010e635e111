package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progress draws a one-line progress bar of an upload on a terminal,
// redrawing it in place with a carriage return. A nil *progress draws
// nothing, which is what a run whose stderr is not a terminal gets.
type progress struct {
	w       io.Writer
	label   string
	total   int64 // bytes; 0 when unknown
	done    int64
	unit    string // "hosts": count items instead of bytes
	drawn   bool
	lastPct int
	last    time.Time
}

const barWidth = 30

// newProgress returns a bar for an upload of total bytes (0 if unknown), or
// nil when stderr is not a terminal.
func (a *app) newProgress(label string, total int64) *progress {
	if !a.stderrTTY {
		return nil
	}
	return &progress{w: a.stderr, label: label, total: total, lastPct: -1}
}

// reader returns r counting what is read through it into the bar.
func (p *progress) reader(r io.Reader) io.Reader {
	if p == nil {
		return r
	}
	return &progressReader{r: r, p: p}
}

type progressReader struct {
	r io.Reader
	p *progress
}

func (pr *progressReader) Read(b []byte) (int, error) {
	n, err := pr.r.Read(b)
	pr.p.add(int64(n))
	return n, err
}

// add counts n more bytes and redraws when the percentage changed or, with
// an unknown total, every 200 ms.
func (p *progress) add(n int64) {
	if p == nil || n == 0 {
		return
	}
	p.done += n
	if p.total > 0 {
		if pct := p.percent(); pct != p.lastPct {
			p.lastPct = pct
			p.draw()
		}
		return
	}
	if now := time.Now(); now.Sub(p.last) >= 200*time.Millisecond {
		p.last = now
		p.draw()
	}
}

func (p *progress) percent() int {
	if p.total <= 0 {
		return 0
	}
	return int(min(100, p.done*100/p.total))
}

func (p *progress) draw() {
	p.drawn = true
	amount := func(n int64) string {
		if p.unit != "" {
			return fmt.Sprintf("%d %s", n, p.unit)
		}
		return formatBytes(n)
	}
	if p.total <= 0 {
		_, _ = fmt.Fprintf(p.w, "\r%s  %s sent   ", p.label, amount(p.done))
		return
	}
	pct := p.percent()
	full := pct * barWidth / 100
	bar := strings.Repeat("=", full) + strings.Repeat(" ", barWidth-full)
	if full > 0 && full < barWidth {
		bar = bar[:full-1] + ">" + bar[full:]
	}
	_, _ = fmt.Fprintf(p.w, "\r%s [%s] %3d%%  %s / %s   ", p.label, bar, pct, amount(p.done), amount(p.total))
}

// finish draws the final state and ends the line, if anything was drawn.
func (p *progress) finish() {
	if p == nil || !p.drawn {
		return
	}
	p.draw()
	_, _ = fmt.Fprintln(p.w)
}

// formatBytes formats a size as 512 B, 1.5 kB, 2.0 MB.
func formatBytes(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1000*1000:
		return fmt.Sprintf("%.1f kB", float64(n)/1000)
	case n < 1000*1000*1000:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.1f GB", float64(n)/1e9)
}
