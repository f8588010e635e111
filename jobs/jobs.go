// Package jobs runs firmward's background work on River, a job queue in
// PostgreSQL, so that replicas of `firmward serve` sharing one database take
// each piece of work once.
//
// Today it carries one periodic job, campaign_tick, which moves campaigns
// on. River elects one leader among the replicas; only the leader enqueues
// periodic jobs, and the tick job is unique while it is not finalized, so
// at most one tick exists (and runs, on whichever replica fetched it) at a
// time. Ticks that fail are logged and discarded; the next interval brings a
// new one.
package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
)

// KindCampaignTick is the River job kind of a campaign runner step.
const KindCampaignTick = "campaign_tick"

// Defaults of Config.
const (
	DefaultJobTimeout       = 5 * time.Minute
	DefaultCompletedKeep    = time.Hour
	DefaultDiscardedKeep    = 24 * time.Hour
	DefaultStopTimeout      = 10 * time.Second
	maxFetchPollInterval    = time.Second
	minFetchPollInterval    = 10 * time.Millisecond
	rescueMarginOverTimeout = time.Minute
)

// Config configures a Queue.
type Config struct {
	// DSN is the postgres:// URL of the database; its query parameters
	// (search_path included) are passed to the server as pgx does.
	DSN string
	// CampaignInterval is how often a campaign_tick job is enqueued; it must
	// be positive.
	CampaignInterval time.Duration
	// CampaignTick is the work of one campaign_tick job. The context ends
	// when JobTimeout passes or the queue is stopped hard.
	CampaignTick func(ctx context.Context) error
	// Logger receives the queue's own lines at any level and River's at
	// warning and above; nil discards them.
	Logger *slog.Logger
	// ID names this client in River's tables (attempted_by, leader); ""
	// lets River choose one. Give a replica the same ID across restarts:
	// a tick it left running when it was killed is then given up at once
	// when it starts again (see Start), instead of blocking every tick
	// until River rescues it (JobTimeout + 1 min).
	ID string
	// JobTimeout bounds one tick (default DefaultJobTimeout). A tick left
	// running by a replica that died is given up one minute after it, and
	// no other tick starts before that.
	JobTimeout time.Duration
	// CompletedRetention is how long completed jobs stay in river_job
	// (default DefaultCompletedKeep).
	CompletedRetention time.Duration
}

// Queue is a started River client with the pgx pool it owns.
type Queue struct {
	pool   *pgxpool.Pool
	client *river.Client[pgx.Tx]
	logger *slog.Logger
}

// campaignTickArgs are the (empty) arguments of a campaign_tick job.
type campaignTickArgs struct{}

func (campaignTickArgs) Kind() string { return KindCampaignTick }

// InsertOpts makes campaign_tick unique among jobs not yet finalized, so that
// a tick still waiting or running makes the next interval's insert a no-op,
// and tries it once: a failed tick is not retried, the next one redoes it.
func (campaignTickArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		MaxAttempts: 1,
		UniqueOpts: river.UniqueOpts{ByState: []rivertype.JobState{
			rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
			rivertype.JobStateRetryable, rivertype.JobStateScheduled,
		}},
	}
}

type campaignTickWorker struct {
	river.WorkerDefaults[campaignTickArgs]
	tick   func(ctx context.Context) error
	pool   *pgxpool.Pool
	logger *slog.Logger
}

// Work runs the tick and marks its job completed at once. River would
// otherwise record the completion in its next batch, up to 250 ms later,
// and until then the unique tick, still running in the table, turns the
// next interval's insert into a no-op.
func (w *campaignTickWorker) Work(ctx context.Context, job *river.Job[campaignTickArgs]) error {
	if err := w.tick(ctx); err != nil {
		return err
	}
	err := pgx.BeginFunc(ctx, w.pool, func(tx pgx.Tx) error {
		_, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job)
		return err
	})
	if err != nil {
		// River's batch completes it a little later.
		w.logger.WarnContext(ctx, "marking the tick completed", slog.Int64("job", job.ID), slog.Any("err", err))
	}
	return nil
}

