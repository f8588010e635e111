package sim

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/firmward/firmward"
)

// httpError is an answer with an unexpected status.
type httpError struct {
	Method, URL string
	Status      int
	Message     string
}

func (e *httpError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.URL, e.Status, msg)
}

// transient reports whether err is worth retrying: the server is down,
// restarting or slow (a transport error, a client timeout, 5xx, 429).
// Whether the run itself ended is the caller's to check (ctx.Err()).
func transient(err error) bool {
	var he *httpError
	if errors.As(err, &he) {
		return he.Status >= 500 || he.Status == http.StatusTooManyRequests
	}
	return err != nil
}

// notSent reports whether err means the request never reached the server
// (connection refused), so that a request that is not idempotent may be
// sent again.
func notSent(err error) bool {
	var op *net.OpError
	return errors.Is(err, syscall.ECONNREFUSED) || (errors.As(err, &op) && op.Op == "dial")
}

// do sends one request and returns the body of a 2xx answer, at most limit
// bytes.
func (s *Sim) do(ctx context.Context, method, url, auth, contentType string, body []byte, limit int64) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, url, err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("User-Agent", "firmward-sim")
	res, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer func() { _ = res.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(res.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the answer: %w", method, url, err)
	}
	if res.StatusCode/100 != 2 {
		he := &httpError{Method: method, URL: url, Status: res.StatusCode}
		var e struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(b, &e) == nil {
			he.Message = e.Error.Message
		}
		return nil, he
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s %s: the answer is larger than %d bytes", method, url, limit)
	}
	return b, nil
}

// doJSON sends in as JSON (when not nil) and decodes a 2xx answer into out
// (when not nil).
func (s *Sim) doJSON(ctx context.Context, method, url, auth string, in, out any) error {
	var body []byte
	ct := ""
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("encoding %s: %w", url, err)
		}
		ct = "application/json"
	}
	b, err := s.do(ctx, method, url, auth, ct, body, maxJSONBytes)
	if err != nil {
		return err
	}
	if out == nil || len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: the answer is not the JSON expected: %w", method, url, err)
	}
	return nil
}

// retry runs f until it succeeds, fails for good, or ctx ends; idempotent
// says f may be repeated after any transient error, else only after one
// that shows the request was not sent.
// The wait doubles from retryFirst up to the poll interval, with jitter,
// so that an overloaded server is not stormed.
func (s *Sim) retry(ctx context.Context, idempotent bool, f func() error) error {
	for n := 0; ; n++ {
		err := f()
		if err == nil || ctx.Err() != nil || !transient(err) || (!idempotent && !notSent(err)) {
			return err
		}
		s.retries.Add(1)
		if !wait(ctx, s.backoff(n)) {
			return ctx.Err()
		}
	}
}

// backoff is the wait before retry n (0-based): retryFirst·2ⁿ, at most
// the poll interval, between half and all of it.
func (s *Sim) backoff(n int) time.Duration {
	d := min(s.cfg.Poll, retryFirst<<min(n, 16))
	return d/2 + rand.N(d/2+1) //nolint:gosec // jitter, not a secret
}

// device is one simulated device.
type device struct {
	index      int
	name       string // also its controller id
	secret     string
	version    string
	configured bool // DDI: configData sent
}

// register creates the fleet's devices and their tokens.
func (s *Sim) register(ctx context.Context) ([]*device, error) {
	devs := make([]*device, s.cfg.Devices)
	for i := range devs {
		devs[i] = &device{index: i, name: fmt.Sprintf("%s-%06d", s.cfg.Prefix, i+1), version: s.cfg.FirmwareVersion}
	}
	if s.cfg.AdminToken != "" {
		return devs, s.preRegister(ctx, devs)
	}
	return devs, s.parallel(ctx, devs, func(d *device) error {
		var out struct {
			Secret string `json:"secret"`
		}
		in := map[string]string{
			"controller_id": d.name, "name": d.name, "manufacturer": s.cfg.Manufacturer,
			"model": s.cfg.Model, "firmware_version": d.version,
		}
		err := s.retry(ctx, false, func() error {
			return s.doJSON(ctx, http.MethodPost, s.cfg.Server+"/api/v1/enroll", "EnrollmentKey "+s.cfg.EnrollmentKey, in, &out)
		})
		if err != nil {
			return fmt.Errorf("enrolling %s: %w", d.name, err)
		}
		d.secret = out.Secret
		return nil
	})
}

