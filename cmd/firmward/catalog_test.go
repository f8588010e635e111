package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/sqlstore"
)

// countingVulns counts the pages a catalog build reads.
type countingVulns struct {
	firmward.VulnerabilityService
	pages atomic.Int64
}

func (c *countingVulns) FindVulnerabilities(ctx context.Context, f firmward.VulnerabilityFilter) ([]*firmward.VulnerabilityRecord, string, error) {
	c.pages.Add(1)
	return c.VulnerabilityService.FindVulnerabilities(ctx, f)
}

// importCVE stores one CVE 5 record naming vendor and product, as a feed
// import does (and audits).
func importCVE(t *testing.T, vulns firmward.VulnerabilityService, id, vendor, product string) {
	t.Helper()
	ctx := context.Background()
	fi, err := vulns.BeginFeedImport(ctx, id+".json", "cve5")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = fi.Rollback() }()
	v := &firmward.Vulnerability{
		ID: id, Published: time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC), LastModified: time.Date(2024, 1, 3, 0, 0, 0, 0, time.UTC),
		Description: "test", Sources: []string{firmward.SourceCVE5},
		Affected: []firmward.Affected{{
			Source: "cve5:cna", Vendor: vendor, Product: product,
			CPEs: []string{"cpe:2.3:o:" + vendor + ":" + product + "_firmware:*:*:*:*:*:*:*:*"},
		}},
	}
	if err := fi.PutVulnerability(ctx, firmward.SourceCVE5, v); err != nil {
		t.Fatal(err)
	}
	if _, err := fi.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestCatalogCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "firmward.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	vulns := &countingVulns{VulnerabilityService: sqlstore.NewVulnerabilityService(db)}
	c := newCatalogCache(vulns, sqlstore.NewAuditService(db), slog.New(slog.DiscardHandler))

	cat, err := c.Get(ctx)
	if err != nil || cat.Len() != 0 || vulns.pages.Load() != 1 {
		t.Fatalf("empty store: %d products, %d pages read, %v", cat.Len(), vulns.pages.Load(), err)
	}
	importCVE(t, vulns, "CVE-2024-0001", "acme", "router")
	cat, err = c.Get(ctx)
	if err != nil || cat.Len() != 1 || vulns.pages.Load() != 2 {
		t.Fatalf("after an import: %d products, %d pages read, %v", cat.Len(), vulns.pages.Load(), err)
	}
	// No import since: the same catalog, nothing read.
	again, err := c.Get(ctx)
	if err != nil || again != cat || vulns.pages.Load() != 2 {
		t.Errorf("cached: same %v, %d pages read, %v", again == cat, vulns.pages.Load(), err)
	}
	importCVE(t, vulns, "CVE-2024-0002", "acme", "switch")
	if cat, err = c.Get(ctx); err != nil || cat.Len() != 2 {
		t.Errorf("after a second import: %d products, %v", cat.Len(), err)
	}
	// A canceled context is an error, not an empty catalog.
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.Get(canceled); err == nil {
		t.Error("Get with a canceled context succeeded")
	}
}