// Start connects to cfg.DSN, applies River's migrations (see Migrate) and
// starts a River client that enqueues campaign_tick every CampaignInterval
// (once at start too) and works such jobs, one at a time. It fails with a
// description of what is wrong for a bad Config, an unreachable database or
// a failed migration; nothing is left running then. Call Stop afterwards.
func Start(ctx context.Context, cfg Config) (*Queue, error) {
	if cfg.CampaignInterval <= 0 {
		return nil, fmt.Errorf("jobs: campaign interval %s is not positive", cfg.CampaignInterval)
	}
	if cfg.CampaignTick == nil {
		return nil, errors.New("jobs: no campaign tick function")
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	pool, err := pgxpool.New(ctx, cfg.DSN)
	if err != nil {
		return nil, fmt.Errorf("jobs: connecting to PostgreSQL: %w", err)
	}
	if err := migrate(ctx, pool, logger); err != nil {
		pool.Close()
		return nil, err
	}
	if err := reclaim(ctx, pool, cfg.ID, logger); err != nil {
		pool.Close()
		return nil, err
	}
	// Ticks are fetched by polling when they are inserted ahead of their
	// time, so the poll interval bounds how late a tick starts.
	poll := min(max(cfg.CampaignInterval/4, minFetchPollInterval), maxFetchPollInterval)
	timeout := cmp.Or(cfg.JobTimeout, DefaultJobTimeout)
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &campaignTickWorker{tick: cfg.CampaignTick, pool: pool, logger: logger}); err != nil {
		pool.Close()
		return nil, fmt.Errorf("jobs: registering the campaign tick worker: %w", err)
	}
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		ID:                          cfg.ID,
		Logger:                      slog.New(warnAndAbove{logger.Handler()}),
		Queues:                      map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 1}},
		Workers:                     workers,
		FetchCooldown:               min(river.FetchCooldownDefault, poll),
		FetchPollInterval:           poll,
		JobTimeout:                  timeout,
		RescueStuckJobsAfter:        timeout + rescueMarginOverTimeout,
		CompletedJobRetentionPeriod: cmp.Or(cfg.CompletedRetention, DefaultCompletedKeep),
		DiscardedJobRetentionPeriod: DefaultDiscardedKeep,
		CancelledJobRetentionPeriod: DefaultDiscardedKeep,
		ErrorHandler:                errorLogger{logger},
		PeriodicJobs: []*river.PeriodicJob{river.NewPeriodicJob(
			river.PeriodicInterval(cfg.CampaignInterval),
			func() (river.JobArgs, *river.InsertOpts) { return campaignTickArgs{}, nil },
			&river.PeriodicJobOpts{ID: KindCampaignTick, RunOnStart: true},
		)},
	})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("jobs: configuring River: %w", err)
	}
	// The client runs until Stop, not until the caller's ctx ends.
	if err := client.Start(context.WithoutCancel(ctx)); err != nil {
		pool.Close()
		return nil, fmt.Errorf("jobs: starting River: %w", err)
	}
	// The leader's periodic enqueuer starts after River staggers its
	// maintenance services (up to a second each); a tick inserted now, a
	// no-op while another is pending, runs the first step without that wait.
	if _, err := client.Insert(ctx, campaignTickArgs{}, nil); err != nil {
		logger.Warn("enqueueing the first campaign tick", slog.Any("err", err))
	}
	logger.Info("job queue started", slog.String("client", client.ID()),
		slog.String("campaign_interval", cfg.CampaignInterval.String()), slog.String("fetch_poll", poll.String()))
	return &Queue{pool: pool, client: client, logger: logger}, nil
}

// reclaim gives up the campaign ticks that client id left running, and
// its leadership: id is
// starting, so whatever it was working on died with its previous process
// (a SIGKILL, a power cut). Left alone, such a tick stays "running" and,
// being unique, blocks every new tick until River's rescuer takes it back.
// River has no call for a job whose worker is gone, so its row is
// discarded here, as River's rescuer would after the timeout.
func reclaim(ctx context.Context, pool *pgxpool.Pool, id string, logger *slog.Logger) error {
	if id == "" {
		return nil
	}
	tag, err := pool.Exec(ctx, `UPDATE river_job SET state = 'discarded', finalized_at = now()
WHERE kind = $1 AND state = 'running' AND attempted_by[cardinality(attempted_by)] = $2`, KindCampaignTick, id)
	if err != nil {
		return fmt.Errorf("jobs: giving up the ticks %s left running: %w", id, err)
	}
	if n := tag.RowsAffected(); n > 0 {
		logger.Warn("gave up campaign ticks this replica left running when it stopped", slog.String("client", id), slog.Int64("jobs", n))
	}
	// Likewise a leadership the dead process held would keep the periodic
	// ticks from being enqueued until it expires: give it up so that the
	// election is open at once.
	if _, err := pool.Exec(ctx, `DELETE FROM river_leader WHERE leader_id = $1`, id); err != nil {
		return fmt.Errorf("jobs: giving up the leadership %s held: %w", id, err)
	}
	return nil
}

