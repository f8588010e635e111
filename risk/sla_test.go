package risk

import (
	"strings"
	"testing"
	"time"

	"github.com/firmward/firmward"
)

func TestParsePolicy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Policy
	}{
		{"", DefaultPolicy()},
		{"immediate=7d,out-of-cycle=30d,scheduled=90d", DefaultPolicy()},
		{"immediate=3d", Policy{3 * Day, 30 * Day, 90 * Day}},
		{" Immediate = 36h , OUT_OF_CYCLE=2w, scheduled=none, defer=none,", Policy{36 * time.Hour, 14 * Day, 0}},
		{"outofcycle=1d,scheduled=0", Policy{7 * Day, Day, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParsePolicy(tt.in)
			if err != nil || got != tt.want {
				t.Fatalf("ParsePolicy = %+v, %v; want %+v", got, err, tt.want)
			}
			again, err := ParsePolicy(got.String())
			if err != nil || again != got {
				t.Errorf("round trip via %q = %+v, %v", got.String(), again, err)
			}
		})
	}
}

func TestParsePolicyErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    string
		field string // of the first detail
		part  string // in the message
	}{
		{"no equals", "immediate", "", `"immediate"`},
		{"unknown decision", "urgent=1d", "urgent", `"urgent=1d"`},
		{"bad unit", "immediate=7x", "immediate", `"immediate=7x"`},
		{"negative", "scheduled=-3d", "scheduled", "scheduled=-3d"},
		{"zero days", "scheduled=0d", "scheduled", "scheduled=0d"},
		{"too long", "scheduled=4000d", "scheduled", "scheduled=4000d"},
		{"too many weeks", "scheduled=600w", "scheduled", "scheduled=600w"},
		{"huge go duration", "scheduled=100000h", "scheduled", "scheduled=100000h"},
		{"negative go duration", "immediate=-5h", "immediate", "immediate=-5h"},
		{"missing value", "immediate=", "immediate", `"immediate="`},
		{"defer with a duration", "defer=30d", "defer", "defer=30d"},
		{"twice", "immediate=1d,immediate=2d", "immediate", "immediate=2d"},
		{"second part bad", "immediate=7d,out-of-cycle=soon", "out-of-cycle", "out-of-cycle=soon"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParsePolicy(tt.in)
			if firmward.ErrorCode(err) != firmward.EINVALID {
				t.Fatalf("ParsePolicy(%q) error = %v, want EINVALID", tt.in, err)
			}
			d := firmward.ErrorDetails(err)
			if len(d) == 0 || d[0].Field != tt.field {
				t.Errorf("details = %+v, want field %q", d, tt.field)
			}
			if !strings.Contains(err.Error(), tt.part) {
				t.Errorf("error %q does not name %q", err, tt.part)
			}
		})
	}
}

func TestDeadline(t *testing.T) {
	t.Parallel()
	seen := time.Date(2023, 5, 10, 9, 30, 0, 0, time.UTC)
	kev := &firmward.KEVEntry{CVE: "CVE-2023-1389", DateAdded: "2023-05-01", DueDate: "2023-05-22"}
	kevEnd := time.Date(2023, 5, 23, 0, 0, 0, 0, time.UTC)
	p := DefaultPolicy()
	tests := []struct {
		name    string
		policy  Policy
		dec     Decision
		seen    time.Time
		kev     *firmward.KEVEntry
		want    time.Time // zero = none
		wantWhy string
	}{
		{"Immediate 7 days", p, DecisionImmediate, seen, nil, seen.Add(7 * Day), "policy: Immediate within 7d"},
		{"Out-of-Cycle 30 days", p, DecisionOutOfCycle, seen, nil, seen.Add(30 * Day), "within 30d"},
		{"Scheduled 90 days", p, DecisionScheduled, seen, nil, seen.Add(90 * Day), "within 90d"},
		{"Defer none", p, DecisionDefer, seen, nil, time.Time{}, "no due date for Defer"},
		{"KEV sooner than Out-of-Cycle", p, DecisionOutOfCycle, seen, kev, kevEnd, "CISA KEV due date 2023-05-22"},
		{"KEV later than Immediate", p, DecisionImmediate, seen, kev, seen.Add(7 * Day), "policy"},
		{"KEV gives a date to Defer", p, DecisionDefer, seen, kev, kevEnd, "CISA KEV"},
		{"KEV already past when first seen", p, DecisionImmediate, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), kev, kevEnd, "CISA KEV"},
		{"bad KEV date ignored", p, DecisionScheduled, seen, &firmward.KEVEntry{DueDate: "22/05/2023"}, seen.Add(90 * Day), "policy"},
		{"unknown first seen uses KEV only", p, DecisionImmediate, time.Time{}, kev, kevEnd, "CISA KEV"},
		{"policy none for Scheduled", Policy{Immediate: Day}, DecisionScheduled, seen, nil, time.Time{}, "no due date"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := tt.policy.Deadline(tt.dec, tt.seen, tt.kev)
			if !d.Due.Equal(tt.want) || !strings.Contains(d.Reason, tt.wantWhy) {
				t.Errorf("Deadline = %v %q, want %v %q", d.Due, d.Reason, tt.want, tt.wantWhy)
			}
			due, ok := DueDate(tt.policy, tt.dec, tt.seen, tt.kev)
			if ok != !tt.want.IsZero() || !due.Equal(tt.want) {
				t.Errorf("DueDate = %v, %v", due, ok)
			}
		})
	}
}

func TestOverdue(t *testing.T) {
	t.Parallel()
	due := time.Date(2023, 5, 23, 0, 0, 0, 0, time.UTC)
	d := Deadline{Due: due}
	if d.Overdue(due.Add(-time.Nanosecond)) {
		t.Error("overdue before the due time")
	}
	if !d.Overdue(due) || !d.Overdue(due.Add(Day)) {
		t.Error("not overdue at or after the due time")
	}
	if (Deadline{}).Overdue(due.Add(1000 * Day)) {
		t.Error("a finding with no due date is never overdue")
	}
}
