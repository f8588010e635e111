// Package sim runs a fleet of simulated devices against a firmward server,
// in one process, for demos, tests and load: each device registers, polls
// the native agent API (/agent/v1/) or the hawkBit DDI API
// (/{tenant}/controller/v1/{id}), downloads the artifacts of the action it
// is offered (really fetching the bytes and checking their sha256),
// "installs" in simulated steps without sleeping, and reports proceeding
// then closed success or failure. Which devices fail is drawn from a seed,
// so a run is repeatable.
//
// A device keeps retrying while the server is unreachable or answers 5xx:
// the simulator outlives server restarts.
package sim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Protocols the simulated devices speak.
const (
	ProtocolNative = "native"
	ProtocolDDI    = "ddi"
)

// Limits and defaults.
const (
	MaxDevices      = 100_000
	DefaultPoll     = 5 * time.Second
	DefaultDuration = time.Hour
	// MaxArtifactBytes bounds one artifact download.
	MaxArtifactBytes = 1 << 30
	// maxJSONBytes bounds a JSON answer.
	maxJSONBytes = 4 << 20
)

// Config describes one simulation run.
type Config struct {
	Server string // base URL of firmward serve
	// AdminToken (an operator or admin API token) pre-registers the
	// devices: they are imported with update mechanism "agent" (native) or
	// "ddi", then each gets a device token. Without it, EnrollmentKey is
	// used (POST /api/v1/enroll).
	AdminToken    string
	EnrollmentKey string
	Devices       int
	Protocol      string  // ProtocolNative or ProtocolDDI
	FailRate      float64 // share of devices whose install fails, 0..1
	Poll          time.Duration
	Seed          uint64
	// Duration bounds the run; zero is DefaultDuration.
	Duration time.Duration
	// Actions is how many actions a device closes before it is done; zero
	// is 1.
	Actions int
	// Prefix names the devices PREFIX-00001…; "" is "sim".
	Prefix          string
	Manufacturer    string // "" is "Firmward Sim"
	Model           string // "" is "SIM-1"
	FirmwareVersion string // "" is "1.0"
	Tenant          string // DDI tenant; "" is "default"
	// HTTPClient, when nil, is a client with a pool sized for the fleet.
	HTTPClient *http.Client
	Logger     *slog.Logger
}

func (c *Config) check() error {
	var errs []error
	if c.Server == "" {
		errs = append(errs, errors.New("the server URL is required"))
	} else if !strings.HasPrefix(c.Server, "http://") && !strings.HasPrefix(c.Server, "https://") {
		errs = append(errs, fmt.Errorf("server %q is not an http:// or https:// URL", c.Server))
	}
	if c.Devices < 1 || c.Devices > MaxDevices {
		errs = append(errs, fmt.Errorf("devices %d is not between 1 and %d", c.Devices, MaxDevices))
	}
	if c.Protocol != ProtocolNative && c.Protocol != ProtocolDDI {
		errs = append(errs, fmt.Errorf("protocol %q is not %s or %s", c.Protocol, ProtocolNative, ProtocolDDI))
	}
	if c.FailRate < 0 || c.FailRate > 1 || c.FailRate != c.FailRate {
		errs = append(errs, fmt.Errorf("fail rate %v is not between 0 and 1", c.FailRate))
	}
	if c.Poll < 0 || c.Duration < 0 || c.Actions < 0 {
		errs = append(errs, errors.New("poll, duration and actions must not be negative"))
	}
	if c.AdminToken == "" && c.EnrollmentKey == "" {
		errs = append(errs, errors.New("give an admin token (pre-registration) or an enrollment key"))
	}
	return errors.Join(errs...)
}

