package sqlstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/firmward/firmward"
)

// TestVulnerabilities runs the vulnerability store's suite on SQLite and
// PostgreSQL.
func TestVulnerabilities(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		tests := []struct {
			name string
			fn   func(t *testing.T, b backend)
		}{
			{"AddUpdateUnchanged", testVulnAddUpdateUnchanged},
			{"Reimport", testVulnReimport},
			{"KEVAndEPSSChanges", testVulnKEVEPSSChanges},
			{"Rollback", testVulnRollback},
			{"FailingPut", testVulnFailingPut},
			{"Canceled", testVulnCanceled},
			{"Invalid", testVulnInvalid},
			{"Merge", testVulnMerge},
			{"Find", testVulnFind},
			{"Changes", testVulnChanges},
			{"ChangesPruned", testVulnChangesPruned},
			{"ChangesConcurrent", testVulnChangesConcurrent},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				tc.fn(t, b)
			})
		}
	})
}

var vulnT0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// testVuln returns a small NVD-like record.
func testVuln(id string, lastModified time.Time, desc string) *firmward.Vulnerability {
	return &firmward.Vulnerability{
		ID:           id,
		Published:    vulnT0.Add(-24 * time.Hour),
		LastModified: lastModified,
		Description:  desc,
		CWEs:         []string{"CWE-787"},
		CVSS:         []firmward.CVSS{{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", BaseScore: 9.8, Severity: "CRITICAL", Source: "nvd@nist.gov", Type: "Primary"}},
		Configurations: []firmward.Configuration{{Nodes: []firmward.Node{{Operator: "OR", Matches: []firmward.CPEMatch{
			{Vulnerable: true, Criteria: "cpe:2.3:o:acme:router_firmware:*:*:*:*:*:*:*:*", VersionEndExcluding: "2.0.1"},
		}}}}},
		References: []string{"https://example.com/advisory/" + id},
	}
}

// feedOp stages one thing in an import.
type feedOp func(ctx context.Context, fi firmward.FeedImport) error

func putVuln(source string, v *firmward.Vulnerability) feedOp {
	return func(ctx context.Context, fi firmward.FeedImport) error { return fi.PutVulnerability(ctx, source, v) }
}

func putKEV(e firmward.KEVEntry) feedOp {
	return func(ctx context.Context, fi firmward.FeedImport) error { return fi.PutKEV(ctx, &e) }
}

func putEPSS(s firmward.EPSSScore) feedOp {
	return func(ctx context.Context, fi firmward.FeedImport) error { return fi.PutEPSS(ctx, s) }
}

// importFeed runs one import of ops and commits it.
func importFeed(t testing.TB, db *DB, name string, ops ...feedOp) *firmward.FeedImportResult {
	t.Helper()
	ctx := context.Background()
	fi, err := NewVulnerabilityService(db).BeginFeedImport(ctx, name, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = fi.Rollback() }()
	for _, op := range ops {
		if err := op(ctx, fi); err != nil {
			t.Fatal(err)
		}
	}
	res, err := fi.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func findVuln(t testing.TB, db *DB, id string) *firmward.VulnerabilityRecord {
	t.Helper()
	r, err := NewVulnerabilityService(db).FindVulnerabilityByID(context.Background(), id)
	if err != nil {
		t.Fatalf("FindVulnerabilityByID(%s): %v", id, err)
	}
	return r
}

// vulnCounts returns the row counts of the vulnerability tables, the
// audit trail and the change log.
func vulnCounts(t testing.TB, db *DB) [5]int {
	t.Helper()
	return [5]int{
		count(t, db, "vuln_records"), count(t, db, "kev"), count(t, db, "epss"), count(t, db, "audit_events"),
		count(t, db, "vuln_changes"),
	}
}

func wantResult(t testing.TB, got *firmward.FeedImportResult, records, added, updated, unchanged int, changed ...string) {
	t.Helper()
	if got.Records != records || got.Added != added || got.Updated != updated || got.Unchanged != unchanged ||
		!slices.Equal(got.ChangedCVEs, changed) {
		t.Errorf("result = %+v, want records %d, added %d, updated %d, unchanged %d, changed %v",
			got, records, added, updated, unchanged, changed)
	}
}

func testVulnAddUpdateUnchanged(t *testing.T, b backend) {
	db := b.open(t, Options{})
	t1, t2 := vulnT0, vulnT0.Add(time.Hour)
	res := importFeed(t, db, "nvd-2024.json",
		putVuln(firmward.SourceNVD, testVuln("CVE-2024-0002", t1, "two")),
		putVuln(firmward.SourceNVD, testVuln("CVE-2024-0001", t1, "one")),
	)
	wantResult(t, res, 2, 2, 0, 0, "CVE-2024-0001", "CVE-2024-0002")
	if res.Name != "nvd-2024.json" || res.Format != "test" {
		t.Errorf("name, format = %q, %q", res.Name, res.Format)
	}

	res = importFeed(t, db, "nvd-modified.json",
		putVuln(firmward.SourceNVD, testVuln("CVE-2024-0001", t2, "one, revised")), // newer
		putVuln(firmward.SourceNVD, testVuln("CVE-2024-0002", t1, "two, equal")),   // equal
		putVuln(firmward.SourceNVD, testVuln("cve-2024-0002", t0Minus(t1), "two, older")),
		putVuln(firmward.SourceNVD, testVuln("CVE-2024-10003", t1, "three")), // new, 5 digits
	)
	wantResult(t, res, 4, 1, 1, 2, "CVE-2024-0001", "CVE-2024-10003")

	if got := findVuln(t, db, "CVE-2024-0001"); got.Description != "one, revised" || !got.LastModified.Equal(t2) {
		t.Errorf("CVE-2024-0001 = %q, %v", got.Description, got.LastModified)
	}
	if got := findVuln(t, db, "cve-2024-0002"); got.Description != "two" {
		t.Errorf("CVE-2024-0002 description = %q, want the first one", got.Description)
	}
	if n := count(t, db, "vuln_records"); n != 3 {
		t.Errorf("%d records stored, want 3", n)
	}

	// A record repeated within one batch: added, then updated by the newer,
	// unchanged by the older; the newest is kept.
	res = importFeed(t, db, "dup.json",
		putVuln(firmward.SourceNVD, testVuln("CVE-2024-0004", t1, "a")),
		putVuln(firmward.SourceNVD, testVuln("CVE-2024-0004", t2, "b")),
		putVuln(firmward.SourceNVD, testVuln("CVE-2024-0004", t1, "c")),
	)
	wantResult(t, res, 3, 1, 1, 1, "CVE-2024-0004")
	if got := findVuln(t, db, "CVE-2024-0004"); got.Description != "b" {
		t.Errorf("CVE-2024-0004 description = %q, want b", got.Description)
	}
	verifyOK(t, db)
}

func t0Minus(t time.Time) time.Time { return t.Add(-time.Hour) }

// fullFeed is an import with a record of each kind for three CVEs.
func fullFeed() []feedOp {
	return []feedOp{
		putVuln(firmward.SourceNVD, testVuln("CVE-2023-1111", vulnT0, "one")),
		putVuln(firmward.SourceNVD, testVuln("CVE-2023-2222", vulnT0, "two")),
		putVuln(firmward.SourceCVE5, testVuln("CVE-2023-2222", vulnT0, "two (cve5)")),
		putKEV(firmward.KEVEntry{CVE: "CVE-2023-2222", VendorProject: "Acme", Product: "Router", DateAdded: "2024-01-02", DueDate: "2024-01-23", KnownRansomwareUse: true}),
		putEPSS(firmward.EPSSScore{CVE: "CVE-2023-1111", Score: 0.5, Percentile: 0.97, ScoreDate: "2024-05-01", ModelVersion: "v2023.03.01"}),
		putEPSS(firmward.EPSSScore{CVE: "CVE-2023-3333", Score: 0.01, Percentile: 0.2}),
	}
}

func testVulnReimport(t *testing.T, b backend) {
	db := b.open(t, Options{})
	res := importFeed(t, db, "all.json", fullFeed()...)
	wantResult(t, res, 6, 6, 0, 0, "CVE-2023-1111", "CVE-2023-2222", "CVE-2023-3333")
	before := vulnCounts(t, db)
	res = importFeed(t, db, "all.json", fullFeed()...)
	wantResult(t, res, 6, 0, 0, 6)
	after := vulnCounts(t, db)
	if before[0] != after[0] || before[1] != after[1] || before[2] != after[2] || after[3] != before[3]+1 {
		t.Errorf("row counts %v after the second import, were %v (want one more audit event only)", after, before)
	}

	evs := auditEvents(t, db)
	if len(evs) != 2 {
		t.Fatalf("%d audit events, want 2", len(evs))
	}
	for i, e := range evs {
		if e.Action != "feed.import" || e.ObjectType != "feed" || e.ObjectID != "all.json" {
			t.Errorf("event %d = %+v", i, e)
		}
		want := []firmward.FieldChange{
			{Field: "format", New: "test"},
			{Field: "records", New: "6"},
			{Field: "added", New: []string{"6", "0"}[i]},
			{Field: "updated", New: "0"},
			{Field: "unchanged", New: []string{"0", "6"}[i]},
		}
		if !reflect.DeepEqual(e.Changes, want) {
			t.Errorf("event %d changes = %v, want %v", i, e.Changes, want)
		}
	}
	verifyOK(t, db)
}

func testVulnKEVEPSSChanges(t *testing.T, b backend) {
	db := b.open(t, Options{})
	kev := firmward.KEVEntry{CVE: "CVE-2023-2222", DateAdded: "2024-01-02", DueDate: "2024-01-23"}
	epss := firmward.EPSSScore{CVE: "CVE-2023-1111", Score: 0.5, Percentile: 0.9, ScoreDate: "2024-05-01"}
	importFeed(t, db, "first", putKEV(kev), putEPSS(epss))
	kev.Notes = "now with notes"
	epss.ScoreDate = "2024-05-02" // same score, new date
	res := importFeed(t, db, "second", putKEV(kev), putEPSS(epss))
	wantResult(t, res, 2, 0, 2, 0, "CVE-2023-1111", "CVE-2023-2222")
	if got := findVuln(t, db, "CVE-2023-2222"); got.KEV == nil || got.KEV.Notes != "now with notes" {
		t.Errorf("KEV = %+v", got.KEV)
	}
	if got := findVuln(t, db, "CVE-2023-1111"); got.EPSS == nil || *got.EPSS != epss {
		t.Errorf("EPSS = %+v, want %+v", got.EPSS, epss)
	}
	if n := count(t, db, "kev") + count(t, db, "epss"); n != 2 {
		t.Errorf("%d KEV and EPSS rows, want 2", n)
	}
}

func testVulnRollback(t *testing.T, b backend) {
	db := b.open(t, Options{})
	ctx := context.Background()
	svc := NewVulnerabilityService(db)
	before := vulnCounts(t, db)
	fi, err := svc.BeginFeedImport(ctx, "rolled-back", "test")
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range fullFeed() {
		if err := op(ctx, fi); err != nil {
			t.Fatal(err)
		}
	}
	for i := range feedBatch + 10 { // some flushed already
		if err := fi.PutVulnerability(ctx, firmward.SourceNVD, testVuln(fmt.Sprintf("CVE-2020-%05d", i), vulnT0, "x")); err != nil {
			t.Fatal(err)
		}
	}
	if err := fi.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := fi.Rollback(); err != nil {
		t.Errorf("second Rollback: %v", err)
	}
	if _, err := fi.Commit(ctx); err == nil {
		t.Error("Commit after Rollback succeeded")
	}
	if err := fi.PutEPSS(ctx, firmward.EPSSScore{CVE: "CVE-2020-0001"}); err == nil {
		t.Error("Put after Rollback succeeded")
	}
	if after := vulnCounts(t, db); after != before {
		t.Errorf("rows %v after rollback, were %v", after, before)
	}

	// Rollback after Commit keeps the import; and the writer is free again.
	fi, err = svc.BeginFeedImport(ctx, "committed", "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := fi.PutKEV(ctx, &firmward.KEVEntry{CVE: "CVE-2021-44228"}); err != nil {
		t.Fatal(err)
	}
	if _, err := fi.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := fi.Rollback(); err != nil {
		t.Errorf("Rollback after Commit: %v", err)
	}
	if _, err := fi.Commit(ctx); err == nil {
		t.Error("second Commit succeeded")
	}
	if n := count(t, db, "kev"); n != 1 {
		t.Errorf("%d KEV entries after Commit and Rollback, want 1", n)
	}
	verifyOK(t, db)
}

func testVulnFailingPut(t *testing.T, b backend) {
	db := b.open(t, Options{})
	ctx := context.Background()
	importFeed(t, db, "earlier", fullFeed()...)
	before := vulnCounts(t, db)
	fi, err := NewVulnerabilityService(db).BeginFeedImport(ctx, "bad.json", "test")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = fi.Rollback() }()
	for i := range feedBatch + 10 {
		if err := fi.PutVulnerability(ctx, firmward.SourceNVD, testVuln(fmt.Sprintf("CVE-2020-%05d", i), vulnT0, "x")); err != nil {
			t.Fatal(err)
		}
	}
	if err := fi.PutKEV(ctx, &firmward.KEVEntry{CVE: "CVE-2020-0001"}); err != nil {
		t.Fatal(err)
	}
	err = fi.PutVulnerability(ctx, firmward.SourceNVD, testVuln("CVE-20-1", vulnT0, "bad"))
	wantCode(t, err, firmward.EINVALID)
	if err := fi.PutKEV(ctx, &firmward.KEVEntry{CVE: "CVE-2020-0002"}); err == nil {
		t.Error("Put after a failed Put succeeded")
	}
	if _, err := fi.Commit(ctx); err == nil {
		t.Error("Commit after a failed Put succeeded")
	}
	if after := vulnCounts(t, db); after != before {
		t.Errorf("rows %v after a failed import, were %v", after, before)
	}
	// The writer is free: another import goes through.
	importFeed(t, db, "later", putKEV(firmward.KEVEntry{CVE: "CVE-2020-0003"}))
	verifyOK(t, db)
}

func testVulnCanceled(t *testing.T, b backend) {
	db := b.open(t, Options{})
	svc := NewVulnerabilityService(db)
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := svc.BeginFeedImport(canceled, "x", "test"); err == nil {
		t.Error("BeginFeedImport with a canceled context succeeded")
	}
	if _, err := svc.FindVulnerabilityByID(canceled, "CVE-2020-0001"); err == nil {
		t.Error("FindVulnerabilityByID with a canceled context succeeded")
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fi, err := svc.BeginFeedImport(ctx, "canceled.json", "test")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = fi.Rollback() }()
	for i := range feedBatch + 10 {
		if err := fi.PutVulnerability(ctx, firmward.SourceNVD, testVuln(fmt.Sprintf("CVE-2020-%05d", i), vulnT0, "x")); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	if err := fi.PutVulnerability(ctx, firmward.SourceNVD, testVuln("CVE-2020-99999", vulnT0, "x")); err == nil {
		t.Error("Put with a canceled context succeeded")
	}
	if _, err := fi.Commit(context.Background()); err == nil {
		t.Error("Commit after cancellation succeeded")
	}
	if got := vulnCounts(t, db); got != [5]int{} {
		t.Errorf("rows %v after a canceled import", got)
	}
	importFeed(t, db, "later", putKEV(firmward.KEVEntry{CVE: "CVE-2020-0003"}))
}

func testVulnInvalid(t *testing.T, b backend) {
	db := b.open(t, Options{})
	ctx := context.Background()
	svc := NewVulnerabilityService(db)
	_, err := svc.BeginFeedImport(ctx, " ", "test")
	wantCode(t, err, firmward.EINVALID)
	tests := []struct {
		name  string
		op    feedOp
		words []string // the error names the CVE and the field
	}{
		{"short id", putVuln(firmward.SourceNVD, testVuln("CVE-2024-123", vulnT0, "")), []string{"CVE-2024-123", "id"}},
		{"not a CVE", putVuln(firmward.SourceNVD, testVuln("GHSA-xxxx", vulnT0, "")), []string{"GHSA-xxxx", "id"}},
		{"no source", putVuln(" ", testVuln("CVE-2024-1234", vulnT0, "")), []string{"CVE-2024-1234", "source"}},
		{"nil record", putVuln(firmward.SourceNVD, nil), []string{"vulnerability"}},
		{"KEV id", putKEV(firmward.KEVEntry{CVE: "2024-1234"}), []string{"2024-1234", "id"}},
		{"EPSS score", putEPSS(firmward.EPSSScore{CVE: "CVE-2024-1234", Score: 1.5}), []string{"CVE-2024-1234", "score", "1.5"}},
		{"EPSS percentile", putEPSS(firmward.EPSSScore{CVE: "CVE-2024-1234", Percentile: -0.1}), []string{"CVE-2024-1234", "percentile"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fi, err := svc.BeginFeedImport(ctx, "invalid.json", "test")
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = fi.Rollback() }()
			err = tc.op(ctx, fi)
			wantCode(t, err, firmward.EINVALID)
			for _, w := range tc.words {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
	if got := vulnCounts(t, db); got != [5]int{} {
		t.Errorf("rows %v after invalid imports", got)
	}
}

func testVulnMerge(t *testing.T, b backend) {
	db := b.open(t, Options{})
	nvd := testVuln("CVE-2024-5555", vulnT0, "NVD description")
	cve5 := &firmward.Vulnerability{
		ID:           "CVE-2024-5555",
		LastModified: vulnT0.Add(2 * time.Hour),
		Description:  "CNA description",
		CVSS:         []firmward.CVSS{{Version: "4.0", Vector: "CVSS:4.0/AV:N", BaseScore: 8.7, Source: "cna"}},
		Affected: []firmward.Affected{{
			Source: "cve5:cna", Vendor: "Acme", Product: "Router",
			Versions: []firmward.AffectedVersion{{Version: "1.0", LessThan: "2.0.1", Status: "affected"}},
		}},
		SSVC: &firmward.SSVCValues{Exploitation: "poc", Automatable: "yes", TechnicalImpact: "total"},
	}
	csaf := &firmward.Vulnerability{
		ID:           "CVE-2024-5555",
		LastModified: vulnT0.Add(time.Hour),
		Affected:     []firmward.Affected{{Vendor: "Acme", Product: "Router Pro", Fixed: []string{"2.1"}}},
	}
	// Only a CVE 5 record, with CVSS: its CVSS is used.
	only5 := &firmward.Vulnerability{
		ID: "CVE-2024-6666", LastModified: vulnT0, Description: "CNA only",
		CVSS: []firmward.CVSS{{Version: "3.1", Vector: "CVSS:3.1/AV:L", BaseScore: 5.5}},
	}
	kev := firmward.KEVEntry{CVE: "CVE-2024-5555", VendorProject: "Acme", DateAdded: "2024-06-01", DueDate: "2024-06-22"}
	epss := firmward.EPSSScore{CVE: "CVE-2024-5555", Score: 0.42, Percentile: 0.97, ScoreDate: "2024-06-02", ModelVersion: "v2023.03.01"}
	importFeed(t, db, "merge",
		putVuln("csaf:ICSA-24-001-01", csaf),
		putVuln(firmward.SourceCVE5, cve5),
		putVuln(firmward.SourceNVD, nvd),
		putVuln(firmward.SourceCVE5, only5),
		putKEV(kev), putEPSS(epss),
	)

	got := findVuln(t, db, "CVE-2024-5555")
	want := &firmward.VulnerabilityRecord{
		Vulnerability: firmward.Vulnerability{
			ID:             "CVE-2024-5555",
			Published:      nvd.Published,
			LastModified:   cve5.LastModified,
			Description:    "NVD description",
			CWEs:           nvd.CWEs,
			CVSS:           nvd.CVSS,
			Configurations: nvd.Configurations,
			Affected: []firmward.Affected{
				cve5.Affected[0],
				{Source: "csaf:ICSA-24-001-01", Vendor: "Acme", Product: "Router Pro", Fixed: []string{"2.1"}},
			},
			References: nvd.References,
			Sources:    []string{"nvd", "cve5", "csaf:ICSA-24-001-01"},
			SSVC:       cve5.SSVC,
		},
		KEV:  &kev,
		EPSS: &epss,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("merged record:\n got %+v\nwant %+v", got, want)
	}

	got = findVuln(t, db, "CVE-2024-6666")
	if got.Description != "CNA only" || !reflect.DeepEqual(got.CVSS, only5.CVSS) || !slices.Equal(got.Sources, []string{"cve5"}) ||
		got.KEV != nil || got.EPSS != nil {
		t.Errorf("cve5-only record = %+v", got)
	}
}

func testVulnFind(t *testing.T, b backend) {
	db := b.open(t, Options{})
	ctx := context.Background()
	svc := NewVulnerabilityService(db)

	var ops []feedOp
	var all []string
	for i := range 7 {
		id := fmt.Sprintf("CVE-2022-%04d", 1000+i)
		all = append(all, id)
		switch i % 3 {
		case 0: // NVD and CVE 5 records, in KEV
			ops = append(ops, putVuln(firmward.SourceNVD, testVuln(id, vulnT0, "nvd")), putVuln(firmward.SourceCVE5, testVuln(id, vulnT0, "cve5")),
				putKEV(firmward.KEVEntry{CVE: id}))
		case 1: // KEV only
			ops = append(ops, putKEV(firmward.KEVEntry{CVE: id}))
		case 2: // EPSS only
			ops = append(ops, putEPSS(firmward.EPSSScore{CVE: id, Score: 0.1}))
		}
	}
	importFeed(t, db, "find", ops...)

	pages := func(f firmward.VulnerabilityFilter) [][]string {
		t.Helper()
		var out [][]string
		for {
			recs, next, err := svc.FindVulnerabilities(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, r := range recs {
				ids = append(ids, r.ID)
				if len(r.Sources) == 0 && r.KEV == nil && r.EPSS == nil {
					t.Errorf("%s: empty record", r.ID)
				}
			}
			out = append(out, ids)
			if next == "" {
				return out
			}
			if len(out) > 10 {
				t.Fatal("no end of pages")
			}
			f.After = next
		}
	}
	tests := []struct {
		name string
		f    firmward.VulnerabilityFilter
		want [][]string
	}{
		{"all", firmward.VulnerabilityFilter{}, [][]string{all}},
		{"pages", firmward.VulnerabilityFilter{Limit: 3}, [][]string{all[0:3], all[3:6], all[6:]}},
		{"exact pages", firmward.VulnerabilityFilter{Limit: 7}, [][]string{all}},
		{"KEV", firmward.VulnerabilityFilter{KEV: true, Limit: 2}, [][]string{{all[0], all[1]}, {all[3], all[4]}, {all[6]}}},
		{"IDs", firmward.VulnerabilityFilter{IDs: []string{all[5], "cve-2022-1000", "CVE-2099-0001"}}, [][]string{{all[0], all[5]}}},
		{"IDs and KEV", firmward.VulnerabilityFilter{IDs: []string{all[5], all[1]}, KEV: true}, [][]string{{all[1]}}},
		{"described", firmward.VulnerabilityFilter{Described: true}, [][]string{{all[0], all[3], all[6]}}},
		{"described pages", firmward.VulnerabilityFilter{Described: true, Limit: 2}, [][]string{{all[0], all[3]}, {all[6]}}},
		{"described KEV", firmward.VulnerabilityFilter{Described: true, KEV: true}, [][]string{{all[0], all[3], all[6]}}},
		{"after", firmward.VulnerabilityFilter{After: all[4]}, [][]string{all[5:]}},
		{"none", firmward.VulnerabilityFilter{After: all[6]}, [][]string{nil}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := pages(tc.f); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("pages = %v, want %v", got, tc.want)
			}
		})
	}

	recs, _, err := svc.FindVulnerabilities(ctx, firmward.VulnerabilityFilter{IDs: []string{all[0]}})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || !slices.Equal(recs[0].Sources, []string{"nvd", "cve5"}) || recs[0].Description != "nvd" || recs[0].KEV == nil {
		t.Errorf("merged page record = %+v", recs[0])
	}
	if r := findVuln(t, db, all[2]); r.EPSS == nil || len(r.Sources) != 0 || r.Sources == nil {
		t.Errorf("EPSS-only record = %+v", r)
	}
	for _, id := range []string{"CVE-2099-0001", "not a cve", ""} {
		_, err := svc.FindVulnerabilityByID(ctx, id)
		wantCode(t, err, firmward.ENOTFOUND)
	}
	_, _, err = svc.FindVulnerabilities(ctx, firmward.VulnerabilityFilter{IDs: make([]string, maxFilterIDs+1)})
	wantCode(t, err, firmward.EINVALID)
}

// benchVuln returns the i-th synthetic NVD record: a few CPE matches in one
// or two configurations, about 1-3 KB of JSON.
func benchVuln(i int) *firmward.Vulnerability {
	r := rand.New(rand.NewPCG(uint64(i), 2))
	id := fmt.Sprintf("CVE-%d-%05d", 2000+i%25, i)
	v := testVuln(id, vulnT0.Add(time.Duration(i)*time.Second), "A buffer overflow in the web interface of the device "+
		"allows a remote attacker to execute code through a crafted HTTP request to the "+strings.Repeat("admin ", 1+r.IntN(10))+"endpoint.")
	v.Configurations = nil
	for c := range 1 + r.IntN(2) {
		var n firmward.Node
		n.Operator = "OR"
		for m := range 3 + r.IntN(8) {
			n.Matches = append(n.Matches, firmward.CPEMatch{
				Vulnerable:          true,
				Criteria:            fmt.Sprintf("cpe:2.3:o:vendor%d:product_%d_firmware:*:*:*:*:*:*:*:*", r.IntN(500), c*10+m),
				VersionEndExcluding: fmt.Sprintf("%d.%d.%d", r.IntN(10), r.IntN(20), r.IntN(100)),
			})
		}
		cfg := firmward.Configuration{Nodes: []firmward.Node{n}}
		if r.IntN(3) == 0 {
			cfg.Operator = "AND"
			cfg.Nodes = append(cfg.Nodes, firmward.Node{Operator: "OR", Matches: []firmward.CPEMatch{
				{Criteria: fmt.Sprintf("cpe:2.3:h:vendor%d:device_%d:-:*:*:*:*:*:*:*", r.IntN(500), r.IntN(100))},
			}})
		}
		v.Configurations = append(v.Configurations, cfg)
	}
	for range r.IntN(5) {
		v.References = append(v.References, fmt.Sprintf("https://vendor%d.example.com/security/advisories/%d", r.IntN(500), r.IntN(1e6)))
	}
	return v
}

// BenchmarkFeedImport imports 20,000 synthetic NVD records into an empty
// database in one feed import and reports records/s:
//
//	go test ./sqlstore -run '^$' -bench FeedImport -benchtime 3x
func BenchmarkFeedImport(b *testing.B) {
	const n = 20_000
	recs := make([]*firmward.Vulnerability, n)
	for i := range recs {
		recs[i] = benchVuln(i)
	}
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			ctx := context.Background()
			var total time.Duration
			var imported int
			for b.Loop() {
				b.StopTimer()
				db := be.open(b, Options{})
				b.StartTimer()
				start := time.Now()
				fi, err := NewVulnerabilityService(db).BeginFeedImport(ctx, "bench.json", "nvd-1.1")
				if err != nil {
					b.Fatal(err)
				}
				for _, v := range recs {
					if err := fi.PutVulnerability(ctx, firmward.SourceNVD, v); err != nil {
						b.Fatal(err)
					}
				}
				res, err := fi.Commit(ctx)
				if err != nil {
					b.Fatal(err)
				}
				total += time.Since(start)
				imported += res.Added
				b.StopTimer()
				if err := db.Close(); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			if imported != n*b.N {
				b.Fatalf("imported %d, want %d", imported, n*b.N)
			}
			b.ReportMetric(float64(imported)/total.Seconds(), "records/s")
		})
	}
}

// changesAfter reads the whole change log after seq, page by page.
func changesAfter(t testing.TB, svc *VulnerabilityService, after int64, limit int) ([]firmward.VulnerabilityChange, int64) {
	t.Helper()
	var all []firmward.VulnerabilityChange
	for range 1000 {
		page, err := svc.VulnerabilityChanges(context.Background(), after, limit)
		if err != nil {
			t.Fatal(err)
		}
		if page.Truncated {
			t.Fatalf("change log after %d truncated", after)
		}
		if len(page.Changes) > limit {
			t.Fatalf("%d changes on a page of %d", len(page.Changes), limit)
		}
		all = append(all, page.Changes...)
		if len(page.Changes) == 0 {
			return all, page.Newest
		}
		after = page.Changes[len(page.Changes)-1].Seq
	}
	t.Fatal("change log does not end")
	return nil, 0
}

func changeCVEs(cs []firmward.VulnerabilityChange) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.CVE
	}
	return out
}

func testVulnChanges(t *testing.T, b backend) {
	c := newClock()
	db := b.open(t, Options{Now: c.Now})
	svc := NewVulnerabilityService(db)
	ctx := context.Background()

	empty, err := svc.VulnerabilityChanges(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if empty.Newest != 0 || empty.Truncated || len(empty.Changes) != 0 {
		t.Errorf("empty log: %+v", empty)
	}
	first := importFeed(t, db, "first", fullFeed()...)
	c.Add(time.Minute)
	second := importFeed(t, db, "second",
		putVuln(firmward.SourceNVD, testVuln("CVE-2023-2222", vulnT0.Add(time.Hour), "newer")),
		putVuln(firmward.SourceNVD, testVuln("CVE-2023-1111", vulnT0, "same")), // unchanged
		putEPSS(firmward.EPSSScore{CVE: "CVE-2019-0001", Score: 0.5, Percentile: 0.5}))
	again := importFeed(t, db, "again", fullFeed()...) // changes nothing
	if again.FirstChange != 0 || again.LastChange != 0 {
		t.Errorf("an import that changed nothing appended %d..%d", again.FirstChange, again.LastChange)
	}

	all, newest := changesAfter(t, svc, 0, 2) // pages of 2
	want := append(slices.Clone(first.ChangedCVEs), "CVE-2019-0001", "CVE-2023-2222")
	if got := changeCVEs(all); !slices.Equal(got, want) {
		t.Fatalf("change log %v, want %v (each import's changed CVEs, in import order)", got, want)
	}
	for i := 1; i < len(all); i++ {
		if all[i].Seq <= all[i-1].Seq {
			t.Errorf("seq %d after %d", all[i].Seq, all[i-1].Seq)
		}
	}
	n := len(first.ChangedCVEs)
	if first.FirstChange != all[0].Seq || first.LastChange != all[n-1].Seq ||
		second.FirstChange != all[n].Seq || second.LastChange != all[len(all)-1].Seq {
		t.Errorf("ranges %d..%d and %d..%d, log %+v", first.FirstChange, first.LastChange, second.FirstChange, second.LastChange, all)
	}
	if newest != all[len(all)-1].Seq {
		t.Errorf("newest %d, last entry %d", newest, all[len(all)-1].Seq)
	}
	if at := all[n].ChangedAt; !at.Equal(c.Now().Truncate(time.Microsecond)) {
		t.Errorf("second import's change at %v, want %v", at, c.Now())
	}
	// After the first import: the second's changes only.
	rest, _ := changesAfter(t, svc, first.LastChange, 100)
	if got := changeCVEs(rest); !slices.Equal(got, []string{"CVE-2019-0001", "CVE-2023-2222"}) {
		t.Errorf("after the first import: %v", got)
	}
	// Limit 0: the newest seq alone.
	page, err := svc.VulnerabilityChanges(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Changes) != 0 || page.Newest != newest || page.Truncated {
		t.Errorf("limit 0: %+v, want newest %d", page, newest)
	}
	// A huge limit is bounded; negative values are refused.
	page, err = svc.VulnerabilityChanges(ctx, 0, 1<<30)
	if err != nil || len(page.Changes) != len(all) {
		t.Errorf("huge limit: %+v, %v", page, err)
	}
	_, err = svc.VulnerabilityChanges(ctx, -1, 10)
	wantCode(t, err, firmward.EINVALID)
	_, err = svc.VulnerabilityChanges(ctx, 0, -1)
	wantCode(t, err, firmward.EINVALID)

	// A rejected import appends nothing.
	fi, err := svc.BeginFeedImport(ctx, "bad.json", "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := fi.PutVulnerability(ctx, firmward.SourceNVD, testVuln("CVE-2024-0001", vulnT0, "new")); err != nil {
		t.Fatal(err)
	}
	wantCode(t, fi.PutEPSS(ctx, firmward.EPSSScore{CVE: "CVE-2024-0001", Score: 2}), firmward.EINVALID)
	if _, err := fi.Commit(ctx); err == nil {
		t.Error("Commit after a failed Put succeeded")
	}
	if after, got := changesAfter(t, svc, 0, 100); !slices.Equal(changeCVEs(after), want) || got != newest {
		t.Errorf("after a rejected import: %v newest %d", changeCVEs(after), got)
	}
}

func testVulnChangesPruned(t *testing.T, b backend) {
	c := newClock()
	db := b.open(t, Options{Now: c.Now})
	svc := NewVulnerabilityService(db)
	ctx := context.Background()
	old := importFeed(t, db, "old", fullFeed()...)
	c.Add(ChangeRetention - time.Minute)
	kept := importFeed(t, db, "kept", putKEV(firmward.KEVEntry{CVE: "CVE-2018-0001"}))
	if n := count(t, db, "vuln_changes"); n != len(old.ChangedCVEs)+1 {
		t.Fatalf("%d changes before the horizon, want %d", n, len(old.ChangedCVEs)+1)
	}
	c.Add(2 * time.Minute) // the first import is older than the horizon now
	last := importFeed(t, db, "last", putKEV(firmward.KEVEntry{CVE: "CVE-2018-0002"}))
	if n := count(t, db, "vuln_changes"); n != 2 {
		t.Errorf("%d changes after pruning, want 2", n)
	}
	for _, after := range []int64{0, old.FirstChange, old.LastChange - 1} {
		page, err := svc.VulnerabilityChanges(ctx, after, 10)
		if err != nil {
			t.Fatal(err)
		}
		if !page.Truncated || len(page.Changes) != 0 || page.Newest != last.LastChange {
			t.Errorf("after %d (pruned): %+v, want truncated, newest %d", after, page, last.LastChange)
		}
	}
	got, newest := changesAfter(t, svc, old.LastChange, 10)
	if !slices.Equal(changeCVEs(got), []string{"CVE-2018-0001", "CVE-2018-0002"}) || newest != last.LastChange ||
		got[0].Seq != kept.FirstChange {
		t.Errorf("after the pruned import: %+v newest %d", got, newest)
	}
	// Pruning everything keeps the seq growing, and the newest seq known.
	c.Add(2 * ChangeRetention)
	importFeed(t, db, "empty", putVuln(firmward.SourceNVD, testVuln("CVE-2023-1111", vulnT0, "same")))
	if n := count(t, db, "vuln_changes"); n != 0 {
		t.Errorf("%d changes left, want 0", n)
	}
	page, err := svc.VulnerabilityChanges(ctx, last.LastChange, 10)
	if err != nil || page.Truncated || page.Newest != last.LastChange {
		t.Errorf("after everything was pruned: %+v, %v", page, err)
	}
	next := importFeed(t, db, "next", putKEV(firmward.KEVEntry{CVE: "CVE-2018-0003"}))
	if next.FirstChange <= last.LastChange {
		t.Errorf("seq %d after %d: reused", next.FirstChange, last.LastChange)
	}
}

// testVulnChangesConcurrent runs imports at once: each one's entries are
// one unbroken run of seqs, and a reader never sees a seq appear below one
// it has read.
func testVulnChangesConcurrent(t *testing.T, b backend) {
	db := b.open(t, Options{})
	svc := NewVulnerabilityService(db)
	ctx := context.Background()
	const imports, per = 6, 30
	results := make([]*firmward.FeedImportResult, imports)
	done := make(chan struct{})
	seen := make(chan error, 1)
	go func() { // follows the log while the imports run
		var after int64
		var got []int64
		for {
			finished := false // read after the imports ended: the page is the last
			select {
			case <-done:
				finished = true
			default:
			}
			page, err := svc.VulnerabilityChanges(ctx, after, 7)
			if err != nil {
				seen <- err
				return
			}
			for _, c := range page.Changes {
				got = append(got, c.Seq)
				after = c.Seq
			}
			if finished && len(page.Changes) == 0 {
				if len(got) != imports*per {
					seen <- fmt.Errorf("follower saw %d changes, want %d", len(got), imports*per)
					return
				}
				seen <- nil
				return
			}
		}
	}()
	errs := make(chan error, imports)
	for i := range imports {
		go func() {
			var ops []feedOp
			for j := range per {
				ops = append(ops, putEPSS(firmward.EPSSScore{CVE: fmt.Sprintf("CVE-2022-%d%04d", i+1, j), Score: 0.1}))
			}
			fi, err := svc.BeginFeedImport(ctx, fmt.Sprintf("import-%d", i), "test")
			if err != nil {
				errs <- err
				return
			}
			defer func() { _ = fi.Rollback() }()
			for _, op := range ops {
				if err := op(ctx, fi); err != nil {
					errs <- err
					return
				}
			}
			results[i], err = fi.Commit(ctx)
			errs <- err
		}()
	}
	for range imports {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	if err := <-seen; err != nil {
		t.Error(err)
	}
	all, _ := changesAfter(t, svc, 0, 1000)
	bySeq := map[int64]string{}
	for _, c := range all {
		bySeq[c.Seq] = c.CVE
	}
	for i, r := range results {
		if r.LastChange-r.FirstChange+1 != per {
			t.Errorf("import %d: seqs %d..%d for %d CVEs", i, r.FirstChange, r.LastChange, per)
		}
		for s := r.FirstChange; s <= r.LastChange; s++ {
			if !strings.HasPrefix(bySeq[s], fmt.Sprintf("CVE-2022-%d", i+1)) {
				t.Errorf("import %d: seq %d is %q", i, s, bySeq[s])
			}
		}
	}
}
