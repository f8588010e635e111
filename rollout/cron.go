package rollout

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/firmward/firmward"
)

// Cron is a parsed 5-field cron expression: minute hour day-of-month month
// day-of-week. Each field is "*", a number, a range "a-b", a list "a,b",
// or any of those with a step "/n"; months and days of the week may be
// named (jan, mon). As in Vixie cron, when both day fields are restricted
// a day matching either one matches.
type Cron struct {
	minute, hour, dom, month, dow uint64 // bit i set: value i allowed
	domStar, dowStar              bool
}

var (
	monthNames = []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}
	dayNames   = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}
)

// maxCronLen bounds the text of an expression.
const maxCronLen = 200

// ParseCron parses a 5-field cron expression: EINVALID naming the bad field.
func ParseCron(s string) (*Cron, error) {
	if len(s) > maxCronLen {
		return nil, cronError(s, fmt.Sprintf("is longer than %d characters", maxCronLen))
	}
	f := strings.Fields(s)
	if len(f) != 5 {
		return nil, cronError(s, "needs 5 fields: minute hour day-of-month month day-of-week")
	}
	c := &Cron{domStar: f[2] == "*", dowStar: f[4] == "*"}
	var err error
	specs := []struct {
		name     string
		dst      *uint64
		min, max int
		names    []string
		namesMin int
	}{
		{"minute", &c.minute, 0, 59, nil, 0},
		{"hour", &c.hour, 0, 23, nil, 0},
		{"day-of-month", &c.dom, 1, 31, nil, 0},
		{"month", &c.month, 1, 12, monthNames, 1},
		{"day-of-week", &c.dow, 0, 7, dayNames, 0},
	}
	for i, sp := range specs {
		if *sp.dst, err = parseField(f[i], sp.min, sp.max, sp.names, sp.namesMin); err != nil {
			return nil, cronError(s, sp.name+" "+err.Error())
		}
	}
	if c.dow&(1<<7) != 0 { // 7 is Sunday too
		c.dow |= 1
	}
	return c, nil
}

func cronError(s, reason string) error {
	return &firmward.Error{Code: firmward.EINVALID, Message: "cron expression is not valid", Details: []firmward.ErrorDetail{
		{Field: "maintenance_window.cron", Value: clip(s), Reason: reason},
	}}
}

func clip(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}

func parseField(f string, lo, hi int, names []string, namesMin int) (uint64, error) {
	var bits uint64
	for part := range strings.SplitSeq(f, ",") {
		rng, stepText, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepText)
			if err != nil || n <= 0 || n > hi {
				return 0, fmt.Errorf("has a bad step %q", clip(stepText))
			}
			step = n
		}
		a, b := lo, hi
		switch {
		case rng == "*":
		case strings.Contains(rng, "-"):
			as, bs, _ := strings.Cut(rng, "-")
			var err error
			if a, err = value(as, lo, hi, names, namesMin); err != nil {
				return 0, err
			}
			if b, err = value(bs, lo, hi, names, namesMin); err != nil {
				return 0, err
			}
			if a > b {
				return 0, fmt.Errorf("has a backward range %q", clip(rng))
			}
		default:
			v, err := value(rng, lo, hi, names, namesMin)
			if err != nil {
				return 0, err
			}
			a = v
			if !hasStep {
				b = v
			}
		}
		for v := a; v <= b; v += step {
			bits |= 1 << uint(v)
		}
	}
	return bits, nil
}

func value(s string, lo, hi int, names []string, namesMin int) (int, error) {
	for i, n := range names {
		if strings.EqualFold(s, n) {
			return i + namesMin, nil
		}
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < lo || v > hi {
		return 0, fmt.Errorf("value %q is not a number from %d to %d", clip(s), lo, hi)
	}
	return v, nil
}

func (c *Cron) dayMatches(t time.Time) bool {
	dom := c.dom&(1<<uint(t.Day())) != 0
	dow := c.dow&(1<<uint(t.Weekday())) != 0
	switch {
	case c.domStar && c.dowStar:
		return true
	case c.domStar:
		return dow
	case c.dowStar:
		return dom
	}
	return dom || dow
}

// cronHorizon bounds the search for the next time (a 29 February on a
// Monday can be 28 years away).
const cronHorizon = 30 * 366

// Next returns the first time strictly after t, in loc's wall clock, that
// the expression names, and false when there is none within 30 years (as
// for "0 0 30 2 *"). Wall times a DST change skips are skipped.
func (c *Cron) Next(t time.Time, loc *time.Location) (time.Time, bool) {
	t = t.In(loc).Truncate(time.Minute).Add(time.Minute)
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	for range cronHorizon {
		if c.month&(1<<uint(day.Month())) != 0 && c.dayMatches(day) {
			for h := range 24 {
				if c.hour&(1<<uint(h)) == 0 {
					continue
				}
				for m := range 60 {
					if c.minute&(1<<uint(m)) == 0 {
						continue
					}
					at := time.Date(day.Year(), day.Month(), day.Day(), h, m, 0, 0, loc)
					if at.Hour() != h || at.Minute() != m || at.Before(t) {
						continue // skipped by DST, or already past
					}
					return at, true
				}
			}
		}
		day = time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, loc)
	}
	return time.Time{}, false
}

// Window returns the maintenance window of s open at now, else the next
// one; false when the schedule never opens. EINVALID for a bad schedule.
func Window(s *firmward.MaintenanceSchedule, now time.Time) (*firmward.MaintenanceWindow, bool, error) {
	c, err := ParseCron(s.Cron)
	if err != nil {
		return nil, false, err
	}
	tz := s.TimeZone
	if tz == "" {
		tz = "UTC"
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, false, firmward.Errorf(firmward.EINVALID, "time zone %q is not an IANA time zone", clip(tz))
	}
	d := time.Duration(s.DurationMinutes) * time.Minute
	start, ok := c.Next(now.Add(-d), loc)
	if !ok {
		return nil, false, nil
	}
	return &firmward.MaintenanceWindow{Start: start.UTC(), End: start.Add(d).UTC()}, true, nil
}
