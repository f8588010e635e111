// Package sqlstore keeps firmward's state in SQLite or PostgreSQL over
// database/sql. The queries are written once, with "?" placeholders; a small
// dialect hook rewrites them for PostgreSQL ("$1"), adds row locking
// ("FOR UPDATE") where only PostgreSQL needs it, picks the substring
// function, and bulk-loads large imports with COPY on PostgreSQL (multi-row
// INSERTs elsewhere; see insertRows). The schema comes from numbered
// migrations embedded per dialect and applied on Open.
//
// Every change is recorded in the hash-chained audit trail in the same
// transaction as the change itself; a one-row audit_head table, locked by
// each append, keeps the chain linear across goroutines and replicas.
//
// Times are stored as BIGINT Unix microseconds on both databases, so that
// they come back identical (audit hashes cover them) and compare cheaply.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"modernc.org/sqlite"               // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/firmward/firmward"
)

// Dialect names returned by (*DB).Dialect.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// maxParams is the number of bind parameters one statement may carry on
// both databases (SQLite's SQLITE_MAX_VARIABLE_NUMBER; PostgreSQL allows
// 65535). Batched statements stay under it so that their text is the same
// on both.
const maxParams = 32766

// sqliteParams are the connection settings every SQLite connection gets:
// WAL so that readers never wait for the writer, a 5 s busy timeout for
// writers of other processes, foreign keys, and BEGIN IMMEDIATE for write
// transactions so that two writers never deadlock on a lock upgrade.
// synchronous=NORMAL is the usual WAL setting: a power cut may lose the
// last commits, never consistency (a change and its audit event are one
// transaction).
var sqliteParams = [][2]string{
	{"_pragma", "busy_timeout(5000)"},
	{"_pragma", "journal_mode(WAL)"},
	{"_pragma", "foreign_keys(1)"},
	{"_pragma", "synchronous(NORMAL)"},
	{"_pragma", "cache_size(-32000)"},
	{"_txlock", "immediate"},
}

// Options configure Open.
type Options struct {
	Logger *slog.Logger     // nil discards logs
	Now    func() time.Time // nil means time.Now
}

// DB is an open database with its dialect. It is safe for concurrent use.
type DB struct {
	db      *sql.DB
	dialect dialect
	logger  *slog.Logger
	now     func() time.Time

	// writeSem, on SQLite only, lets one write transaction of this process
	// run at a time: SQLite has a single writer anyway, and waiting here is
	// cheaper and fairer than polling the busy handler. Writers of other
	// processes are still handled by busy_timeout.
	writeSem chan struct{}

	// rebound caches PostgreSQL rewrites of short query texts.
	rebound sync.Map // string → string

	closeMu     sync.Mutex                    // guards beforeClose
	beforeClose []func(context.Context) error // pending writes of services, run by Close
}

// Open opens the database named by dsn and applies pending migrations.
//
// A dsn starting with postgres:// or postgresql:// opens PostgreSQL through
// pgx; anything else is a SQLite file path, optionally prefixed with
// "sqlite:" or "file:" (a "file:" URI keeps its own query parameters). The
// parent directory of a SQLite file is created when missing.
func Open(ctx context.Context, dsn string, opts Options) (*DB, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	db := &DB{logger: opts.Logger, now: opts.Now}
	var err error
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		db.dialect = postgres
		db.db, err = sql.Open("pgx", dsn)
		if err != nil {
			return nil, fmt.Errorf("opening postgres: %w", err)
		}
		db.db.SetMaxOpenConns(max(8, 4*runtime.GOMAXPROCS(0)))
		db.db.SetMaxIdleConns(max(8, 4*runtime.GOMAXPROCS(0)))
		db.db.SetConnMaxIdleTime(5 * time.Minute)
	default:
		db.dialect = sqliteDialect
		name, memory, err := sqliteDSN(dsn)
		if err != nil {
			return nil, err
		}
		db.db, err = sql.Open("sqlite", name)
		if err != nil {
			return nil, fmt.Errorf("opening sqlite: %w", err)
		}
		db.writeSem = make(chan struct{}, 1)
		if memory {
			// Every connection to :memory: is a database of its own.
			db.db.SetMaxOpenConns(1)
		} else {
			db.db.SetMaxOpenConns(max(4, runtime.GOMAXPROCS(0)))
			db.db.SetMaxIdleConns(max(4, runtime.GOMAXPROCS(0)))
		}
	}
	if err := db.pingUntilFree(ctx); err != nil {
		_ = db.db.Close()
		return nil, err
	}
	if err := db.migrate(ctx); err != nil {
		_ = db.db.Close()
		return nil, err
	}
	return db, nil
}

