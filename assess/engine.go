package assess

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/vuln"
)

// SyncBatch is how many devices' findings go to the store in one
// FindingService.SyncFindings call (one transaction).
const SyncBatch = 500

// byIDThreshold is the size of a device set above which the Engine reads
// the whole inventory page by page and keeps the devices of the set,
// rather than reading each by ID.
const byIDThreshold = 2000

// Engine keeps every stored vulnerability indexed in memory and keeps the
// findings current as things change, redoing only what a change can
// touch:
//
//   - Full reads every record into a new Index and re-matches every
//     device (at start and on a schedule, since risk acceptances expire).
//   - Devices re-matches the given devices against everything (a device
//     was created, edited or imported).
//   - Vulnerabilities re-reads the given CVEs (a feed import changed them)
//     and re-matches only them, only on the devices whose firmware or
//     hardware product they name; the findings of other CVEs are not
//     touched. A device whose CPE choice the new data changes (a product
//     name it now fits better) is re-matched against everything instead.
//   - CatchUp reads the store's change log of CVEs (Sources.Changes) for
//     what was imported since the last Full or CatchUp, by any process
//     (another serve replica, the feeds import command), and does
//     Vulnerabilities for it; Follow runs it on a schedule.
//
// Notify queues such work for a worker goroutine (Start), which merges
// what piles up while it is busy; these methods can also be called
// directly and return what they did. All work runs one piece at a time.
//
// The Engine remembers, per device, the vendor/product keys it was last
// matched under (two small integers), which is how Vulnerabilities finds
// the devices a CVE can concern without reading the inventory.
type Engine struct {
	src  Sources
	opts RunOptions
	log  *slog.Logger

	run sync.Mutex // held by Full, Devices, Vulnerabilities and CatchUp: one at a time
	seq int64      // the change log's newest seq that the index reflects (with run)

	mu   sync.RWMutex // guards x, the keys tables and devs; write-locked only to change them
	x    *Index       // nil until the first Full
	keys map[string]uint32
	key  []string // key id → key; id 0 is "no name"
	devs map[int64]devKeys

	qmu     sync.Mutex // guards the queue fields below
	full    bool
	devices map[int64]struct{}
	cves    map[string]struct{}
	catchUp bool
	own     [][2]int64 // change log seq ranges this process imported (and queued) itself
	busy    bool
	wake    chan struct{}
	idle    *sync.Cond // signalled (with qmu) when the worker has nothing queued or running
}

// NewEngine returns an Engine over src; nothing is read until Full (or
// the first queued piece of work, which starts with a Full when nothing
// is loaded). A nil log discards.
func NewEngine(src Sources, opts RunOptions, log *slog.Logger) *Engine {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	e := &Engine{
		src: src, opts: opts, log: log,
		devices: map[int64]struct{}{}, cves: map[string]struct{}{},
		wake: make(chan struct{}, 1),
	}
	e.idle = sync.NewCond(&e.qmu)
	return e
}

// Loaded reports whether the index is in memory.
func (e *Engine) Loaded() bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.x != nil
}