func (c *Config) defaults() {
	c.Server = strings.TrimRight(c.Server, "/")
	if c.Poll == 0 {
		c.Poll = DefaultPoll
	}
	if c.Duration == 0 {
		c.Duration = DefaultDuration
	}
	if c.Actions == 0 {
		c.Actions = 1
	}
	if c.Prefix == "" {
		c.Prefix = "sim"
	}
	if c.Manufacturer == "" {
		c.Manufacturer = "Firmward Sim"
	}
	if c.Model == "" {
		c.Model = "SIM-1"
	}
	if c.FirmwareVersion == "" {
		c.FirmwareVersion = "1.0"
	}
	if c.Tenant == "" {
		c.Tenant = "default"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.HTTPClient == nil {
		conns := min(c.Devices, 256)
		c.HTTPClient = &http.Client{
			Timeout: 60 * time.Second,
			Transport: &http.Transport{
				DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
				MaxIdleConns:        conns,
				MaxIdleConnsPerHost: conns,
				MaxConnsPerHost:     conns,
				IdleConnTimeout:     30 * time.Second,
			},
		}
	}
}

// Stats are the counters of a run; Snapshot reads them while it runs.
type Stats struct {
	Devices    int           `json:"devices"`
	Registered int           `json:"registered"`
	Done       int           `json:"done"` // devices that closed their actions
	Polls      int64         `json:"polls"`
	Actions    int64         `json:"actions"` // actions offered and worked on
	Downloads  int64         `json:"downloads"`
	Bytes      int64         `json:"bytes"`
	Succeeded  int64         `json:"succeeded"`
	Failed     int64         `json:"failed"`
	Retries    int64         `json:"retries"` // requests repeated after a transport error or a 5xx
	Errors     int64         `json:"errors"`  // requests answered with an unexpected 4xx
	Elapsed    time.Duration `json:"elapsed_ns"`
}

// Summary is the result of Run.
type Summary struct {
	Stats
	Protocol string  `json:"protocol"`
	FailRate float64 `json:"fail_rate"`
	Seed     uint64  `json:"seed"`
	// Complete says every device closed its actions before the duration
	// passed.
	Complete bool `json:"complete"`
	// LastError is the latest unexpected answer, for the summary.
	LastError string `json:"last_error,omitempty"`
}

// Sim is one run. Make it with New, then call Run once; Snapshot may be
// called from other goroutines meanwhile.
type Sim struct {
	cfg     Config
	fail    []bool // fail[i]: device i's installs fail
	started time.Time

	registered, done                                               atomic.Int64
	polls, actions, downloads, bytes, ok, failed, retries, errors4 atomic.Int64

	mu      sync.Mutex // guards lastErr
	lastErr string
}

// New checks cfg and returns a Sim.
func New(cfg Config) (*Sim, error) {
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	cfg.defaults()
	return &Sim{cfg: cfg, fail: failing(cfg.Devices, cfg.FailRate, cfg.Seed)}, nil
}

// failing picks exactly round(n·rate) devices out of n, by a permutation
// drawn from seed.
func failing(n int, rate float64, seed uint64) []bool {
	out := make([]bool, n)
	k := int(float64(n)*rate + 0.5)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) //nolint:gosec // repeatable by design, not a secret
	for _, i := range rng.Perm(n)[:k] {
		out[i] = true
	}
	return out
}

// WillFail reports whether device i (0-based) is one whose installs fail.
func (s *Sim) WillFail(i int) bool { return i >= 0 && i < len(s.fail) && s.fail[i] }

// Snapshot returns the counters so far.
func (s *Sim) Snapshot() Stats {
	st := Stats{
		Devices: s.cfg.Devices, Registered: int(s.registered.Load()), Done: int(s.done.Load()),
		Polls: s.polls.Load(), Actions: s.actions.Load(), Downloads: s.downloads.Load(), Bytes: s.bytes.Load(),
		Succeeded: s.ok.Load(), Failed: s.failed.Load(), Retries: s.retries.Load(), Errors: s.errors4.Load(),
	}
	if !s.started.IsZero() {
		st.Elapsed = time.Since(s.started)
	}
	return st
}

func (s *Sim) noteError(err error) {
	s.errors4.Add(1)
	s.mu.Lock()
	s.lastErr = err.Error()
	s.mu.Unlock()
	s.cfg.Logger.Debug("sim request refused", slog.Any("err", err))
}

// Run registers the devices and runs them until each closed its actions,
// Duration passed or ctx ends. It returns an error only when the devices
// could not be registered; a run cut short returns a Summary with
// Complete false.
func (s *Sim) Run(ctx context.Context) (*Summary, error) {
	s.started = time.Now()
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Duration)
	defer cancel()
	devs, err := s.register(ctx)
	if err != nil {
		return nil, err
	}
	var wg sync.WaitGroup
	rng := rand.New(rand.NewPCG(s.cfg.Seed, 1)) //nolint:gosec // repeatable by design, not a secret
	for _, d := range devs {
		// Spread the first polls over one interval.
		offset := time.Duration(rng.Int64N(int64(s.cfg.Poll) + 1))
		wg.Go(func() { s.runDevice(ctx, d, offset) })
	}
	wg.Wait()
	sum := &Summary{Stats: s.Snapshot(), Protocol: s.cfg.Protocol, FailRate: s.cfg.FailRate, Seed: s.cfg.Seed}
	sum.Complete = sum.Done == s.cfg.Devices
	s.mu.Lock()
	sum.LastError = s.lastErr
	s.mu.Unlock()
	return sum, nil
}

// wait sleeps d or until ctx ends; it reports whether ctx is still live.
func wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