// sqliteDSN turns a firmward SQLite DSN into the driver's, with the
// connection parameters added, and creates the parent directory.
func sqliteDSN(dsn string) (name string, memory bool, err error) {
	uri := strings.HasPrefix(dsn, "file:")
	rest := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "file:")
	if rest == "" {
		return "", false, firmward.Errorf(firmward.EINVALID, "empty database path")
	}
	path, query, _ := strings.Cut(rest, "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", false, firmward.Errorf(firmward.EINVALID, "database %q: bad parameters: %v", dsn, err)
	}
	for _, p := range sqliteParams {
		if p[0] == "_pragma" || q.Get(p[0]) == "" {
			q.Add(p[0], p[1])
		}
	}
	memory = path == ":memory:" || q.Get("mode") == "memory"
	if !memory {
		fsPath := path
		if uri && strings.HasPrefix(fsPath, "//") {
			// file://host/path: the host part must be empty or localhost.
			if i := strings.IndexByte(fsPath[2:], '/'); i >= 0 {
				fsPath = fsPath[2+i:]
			}
		}
		if uri {
			if p, err := url.PathUnescape(fsPath); err == nil {
				fsPath = p
			}
		}
		if dir := filepath.Dir(fsPath); dir != "" {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return "", false, fmt.Errorf("creating database directory: %w", err)
			}
		}
	}
	if uri {
		return "file:" + path + "?" + q.Encode(), memory, nil
	}
	return path + "?" + q.Encode(), memory, nil
}

// SQL returns the underlying *sql.DB.
func (db *DB) SQL() *sql.DB { return db.db }

// Dialect returns "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.dialect.String() }

// openBusyWait bounds how long Open waits for a SQLite file that another
// process (or another Open) is switching to WAL or recovering.
const openBusyWait = 10 * time.Second

// pingUntilFree pings, retrying while SQLite answers SQLITE_BUSY: a
// connection's first statements (journal_mode=WAL among its pragmas) can
// meet a lock that the busy handler does not wait for, when several
// processes open the same new file at once.
func (db *DB) pingUntilFree(ctx context.Context) error {
	deadline := time.Now().Add(openBusyWait)
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, 500*time.Millisecond) {
		err := db.Ping(ctx)
		if err == nil || db.dialect != sqliteDialect || !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("opening sqlite: %w", ctx.Err())
		case <-time.After(wait):
		}
	}
}

// isBusy reports whether err is SQLite's SQLITE_BUSY (any extended code).
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.db.PingContext(ctx); err != nil {
		return fmt.Errorf("pinging %s: %w", db.dialect, err)
	}
	return nil
}

// Close writes what services hold back (the device contacts of a
// DeliveryService) and closes the database.
func (db *DB) Close() error {
	db.closeMu.Lock()
	hooks := db.beforeClose
	db.beforeClose = nil
	db.closeMu.Unlock()
	var errs []error
	for _, fn := range hooks {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		errs = append(errs, fn(ctx))
		cancel()
	}
	if db.dialect == sqliteDialect {
		// Let SQLite refresh its planner statistics where they are stale
		// (cheap; see https://sqlite.org/lang_analyze.html#pragopt).
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, _ = db.db.ExecContext(ctx, "PRAGMA optimize")
		cancel()
	}
	if err := db.db.Close(); err != nil {
		errs = append(errs, fmt.Errorf("closing database: %w", err))
	}
	return errors.Join(errs...)
}

// onClose has Close run fn, before it closes the database, to write what
// a service holds back.
func (db *DB) onClose(fn func(context.Context) error) {
	db.closeMu.Lock()
	defer db.closeMu.Unlock()
	db.beforeClose = append(db.beforeClose, fn)
}

// nowUTC returns the current time as stored: UTC, whole microseconds.
func (db *DB) nowUTC() time.Time {
	return db.now().UTC().Truncate(time.Microsecond)
}

