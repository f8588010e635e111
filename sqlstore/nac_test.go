package sqlstore

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/nac"
)

var testNASKey = bytes.Repeat([]byte{7}, 32)

func newNAC(t *testing.T, db *DB) *NACService {
	t.Helper()
	s, err := NewNACService(db, NACOptions{SecretKey: testNASKey})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// nacFixture makes a camera and an infusion pump with an overdue KEV
// finding each, and a compliant lock, on site hq.
func nacFixture(t *testing.T, ctx context.Context, db *DB, now time.Time) (camera, pump, lock int64) {
	t.Helper()
	devices, findings := NewDeviceService(db), NewFindingService(db)
	mk := func(name string, cat firmward.Category, crit firmward.Criticality, mac, ip string) int64 {
		d := &firmward.Device{
			Name: name, Manufacturer: "Acme", Model: "X1", Category: cat, Criticality: crit,
			Exposure: firmward.ExposureInternal, MACs: []string{mac}, IPs: []string{ip}, Site: "hq",
		}
		if err := devices.CreateDevice(ctx, d); err != nil {
			t.Fatalf("creating %s: %v", name, err)
		}
		return d.ID
	}
	camera = mk("garage camera", firmward.CategoryCamera, firmward.CriticalityMedium, "02:00:00:00:00:01", "10.0.0.21")
	pump = mk("infusion pump", firmward.CategoryMedical, firmward.CriticalitySafetyCritical, "02:00:00:00:00:02", "10.40.0.5")
	lock = mk("front door", firmward.CategoryLock, firmward.CriticalityHigh, "02:00:00:00:00:03", "10.30.0.9")
	due := now.AddDate(0, 0, -2)
	for _, id := range []int64{camera, pump} {
		f := firmward.Finding{
			CVE: "CVE-2017-7921", Certain: true, Decision: firmward.DecisionImmediate, KEV: true, DueDate: &due,
			Evidence: firmward.Evidence{Source: "nvd", Reason: "test"},
		}
		if _, err := findings.SyncDeviceFindings(ctx, id, []firmward.Finding{f}); err != nil {
			t.Fatal(err)
		}
	}
	return camera, pump, lock
}

func TestNACStore(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		clk := newClock()
		db := b.open(t, Options{Now: clk.Now})
		s := newNAC(t, db)
		ctx := firmward.WithActor(context.Background(), firmward.Actor{Kind: "token", ID: 2, Name: "alice"})
		camera, pump, lock := nacFixture(t, ctx, db, clk.Now())

		t.Run("PolicyDefaultAndRoundTrip", func(t *testing.T) {
			p, err := s.SitePolicy(ctx, "hq")
			if err != nil {
				t.Fatal(err)
			}
			if p.Mode != nac.ModeMonitor || p.Site != "hq" {
				t.Fatalf("default policy = %+v, want monitor for hq", p)
			}
			p.Mode = nac.ModeEnforce
			p.Subnets = map[string]string{nac.SegmentIoT: "10.30.0.0/24", nac.SegmentDefault: "10.0.0.0/24"}
			if err := s.SetSitePolicy(ctx, p); err != nil {
				t.Fatal(err)
			}
			got, err := s.SitePolicy(ctx, "hq")
			if err != nil {
				t.Fatal(err)
			}
			if got.Mode != nac.ModeEnforce || got.Subnets[nac.SegmentIoT] != "10.30.0.0/24" || got.VLANs[nac.SegmentIoT] != "30" ||
				got.Segments[firmward.CategoryCamera] != nac.SegmentIoT || !got.Rules.OverdueKEV {
				t.Errorf("read back %+v", got)
			}
			bad := p
			bad.Mode = "loud"
			bad.QuarantineVLAN = "5000"
			err = s.SetSitePolicy(ctx, bad)
			wantCode(t, err, firmward.EINVALID)
			if len(firmward.ErrorDetails(err)) != 2 {
				t.Errorf("details = %+v, want mode and quarantine_vlan", firmward.ErrorDetails(err))
			}
			all, err := s.SitePolicies(ctx)
			if err != nil || len(all) != 1 || all[0].Site != "hq" {
				t.Errorf("SitePolicies = %+v, %v", all, err)
			}
			evs := auditEvents(t, db)
			last := evs[len(evs)-1]
			if last.Action != firmward.ActionNACPolicy || last.ObjectID != "hq" || last.Actor != "token:2(alice)" {
				t.Errorf("last audit event = %+v", last)
			}
		})

		t.Run("Candidates", func(t *testing.T) {
			ids, next, err := s.NACCandidates(ctx, 0, 10)
			if err != nil || next != 0 || len(ids) != 2 || ids[0] != camera || ids[1] != pump {
				t.Fatalf("candidates %v next %d err %v, want the camera and the pump (the lock has no finding)", ids, next, err)
			}
			ids, next, err = s.NACCandidates(ctx, 0, 1)
			if err != nil || len(ids) != 1 || ids[0] != camera || next != camera {
				t.Fatalf("first page %v next %d err %v", ids, next, err)
			}
			if ids, next, err = s.NACCandidates(ctx, next, 1); err != nil || len(ids) != 1 || ids[0] != pump || next != 0 {
				t.Fatalf("second page %v next %d err %v", ids, next, err)
			}
			scanned := &firmward.Device{Name: "found by a scan", MACs: []string{"02:00:00:00:00:04"}, Source: firmward.SourceScan, Site: "hq"}
			if err := NewDeviceService(db).CreateDevice(ctx, scanned); err != nil {
				t.Fatal(err)
			}
			if ids, _, err := s.NACCandidates(ctx, pump, 10); err != nil || len(ids) != 1 || ids[0] != scanned.ID {
				t.Errorf("after the pump: %v %v, want the scanned device (the unreviewed rule)", ids, err)
			}
		})

		t.Run("DecideByMAC", func(t *testing.T) {
			for _, tc := range []struct {
				mac        string
				quarantine bool
				needs      bool
				vlan       string
			}{
				{"02-00-00-00-00-01", true, false, "666"},
				{"0200.0000.0002", false, true, "40"},
				{"02:00:00:00:00:03", false, false, "30"},
			} {
				d, err := s.Decide(ctx, tc.mac)
				if err != nil {
					t.Fatal(err)
				}
				if d.Quarantine != tc.quarantine || d.NeedsApproval != tc.needs || d.VLAN != tc.vlan {
					t.Errorf("%s: decision %+v", tc.mac, d)
				}
			}
			_, err := s.Decide(ctx, "06:00:00:00:00:09")
			wantCode(t, err, firmward.ENOTFOUND)
			_, err = s.Decide(ctx, "not a mac")
			wantCode(t, err, firmward.EINVALID)
		})

		t.Run("ManualApproveExemptRelease", func(t *testing.T) {
			_, err := s.Quarantine(ctx, lock, " ")
			wantCode(t, err, firmward.EINVALID)
			_, err = s.Quarantine(ctx, 9999, "x")
			wantCode(t, err, firmward.ENOTFOUND)
			st, err := s.Quarantine(ctx, lock, "tampered with")
			if err != nil {
				t.Fatal(err)
			}
			if st.Manual == nil || st.Manual.Reason != "tampered with" || st.Manual.By != "token:2(alice)" {
				t.Fatalf("state %+v", st)
			}
			ev, err := s.Evaluate(ctx, lock)
			if err != nil || !ev.Decision.Enforced || ev.Decision.VLAN != "666" {
				t.Fatalf("lock after manual quarantine: %+v %v", ev.Decision, err)
			}
			if _, err := s.Release(ctx, lock, "checked"); err != nil {
				t.Fatal(err)
			}
			_, err = s.Release(ctx, lock, "again")
			wantCode(t, err, firmward.ECONFLICT)

			if _, err := s.Approve(ctx, pump, "biomed approved, spare pump in use"); err != nil {
				t.Fatal(err)
			}
			ev, err = s.Evaluate(ctx, pump)
			if err != nil || !ev.Decision.Enforced {
				t.Fatalf("approved pump: %+v %v", ev.Decision, err)
			}

			_, err = s.Exempt(ctx, camera, firmward.NACExemption{Reason: "r", Owner: "o", Until: clk.Now().Add(-time.Hour)})
			wantCode(t, err, firmward.EINVALID)
			if _, err := s.Exempt(ctx, camera, firmward.NACExemption{Reason: "vendor fix next week", Owner: "bob", Until: clk.Now().Add(48 * time.Hour)}); err != nil {
				t.Fatal(err)
			}
			ev, err = s.Evaluate(ctx, camera)
			if err != nil || ev.Decision.Quarantine || ev.Decision.Exempt == "" {
				t.Fatalf("exempt camera: %+v %v", ev.Decision, err)
			}
			clk.Add(49 * time.Hour)
			ev, err = s.Evaluate(ctx, camera)
			if err != nil || !ev.Decision.Quarantine {
				t.Fatalf("camera after the exemption ended: %+v %v", ev.Decision, err)
			}
			hist, err := s.NACEvents(ctx, lock, 10)
			if err != nil || len(hist) != 2 || hist[0].Kind != firmward.NACEventManualRelease || hist[1].Kind != firmward.NACEventManual {
				t.Errorf("lock history = %+v, %v", hist, err)
			}
			states, err := s.NACStates(ctx, nac.StateFilter{Active: true})
			if err != nil || len(states) != 2 { // pump approved, camera exempt (expired, still stored)
				t.Errorf("active states = %d, %v", len(states), err)
			}
		})

		t.Run("RecordDecision", func(t *testing.T) {
			ev, err := s.Evaluate(ctx, camera)
			if err != nil {
				t.Fatal(err)
			}
			prev, changed, err := s.RecordDecision(ctx, ev.Decision)
			if err != nil || !changed || prev.Quarantined {
				t.Fatalf("first record: prev %+v changed %v err %v", prev, changed, err)
			}
			if _, changed, err := s.RecordDecision(ctx, ev.Decision); err != nil || changed {
				t.Errorf("same decision again: changed %v err %v", changed, err)
			}
			st, err := s.NACState(ctx, camera)
			if err != nil || !st.Quarantined || !st.Enforced || st.ChangedAt == nil || !strings.Contains(st.Reasons, "CVE-2017-7921") {
				t.Errorf("state %+v, %v", st, err)
			}
			hist, err := s.NACEvents(ctx, camera, 1)
			if err != nil || len(hist) != 1 || hist[0].Kind != firmward.NACEventQuarantine || !hist[0].Enforced || hist[0].Actor != "firmward" {
				t.Errorf("history %+v %v", hist, err)
			}
			if err := s.RecordNACEvent(ctx, firmward.NACEvent{DeviceID: camera, Kind: firmward.NACEventCoA, Outcome: "ack", Message: "Disconnect-ACK"}); err != nil {
				t.Fatal(err)
			}
			evs := auditEvents(t, db)
			if a := evs[len(evs)-1]; a.Action != firmward.ActionNACCoA || a.ObjectType != "device" || a.ObjectID != strconv.FormatInt(camera, 10) {
				t.Errorf("last audit event %+v", a)
			}
			verifyOK(t, db)
		})

		t.Run("SessionsAndSecrets", func(t *testing.T) {
			at := clk.Now().Truncate(time.Microsecond)
			in := firmward.NASSession{MAC: "02-00-00-00-00-01", NASIP: "192.0.2.10", NASIdentifier: "sw1", AcctSessionID: "a1", Event: "Start", At: at}
			if err := s.RecordNASSession(ctx, in); err != nil {
				t.Fatal(err)
			}
			in.Event = "Interim-Update"
			if err := s.RecordNASSession(ctx, in); err != nil {
				t.Fatal(err)
			}
			got, err := s.LastNASSession(ctx, "02:00:00:00:00:01")
			if err != nil || got.Event != "Interim-Update" || got.NASIP != "192.0.2.10" || !got.At.Equal(at) || got.MAC != "02:00:00:00:00:01" {
				t.Errorf("session %+v %v", got, err)
			}
			_, err = s.LastNASSession(ctx, "02:00:00:00:00:09")
			wantCode(t, err, firmward.ENOTFOUND)

			wantCode(t, s.SetNASSecret(ctx, firmward.NASSecret{NAS: "sw1", Secret: "short"}), firmward.EINVALID)
			if err := s.SetNASSecret(ctx, firmward.NASSecret{NAS: "192.0.2.10", Addr: "127.0.0.1:3799", Secret: "coa-secret-123"}); err != nil {
				t.Fatal(err)
			}
			var raw string
			if err := db.SQL().QueryRow("SELECT secret FROM nas_secrets").Scan(&raw); err != nil || strings.Contains(raw, "coa-secret-123") {
				t.Errorf("stored secret %q (%v) must be sealed", raw, err)
			}
			list, err := s.NASSecrets(ctx, false)
			if err != nil || len(list) != 1 || list[0].Secret != "" || list[0].Addr != "127.0.0.1:3799" {
				t.Errorf("list %+v %v", list, err)
			}
			list, err = s.NASSecrets(ctx, true)
			if err != nil || list[0].Secret != "coa-secret-123" {
				t.Errorf("revealed %+v %v", list, err)
			}
			other, err := NewNACService(db, NACOptions{SecretKey: bytes.Repeat([]byte{8}, 32)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := other.NASSecrets(ctx, true); err == nil || !strings.Contains(err.Error(), "does not open") {
				t.Errorf("another key: err %v", err)
			}
			if err := s.DeleteNASSecret(ctx, "192.0.2.10"); err != nil {
				t.Fatal(err)
			}
			wantCode(t, s.DeleteNASSecret(ctx, "192.0.2.10"), firmward.ENOTFOUND)
			verifyOK(t, db)
		})

		t.Run("StateGoesWithDevice", func(t *testing.T) {
			if err := NewDeviceService(db).DeleteDevice(ctx, lock); err != nil {
				t.Fatal(err)
			}
			_, err := s.NACState(ctx, lock)
			wantCode(t, err, firmward.ENOTFOUND)
			if n := count(t, db, "nac_states WHERE device_id = "+strconv.FormatInt(lock, 10)); n != 0 {
				t.Errorf("%d state rows left", n)
			}
		})
	})
}
