package firmward

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestScanRequestNormalize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      ScanRequest
		cidr    string
		invalid []string // fields named in the error
	}{
		{name: "masked", in: ScanRequest{CIDR: " 192.168.1.77/24 "}, cidr: "192.168.1.0/24"},
		{name: "bare address", in: ScanRequest{CIDR: "10.0.0.5"}, cidr: "10.0.0.5/32"},
		{name: "a /16 is the widest", in: ScanRequest{CIDR: "10.1.0.0/16"}, cidr: "10.1.0.0/16"},
		{name: "missing", in: ScanRequest{}, invalid: []string{"cidr"}},
		{name: "too wide", in: ScanRequest{CIDR: "10.0.0.0/15"}, invalid: []string{"cidr"}},
		{name: "IPv6", in: ScanRequest{CIDR: "fd00::/120"}, invalid: []string{"cidr"}},
		{name: "garbage", in: ScanRequest{CIDR: "my network"}, invalid: []string{"cidr"}},
		{name: "interface with a slash", in: ScanRequest{CIDR: "10.0.0.0/24", Interface: "../eth0"}, invalid: []string{"interface"}},
		{
			name: "options", in: ScanRequest{CIDR: "10.0.0.0/24", Options: ScanOptions{TimeoutMS: -1, Rate: 1e6, Communities: []string{strings.Repeat("x", 65)}}},
			invalid: []string{"communities", "options.timeout_ms", "options.rate"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := tt.in
			err := r.Normalize()
			var fields []string
			for _, d := range ErrorDetails(err) {
				fields = append(fields, d.Field)
			}
			if !slices.Equal(fields, tt.invalid) {
				t.Fatalf("invalid fields %v, want %v (%v)", fields, tt.invalid, err)
			}
			if err == nil && r.CIDR != tt.cidr {
				t.Errorf("cidr %q, want %q", r.CIDR, tt.cidr)
			}
		})
	}
}

func TestScheduleDue(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	hourAgo := now.Add(-time.Hour)
	tests := []struct {
		name string
		s    ScanSchedule
		due  bool
	}{
		{"never ran", ScanSchedule{Subnets: []string{"10.0.0.0/24"}, IntervalSec: 3600, Enabled: true}, true},
		{"interval passed", ScanSchedule{Subnets: []string{"10.0.0.0/24"}, IntervalSec: 3600, Enabled: true, LastRunAt: &hourAgo}, true},
		{"within the interval", ScanSchedule{Subnets: []string{"10.0.0.0/24"}, IntervalSec: 7200, Enabled: true, LastRunAt: &hourAgo}, false},
		{"disabled", ScanSchedule{Subnets: []string{"10.0.0.0/24"}, IntervalSec: 3600}, false},
		{"no subnets", ScanSchedule{IntervalSec: 3600, Enabled: true}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.s.Due(now); got != tt.due {
				t.Errorf("Due = %v, want %v", got, tt.due)
			}
		})
	}
}

func TestAlertValidate(t *testing.T) {
	t.Parallel()
	a := Alert{Kind: " device.new ", Subject: "New device", Severity: "HIGH"}
	if err := a.Validate(); err != nil || a.Kind != "device.new" || a.Severity != SeverityHigh {
		t.Errorf("valid alert: %+v, %v", a, err)
	}
	b := Alert{Severity: "dire", DeviceID: -1, Details: map[string]string{"k": strings.Repeat("v", MaxAlertText+1)}}
	var fields []string
	for _, d := range ErrorDetails(b.Validate()) {
		fields = append(fields, d.Field)
	}
	if !slices.Equal(fields, []string{"kind", "severity", "subject", "device_id", "details"}) {
		t.Errorf("invalid fields %v", fields)
	}
}

// FuzzScanRequest feeds untrusted scan requests (API bodies, web forms)
// to Normalize: it never panics, and a normalised request normalises to
// itself.
func FuzzScanRequest(f *testing.F) {
	for _, s := range []string{"192.168.1.0/24", "10.0.0.5", "0.0.0.0/0", "::1/128", "10.0.0.0/33", "", "1.2.3.4/16\x00"} {
		f.Add(s, "eth0", "public")
	}
	f.Fuzz(func(t *testing.T, cidr, iface, community string) {
		r := ScanRequest{CIDR: cidr, Interface: iface, Options: ScanOptions{Communities: []string{community}}}
		if r.Normalize() != nil {
			return
		}
		again := r
		again.Options.Communities = slices.Clone(r.Options.Communities)
		if err := again.Normalize(); err != nil || again.CIDR != r.CIDR {
			t.Errorf("normalising %q twice: %q then %q (%v)", cidr, r.CIDR, again.CIDR, err)
		}
	})
}