// dialect is the small set of differences between the two databases.
type dialect int

const (
	sqliteDialect dialect = iota
	postgres
)

func (d dialect) String() string {
	if d == postgres {
		return DialectPostgres
	}
	return DialectSQLite
}

// forUpdate is appended to a SELECT that reads rows the transaction is
// about to change. SQLite needs none: its write transactions are
// serialised from BEGIN IMMEDIATE on.
func (d dialect) forUpdate() string {
	if d == postgres {
		return " FOR UPDATE"
	}
	return ""
}

// contains returns a condition that col contains the text of one
// parameter, plain substring search with no wildcards (faster than LIKE
// '%…%', and nothing to escape).
func (d dialect) contains(col string) string {
	if d == postgres {
		return "strpos(" + col + ", ?) > 0"
	}
	return "instr(" + col + ", ?) > 0"
}

// rebind rewrites "?" placeholders as "$1", "$2", … for PostgreSQL. It skips
// quoted strings and identifiers.
func (db *DB) rebind(q string) string {
	if db.dialect != postgres {
		return q
	}
	const cacheable = 4096
	if len(q) <= cacheable {
		if r, ok := db.rebound.Load(q); ok {
			return r.(string)
		}
	}
	var b strings.Builder
	b.Grow(len(q) + len(q)/4)
	n := 0
	var quote byte
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	r := b.String()
	if len(q) <= cacheable {
		db.rebound.Store(q, r)
	}
	return r
}

// queryer is what both *sql.DB and *sql.Tx offer.
type queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// conn runs "?" queries on a *sql.DB or *sql.Tx, rebinding them for the
// dialect.
type conn struct {
	db  *DB
	q   queryer
	raw *sql.Conn // the connection of a PostgreSQL write transaction, for COPY
}

func (c conn) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return c.q.ExecContext(ctx, c.db.rebind(query), args...)
}

func (c conn) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return c.q.QueryContext(ctx, c.db.rebind(query), args...)
}

func (c conn) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return c.q.QueryRowContext(ctx, c.db.rebind(query), args...)
}

func (c conn) prepare(ctx context.Context, query string) (*sql.Stmt, error) {
	return c.q.PrepareContext(ctx, c.db.rebind(query))
}

// read returns a conn for reads outside a transaction.
func (db *DB) read() conn { return conn{db: db, q: db.db} }

// write runs fn in a write transaction and commits it when fn returns nil.
func (db *DB) write(ctx context.Context, fn func(tx conn) error) error {
	wt, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer wt.rollback() //nolint:errcheck // a no-op after commit
	if err := fn(wt.conn); err != nil {
		return err
	}
	return wt.commit()
}

// writeTx is an open write transaction, for work that spans several calls
// (a feed import); write is the usual way in. Exactly one of commit and
// rollback ends it and releases the writer; rollback after that is a
// no-op. It is not safe for concurrent use.
type writeTx struct {
	conn
	tx      *sql.Tx
	raw     *sql.Conn // PostgreSQL only
	release func()    // frees writeSem on SQLite
	done    bool
}

// beginWrite opens a write transaction: on SQLite it first takes this
// process's write lock, held until the transaction ends.
func (db *DB) beginWrite(ctx context.Context) (*writeTx, error) {
	wt := &writeTx{release: func() {}}
	if db.writeSem != nil {
		select {
		case db.writeSem <- struct{}{}:
			wt.release = func() { <-db.writeSem }
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for the write lock: %w", ctx.Err())
		}
	}
	var err error
	if db.dialect == postgres {
		// Keep hold of the connection: bulk inserts COPY through it.
		if wt.raw, err = db.db.Conn(ctx); err != nil {
			wt.release()
			return nil, fmt.Errorf("getting a connection: %w", err)
		}
		wt.tx, err = wt.raw.BeginTx(ctx, nil)
	} else {
		wt.tx, err = db.db.BeginTx(ctx, nil)
	}
	if err != nil {
		wt.end()
		return nil, fmt.Errorf("beginning transaction: %w", err)
	}
	wt.conn = conn{db: db, q: wt.tx, raw: wt.raw}
	return wt, nil
}

