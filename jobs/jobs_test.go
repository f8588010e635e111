package jobs_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firmward/firmward/internal/pgtest"

	"github.com/jackc/pgx/v5"

	"github.com/firmward/firmward/jobs"
)

// testDSN returns the PostgreSQL URL of a fresh schema for this test
// (dropped afterwards), and a connection to it; it skips without PostgreSQL
// unless CI is set.
func testDSN(t testing.TB) (string, *pgx.Conn) {
	t.Helper()
	dsn := pgtest.Schema(t, "fwjobs")
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return dsn, conn
}

// tickLog records the ticks of several clients: how many each worked and
// the most that ran at once.
type tickLog struct {
	mu       sync.Mutex
	running  int // guarded by mu
	maxAtOne int // guarded by mu
	byClient map[string]int
	starts   []time.Time
}

func (l *tickLog) tick(client string, work time.Duration) func(context.Context) error {
	return func(ctx context.Context) error {
		l.mu.Lock()
		l.running++
		l.maxAtOne = max(l.maxAtOne, l.running)
		l.byClient[client]++
		l.starts = append(l.starts, time.Now())
		l.mu.Unlock()
		// The tick's work: long enough that ticks would overlap if two
		// could run at once.
		select {
		case <-time.After(work):
		case <-ctx.Done():
		}
		l.mu.Lock()
		l.running--
		l.mu.Unlock()
		return nil
	}
}

func (l *tickLog) total() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, c := range l.byClient {
		n += c
	}
	return n
}

// waitFor polls cond every 20 ms until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func startQueue(t *testing.T, cfg jobs.Config) *jobs.Queue {
	t.Helper()
	q, err := jobs.Start(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = q.Stop(5 * time.Second) })
	return q
}

// TestCampaignTickReplicas runs two River clients on one schema, ticking every
// 50 ms with ticks that take 100 ms: ticks never overlap, each tick job is
// worked once by one client, and when the leader stops the other client
// takes over enqueueing.
func TestCampaignTickReplicas(t *testing.T) {
	t.Parallel()
	dsn, conn := testDSN(t)
	log := &tickLog{byClient: map[string]int{}}
	const interval, work = 50 * time.Millisecond, 100 * time.Millisecond
	queues := map[string]*jobs.Queue{}
	for _, id := range []string{"replica_a", "replica_b"} {
		queues[id] = startQueue(t, jobs.Config{DSN: dsn, ID: id, CampaignInterval: interval, CampaignTick: log.tick(id, work)})
	}
	waitFor(t, 10*time.Second, "fewer than 15 ticks", func() bool { return log.total() >= 15 })

	leader := func() string {
		var id string
		if err := conn.QueryRow(t.Context(), "SELECT leader_id FROM river_leader").Scan(&id); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			t.Fatal(err)
		}
		return id
	}
	first := leader()
	if queues[first] == nil {
		t.Fatalf("leader %q is neither client", first)
	}
	if err := queues[first].Stop(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	before, stopped := log.total(), time.Now()
	// The survivor is elected (at once on the resignation notice, at worst
	// after River's election interval) and goes on enqueueing ticks.
	waitFor(t, 20*time.Second, "ticks stopped with the leader", func() bool { return log.total() >= before+8 })
	log.mu.Lock()
	t.Logf("first tick %s after the leader stopped", log.starts[before].Sub(stopped).Round(time.Millisecond))
	log.mu.Unlock()
	if got := leader(); got == first || queues[got] == nil {
		t.Errorf("leader after %s stopped is %q", first, got)
	}
	for id, q := range queues {
		if id != first {
			if err := q.Stop(5 * time.Second); err != nil {
				t.Fatal(err)
			}
		}
	}

	log.mu.Lock()
	defer log.mu.Unlock()
	if log.maxAtOne != 1 {
		t.Errorf("%d ticks ran at once, want 1", log.maxAtOne)
	}
	total := 0
	for _, n := range log.byClient {
		total += n
	}
	t.Logf("ticks by client: %v", log.byClient)
	checkJobs(t, conn, total)
}

