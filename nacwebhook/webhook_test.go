package nacwebhook

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const secret = "webhook-secret-0123456789"

// receiver is a test endpoint that answers the statuses given in turn and
// records verified bodies.
type receiver struct {
	mu       sync.Mutex // guards the fields below
	statuses []int
	got      []Event
	badSig   int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if !Verify(secret, body, req.Header.Get(SignatureHeader)) {
		r.badSig++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	status := http.StatusNoContent
	if len(r.statuses) > 0 {
		status, r.statuses = r.statuses[0], r.statuses[1:]
	}
	if status < 300 {
		var e Event
		if err := json.Unmarshal(body, &e); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		r.got = append(r.got, e)
	}
	w.WriteHeader(status)
}

func TestSend(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 25, 1, 2, 3, 0, time.UTC)
	ev := Event{
		Type: "quarantine", MAC: "02:00:00:00:00:01", DeviceID: 7, DeviceName: "cam", Mode: "enforce", Enforced: true, Time: at,
		Reasons: []string{"overdue"},
	}
	tests := []struct {
		name      string
		statuses  []int
		event     Event
		wantErr   string
		attempts  int
		delivered int
		pauses    []time.Duration
	}{
		{name: "first try", event: ev, attempts: 1, delivered: 1},
		{name: "retries 5xx and 429", statuses: []int{503, 429, 200}, event: ev, attempts: 3, delivered: 1, pauses: []time.Duration{time.Second, 2 * time.Second}},
		{name: "gives up", statuses: []int{500, 500, 500, 500}, event: ev, attempts: 4, wantErr: "not delivered after 4 attempts", pauses: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}},
		{name: "4xx is final", statuses: []int{404}, event: ev, attempts: 1, wantErr: "refused the event with 404"},
		{name: "bad type", event: Event{Type: "party"}, wantErr: `event type "party"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := &receiver{statuses: tc.statuses}
			srv := httptest.NewServer(rec)
			defer srv.Close()
			var pauses []time.Duration
			s, err := New(Config{URL: srv.URL, Secret: secret, Sleep: func(_ context.Context, d time.Duration) error {
				pauses = append(pauses, d)
				return nil
			}})
			if err != nil {
				t.Fatal(err)
			}
			res, err := s.Send(t.Context(), tc.event)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if res.Attempts != tc.attempts || len(rec.got) != tc.delivered || rec.badSig != 0 {
				t.Errorf("attempts %d delivered %d bad signatures %d", res.Attempts, len(rec.got), rec.badSig)
			}
			if len(pauses) != len(tc.pauses) {
				t.Errorf("pauses %v, want %v", pauses, tc.pauses)
			}
			for i := range min(len(pauses), len(tc.pauses)) {
				if pauses[i] != tc.pauses[i] {
					t.Errorf("pauses %v, want %v", pauses, tc.pauses)
				}
			}
			if tc.delivered > 0 {
				g := rec.got[0]
				if g.Status != StatusOpen || g.StartDate != "2026-11-25 01:02:03" || g.SecurityEventID != "1300003" || g.MAC != ev.MAC {
					t.Errorf("delivered %+v", g)
				}
			}
		})
	}
}

func TestVerifyRejectsTampering(t *testing.T) {
	t.Parallel()
	body := []byte(`{"mac":"02:00:00:00:00:01"}`)
	sig := Sign(secret, body)
	if !Verify(secret, body, sig) {
		t.Fatal("own signature refused")
	}
	for _, c := range []struct{ body, sig, secret string }{
		{`{"mac":"02:00:00:00:00:02"}`, sig, secret},
		{string(body), sig, "another-secret-0123456789"},
		{string(body), "", secret},
		{string(body), "sha256=00", secret},
	} {
		if Verify(c.secret, []byte(c.body), c.sig) {
			t.Errorf("Verify(%q, %q) = true", c.body, c.sig)
		}
	}
}

func TestNewRefuses(t *testing.T) {
	t.Parallel()
	for _, c := range []Config{{URL: "ftp://x", Secret: secret}, {URL: "http://127.0.0.1:1/", Secret: "short"}, {URL: "", Secret: secret}} {
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v) accepted", c)
		}
	}
}
