package radius_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/firmward/firmward/radius"
	layeh "layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2868"
	"layeh.com/radius/rfc3576"
)

var nasSecret = []byte("nas-shared-secret")

// testNAS is a NAS on 127.0.0.1 built with layeh.com/radius's
// PacketServer: the library checks each request's authenticator with the
// shared secret before the handler sees it.
type testNAS struct {
	addr     string
	received atomic.Int32
	mu       sync.Mutex // guards last
	last     *layeh.Packet
}

// startNAS answers with answer (nil: stay silent).
func startNAS(t *testing.T, answer func(r *layeh.Request) *layeh.Packet) *testNAS {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	nas := &testNAS{addr: conn.LocalAddr().String()}
	srv := &layeh.PacketServer{
		SecretSource: layeh.StaticSecretSource(nasSecret),
		Handler: layeh.HandlerFunc(func(w layeh.ResponseWriter, r *layeh.Request) {
			nas.received.Add(1)
			nas.mu.Lock()
			nas.last = r.Packet
			nas.mu.Unlock()
			if resp := answer(r); resp != nil {
				_ = w.Write(resp)
			}
		}),
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(conn) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		if err := <-done; err != nil && !errors.Is(err, layeh.ErrServerShutdown) {
			t.Errorf("NAS: %v", err)
		}
	})
	return nas
}

func session() radius.Session {
	return radius.Session{
		MAC: "3c:d9:2b:00:00:66", UserName: "3cd92b000066", NASIP: netip.MustParseAddr("127.0.0.1"),
		NASIdentifier: "sw-floor-2", AcctSessionID: "0000001A", CallingStation: "3C-D9-2B-00-00-66",
	}
}

type memRecorder struct {
	mu      sync.Mutex
	results []radius.CoAResult
}

func (m *memRecorder) RecordCoA(_ context.Context, r radius.CoAResult) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.results = append(m.results, r)
	return nil
}

func TestCoA(t *testing.T) {
	t.Parallel()
	ack := func(r *layeh.Request) *layeh.Packet {
		if r.Code == layeh.CodeCoARequest {
			return r.Response(layeh.CodeCoAACK)
		}
		return r.Response(layeh.CodeDisconnectACK)
	}
	nak := func(r *layeh.Request) *layeh.Packet {
		resp := r.Response(layeh.CodeDisconnectNAK)
		if r.Code == layeh.CodeCoARequest {
			resp = r.Response(layeh.CodeCoANAK)
		}
		_ = rfc3576.ErrorCause_Add(resp, rfc3576.ErrorCause_Value_SessionContextNotFound)
		return resp
	}
	silent := func(*layeh.Request) *layeh.Packet { return nil }
	wrongCode := func(r *layeh.Request) *layeh.Packet { return r.Response(layeh.CodeAccessAccept) }

	tests := []struct {
		name     string
		answer   func(*layeh.Request) *layeh.Packet
		kind     radius.CoAKind
		vlan     string
		outcome  radius.CoAOutcome
		attempts int
		cause    int
		errHas   string
	}{
		{name: "disconnect ACK", answer: ack, kind: radius.KindDisconnect, outcome: radius.OutcomeACK, attempts: 1},
		{name: "CoA ACK with a VLAN", answer: ack, kind: radius.KindCoA, vlan: "666", outcome: radius.OutcomeACK, attempts: 1},
		{name: "disconnect NAK", answer: nak, kind: radius.KindDisconnect, outcome: radius.OutcomeNAK, attempts: 1, cause: 503, errHas: "Disconnect-NAK from 127.0.0.1:"},
		{name: "CoA NAK", answer: nak, kind: radius.KindCoA, vlan: "30", outcome: radius.OutcomeNAK, attempts: 1, cause: 503, errHas: "Error-Cause Session-Context-Not-Found (503)"},
		{name: "silent NAS times out after the retries", answer: silent, kind: radius.KindDisconnect, outcome: radius.OutcomeTimeout, attempts: 3, errHas: "no answer after 3 attempts of 150ms"},
		{name: "wrong answer code", answer: wrongCode, kind: radius.KindDisconnect, outcome: radius.OutcomeError, attempts: 1, errHas: "unexpected Access-Accept"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			nas := startNAS(t, tt.answer)
			rec := &memRecorder{}
			c, err := radius.NewCoAClient(radius.CoAConfig{
				NAS:      map[string]radius.NAS{"127.0.0.1": {Addr: nas.addr, Secret: nasSecret}},
				Timeout:  150 * time.Millisecond,
				Retries:  2,
				Recorder: rec,
			})
			if err != nil {
				t.Fatal(err)
			}
			res, err := c.Send(t.Context(), radius.CoARequest{Kind: tt.kind, Session: session(), VLAN: tt.vlan, Reason: "entered quarantine"})
			if (err == nil) != (tt.outcome == radius.OutcomeACK) {
				t.Errorf("err %v for outcome %s", err, tt.outcome)
			}
			if err != nil && !strings.Contains(err.Error(), tt.errHas) {
				t.Errorf("error %q does not contain %q", err, tt.errHas)
			}
			if res.Outcome != tt.outcome || res.Attempts != tt.attempts || res.ErrorCause != tt.cause || res.NAS != nas.addr {
				t.Errorf("result %+v", res)
			}
			if got := int(nas.received.Load()); got != tt.attempts {
				t.Errorf("NAS received %d requests, want %d", got, tt.attempts)
			}
			if len(rec.results) != 1 || rec.results[0].Outcome != tt.outcome || rec.results[0].Reason != "entered quarantine" {
				t.Errorf("recorded %+v", rec.results)
			}
			nas.mu.Lock()
			p := nas.last
			nas.mu.Unlock()
			if p == nil {
				t.Fatal("the NAS saw no valid request")
			}
			if got := rfc2865.CallingStationID_GetString(p); got != "3C-D9-2B-00-00-66" {
				t.Errorf("Calling-Station-Id %q", got)
			}
			if got := rfc2865.NASIdentifier_GetString(p); got != "sw-floor-2" {
				t.Errorf("NAS-Identifier %q", got)
			}
			_, vlan := rfc2868.TunnelPrivateGroupID_GetString(p)
			if vlan != tt.vlan {
				t.Errorf("Tunnel-Private-Group-Id %q, want %q", vlan, tt.vlan)
			}
		})
	}
}

