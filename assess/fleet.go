package assess

import (
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/vuln"
)

// Devices assesses every device of ds on all CPUs and returns their
// results in the same order; each Result is what Device returns.
//
// A fleet holds many devices of the same model and firmware: Devices
// proposes CPEs once per distinct (manufacturer, model, hardware version,
// firmware version, cpe) and matches once per distinct (firmware CPE,
// hardware CPE, firmware version), in memos that live for the call only.
// Findings are still built per device, since criticality and exposure
// change the decision.
func (a *Assessor) Devices(ds []firmward.Device) []Result {
	now := time.Now()
	if a.Now != nil {
		now = a.Now()
	}
	var cat *vuln.Catalog
	if a.Index != nil {
		cat = a.Index.Catalog()
	}
	var proposals, matches sync.Map // memo key → *memo[…]
	match := func(dev vuln.DeviceCPEs) []matched {
		k := dev.Firmware + "\x00" + dev.Hardware + "\x00" + dev.Version
		e, _ := matches.LoadOrStore(k, new(memo[[]matched]))
		m := e.(*memo[[]matched])
		m.once.Do(func() { m.v = a.match(dev) })
		return m.v
	}
	out := make([]Result, len(ds))
	var next atomic.Int64
	const chunk = 64
	var wg sync.WaitGroup
	for range max(1, runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for {
				lo := int(next.Add(chunk)) - chunk
				if lo >= len(ds) {
					return
				}
				for i := lo; i < min(lo+chunk, len(ds)); i++ {
					d := &ds[i]
					k := strings.Join([]string{d.Manufacturer, d.Model, d.HardwareVersion, d.FirmwareVersion, d.CPE}, "\x00")
					e, _ := proposals.LoadOrStore(k, new(memo[vuln.Proposal]))
					p := e.(*memo[vuln.Proposal])
					p.once.Do(func() { p.v = vuln.Propose(cat, *d) })
					out[i] = a.assess(d, p.v, now, match)
				}
			}
		})
	}
	wg.Wait()
	return out
}

// memo is one value computed once.
type memo[T any] struct {
	once sync.Once
	v    T
}
