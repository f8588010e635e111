package radius

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	firmward "github.com/firmward/firmward"
	"github.com/firmward/firmward/nac"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"
	"layeh.com/radius/rfc2868"
	"layeh.com/radius/rfc2869"
	"layeh.com/radius/rfc3576"
	"layeh.com/radius/rfc3580"
	_ "layeh.com/radius/rfc5176" // RFC 5176 Error-Cause names
)

// CoAPort is the UDP port NASes listen on for RFC 5176 requests.
const CoAPort = 3799

// CoAKind says which RFC 5176 request to send.
type CoAKind string

// Kinds of request.
const (
	// KindDisconnect ends the session: the device reconnects and
	// authenticates again, getting its new VLAN from the authorize
	// endpoint. Every NAS that supports RFC 5176 supports it.
	KindDisconnect CoAKind = "disconnect"
	// KindCoA changes the session's authorization in place (here: its
	// VLAN, with the RFC 3580 tunnel attributes), where the NAS allows it.
	KindCoA CoAKind = "coa"
)

// CoAOutcome is how a request ended.
type CoAOutcome string

// Outcomes.
const (
	OutcomeACK     CoAOutcome = "ack"
	OutcomeNAK     CoAOutcome = "nak"
	OutcomeTimeout CoAOutcome = "timeout" // no valid answer after every attempt
	OutcomeError   CoAOutcome = "error"   // the request could not be sent or the answer made no sense
)

// NAS is where to send requests for sessions of one NAS and the secret
// shared with it.
type NAS struct {
	// Addr is host:port; empty means the session's NAS-IP-Address and
	// CoAPort.
	Addr   string
	Secret []byte
}

// CoARecorder records the outcome of every request (the server audits
// them).
type CoARecorder interface {
	RecordCoA(ctx context.Context, r CoAResult) error
}

// CoAConfig configures a CoAClient.
type CoAConfig struct {
	// NAS holds each NAS's address and secret, keyed by its
	// NAS-IP-Address (as text) or its NAS-Identifier; the session's
	// NAS-IP-Address is tried first.
	NAS map[string]NAS
	// Timeout is how long each attempt waits for an answer (default 3 s).
	Timeout time.Duration
	// Retries is how many times a request is sent again after a timeout
	// (default 2; negative means none).
	Retries  int
	Recorder CoARecorder // optional
	Logger   *slog.Logger
	Now      func() time.Time
}

// CoARequest asks for one Disconnect or CoA for one session.
type CoARequest struct {
	Kind    CoAKind
	Session Session
	// VLAN is the new Tunnel-Private-Group-Id of a CoA; empty sends no
	// tunnel attributes.
	VLAN string
	// Reason says why, for the record ("entered quarantine: …").
	Reason string
}

// CoAResult is what happened to one request.
type CoAResult struct {
	Kind       CoAKind       `json:"kind"`
	MAC        string        `json:"mac"`
	NAS        string        `json:"nas"`
	Outcome    CoAOutcome    `json:"outcome"`
	ErrorCause int           `json:"error_cause,omitempty"` // RFC 5176 Error-Cause of a NAK, 0 when absent
	Cause      string        `json:"cause,omitempty"`       // its name
	Attempts   int           `json:"attempts"`
	Reason     string        `json:"reason,omitempty"`
	Message    string        `json:"message,omitempty"` // what went wrong, for a person
	SentAt     time.Time     `json:"sent_at"`
	Took       time.Duration `json:"took"`
}

// CoAClient sends RFC 5176 requests. It is safe for concurrent use.
type CoAClient struct {
	cfg CoAConfig
}