// ID returns the River client ID of q.
func (q *Queue) ID() string { return q.client.ID() }

// Stop stops taking jobs, waits up to timeout (DefaultStopTimeout when 0)
// for the tick in progress, then cancels it and waits for it to return, and
// closes the pool. A leader resigns, so another replica takes over. It
// returns an error when the tick had to be cancelled.
func (q *Queue) Stop(timeout time.Duration) error {
	if q == nil {
		return nil
	}
	defer q.pool.Close()
	ctx, cancel := context.WithTimeout(context.Background(), cmp.Or(timeout, DefaultStopTimeout))
	defer cancel()
	err := q.client.Stop(ctx)
	if err == nil {
		q.logger.Info("job queue stopped", slog.String("client", q.client.ID()))
		return nil
	}
	// Cancel the work left and wait for it: a cancelled tick returns
	// promptly, as everything it calls honours its context.
	hard, cancelHard := context.WithTimeout(context.Background(), cmp.Or(timeout, DefaultStopTimeout))
	defer cancelHard()
	if herr := q.client.StopAndCancel(hard); herr != nil {
		err = errors.Join(err, herr)
	}
	return fmt.Errorf("jobs: stopping River: %w", err)
}

// Migrate applies River's pending migrations to the database of dsn, in
// the schema its search_path selects. It is idempotent, and replicas that
// start together take turns: a session advisory lock keyed by the schema
// serializes them.
func Migrate(ctx context.Context, dsn string, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return fmt.Errorf("jobs: connecting to PostgreSQL: %w", err)
	}
	defer pool.Close()
	return migrate(ctx, pool, logger)
}

func migrate(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("jobs: connecting to PostgreSQL: %w", err)
	}
	defer conn.Release()
	var schema string
	if err := conn.QueryRow(ctx, "SELECT coalesce(current_schema(), '')").Scan(&schema); err != nil {
		return fmt.Errorf("jobs: reading the current schema: %w", err)
	}
	h := fnv.New64a()
	h.Write([]byte("firmward.jobs.migrate:" + schema))
	key := int64(h.Sum64()) //nolint:gosec // any 64 bits make a lock key; wrapping is fine
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
		return fmt.Errorf("jobs: taking the migration lock: %w", err)
	}
	defer func() {
		// A fresh context: the lock must be released even when ctx ended.
		if _, err := conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", key); err != nil {
			logger.Error("releasing the River migration lock", "err", err)
			// A connection still holding the lock must not go back to the pool.
			_ = conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}()
	m, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: slog.New(warnAndAbove{logger.Handler()})})
	if err != nil {
		return fmt.Errorf("jobs: preparing River migrations: %w", err)
	}
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("jobs: applying River migrations in schema %q: %w", schema, err)
	}
	for _, v := range res.Versions {
		logger.Info("applied River migration", slog.Int("version", v.Version), slog.String("name", v.Name))
	}
	return nil
}

// errorLogger logs failed and panicking jobs; River then discards them (one
// attempt), and the next interval's tick runs as usual.
type errorLogger struct{ logger *slog.Logger }

func (e errorLogger) HandleError(ctx context.Context, job *rivertype.JobRow, err error) *river.ErrorHandlerResult {
	e.logger.ErrorContext(ctx, "job failed", slog.String("kind", job.Kind), slog.Int64("job", job.ID), slog.Any("err", err))
	return nil
}

func (e errorLogger) HandlePanic(ctx context.Context, job *rivertype.JobRow, panicVal any, trace string) *river.ErrorHandlerResult {
	e.logger.ErrorContext(ctx, "job panicked", slog.String("kind", job.Kind), slog.Int64("job", job.ID),
		slog.Any("panic", panicVal), slog.String("trace", trace))
	return nil
}

// warnAndAbove passes on River's warnings and errors only: its info lines
// (client started, producer job counts) would drown serve's log.
type warnAndAbove struct{ slog.Handler }

func (h warnAndAbove) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && h.Handler.Enabled(ctx, l)
}

func (h warnAndAbove) WithAttrs(as []slog.Attr) slog.Handler {
	return warnAndAbove{h.Handler.WithAttrs(as)}
}

func (h warnAndAbove) WithGroup(name string) slog.Handler {
	return warnAndAbove{h.Handler.WithGroup(name)}
}
