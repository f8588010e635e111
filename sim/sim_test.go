package sim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
)

func TestFailing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n    int
		rate float64
		want int
	}{
		{50, 0.2, 10}, {1000, 0.05, 50}, {3, 0.5, 2}, {10, 0, 0}, {10, 1, 10}, {7, 0.01, 0},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d-%g", tc.n, tc.rate), func(t *testing.T) {
			t.Parallel()
			a, b := failing(tc.n, tc.rate, 7), failing(tc.n, tc.rate, 7)
			got := 0
			for i := range a {
				if a[i] != b[i] {
					t.Fatalf("device %d differs between two draws of the same seed", i)
				}
				if a[i] {
					got++
				}
			}
			if got != tc.want {
				t.Errorf("%d devices fail, want %d", got, tc.want)
			}
		})
	}
	// Another seed picks other devices.
	if fmt.Sprint(failing(100, 0.3, 1)) == fmt.Sprint(failing(100, 0.3, 2)) {
		t.Error("seeds 1 and 2 picked the same devices")
	}
}

func TestConfigCheck(t *testing.T) {
	t.Parallel()
	ok := Config{Server: "http://127.0.0.1:8080", AdminToken: "fwt_x", Devices: 10, Protocol: ProtocolDDI, FailRate: 0.1}
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"ok", func(*Config) {}, ""},
		{"no-server", func(c *Config) { c.Server = "" }, "server URL is required"},
		{"bad-server", func(c *Config) { c.Server = "ftp://x" }, `server "ftp://x" is not an http`},
		{"devices", func(c *Config) { c.Devices = MaxDevices + 1 }, "devices 100001 is not between 1 and 100000"},
		{"protocol", func(c *Config) { c.Protocol = "coap" }, `protocol "coap"`},
		{"rate", func(c *Config) { c.FailRate = -0.1 }, "fail rate -0.1"},
		{"no-credentials", func(c *Config) { c.AdminToken = "" }, "admin token"},
		{"negative", func(c *Config) { c.Poll = -1 }, "must not be negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := ok
			tc.change(&c)
			_, err := New(c)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("New: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("New: %v, want an error with %q", err, tc.want)
			}
		})
	}
}

func TestRetryable(t *testing.T) {
	t.Parallel()
	refused := &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}
	tests := []struct {
		name               string
		err                error
		transient, notSent bool
	}{
		{"refused", fmt.Errorf("POST x: %w", refused), true, true},
		{"reset", fmt.Errorf("POST x: %w", &net.OpError{Op: "read", Err: syscall.ECONNRESET}), true, false},
		{"503", &httpError{Status: 503}, true, false},
		{"409", &httpError{Status: 409}, false, false},
		{"404", &httpError{Status: 404}, false, false},
		{"client-timeout", fmt.Errorf("GET x: %w", context.DeadlineExceeded), true, false},
		{"nil", nil, false, false},
		{"other", errors.New("x"), true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := transient(tc.err); got != tc.transient {
				t.Errorf("transient = %v", got)
			}
			if got := notSent(tc.err); got != tc.notSent {
				t.Errorf("notSent = %v", got)
			}
		})
	}
}
