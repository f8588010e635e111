package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/firmward/firmward/discovery"
)

func TestScanUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"no cidr", []string{"scan"}, nil, "--cidr is required"},
		{"bad rate", []string{"scan", "--cidr", "127.0.0.1/32", "--rate", "0"}, nil, "--rate must be a positive"},
		{"bad rate from the environment", []string{"scan"}, map[string]string{"FIRMWARD_CIDR": "127.0.0.1/32", "FIRMWARD_RATE": "-3"}, "--rate must be a positive"},
		{"bad timeout", []string{"scan", "--cidr", "127.0.0.1/32", "--timeout", "nope"}, nil, "invalid value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			a := &app{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, getenv: mapEnv(tt.env)}
			if code := a.run(context.Background(), tt.args); code != exitUsage {
				t.Errorf("exit %d, want %d; stderr %s", code, exitUsage, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tt.want)
			}
		})
	}
}

func TestScanErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing recog dir", []string{"scan", "--cidr", "127.0.0.1/32", "--recog", "/nonexistent/recog"}, "loading --recog"},
		{"missing oui named on purpose", []string{"scan", "--cidr", "127.0.0.1/32", "--oui", "/nonexistent/oui.csv"}, "--oui"},
		{"too large", []string{"scan", "--cidr", "10.0.0.0/8"}, "more than the limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			a := &app{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, getenv: mapEnv(nil)}
			if code := a.run(context.Background(), tt.args); code != exitFailure {
				t.Errorf("exit %d, want %d", code, exitFailure)
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tt.want)
			}
		})
	}
}

// TestScanLoopback scans 127.0.0.1 alone (the only address a test outside a
// network namespace may probe), as JSON and as a table with a progress bar.
func TestScanLoopback(t *testing.T) {
	t.Parallel()
	env := map[string]string{"FIRMWARD_CIDR": "127.0.0.1/32", "FIRMWARD_LISTEN": "200ms", "FIRMWARD_TIMEOUT": "1s", "FIRMWARD_NO_RAW": "true"}
	var stdout, stderr bytes.Buffer
	a := &app{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, getenv: mapEnv(env)}
	if code := a.run(context.Background(), []string{"scan", "--json"}); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var res discovery.Result
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("%v\n%s", err, stdout.String())
	}
	if res.CIDR != "127.0.0.1/32" || res.Scanned != 1 || res.Raw || len(res.Notes) == 0 {
		t.Errorf("result %+v", res)
	}

	stdout.Reset()
	stderr.Reset()
	a = &app{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, getenv: mapEnv(env), stderrTTY: true}
	if code := a.run(context.Background(), []string{"scan"}); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "127.0.0.1/32: ") || !strings.Contains(stdout.String(), "addresses answered") {
		t.Errorf("stdout %q", stdout.String())
	}
	for _, want := range []string{"sweeping 127.0.0.1/32", "probing [", "1 hosts / 1 hosts", "note: raw sockets not used"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr %q lacks %q", stderr.String(), want)
		}
	}
}