// NewCoAClient checks cfg and returns a client.
func NewCoAClient(cfg CoAConfig) (*CoAClient, error) {
	for key, n := range cfg.NAS {
		if len(n.Secret) == 0 {
			return nil, fmt.Errorf("radius: NAS %q has no shared secret", key)
		}
		if n.Addr != "" {
			if _, _, err := net.SplitHostPort(n.Addr); err != nil {
				return nil, fmt.Errorf("radius: NAS %q address %q: %w", key, n.Addr, err)
			}
		}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 3 * time.Second
	}
	if cfg.Retries == 0 {
		cfg.Retries = 2
	} else if cfg.Retries < 0 {
		cfg.Retries = 0
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &CoAClient{cfg: cfg}, nil
}

// resolve finds the NAS of a session.
func (c *CoAClient) resolve(s Session) (string, []byte, error) {
	var keys []string
	if s.NASIP.IsValid() {
		keys = append(keys, s.NASIP.String())
	}
	if s.NASIdentifier != "" {
		keys = append(keys, s.NASIdentifier)
	}
	if len(keys) == 0 {
		return "", nil, firmward.Errorf(firmward.EINVALID, "session of %s names no NAS (no NAS-IP-Address or NAS-Identifier seen)", s.MAC)
	}
	for _, k := range keys {
		n, ok := c.cfg.NAS[k]
		if !ok {
			continue
		}
		if n.Addr != "" {
			return n.Addr, n.Secret, nil
		}
		if !s.NASIP.IsValid() {
			return "", nil, firmward.Errorf(firmward.EINVALID, "NAS %q has no address configured and the session has no NAS-IP-Address", k)
		}
		return netip.AddrPortFrom(s.NASIP, CoAPort).String(), n.Secret, nil
	}
	return "", nil, firmward.Errorf(firmward.ENOTFOUND, "no shared secret configured for NAS %s", strings.Join(keys, " / "))
}

// Send sends the request to the NAS of its session, retrying after each
// timeout, and returns the result (also given to the Recorder). The error
// is nil only for an ACK; a NAK's error names the Error-Cause. ctx bounds
// the whole exchange.
func (c *CoAClient) Send(ctx context.Context, req CoARequest) (CoAResult, error) {
	start := c.cfg.Now()
	res := CoAResult{Kind: req.Kind, MAC: req.Session.MAC, Reason: req.Reason, SentAt: start.UTC()}
	err := c.send(ctx, req, &res)
	res.Took = c.cfg.Now().Sub(start)
	if err != nil {
		if res.Outcome == "" {
			res.Outcome = OutcomeError
		}
		res.Message = err.Error()
	}
	c.cfg.Logger.InfoContext(ctx, "radius: "+string(req.Kind), "mac", res.MAC, "nas", res.NAS, "outcome", res.Outcome,
		"error_cause", res.ErrorCause, "attempts", res.Attempts, "err", err)
	if c.cfg.Recorder != nil {
		if rerr := c.cfg.Recorder.RecordCoA(ctx, res); rerr != nil {
			c.cfg.Logger.ErrorContext(ctx, "radius: recording CoA result", "mac", res.MAC, "err", rerr)
			err = errors.Join(err, fmt.Errorf("recording the result: %w", rerr))
		}
	}
	return res, err
}

func (c *CoAClient) send(ctx context.Context, req CoARequest, res *CoAResult) error {
	var code, ack, nak radius.Code
	switch req.Kind {
	case KindDisconnect:
		code, ack, nak = radius.CodeDisconnectRequest, radius.CodeDisconnectACK, radius.CodeDisconnectNAK
	case KindCoA:
		code, ack, nak = radius.CodeCoARequest, radius.CodeCoAACK, radius.CodeCoANAK
	default:
		return firmward.Errorf(firmward.EINVALID, "unknown request kind %q: want %q or %q", req.Kind, KindDisconnect, KindCoA)
	}
	addr, secret, err := c.resolve(req.Session)
	if err != nil {
		return err
	}
	res.NAS = addr
	pkt, err := c.packet(code, secret, req)
	if err != nil {
		return err
	}
	// Each attempt is one Exchange without the library's own resends, so
	// that Timeout and Retries mean what they say.
	client := &radius.Client{MaxPacketErrors: 10}
	var lastErr error
	for res.Attempts < 1+c.cfg.Retries {
		res.Attempts++
		actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
		resp, err := client.Exchange(actx, pkt, addr)
		cancel()
		if err == nil {
			return classify(resp, ack, nak, res)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s to %s: %w", code, addr, ctx.Err())
		}
		lastErr = err
	}
	if errors.Is(lastErr, context.DeadlineExceeded) {
		res.Outcome = OutcomeTimeout
		return fmt.Errorf("%s to %s: no answer after %d attempts of %s", code, addr, res.Attempts, c.cfg.Timeout)
	}
	return fmt.Errorf("%s to %s after %d attempts: %w", code, addr, res.Attempts, lastErr)
}

// packet builds the request: the session's identification attributes, an
// Event-Timestamp, and for a CoA with a VLAN the tunnel attributes.
func (c *CoAClient) packet(code radius.Code, secret []byte, req CoARequest) (*radius.Packet, error) {
	s := req.Session
	p := radius.New(code, secret)
	var errs []error
	add := func(err error) { errs = append(errs, err) }
	if s.UserName != "" {
		add(rfc2865.UserName_SetString(p, s.UserName))
	}
	calling := s.CallingStation
	if calling == "" && s.MAC != "" {
		calling = strings.ToUpper(strings.ReplaceAll(s.MAC, ":", "-"))
	}
	if calling != "" {
		add(rfc2865.CallingStationID_SetString(p, calling))
	}
	if s.AcctSessionID != "" {
		add(rfc2866.AcctSessionID_SetString(p, s.AcctSessionID))
	}
	if s.NASIP.Is4() {
		add(rfc2865.NASIPAddress_Set(p, net.IP(s.NASIP.AsSlice())))
	}
	if s.NASIdentifier != "" {
		add(rfc2865.NASIdentifier_SetString(p, s.NASIdentifier))
	}
	add(rfc2869.EventTimestamp_Set(p, c.cfg.Now()))
	if code == radius.CodeCoARequest && req.VLAN != "" {
		if !nac.ValidVLAN(req.VLAN) {
			return nil, firmward.Errorf(firmward.EINVALID, "VLAN %q is not a VLAN id (1-4094) or VLAN name", req.VLAN)
		}
		add(rfc2868.TunnelType_Set(p, 0, rfc3580.TunnelType_Value_VLAN))
		add(rfc2868.TunnelMediumType_Set(p, 0, rfc2868.TunnelMediumType_Value_IEEE802))
		add(rfc2868.TunnelPrivateGroupID_SetString(p, 0, req.VLAN))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, firmward.Errorf(firmward.EINVALID, "building %s: %v", code, err)
	}
	if len(p.Attributes) == 1 { // Event-Timestamp alone identifies no session
		return nil, firmward.Errorf(firmward.EINVALID, "%s: the session has no attribute that identifies it", code)
	}
	return p, nil
}

// classify reads an answer into res.
func classify(resp *radius.Packet, ack, nak radius.Code, res *CoAResult) error {
	switch resp.Code {
	case ack:
		res.Outcome = OutcomeACK
		return nil
	case nak:
		res.Outcome = OutcomeNAK
		msg := fmt.Sprintf("%s from %s", nak, res.NAS)
		if cause, err := rfc3576.ErrorCause_Lookup(resp); err == nil {
			res.ErrorCause = int(cause)
			res.Cause = cause.String()
			msg += fmt.Sprintf(": Error-Cause %s (%d)", res.Cause, res.ErrorCause)
		} else {
			msg += " without an Error-Cause"
		}
		return errors.New(msg)
	}
	res.Outcome = OutcomeError
	return fmt.Errorf("unexpected %s (code %s) from %s; want %s or %s", resp.Code, strconv.Itoa(int(resp.Code)), res.NAS, ack, nak)
}
