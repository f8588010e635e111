package rollout

import (
	"testing"
	"time"

	"github.com/firmward/firmward"
)

func TestParseCronErrors(t *testing.T) {
	for _, tc := range []struct{ name, expr string }{
		{"empty", ""},
		{"four fields", "0 2 * *"},
		{"six fields", "0 0 2 * * *"},
		{"minute too big", "60 2 * * *"},
		{"hour too big", "0 24 * * *"},
		{"day zero", "0 2 0 * *"},
		{"month 13", "0 2 * 13 *"},
		{"dow 8", "0 2 * * 8"},
		{"backward range", "0 5-2 * * *"},
		{"zero step", "*/0 * * * *"},
		{"bad step", "*/x * * * *"},
		{"word", "0 2 * * someday"},
		{"negative", "-1 2 * * *"},
		{"empty list item", "0,,5 2 * * *"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseCron(tc.expr)
			if firmward.ErrorCode(err) != firmward.EINVALID || len(firmward.ErrorDetails(err)) != 1 {
				t.Fatalf("ParseCron(%q) = %v, want EINVALID with one detail", tc.expr, err)
			}
		})
	}
}

func TestCronNext(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skipf("no time zone data: %v", err)
	}
	utc := time.UTC
	for _, tc := range []struct {
		name, expr string
		loc        *time.Location
		from, want string // RFC 3339
	}{
		{"every minute", "* * * * *", utc, "2025-01-01T10:00:30Z", "2025-01-01T10:01:00Z"},
		{"daily at 02:00 later today", "0 2 * * *", utc, "2025-01-01T01:00:00Z", "2025-01-01T02:00:00Z"},
		{"daily at 02:00 tomorrow", "0 2 * * *", utc, "2025-01-01T02:00:00Z", "2025-01-02T02:00:00Z"},
		{"sunday by name", "30 3 * * sun", utc, "2025-01-01T00:00:00Z", "2025-01-05T03:30:00Z"},
		{"sunday as 7", "30 3 * * 7", utc, "2025-01-01T00:00:00Z", "2025-01-05T03:30:00Z"},
		{"weekdays range", "0 22 * * mon-fri", utc, "2025-01-04T00:00:00Z", "2025-01-06T22:00:00Z"},
		{"step minutes", "*/15 * * * *", utc, "2025-01-01T10:07:00Z", "2025-01-01T10:15:00Z"},
		{"list and range step", "0 1,13 1-10/3 * *", utc, "2025-01-02T00:00:00Z", "2025-01-04T01:00:00Z"},
		{"dom or dow (vixie)", "0 0 15 * mon", utc, "2025-01-07T00:00:00Z", "2025-01-13T00:00:00Z"},
		{"month by name", "0 0 1 mar *", utc, "2025-01-01T00:00:00Z", "2025-03-01T00:00:00Z"},
		{"leap day", "0 0 29 2 *", utc, "2025-01-01T00:00:00Z", "2028-02-29T00:00:00Z"},
		{"local zone", "0 2 * * *", berlin, "2025-01-01T00:00:00Z", "2025-01-01T01:00:00Z"},
		{"DST gap skipped", "30 2 * * *", berlin, "2025-03-30T00:00:00Z", "2025-03-31T00:30:00Z"},
		{"summer time", "0 2 * * *", berlin, "2025-07-01T00:30:00Z", "2025-07-02T00:00:00Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseCron(tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			from, _ := time.Parse(time.RFC3339, tc.from)
			want, _ := time.Parse(time.RFC3339, tc.want)
			got, ok := c.Next(from, tc.loc)
			if !ok || !got.Equal(want) {
				t.Fatalf("Next(%s) = %s, %v; want %s", tc.from, got.UTC().Format(time.RFC3339), ok, tc.want)
			}
		})
	}
	never, err := ParseCron("0 0 30 2 *")
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := never.Next(time.Date(2025, 1, 1, 0, 0, 0, 0, utc), utc); ok {
		t.Fatalf("30 February found at %s", got)
	}
}

func TestWindow(t *testing.T) {
	s := &firmward.MaintenanceSchedule{Cron: "0 2 * * *", DurationMinutes: 120, TimeZone: "UTC"}
	day := func(h, m int) time.Time { return time.Date(2025, 1, 1, h, m, 0, 0, time.UTC) }
	for _, tc := range []struct {
		name       string
		now        time.Time
		start, end time.Time
		open       bool
	}{
		{"before: the next one", day(1, 0), day(2, 0), day(4, 0), false},
		{"at the opening", day(2, 0), day(2, 0), day(4, 0), true},
		{"inside", day(3, 59), day(2, 0), day(4, 0), true},
		{"at the close: tomorrow's", day(4, 0), day(26, 0), day(28, 0), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, ok, err := Window(s, tc.now)
			if err != nil || !ok {
				t.Fatalf("Window = %v, %v, %v", w, ok, err)
			}
			if !w.Start.Equal(tc.start) || !w.End.Equal(tc.end) || w.Contains(tc.now) != tc.open {
				t.Fatalf("Window(%s) = %s–%s (open %v); want %s–%s (open %v)", tc.now, w.Start, w.End, w.Contains(tc.now), tc.start, tc.end, tc.open)
			}
		})
	}
	if _, _, err := Window(&firmward.MaintenanceSchedule{Cron: "0 2 * * *", DurationMinutes: 60, TimeZone: "Mars/Olympus"}, day(0, 0)); firmward.ErrorCode(err) != firmward.EINVALID {
		t.Fatalf("bad zone: %v", err)
	}
}

// FuzzParseCron checks that any text parses or is refused with EINVALID,
// and that a parsed expression finds a next time after the start, in a
// bounded time.
func FuzzParseCron(f *testing.F) {
	for _, s := range []string{"* * * * *", "0 2 * * *", "*/15 1-5 1,15 jan-mar mon-fri", "0 0 30 2 *", "60 * * * *", "0 0 * * 7", "1-2/0 * * * *", "a b c d e", ""} {
		f.Add(s)
	}
	from := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCron(s)
		if err != nil {
			if firmward.ErrorCode(err) != firmward.EINVALID {
				t.Fatalf("ParseCron(%q) = %v, want EINVALID", s, err)
			}
			return
		}
		if at, ok := c.Next(from, time.UTC); ok && !at.After(from) {
			t.Fatalf("Next(%q) = %s, not after %s", s, at, from)
		}
	})
}
