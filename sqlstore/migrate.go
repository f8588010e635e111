package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// migrationFS holds the schema migrations, one directory per dialect, each
// file named NNNN_what.sql and applied in order of NNNN.
//
//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFS embed.FS

// migration is one numbered schema change.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the dialect's migrations in version order.
func (d dialect) migrations() ([]migration, error) {
	dir := path.Join("migrations", d.String())
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, fmt.Errorf("reading migrations: %w", err)
	}
	var out []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("migration %s/%s: name must be NNNN_what.sql", dir, e.Name())
		}
		b, err := fs.ReadFile(migrationFS, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("reading migration: %w", err)
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("migrations %s and %s have the same number", out[i-1].name, out[i].name)
		}
	}
	return out, nil
}

// migrate applies the migrations that are not recorded in
// schema_migrations yet, each in its own transaction.
//
// On PostgreSQL a session advisory lock, keyed by the schema, keeps
// replicas that start together from migrating at the same time: the second
// waits and then finds nothing left to do. On SQLite each migration's
// BEGIN IMMEDIATE does the same, since the check for the version runs
// inside the write transaction.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := db.dialect.migrations()
	if err != nil {
		return err
	}
	c, err := db.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrating: getting a connection: %w", err)
	}
	defer func() { _ = c.Close() }()

	if db.dialect == postgres {
		var schema string
		if err := c.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
			return fmt.Errorf("migrating: reading the current schema: %w", err)
		}
		h := fnv.New64a()
		h.Write([]byte("firmward.sqlstore.migrate:" + schema))
		key := int64(h.Sum64()) //nolint:gosec // any 64 bits make a lock key; wrapping is fine
		if _, err := c.ExecContext(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
			return fmt.Errorf("migrating: taking the migration lock: %w", err)
		}
		defer func() {
			// A fresh context: the lock must be released even when ctx ended.
			if _, err := c.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", key); err != nil {
				db.logger.Error("releasing the migration lock", "err", err)
			}
		}()
	}

	if _, err := c.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    BIGINT NOT NULL PRIMARY KEY,
	applied_at BIGINT NOT NULL
)`); err != nil {
		return fmt.Errorf("migrating: creating schema_migrations: %w", err)
	}

	for _, m := range ms {
		applied, err := db.applyMigration(ctx, c, m)
		if err != nil {
			return err
		}
		if applied {
			db.logger.Info("applied database migration", "dialect", db.dialect.String(), "version", m.version, "name", m.name)
		}
	}
	return nil
}

// applyMigration applies m unless it is recorded already, and reports
// whether it did.
func (db *DB) applyMigration(ctx context.Context, c *sql.Conn, m migration) (bool, error) {
	tx, err := c.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("migration %s: beginning: %w", m.name, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	var one int
	err = tx.QueryRowContext(ctx, db.rebind("SELECT 1 FROM schema_migrations WHERE version = ?"), m.version).Scan(&one)
	switch {
	case err == nil:
		return false, nil
	case !errors.Is(err, sql.ErrNoRows):
		return false, fmt.Errorf("migration %s: checking whether it is applied: %w", m.name, err)
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return false, fmt.Errorf("migration %s: %w", m.name, err)
	}
	if _, err := tx.ExecContext(ctx, db.rebind("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)"),
		m.version, micros(db.nowUTC())); err != nil {
		return false, fmt.Errorf("migration %s: recording it: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migration %s: committing: %w", m.name, err)
	}
	return true, nil
}
