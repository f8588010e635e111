package main

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/firmward/firmward/internal/pgtest"

	"github.com/firmward/firmward/httpapi"
	"github.com/firmward/firmward/sim"
)

// replicaDSN returns the PostgreSQL URL of a fresh schema for this test
// (dropped afterwards), skipping without PostgreSQL unless CI is set.
func replicaDSN(t testing.TB) string {
	t.Helper()
	return pgtest.Schema(t, "fwreplicas")
}

// TestCampaignReplicas runs two `firmward serve` replicas on one
// PostgreSQL database, both running the campaign runner every 20 ms,
// while simulated devices poll one of them: every rollout decision is
// taken once — one action per device, each wave started once — and the
// campaign finishes. The ticks were River jobs, worked one at a time, each
// by one replica.
func TestCampaignReplicas(t *testing.T) {
	t.Parallel()
	dsn := replicaDSN(t)
	const n, rate, seed = 40, 0.1, 11
	// The replicas share the data directory as they would share its
	// key files; the first one creates the admin token.
	data := filepath.Join(t.TempDir(), "data")
	serve := func() *testServer {
		return startServer(t, data, nil, "serve", "--addr", "127.0.0.1:0", "--data", data, "--db", dsn,
			"--campaign-interval", "20ms", "--poll-interval", "1s", "--assess-interval", "0")
	}
	a := serve()
	b := serve()
	apiA, apiB := httpapi.NewClient(a.URL, a.Token), httpapi.NewClient(b.URL, b.Token)
	rel := simRelease(t, a.URL, a.Token, 16<<10)
	run := startSim(t, b.URL, b.Token, "--devices", strconv.Itoa(n), "--protocol", sim.ProtocolDDI, "--fail-rate", fmt.Sprint(rate),
		"--poll", "50ms", "--seed", strconv.Itoa(seed), "--duration", "90s")
	waitDevices(t, apiA, n, 30*time.Second)
	id := startSimCampaign(t, a.URL, a.Token, rel, "25%", "25%", "50%")
	sum := run.summary(t, 100*time.Second)
	if !sum.Complete || sum.Done != n || sum.Failed != int64(n*rate) {
		t.Errorf("summary = %+v, want %d done, %d failed", sum, n, int(n*rate))
	}
	ref, err := sim.New(sim.Config{Server: a.URL, AdminToken: "x", Devices: n, Protocol: sim.ProtocolDDI, FailRate: rate, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	checkSimCampaign(t, waitCampaign(t, apiB, id, 30*time.Second), n, ref.WillFail)

	count := func(action string) int {
		t.Helper()
		total, cursor := 0, ""
		for {
			evs, next, err := apiA.ListAudit(t.Context(), httpapi.AuditQuery{Action: action, Limit: 1000, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			total += len(evs)
			for _, ev := range evs {
				// The runner's decisions are audited as its actor, in River's
				// job as in the in-process ticker.
				if action == "campaign.wave" && ev.Actor != "system(rollout)" {
					t.Errorf("%s event %d by %q, want system(rollout)", action, ev.Seq, ev.Actor)
				}
			}
			if next == "" || len(evs) == 0 {
				return total
			}
			cursor = next
		}
	}
	if got := count("action.create"); got != n {
		t.Errorf("%d action.create events, want %d: a rollout decision was taken twice", got, n)
	}
	// The (empty) staging ring and three waves: each started once.
	if got := count("campaign.wave"); got != 4 {
		t.Errorf("%d campaign.wave events, want 4: the staging ring and three waves, each started once", got)
	}
	for name, srv := range map[string]*testServer{"A": a, "B": b} {
		if !strings.Contains(srv.Stderr.String(), `coordination=river`) {
			t.Errorf("replica %s did not log River coordination:\n%s", name, srv.Stderr)
		}
	}
	checkTickJobs(t, dsn)
}

// checkTickJobs checks River's job table in the database of dsn: there were
// campaign_tick jobs, each attempted once by one replica and completed, and
// no two ran at the same time.
func checkTickJobs(t *testing.T, dsn string) {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	rows, err := db.QueryContext(t.Context(), `SELECT id, state, attempt, coalesce(cardinality(attempted_by), 0), attempted_at, finalized_at
FROM river_job WHERE kind = 'campaign_tick' AND attempted_at IS NOT NULL ORDER BY attempted_at`)
	if err != nil {
		t.Fatalf("reading River's jobs: %v", err)
	}
	defer func() { _ = rows.Close() }()
	var (
		completed int
		lastEnd   time.Time
		lastID    int64
	)
	for rows.Next() {
		var (
			id                int64
			state             string
			attempt, clients  int
			started, finished sql.NullTime
		)
		if err := rows.Scan(&id, &state, &attempt, &clients, &started, &finished); err != nil {
			t.Fatal(err)
		}
		if state == "running" && !finished.Valid {
			continue // the replicas are still up: one tick may be in progress
		}
		if state != "completed" || attempt != 1 || clients != 1 || !finished.Valid {
			t.Errorf("tick job %d: %s after %d attempts by %d replicas, want completed once by one", id, state, attempt, clients)
			continue
		}
		completed++
		if started.Time.Before(lastEnd) {
			t.Errorf("tick job %d started at %s, before job %d finished at %s", id, started.Time, lastID, lastEnd)
		}
		lastEnd, lastID = finished.Time, id
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if completed == 0 {
		t.Error("no completed campaign_tick jobs: the rollout was not driven by River")
	}
	t.Logf("%d campaign ticks ran as River jobs", completed)
}

// TestCampaignCoordinationSQLite checks that serve on SQLite runs the
// campaign runner in-process and says so.
func TestCampaignCoordinationSQLite(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	s := startServer(t, data, nil, "serve", "--addr", "127.0.0.1:0", "--data", data, "--campaign-interval", "1s", "--assess-interval", "0")
	if got := s.Stderr.String(); !strings.Contains(got, `coordination="in-process ticker"`) {
		t.Errorf("serve on SQLite did not log in-process coordination:\n%s", got)
	}
}