// checkJobs checks river_job: total completed campaign_tick jobs, each
// attempted once by one client, nothing else, and their runs disjoint.
func checkJobs(t *testing.T, conn *pgx.Conn, total int) {
	t.Helper()
	rows, err := conn.Query(t.Context(), `SELECT id, state, attempt, coalesce(cardinality(attempted_by), 0), attempted_at, finalized_at
FROM river_job WHERE kind = $1 ORDER BY attempted_at`, jobs.KindCampaignTick)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var n int
	var lastEnd time.Time
	for rows.Next() {
		var (
			id                int64
			state             string
			attempt, clients  int
			started, finished *time.Time
		)
		if err := rows.Scan(&id, &state, &attempt, &clients, &started, &finished); err != nil {
			t.Fatal(err)
		}
		if state == "available" || state == "scheduled" {
			continue // inserted, never fetched before both stopped
		}
		n++
		if state != "completed" || attempt != 1 || clients != 1 || started == nil || finished == nil {
			t.Errorf("job %d: state %s, attempt %d by %d clients, want completed once by one", id, state, attempt, clients)
			continue
		}
		if started.Before(lastEnd) {
			t.Errorf("job %d started at %s, before the previous tick finished at %s", id, started, lastEnd)
		}
		lastEnd = *finished
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != total {
		t.Errorf("%d campaign_tick jobs worked, %d ticks ran: want equal", n, total)
	}
}

// TestMigrateReplicas applies River's migrations from two goroutines at
// once, then once more: all succeed and the tables exist once.
func TestMigrateReplicas(t *testing.T) {
	t.Parallel()
	dsn, conn := testDSN(t)
	errs := make(chan error, 2)
	for range 2 {
		go func() { errs <- jobs.Migrate(t.Context(), dsn, nil) }()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if err := jobs.Migrate(t.Context(), dsn, nil); err != nil {
		t.Errorf("migrating again: %v", err)
	}
	var versions, distinct int
	if err := conn.QueryRow(t.Context(), "SELECT count(*), count(DISTINCT version) FROM river_migration").Scan(&versions, &distinct); err != nil {
		t.Fatal(err)
	}
	if versions == 0 || versions != distinct {
		t.Errorf("river_migration has %d rows, %d versions", versions, distinct)
	}
}

// syncBuffer is a bytes.Buffer safe for a logger and the test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer // guarded by mu
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestCampaignTickFailures makes the first tick fail and the second panic: both are
// logged and the ticks go on.
func TestCampaignTickFailures(t *testing.T) {
	t.Parallel()
	dsn, conn := testDSN(t)
	var out syncBuffer
	var mu sync.Mutex
	calls := 0
	tick := func(context.Context) error {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		switch n {
		case 1:
			return errors.New("tick one broke")
		case 2:
			panic("tick two panicked")
		}
		return nil
	}
	q := startQueue(t, jobs.Config{
		DSN: dsn, CampaignInterval: 50 * time.Millisecond, CampaignTick: tick,
		Logger: slog.New(slog.NewTextHandler(&out, nil)),
	})
	waitFor(t, 10*time.Second, "fewer than 4 ticks after failures", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return calls >= 4
	})
	if err := q.Stop(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"tick one broke", "tick two panicked"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, out.String())
		}
	}
	var discarded int
	if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM river_job WHERE state = 'discarded'").Scan(&discarded); err != nil {
		t.Fatal(err)
	}
	if discarded != 2 {
		t.Errorf("%d discarded jobs, want the 2 failed ticks", discarded)
	}
}

func TestCampaignTickBadConfig(t *testing.T) {
	t.Parallel()
	tick := func(context.Context) error { return nil }
	for name, cfg := range map[string]jobs.Config{
		"no interval": {DSN: "postgres://127.0.0.1:1/x", CampaignTick: tick},
		"no tick":     {DSN: "postgres://127.0.0.1:1/x", CampaignInterval: time.Second},
		"bad dsn":     {DSN: "postgres://%zz", CampaignInterval: time.Second, CampaignTick: tick},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if q, err := jobs.Start(t.Context(), cfg); err == nil {
				_ = q.Stop(time.Second)
				t.Fatal("Start succeeded")
			}
		})
	}
}