// commit commits the transaction and releases the writer.
func (wt *writeTx) commit() error {
	if wt.done {
		return errors.New("committing transaction: it has ended already")
	}
	defer wt.end()
	if err := wt.tx.Commit(); err != nil {
		return fmt.Errorf("committing transaction: %w", mapError(err))
	}
	return nil
}

// rollback discards the transaction and releases the writer; after commit
// or another rollback it does nothing.
func (wt *writeTx) rollback() error {
	if wt.done {
		return nil
	}
	defer wt.end()
	if err := wt.tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return fmt.Errorf("rolling back transaction: %w", err)
	}
	return nil
}

// end releases the connection and the writer.
func (wt *writeTx) end() {
	wt.done = true
	if wt.raw != nil {
		_ = wt.raw.Close()
	}
	wt.release()
}

// snapshot runs fn in a read-only transaction that sees one consistent
// state of the database (REPEATABLE READ on PostgreSQL; a SQLite read
// transaction is a snapshot already).
func (db *DB) snapshot(ctx context.Context, fn func(tx conn) error) error {
	opts := &sql.TxOptions{ReadOnly: true}
	if db.dialect == postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := db.db.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("beginning read transaction: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	return fn(conn{db: db, q: tx})
}

// isUniqueViolation reports whether err is a unique or primary key
// violation.
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// isMACViolation reports whether err is a unique violation of
// device_macs: a MAC claimed by another device.
func isMACViolation(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505" && pe.TableName == "device_macs"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return isUniqueViolation(err) && strings.Contains(se.Error(), "device_macs.")
	}
	return false
}

// isForeignKeyViolation reports whether err is a foreign key violation.
func isForeignKeyViolation(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23503"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	return false
}

// mapError turns constraint violations into domain errors, wrapping the
// original, and leaves other errors alone.
func mapError(err error) error {
	switch {
	case err == nil:
		return nil
	case isUniqueViolation(err):
		return &wrapped{code: firmward.ECONFLICT, msg: "the change conflicts with stored data", err: err}
	case isForeignKeyViolation(err):
		return &wrapped{code: firmward.ENOTFOUND, msg: "a referenced object does not exist", err: err}
	}
	return err
}

// wrapped is a domain error that keeps the database error it came from
// for logs, so that errors.As finds both the *firmward.Error and the
// driver's error.
type wrapped struct {
	code, msg string
	err       error
}

func (w *wrapped) Error() string { return w.msg + ": " + w.err.Error() }

func (w *wrapped) Unwrap() []error {
	return []error{&firmward.Error{Code: w.code, Message: w.msg}, w.err}
}

// micros converts a time to stored Unix microseconds.
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros converts stored Unix microseconds to a UTC time.
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// nullMicros converts an optional time for storage.
func nullMicros(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

// fromNullMicros converts an optional stored time.
func fromNullMicros(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := fromMicros(n.Int64)
	return &t
}

// placeholders returns "(?, ?, …)" rows for a multi-row VALUES list.
func placeholders(rows, cols int) string {
	row := "(" + strings.Repeat("?, ", cols-1) + "?)"
	var b strings.Builder
	b.Grow(rows * (len(row) + 2))
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	return b.String()
}

// inList returns "?, ?, …" with n placeholders.
func inList(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// analyzeAfterRows is the size of an import after which the store refreshes
// the planner's statistics: right after a bulk load PostgreSQL has none for
// the new rows until autovacuum comes by, and plans multi-column filters
// badly (270 ms instead of 3 ms at 1,000,000 devices; docs/BENCHMARKS.md).
const analyzeAfterRows = 5000

// analyze refreshes PostgreSQL's statistics of the device tables. SQLite's
// planner does well on its built-in heuristics and a full ANALYZE there
// reads every index, so it is left alone. Failure only costs speed: it is
// logged, not returned.
func (db *DB) analyze(ctx context.Context) {
	if db.dialect != postgres {
		return
	}
	start := time.Now()
	if _, err := db.db.ExecContext(ctx, "ANALYZE devices, device_macs, device_ips, device_tags"); err != nil {
		db.logger.Warn("refreshing planner statistics after an import", "err", err)
		return
	}
	db.logger.Debug("refreshed planner statistics", "duration", time.Since(start).Round(time.Millisecond))
}
