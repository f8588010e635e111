package firmward

import (
	"testing"
	"time"
)

func TestQuietUntil(t *testing.T) {
	t.Parallel()
	day := func(h, m int) time.Time { return time.Date(2026, 3, 2, h, m, 0, 0, time.UTC) }
	tests := []struct {
		name       string
		start, end string
		zone       string
		now, want  time.Time
	}{
		{"none", "", "", "UTC", day(23, 0), day(23, 0)},
		{"inside same day", "09:00", "12:00", "UTC", day(10, 30), day(12, 0)},
		{"at the end", "09:00", "12:00", "UTC", day(12, 0), day(12, 0)},
		{"before", "09:00", "12:00", "UTC", day(8, 59), day(8, 59)},
		{"overnight, evening", "22:00", "07:00", "UTC", day(23, 15), day(7, 0).AddDate(0, 0, 1)},
		{"overnight, morning", "22:00", "07:00", "UTC", day(6, 0), day(7, 0)},
		{"overnight, daytime", "22:00", "07:00", "UTC", day(12, 0), day(12, 0)},
		{"time zone", "22:00", "07:00", "Europe/Paris", day(21, 30), day(6, 0).AddDate(0, 0, 1)}, // 22:30 in Paris → 07:00 Paris
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := &NotifyRecipient{QuietStart: tc.start, QuietEnd: tc.end, TimeZone: tc.zone}
			if got := r.QuietUntil(tc.now); !got.Equal(tc.want) {
				t.Errorf("QuietUntil(%s) = %s, want %s", tc.now, got.UTC(), tc.want)
			}
		})
	}
}

func TestQuarantineAlert(t *testing.T) {
	t.Parallel()
	ev := &NACEvent{ID: 7, DeviceID: 3, Kind: "quarantine", Actor: "nac", Enforced: true, Message: "KEV CVE-2024-3400"}
	a := QuarantineAlert(ev, "edge router", "hq")
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	if a.Kind != AlertQuarantine || a.Severity != SeverityHigh || a.DedupeKey != "quarantine:nac-event:7" || a.Site != "hq" ||
		a.Subject != "edge router: quarantine (enforced) — KEV CVE-2024-3400" {
		t.Errorf("alert %+v", a)
	}
	rel := QuarantineAlert(&NACEvent{DeviceID: 3, Kind: "release", Time: time.Unix(5, 0)}, "edge router", "")
	if rel.Severity != SeverityMedium || rel.DedupeKey != "quarantine:device:3:release:5000000" {
		t.Errorf("release alert %+v", rel)
	}
	task := TaskAssignedAlert(4, 3, "ann", "update the router")
	if err := task.Validate(); err != nil || task.Kind != AlertTaskAssigned {
		t.Errorf("task alert %+v %v", task, err)
	}
}

// FuzzNotifyNormalize feeds channel and recipient settings as an API
// client may send them: no panic, and a normalised value normalises to
// itself.
func FuzzNotifyNormalize(f *testing.F) {
	f.Add("mail", "email", "smtp.example.org", 0, "starttls", "Firmward <fw@example.org>", "", "", "ann@example.org", "kev.new", "22:00", "07:00", "Europe/Paris")
	f.Add("hook", "webhook", "", 0, "", "", "https://h.example/x?a=b", "", "", "", "", "", "")
	f.Add("push", "ntfy", "", 0, "", "", "http://127.0.0.1:8080", "alerts", "", "quarantine", "9:00", "", "Mars/Base")
	f.Add("\x00", "EMAIL", "h:25", 70000, "ssl", "nobody", "ftp://x", "a/b", "bad", "coffee", "25:00", "xx", "")
	f.Fuzz(func(t *testing.T, name, typ, host string, port int, mode, from, u, topic, addr, kind, qs, qe, tz string) {
		c := &NotifyChannel{Name: name, Type: ChannelType(typ), SMTPHost: host, SMTPPort: port, SMTPMode: mode, From: from, URL: u, Topic: topic}
		if c.Normalize() == nil {
			again := *c
			if err := again.Normalize(); err != nil || again != *c {
				t.Fatalf("normalising %+v again: %v, %+v", c, err, again)
			}
		}
		r := &NotifyRecipient{Name: name, ChannelID: 1, Address: addr, Kinds: []string{kind}, QuietStart: qs, QuietEnd: qe, TimeZone: tz}
		if r.Normalize() == nil {
			_ = r.QuietUntil(time.Unix(1_700_000_000, 0))
			again := *r
			if err := again.Normalize(); err != nil || again.Address != r.Address || again.TimeZone != r.TimeZone {
				t.Fatalf("normalising %+v again: %v", r, err)
			}
		}
	})
}