func TestCoAConfigurationErrors(t *testing.T) {
	t.Parallel()
	if _, err := radius.NewCoAClient(radius.CoAConfig{NAS: map[string]radius.NAS{"sw1": {Addr: "127.0.0.1:3799"}}}); err == nil || !strings.Contains(err.Error(), "no shared secret") {
		t.Errorf("NAS without secret: %v", err)
	}
	if _, err := radius.NewCoAClient(radius.CoAConfig{NAS: map[string]radius.NAS{"sw1": {Addr: "127.0.0.1", Secret: nasSecret}}}); err == nil || !strings.Contains(err.Error(), "missing port") {
		t.Errorf("address without port: %v", err)
	}
	c, err := radius.NewCoAClient(radius.CoAConfig{NAS: map[string]radius.NAS{"sw-floor-2": {Secret: nasSecret}}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		req  radius.CoARequest
		want string
	}{
		{"unknown NAS", radius.CoARequest{Kind: radius.KindDisconnect, Session: radius.Session{MAC: "m", NASIdentifier: "ap-9"}}, "no shared secret configured for NAS ap-9"},
		{"no NAS at all", radius.CoARequest{Kind: radius.KindDisconnect, Session: radius.Session{MAC: "m"}}, "names no NAS"},
		{"NAS without address", radius.CoARequest{Kind: radius.KindDisconnect, Session: radius.Session{MAC: "m", NASIdentifier: "sw-floor-2"}}, "has no address configured"},
		{"bad kind", radius.CoARequest{Kind: "bounce", Session: session()}, `unknown request kind "bounce"`},
		{"bad VLAN", radius.CoARequest{Kind: radius.KindCoA, VLAN: "5000", Session: radius.Session{MAC: "3c:d9:2b:00:00:66", NASIP: netip.MustParseAddr("127.0.0.1"), NASIdentifier: "sw-floor-2"}}, `VLAN "5000" is not`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := c.Send(t.Context(), tt.req)
			if err == nil || !strings.Contains(err.Error(), tt.want) || res.Outcome != radius.OutcomeError || res.Attempts != 0 {
				t.Errorf("result %+v err %v, want an error containing %q", res, err, tt.want)
			}
		})
	}
}

func TestCoACancelled(t *testing.T) {
	t.Parallel()
	nas := startNAS(t, func(*layeh.Request) *layeh.Packet { return nil })
	c, err := radius.NewCoAClient(radius.CoAConfig{NAS: map[string]radius.NAS{"127.0.0.1": {Addr: nas.addr, Secret: nasSecret}}, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	res, err := c.Send(ctx, radius.CoARequest{Kind: radius.KindDisconnect, Session: session()})
	if !errors.Is(err, context.DeadlineExceeded) || res.Attempts != 1 || time.Since(start) > 2*time.Second {
		t.Errorf("result %+v err %v after %s", res, err, time.Since(start))
	}
}
