package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/vuln"
)

// catalogCache keeps the vuln.Catalog of the stored CVEs (their firmware
// and hardware products), from which the API and the web UI propose CPE
// names. Building it reads every stored record, which takes seconds for
// the whole NVD, so it is built once and rebuilt only when the audit trail
// shows a feed import newer than the one it was built after: one indexed
// query per use, and imports by any process (another replica, the CLI on
// the same database) are seen.
type catalogCache struct {
	vulns  firmward.VulnerabilityService
	audit  firmward.AuditService
	logger *slog.Logger

	mu  sync.Mutex // guards cat and seq; held during a build so that callers wait for one build
	cat *vuln.Catalog
	seq int64 // Seq of the newest feed.import event when cat was built
}

func newCatalogCache(vulns firmward.VulnerabilityService, audit firmward.AuditService, logger *slog.Logger) *catalogCache {
	return &catalogCache{vulns: vulns, audit: audit, logger: logger}
}

// Get returns the catalog, building it first when there is none yet or a
// feed was imported since. The catalog returned must not be changed.
func (c *catalogCache) Get(ctx context.Context) (*vuln.Catalog, error) {
	evs, _, err := c.audit.FindAuditEvents(ctx, firmward.AuditFilter{Action: firmward.ActionFeedImport, Newest: true, Limit: 1})
	if err != nil {
		return nil, fmt.Errorf("finding the last feed import: %w", err)
	}
	var seq int64
	if len(evs) > 0 {
		seq = evs[0].Seq
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cat != nil && c.seq == seq {
		return c.cat, nil
	}
	start := time.Now()
	cat, records, err := buildCatalog(ctx, c.vulns)
	if err != nil {
		return nil, err
	}
	c.cat, c.seq = cat, seq
	c.logger.Info("built the product catalog for CPE proposals", "cves", records, "products", cat.Len(),
		"duration", time.Since(start).Round(time.Millisecond))
	return cat, nil
}

// buildCatalog reads every stored CVE with a source record, page by page,
// into a new catalog, and returns it with the number of records read.
func buildCatalog(ctx context.Context, vulns firmward.VulnerabilityService) (*vuln.Catalog, int, error) {
	cat := vuln.NewCatalog()
	n := 0
	f := firmward.VulnerabilityFilter{Described: true, Limit: firmward.MaxPageSize}
	for {
		recs, next, err := vulns.FindVulnerabilities(ctx, f)
		if err != nil {
			return nil, 0, fmt.Errorf("reading vulnerabilities for the product catalog: %w", err)
		}
		for _, r := range recs {
			cat.AddVulnerability(&r.Vulnerability)
		}
		n += len(recs)
		if next == "" || len(recs) == 0 {
			return cat, n, nil
		}
		f.After = next
	}
}
