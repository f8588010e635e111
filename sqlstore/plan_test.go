package sqlstore

import (
	"context"
	"strings"
	"testing"

	"github.com/firmward/firmward"
)

// TestActionQueriesUseDeviceIndex checks SQLite's plan for the queries
// that look up one device's actions of one release: they must go through
// the device's index, not scan the release's actions (every action of a
// 100,000-device campaign) in id order. Found by BenchmarkCampaignStep
// and the 100,000-device campaign benchmark.
func TestActionQueriesUseDeviceIndex(t *testing.T) {
	db := openDSN(t, newSQLiteDSN(t), Options{})
	ctx := context.Background()
	q, args, _, err := findActionsQuery(firmward.ActionFilter{DeviceID: 7, ReleaseID: 3, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		q    string
		args []any
	}{
		"FindActions(device, release)": {q, args},
		"openActionOfRelease":          {openActionOfRelease, []any{7, 3}},
	} {
		plan, err := explain(ctx, db, c.q, c.args...)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		all := strings.Join(plan, "; ")
		if strings.Contains(all, "actions_release") || (!strings.Contains(all, "actions_device") && !strings.Contains(all, "actions_open")) {
			t.Errorf("%s: plan %q, want the device's index (actions_device or actions_open)", name, all)
		}
	}
}

// explain returns the details of SQLite's query plan for q.
func explain(ctx context.Context, db *DB, q string, args ...any) ([]string, error) {
	rows, err := db.db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			return nil, err
		}
		plan = append(plan, detail)
	}
	return plan, rows.Err()
}