// BenchmarkTickPeriod measures the time between the starts of consecutive
// ticks at a given interval on PostgreSQL, once the leader enqueues them:
// the interval plus the latency River adds (notification or fetch poll,
// completion). ns/op is the mean period, max-ms the longest.
func BenchmarkTickPeriod(b *testing.B) {
	for _, interval := range []time.Duration{100 * time.Millisecond, time.Second} {
		b.Run(interval.String(), func(b *testing.B) {
			dsn, conn := testDSN(b)
			ticks := make(chan time.Time, 1000)
			q, err := jobs.Start(b.Context(), jobs.Config{DSN: dsn, CampaignInterval: interval, CampaignTick: func(context.Context) error {
				ticks <- time.Now()
				return nil
			}})
			if err != nil {
				b.Fatal(err)
			}
			defer func() { _ = q.Stop(5 * time.Second) }()
			// Measure the steady state: from when the leader's periodic
			// enqueuer, started after River's staggered start, inserts ticks.
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				var n int
				if err := conn.QueryRow(b.Context(), `SELECT count(*) FROM river_job WHERE metadata->>'periodic' = 'true'`).Scan(&n); err != nil {
					b.Fatal(err)
				}
				if n > 0 {
					break
				}
				if time.Now().After(deadline) {
					b.Fatal("the periodic enqueuer did not start in 20 s")
				}
			}
			for len(ticks) > 0 {
				<-ticks
			}
			last := <-ticks
			var worst time.Duration
			for b.Loop() {
				next := <-ticks
				worst = max(worst, next.Sub(last))
				last = next
			}
			b.ReportMetric(float64(worst.Milliseconds()), "max-ms")
		})
	}
}

// TestRestartedReplicaReclaimsItsTick kills (SIGKILL) a replica in the
// middle of a tick and starts it again under the same ID: the tick it
// left "running" is given up at once and ticking resumes, instead of
// waiting for River's rescuer (JobTimeout + 1 min).
func TestRestartedReplicaReclaimsItsTick(t *testing.T) {
	if dsn := os.Getenv("FIRMWARD_JOBS_CRASH_CHILD"); dsn != "" {
		// The child: tick once and hang there until killed.
		_, err := jobs.Start(context.Background(), jobs.Config{
			DSN: dsn, ID: "replica-1", CampaignInterval: time.Hour,
			CampaignTick: func(context.Context) error {
				_, _ = os.Stdout.WriteString("ticking\n")
				select {}
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		select {}
	}
	t.Parallel()
	dsn, conn := testDSN(t)
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run", "^TestRestartedReplicaReclaimsItsTick$")
	cmd.Env = append(os.Environ(), "FIRMWARD_JOBS_CRASH_CHILD="+dsn)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	started := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "ticking" {
				started <- true
			}
		}
		close(started)
	}()
	select {
	case ok := <-started:
		if !ok {
			t.Fatal("the child replica ended before ticking")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the child replica did not tick within 30 s")
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	var running int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM river_job WHERE kind = $1 AND state = 'running'`, jobs.KindCampaignTick).Scan(&running); err != nil {
		t.Fatal(err)
	}
	if running != 1 {
		t.Fatalf("%d running ticks after the kill, want the 1 the killed replica left", running)
	}
	log := &tickLog{byClient: map[string]int{}}
	var buf syncBuffer
	startQueue(t, jobs.Config{
		DSN: dsn, ID: "replica-1", CampaignInterval: 50 * time.Millisecond, CampaignTick: log.tick("replica-1", 0),
		Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	defer func() {
		if t.Failed() {
			t.Logf("queue log:\n%s", buf.String())
		}
	}()
	// The tick Start inserts runs at once; the periodic ones follow as
	// soon as River's services have started (0–6 s), without waiting for
	// the dead process's leadership to expire.
	waitFor(t, 5*time.Second, "the restarted replica ticks again", func() bool { return log.total() >= 1 })
	waitFor(t, 12*time.Second, "the restarted replica ticks periodically", func() bool { return log.total() >= 3 })
	var discarded int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM river_job WHERE kind = $1 AND state = 'discarded'`, jobs.KindCampaignTick).Scan(&discarded); err != nil {
		t.Fatal(err)
	}
	if discarded != 1 {
		t.Errorf("%d discarded ticks, want the 1 the killed replica left", discarded)
	}
}