// Propose returns the CPE proposal for d from the imported data, loading
// the index first when it is not (which assesses every device, as Full).
func (e *Engine) Propose(ctx context.Context, d firmward.Device) (vuln.Proposal, error) {
	if !e.Loaded() {
		if _, err := e.Full(ctx); err != nil {
			return vuln.Proposal{}, err
		}
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	return vuln.Propose(e.x.Catalog(), d), nil
}

// Full reads every stored record into a new Index (the old one serves
// readers meanwhile), then assesses every device and stores the findings.
// See Run for the details and errors.
func (e *Engine) Full(ctx context.Context) (*RunResult, error) {
	e.run.Lock()
	defer e.run.Unlock()
	return e.fullLocked(ctx)
}

func (e *Engine) fullLocked(ctx context.Context) (*RunResult, error) {
	start := e.opts.Now()
	// The newest change before the records are read: a change committed
	// while they are read is re-read by the next CatchUp, which is harmless.
	var seq int64
	if e.src.Changes != nil {
		page, err := e.src.Changes.VulnerabilityChanges(ctx, 0, 0)
		if err != nil {
			return nil, fmt.Errorf("reading the change log: %w", err)
		}
		seq = page.Newest
	}
	x, n, err := loadIndex(ctx, e.src.Vulns)
	if err != nil {
		return nil, err
	}
	e.advance(seq)
	e.mu.Lock()
	e.x = x
	e.keys, e.key, e.devs = map[string]uint32{"": 0}, []string{""}, map[int64]devKeys{}
	e.mu.Unlock()
	res := RunResult{CVEs: n}
	a := &Assessor{Index: x, Policy: e.opts.Policy, Now: e.opts.Now}
	err = eachDevicePage(ctx, e.src.Devices, nil, func(ds []firmward.Device) error {
		return e.syncDevices(ctx, a, ds, nil, &res)
	})
	if err != nil {
		return nil, err
	}
	res.Duration = e.opts.Now().Sub(start)
	return &res, nil
}

// Devices re-matches the devices ids against every stored CVE (Full first
// when nothing is loaded). Devices that no longer exist are forgotten.
func (e *Engine) Devices(ctx context.Context, ids []int64) (*RunResult, error) {
	e.run.Lock()
	defer e.run.Unlock()
	if !e.Loaded() {
		return e.fullLocked(ctx)
	}
	start := e.opts.Now()
	set := make(map[int64]bool, len(ids))
	for _, id := range ids {
		set[id] = true
	}
	res := RunResult{CVEs: e.x.Len()}
	a := &Assessor{Index: e.x, Policy: e.opts.Policy, Now: e.opts.Now}
	err := eachDevicePage(ctx, e.src.Devices, set, func(ds []firmward.Device) error {
		for _, d := range ds {
			delete(set, d.ID)
		}
		return e.syncDevices(ctx, a, ds, nil, &res)
	})
	if err != nil {
		return nil, err
	}
	e.forget(set) // what is left was not found: deleted
	res.Duration = e.opts.Now().Sub(start)
	return &res, nil
}

// Vulnerabilities re-reads the CVEs ids from the store into the index and
// re-matches them, and only them, on the devices they can concern (Full
// first when nothing is loaded). IDs of CVEs without a source record (KEV
// or EPSS only) are part of the scope but can match nothing.
func (e *Engine) Vulnerabilities(ctx context.Context, ids []string) (*RunResult, error) {
	e.run.Lock()
	defer e.run.Unlock()
	if !e.Loaded() {
		return e.fullLocked(ctx)
	}
	return e.vulnerabilitiesLocked(ctx, ids)
}

// vulnerabilitiesLocked is Vulnerabilities with e.run held and the index
// loaded.
func (e *Engine) vulnerabilitiesLocked(ctx context.Context, ids []string) (*RunResult, error) {
	start := e.opts.Now()
	scope := slices.Clone(ids)
	slices.Sort(scope)
	scope = slices.Compact(scope)

	recs, err := readRecords(ctx, e.src.Vulns, scope)
	if err != nil {
		return nil, err
	}
	// The keys the changed CVEs name, before and after the change.
	t := newTouch()
	e.mu.Lock()
	for _, r := range recs {
		if old := e.x.Record(r.ID); old != nil {
			t.addRecord(old)
		}
		t.addRecord(r)
	}
	cat := e.x.Catalog()
	before := make(map[string]int, len(t.raw))
	for v := range t.raw {
		before[v] = cat.VendorLen(v)
	}
	for _, r := range recs {
		e.x.Add(r)
	}
	// Vendors with new products: proposals for their devices may change.
	grew := map[string]bool{}
	for v, n := range before {
		if cat.VendorLen(v) != n {
			grew[vuln.NormalName(v)] = true
		}
	}
	e.mu.Unlock()

	res := RunResult{CVEs: len(recs)}
	if len(recs) == 0 {
		res.Duration = e.opts.Now().Sub(start)
		return &res, nil
	}
	sub := newSubIndex(e.x)
	for _, r := range recs {
		sub.Add(r)
	}
	candidates := e.touched(t, grew)
	full := &Assessor{Index: e.x, Policy: e.opts.Policy, Now: e.opts.Now}
	part := &Assessor{Index: sub, Policy: e.opts.Policy, Now: e.opts.Now}
	err = eachDevicePage(ctx, e.src.Devices, candidates, func(ds []firmward.Device) error {
		results := part.Devices(ds)
		// A device whose CPE choice changed is re-matched against
		// everything: its findings under the old names must go.
		var moved []firmward.Device
		keep := ds[:0:0]
		kept := results[:0:0]
		e.mu.RLock()
		for i := range ds {
			if !e.sameKeysRLocked(ds[i].ID, results[i]) {
				moved = append(moved, ds[i])
				continue
			}
			keep = append(keep, ds[i])
			kept = append(kept, results[i])
		}
		e.mu.RUnlock()
		if err := e.store(ctx, keep, kept, scope, &res); err != nil {
			return err
		}
		return e.syncDevices(ctx, full, moved, nil, &res)
	})
	if err != nil {
		return nil, err
	}
	res.Duration = e.opts.Now().Sub(start)
	return &res, nil
}

// syncDevices assesses ds with a and stores their findings within scope
// (nil: every CVE).
func (e *Engine) syncDevices(ctx context.Context, a *Assessor, ds []firmward.Device, scope []string, res *RunResult) error {
	if len(ds) == 0 {
		return nil
	}
	return e.store(ctx, ds, a.Devices(ds), scope, res)
}

// store writes the results of ds in SyncBatch batches, remembers the keys
// each device was matched under and adds the counts to res.
func (e *Engine) store(ctx context.Context, ds []firmward.Device, results []Result, scope []string, res *RunResult) error {
	for lo := 0; lo < len(ds); lo += SyncBatch {
		hi := min(lo+SyncBatch, len(ds))
		batch := make([]firmward.DeviceFindings, 0, hi-lo)
		for i := lo; i < hi; i++ {
			batch = append(batch, firmward.DeviceFindings{DeviceID: ds[i].ID, Found: results[i].Findings, CVEs: scope})
		}
		sr, err := e.src.Findings.SyncFindings(ctx, batch)
		if err != nil {
			return fmt.Errorf("storing findings: %w", err)
		}
		res.add(sr)
		e.mu.Lock()
		for i := lo; i < hi; i++ {
			if len(results[i].Findings) > 0 {
				res.DevicesWithFindings++
			}
			e.devs[ds[i].ID] = devKeys{k: e.keyIDsLocked(results[i]), proposed: results[i].Proposal.Source != vuln.ProposalDevice}
		}
		e.mu.Unlock()
	}
	return nil
}

// keyIDsLocked returns the ids of the index keys of a result's firmware
// and hardware CPEs, adding new keys; e.mu must be write-locked.
func (e *Engine) keyIDsLocked(r Result) [3]uint32 {
	var out [3]uint32
	for i, s := range []string{r.FirmwareCPE, r.HardwareCPE, r.PlatformCPE} {
		k := cpeKey(s)
		if k == "" {
			continue
		}
		id, ok := e.keys[k]
		if !ok {
			id = uint32(len(e.key)) //nolint:gosec // one key per distinct device name, far below 2^32
			e.keys[k] = id
			e.key = append(e.key, k)
		}
		out[i] = id
	}
	return out
}

// sameKeysRLocked reports whether r names the keys the device was last
// matched under; e.mu must be at least read-locked.
func (e *Engine) sameKeysRLocked(dev int64, r Result) bool {
	was := e.devs[dev].k
	for i, s := range []string{r.FirmwareCPE, r.HardwareCPE, r.PlatformCPE} {
		k := cpeKey(s)
		id, ok := e.keys[k]
		if !ok || id != was[i] {
			return false
		}
	}
	return true
}

// forget drops deleted devices.
func (e *Engine) forget(ids map[int64]bool) {
	if len(ids) == 0 {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for id := range ids {
		delete(e.devs, id)
	}
}

// touched returns the devices whose keys t names: the devices matched
// under a named vendor/product, all devices of a vendor named with any
// product, every device when a CVE names no plain vendor, and, when
// vendors gained products (grew), the devices whose CPEs were proposed
// under one of them or could not be proposed at all (their proposal may
// change; a device's own CPE does not). nil means every device.
func (e *Engine) touched(t *touch, grew map[string]bool) map[int64]bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if t.wild {
		return nil
	}
	hit := make([]bool, len(e.key))    // named: matched under this key may change
	regrow := make([]bool, len(e.key)) // the key's vendor gained products
	for id, k := range e.key {
		if id == 0 {
			regrow[0] = len(grew) > 0
			continue
		}
		vendor := keyVendor(k)
		hit[id] = t.keys[k] || t.vendors[vendor]
		regrow[id] = grew[vendor]
	}
	out := map[int64]bool{}
	for dev, dk := range e.devs {
		ks := dk.k
		if hit[ks[0]] || hit[ks[1]] || hit[ks[2]] ||
			dk.proposed && (regrow[ks[0]] || regrow[ks[1]] || ks == [3]uint32{} && regrow[0]) {
			out[dev] = true
		}
	}
	return out
}

// devKeys is what the Engine remembers of a device: the keys of the
// firmware, hardware and platform CPEs it was last matched with (0:
// none), and whether they were proposed rather than its own.
type devKeys struct {
	k        [3]uint32
	proposed bool
}

// touch collects what changed records name.
type touch struct {
	keys    map[string]bool // vendor/product keys
	vendors map[string]bool // vendors named with a non-plain product: all their products
	raw     map[string]bool // every vendor named, lower case as CPE names write it (the catalog's spelling)
	wild    bool            // a criterion with no plain vendor
}

func newTouch() *touch {
	return &touch{keys: map[string]bool{}, vendors: map[string]bool{}, raw: map[string]bool{}}
}

func (t *touch) addRecord(v *firmward.VulnerabilityRecord) {
	addCPE := func(s string) {
		if c, err := vuln.ParseCPE(s); err == nil && c.Vendor.IsConcrete() {
			t.raw[strings.ToLower(c.Vendor.Text)] = true
		}
		vendor, product, ok := names(s)
		switch {
		case ok:
			t.keys[key(vendor, product)] = true
		case vendor != "":
			t.vendors[vendor] = true
		default:
			if _, err := vuln.ParseCPE(s); err == nil {
				t.wild = true
			}
		}
	}
	v.EachMatch(func(m *firmward.CPEMatch) { addCPE(m.Criteria) })
	for i := range v.Affected {
		a := &v.Affected[i]
		if a.Vendor != "" && a.Product != "" {
			t.keys[key(vuln.NormalName(a.Vendor), vuln.NormalProduct(a.Product))] = true
		}
		for _, s := range a.CPEs {
			addCPE(s)
		}
	}
}

// cpeKey returns the index key of a device's CPE name, "" when it has no
// plain vendor and product.
func cpeKey(s string) string {
	if s == "" {
		return ""
	}
	vendor, product, ok := names(s)
	if !ok {
		return ""
	}
	return key(vendor, product)
}

// keyVendor returns the vendor part of a key.
func keyVendor(k string) string {
	for i := range len(k) {
		if k[i] == 0 {
			return k[:i]
		}
	}
	return k
}

// loadIndex reads every record with a source record into a new Index.
// The next page is read while the current one is indexed.
func loadIndex(ctx context.Context, vulns firmward.VulnerabilityService) (*Index, int, error) {
	type page struct {
		recs []*firmward.VulnerabilityRecord
		err  error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pages := make(chan page, 1)
	go func() {
		defer close(pages)
		// Only CVEs with a source record can match: KEV- and EPSS-only
		// entries still reach findings, merged into the records that have
		// them.
		f := firmward.VulnerabilityFilter{Described: true, Limit: firmward.MaxPageSize}
		for {
			if err := ctx.Err(); err != nil {
				pages <- page{err: err}
				return
			}
			recs, next, err := vulns.FindVulnerabilities(ctx, f)
			select {
			case pages <- page{recs, err}:
			case <-ctx.Done():
				return
			}
			if err != nil || next == "" || len(recs) == 0 {
				return
			}
			f.After = next
		}
	}()
	x := NewIndex()
	n := 0
	for p := range pages {
		if p.err != nil {
			return nil, 0, fmt.Errorf("reading vulnerabilities: %w", p.err)
		}
		for _, r := range p.recs {
			x.Add(r)
		}
		n += len(p.recs)
	}
	if err := ctx.Err(); err != nil {
		return nil, 0, fmt.Errorf("reading vulnerabilities: %w", err)
	}
	return x, n, nil
}

// readRecords reads the records of the CVEs ids that have a source record.
func readRecords(ctx context.Context, vulns firmward.VulnerabilityService, ids []string) ([]*firmward.VulnerabilityRecord, error) {
	var out []*firmward.VulnerabilityRecord
	const per = firmward.MaxPageSize
	for lo := 0; lo < len(ids); lo += per {
		f := firmward.VulnerabilityFilter{IDs: ids[lo:min(lo+per, len(ids))], Described: true, Limit: per}
		for {
			recs, next, err := vulns.FindVulnerabilities(ctx, f)
			if err != nil {
				return nil, fmt.Errorf("reading changed vulnerabilities: %w", err)
			}
			out = append(out, recs...)
			if next == "" || len(recs) == 0 {
				break
			}
			f.After = next
		}
	}
	return out, nil
}

// eachDevicePage calls fn with the devices of the inventory in pages of
// at most RunBatch, limited to the set only when only is not nil. A small
// set is read device by device; a large one by paging through the whole
// inventory.
func eachDevicePage(ctx context.Context, devices firmward.DeviceService, only map[int64]bool, fn func([]firmward.Device) error) error {
	batch := make([]firmward.Device, 0, RunBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := fn(batch)
		batch = batch[:0]
		return err
	}
	if only != nil && len(only) <= byIDThreshold {
		ids := make([]int64, 0, len(only))
		for id := range only {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			d, err := devices.FindDeviceByID(ctx, id)
			if firmward.ErrorCode(err) == firmward.ENOTFOUND {
				continue
			}
			if err != nil {
				return fmt.Errorf("reading device %d: %w", id, err)
			}
			batch = append(batch, *d)
		}
		return flush()
	}
	df := firmward.DeviceFilter{Limit: firmward.MaxPageSize}
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("reading devices: %w", err)
		}
		ds, next, err := devices.FindDevices(ctx, df)
		if err != nil {
			return fmt.Errorf("reading devices: %w", err)
		}
		for _, d := range ds {
			if only != nil && !only[d.ID] {
				continue
			}
			batch = append(batch, *d)
			if len(batch) == RunBatch {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if next == 0 || len(ds) == 0 {
			break
		}
		df.After = next
	}
	return flush()
}