// importBatch is how many devices one import request creates.
const importBatch = 5000

// preRegister imports the devices with the admin token, then issues each a
// device token bound to its name as controller id.
func (s *Sim) preRegister(ctx context.Context, devs []*device) error {
	mechanism := firmward.UpdateAgent
	if s.cfg.Protocol == ProtocolDDI {
		mechanism = firmward.UpdateDDI
	}
	ids := make([]int64, 0, len(devs))
	auth := "Bearer " + s.cfg.AdminToken
	for start := 0; start < len(devs); start += importBatch {
		batch := devs[start:min(start+importBatch, len(devs))]
		rows := make([]firmward.Device, len(batch))
		for i, d := range batch {
			rows[i] = firmward.Device{
				Name: d.name, Manufacturer: s.cfg.Manufacturer, Model: s.cfg.Model, FirmwareVersion: d.version,
				UpdateMechanism: mechanism, Tags: []string{"simulated"},
			}
		}
		var res firmward.ImportResult
		err := s.retry(ctx, false, func() error {
			return s.doJSON(ctx, http.MethodPost, s.cfg.Server+"/api/v1/devices/import", auth, rows, &res)
		})
		if err != nil {
			return fmt.Errorf("importing the simulated devices: %w", err)
		}
		if len(res.IDs) != len(batch) {
			return fmt.Errorf("importing %d simulated devices: the server created %d", len(batch), len(res.IDs))
		}
		ids = append(ids, res.IDs...)
	}
	byIndex := make(map[*device]int64, len(devs))
	for i, d := range devs {
		byIndex[d] = ids[i]
	}
	return s.parallel(ctx, devs, func(d *device) error {
		var out struct {
			Secret string `json:"secret"`
		}
		url := s.cfg.Server + "/api/v1/devices/" + strconv.FormatInt(byIndex[d], 10) + "/token"
		// A token request replaces any earlier token: safe to repeat.
		err := s.retry(ctx, true, func() error {
			return s.doJSON(ctx, http.MethodPost, url, auth, map[string]string{"controller_id": d.name}, &out)
		})
		if err != nil {
			return fmt.Errorf("issuing the token of %s: %w", d.name, err)
		}
		d.secret = out.Secret
		return nil
	})
}

// parallel runs f over devs with a few workers, counting registrations; it
// returns the first error.
func (s *Sim) parallel(ctx context.Context, devs []*device, f func(*device) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan *device)
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for range min(32, len(devs)) {
		wg.Go(func() {
			for d := range work {
				if err := f(d); err != nil {
					once.Do(func() { first = err; cancel() })
					continue
				}
				s.registered.Add(1)
			}
		})
	}
	for _, d := range devs {
		select {
		case work <- d:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(work)
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

// download fetches url with auth and checks its size and sha256 (when
// given); it returns the bytes read.
func (s *Sim) download(ctx context.Context, url, auth, sum string, size int64) error {
	if !strings.HasPrefix(url, s.cfg.Server+"/") {
		// Only the server under test is contacted, never a vendor's site.
		return nil
	}
	limit := int64(MaxArtifactBytes)
	if size > 0 {
		limit = size
	}
	var b []byte
	err := s.retry(ctx, true, func() error {
		var err error
		b, err = s.do(ctx, http.MethodGet, url, auth, "", nil, limit)
		return err
	})
	if err != nil {
		return err
	}
	s.downloads.Add(1)
	s.bytes.Add(int64(len(b)))
	if size > 0 && int64(len(b)) != size {
		return &verifyError{fmt.Sprintf("%s: got %d bytes, want %d", url, len(b), size)}
	}
	if sum != "" {
		got := sha256.Sum256(b)
		if !strings.EqualFold(hex.EncodeToString(got[:]), sum) {
			return &verifyError{fmt.Sprintf("%s: sha256 %x, want %s", url, got, sum)}
		}
	}
	return nil
}

// verifyError is an artifact that is not what the server announced: the
// action fails.
type verifyError struct{ msg string }

func (e *verifyError) Error() string { return "artifact check failed: " + e.msg }
