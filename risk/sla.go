package risk

import (
	"strconv"
	"strings"
	"time"

	"github.com/firmward/firmward"
)

// Day is 24 hours, the unit SLA policies are written in.
const Day = 24 * time.Hour

// maxSLA bounds a policy duration: ten years.
const maxSLA = 3650 * Day

// Policy gives, per SSVC decision, how long after a finding is first seen it
// must be fixed. A zero duration means no due date. Defer never has one.
type Policy struct {
	Immediate  time.Duration
	OutOfCycle time.Duration
	Scheduled  time.Duration
}

// DefaultPolicy returns the default SLA policy: Immediate 7 days,
// Out-of-Cycle 30 days, Scheduled 90 days, Defer none.
func DefaultPolicy() Policy {
	return Policy{Immediate: 7 * Day, OutOfCycle: 30 * Day, Scheduled: 90 * Day}
}

// For returns the time allowed for a decision, false when it has no due
// date (Defer, an unknown decision, or a zero duration).
func (p Policy) For(d Decision) (time.Duration, bool) {
	var dur time.Duration
	switch d {
	case DecisionImmediate:
		dur = p.Immediate
	case DecisionOutOfCycle:
		dur = p.OutOfCycle
	case DecisionScheduled:
		dur = p.Scheduled
	}
	return dur, dur > 0
}

// String writes the policy in the form ParsePolicy reads, e.g.
// "immediate=7d,out-of-cycle=30d,scheduled=90d".
func (p Policy) String() string {
	return "immediate=" + formatSpan(p.Immediate) +
		",out-of-cycle=" + formatSpan(p.OutOfCycle) +
		",scheduled=" + formatSpan(p.Scheduled)
}

func formatSpan(d time.Duration) string {
	switch {
	case d <= 0:
		return "none"
	case d%Day == 0:
		return strconv.FormatInt(int64(d/Day), 10) + "d"
	}
	return d.String()
}

// ParsePolicy reads a policy written as comma-separated decision=duration
// pairs, e.g. "immediate=7d,out-of-cycle=30d,scheduled=90d". Decisions are
// immediate, out-of-cycle, scheduled and defer (any case; "outofcycle" and
// "out_of_cycle" too); durations are whole days ("7d"), weeks ("2w"), a Go
// duration ("36h"), or "none" for no due date; defer only takes "none".
// Decisions left out keep DefaultPolicy's value; the empty string is
// DefaultPolicy.
//
// The error is an EINVALID *firmward.Error with one detail per bad part,
// naming the part.
func ParsePolicy(s string) (Policy, error) {
	p := DefaultPolicy()
	var details []firmward.ErrorDetail
	bad := func(field, part, reason string) {
		details = append(details, firmward.ErrorDetail{Field: field, Value: short(part), Reason: reason})
	}
	seen := map[string]bool{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		key, val, ok := strings.Cut(part, "=")
		if !ok {
			bad("", part, "want decision=duration")
			continue
		}
		name := fold(key)
		val = strings.TrimSpace(val)
		var dst *time.Duration
		switch name {
		case "immediate":
			dst = &p.Immediate
		case "outofcycle":
			dst = &p.OutOfCycle
		case "scheduled":
			dst = &p.Scheduled
		case "defer":
		default:
			bad(strings.TrimSpace(key), part, "unknown decision; want immediate, out-of-cycle, scheduled or defer")
			continue
		}
		if seen[name] {
			bad(strings.TrimSpace(key), part, "decision given twice")
			continue
		}
		seen[name] = true
		d, err := parseSpan(val)
		if err != "" {
			bad(strings.TrimSpace(key), part, err)
			continue
		}
		if dst == nil {
			if d != 0 {
				bad(strings.TrimSpace(key), part, `defer has no due date; want "none"`)
			}
			continue
		}
		*dst = d
	}
	if len(details) > 0 {
		return Policy{}, &firmward.Error{Code: firmward.EINVALID, Message: "invalid SLA policy", Details: details}
	}
	return p, nil
}

// parseSpan reads one policy duration; the second result is the reason it
// is wrong, or "".
func parseSpan(s string) (time.Duration, string) {
	const want = `want days ("7d"), weeks ("2w"), a duration ("36h") or "none"`
	if s == "" {
		return 0, "missing duration; " + want
	}
	if strings.EqualFold(s, "none") || s == "0" {
		return 0, ""
	}
	var d time.Duration
	if unit := s[len(s)-1]; unit == 'd' || unit == 'D' || unit == 'w' || unit == 'W' {
		n, err := strconv.ParseInt(s[:len(s)-1], 10, 64)
		if err != nil || n <= 0 || n > int64(maxSLA/Day) {
			return 0, "bad number of days or weeks (1 to 3650 days); " + want
		}
		d = time.Duration(n) * Day
		if unit == 'w' || unit == 'W' {
			if n > int64(maxSLA/(7*Day)) {
				return 0, "more than 3650 days"
			}
			d *= 7
		}
		return d, ""
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return 0, want
	case d <= 0:
		return 0, "duration must be positive; " + want
	case d > maxSLA:
		return 0, "more than 3650 days"
	}
	return d, ""
}

// Deadline is when a finding must be fixed: Due is zero when there is none.
// Reason says where the date comes from.
type Deadline struct {
	Due    time.Time `json:"due,omitzero"`
	Reason string    `json:"reason"`
}

// Overdue reports whether the deadline has passed at now: true when there
// is a due date and now is at or after it.
func (d Deadline) Overdue(now time.Time) bool {
	return !d.Due.IsZero() && !now.Before(d.Due)
}

// Deadline returns the due date of a finding with decision dec first seen at
// firstSeen: firstSeen plus the policy's time for dec, or the end (24:00
// UTC) of the KEV entry's due date when that is sooner or the policy gives
// none. A zero firstSeen means unknown: only the KEV date counts. A KEV due
// date that does not parse as YYYY-MM-DD is ignored.
func (p Policy) Deadline(dec Decision, firstSeen time.Time, kev *firmward.KEVEntry) Deadline {
	var dl Deadline
	if dur, ok := p.For(dec); ok && !firstSeen.IsZero() {
		dl = Deadline{Due: firstSeen.Add(dur), Reason: "policy: " + string(dec) + " within " + formatSpan(dur) + " of first seen"}
	} else {
		dl.Reason = "no due date for " + string(dec)
	}
	if kev != nil && kev.DueDate != "" {
		if day, err := time.Parse(time.DateOnly, kev.DueDate); err == nil {
			kevDue := day.Add(Day)
			if dl.Due.IsZero() || kevDue.Before(dl.Due) {
				dl = Deadline{Due: kevDue, Reason: "CISA KEV due date " + kev.DueDate}
			}
		}
	}
	return dl
}

// DueDate is Policy.Deadline for callers that want the date alone: the due
// date and true, or false when the finding has none.
func DueDate(p Policy, dec Decision, firstSeen time.Time, kev *firmward.KEVEntry) (time.Time, bool) {
	d := p.Deadline(dec, firstSeen, kev)
	return d.Due, !d.Due.IsZero()
}
