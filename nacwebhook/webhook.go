// Package nacwebhook mirrors firmward's quarantine decisions to another
// system over HTTP: one signed JSON POST per device entering or leaving
// quarantine, shaped like a PacketFence security_event record (mac,
// security_event_id, status open/closed, start_date, release_date, notes)
// with firmward's own fields beside it, so that an existing NAC (or a
// small relay into PacketFence's /api/v1/security_events) can act on it.
//
// Each body is signed with HMAC-SHA256 over the exact bytes sent, in the
// header X-Firmward-Signature: sha256=HEX; receivers check it with Verify.
// Failed deliveries (network errors, 429, 5xx) are retried with a growing
// pause; other 4xx answers are final.
package nacwebhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Headers of every request.
const (
	SignatureHeader = "X-Firmward-Signature"
	EventHeader     = "X-Firmward-Event"
)

// Status values of Event, as PacketFence names a security event's state.
const (
	StatusOpen   = "open"   // entered quarantine
	StatusClosed = "closed" // released
)

// Event is one body. The first fields follow PacketFence's
// security_event record; the rest are firmward's.
type Event struct {
	MAC             string `json:"mac"`
	SecurityEventID string `json:"security_event_id"`
	Status          string `json:"status"`
	StartDate       string `json:"start_date,omitempty"`   // "YYYY-MM-DD hh:mm:ss" UTC, on open
	ReleaseDate     string `json:"release_date,omitempty"` // same, on close
	Notes           string `json:"notes"`

	Type       string    `json:"type"` // "quarantine" or "release"
	DeviceID   int64     `json:"device_id"`
	DeviceName string    `json:"device_name"`
	MACs       []string  `json:"macs"`
	IPs        []string  `json:"ips"`
	Site       string    `json:"site"`
	Mode       string    `json:"mode"`     // monitor or enforce
	Enforced   bool      `json:"enforced"` // the network acts on it
	VLAN       string    `json:"vlan,omitempty"`
	Reasons    []string  `json:"reasons"`
	Time       time.Time `json:"time"`
}

// Config configures a Sender.
type Config struct {
	URL    string // http or https; required
	Secret string // HMAC key; required, at least 16 bytes
	// SecurityEventID is the PacketFence security event the receiver
	// should open and close (default "1300003", a custom event id).
	SecurityEventID string
	Client          *http.Client // default: 10 s timeout
	// Retries is how many more times a failed delivery is tried (default
	// 3; negative means none). Backoff is the first pause (default 1 s),
	// doubled each time.
	Retries int
	Backoff time.Duration
	// Sleep waits between attempts; tests pass one that does not sleep.
	Sleep  func(ctx context.Context, d time.Duration) error
	Logger *slog.Logger
}

// Sender delivers events. It is safe for concurrent use.
type Sender struct {
	cfg Config
}

// New checks cfg and returns a Sender.
func New(cfg Config) (*Sender, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("nacwebhook: URL %q: want an http:// or https:// URL", cfg.URL)
	}
	if len(cfg.Secret) < 16 {
		return nil, errors.New("nacwebhook: the signing secret must be at least 16 bytes")
	}
	if cfg.SecurityEventID == "" {
		cfg.SecurityEventID = "1300003"
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Retries == 0 {
		cfg.Retries = 3
	} else if cfg.Retries < 0 {
		cfg.Retries = 0
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = time.Second
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Sender{cfg: cfg}, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Sign returns the signature header value of body.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether header is the signature of body, in constant
// time.
func Verify(secret string, body []byte, header string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(strings.TrimSpace(header)))
}

// Result says how a delivery went.
type Result struct {
	Attempts int
	Status   int // HTTP status of the last answer, 0 when none
}

// Send posts e, filling SecurityEventID and the PacketFence dates, and
// retries as configured. The error names the last failure.
func (s *Sender) Send(ctx context.Context, e Event) (Result, error) {
	var res Result
	e.SecurityEventID = s.cfg.SecurityEventID
	stamp := e.Time.UTC().Format(time.DateTime)
	switch e.Type {
	case "quarantine":
		e.Status, e.StartDate = StatusOpen, stamp
	case "release":
		e.Status, e.ReleaseDate = StatusClosed, stamp
	default:
		return res, fmt.Errorf("nacwebhook: event type %q: want quarantine or release", e.Type)
	}
	body, err := json.Marshal(e)
	if err != nil {
		return res, fmt.Errorf("nacwebhook: encoding: %w", err)
	}
	sig := Sign(s.cfg.Secret, body)
	pause := s.cfg.Backoff
	var lastErr error
	for res.Attempts < 1+s.cfg.Retries {
		if res.Attempts > 0 {
			if err := s.cfg.Sleep(ctx, pause); err != nil {
				return res, fmt.Errorf("nacwebhook: %w (after %d attempts: %w)", err, res.Attempts, lastErr)
			}
			pause *= 2
		}
		res.Attempts++
		var retry bool
		res.Status, retry, lastErr = s.post(ctx, body, sig, e.Type)
		if lastErr == nil {
			return res, nil
		}
		s.cfg.Logger.WarnContext(ctx, "nacwebhook: delivery failed", "device", e.DeviceID, "attempt", res.Attempts, "err", lastErr)
		if !retry || ctx.Err() != nil {
			break
		}
	}
	return res, fmt.Errorf("nacwebhook: %s for device %d not delivered after %d attempts: %w", e.Type, e.DeviceID, res.Attempts, lastErr)
}

// post sends once; retry says whether another attempt may help.
func (s *Sender) post(ctx context.Context, body []byte, sig, typ string) (int, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return 0, false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(SignatureHeader, sig)
	req.Header.Set(EventHeader, typ)
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return 0, true, err
	}
	defer func() { _ = resp.Body.Close() }()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return resp.StatusCode, false, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return resp.StatusCode, true, fmt.Errorf("%s answered %s: %s", s.cfg.URL, resp.Status, bytes.TrimSpace(msg))
	}
	return resp.StatusCode, false, fmt.Errorf("%s refused the event with %s: %s", s.cfg.URL, resp.Status, bytes.TrimSpace(msg))
}
