package sqlstore

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestOpenSQLite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name, dsn, file string
	}{
		{"path", filepath.Join(dir, "a", "b", "plain.db"), filepath.Join(dir, "a", "b", "plain.db")},
		{"sqlite-prefix", "sqlite:" + filepath.Join(dir, "p", "x.db"), filepath.Join(dir, "p", "x.db")},
		{"file-uri", "file:" + filepath.Join(dir, "u", "y.db") + "?cache=private", filepath.Join(dir, "u", "y.db")},
		{"file-uri-slashes", "file://" + filepath.Join(dir, "s", "z.db"), filepath.Join(dir, "s", "z.db")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db := openDSN(t, tc.dsn, Options{})
			if db.Dialect() != DialectSQLite {
				t.Errorf("Dialect() = %q", db.Dialect())
			}
			if _, err := os.Stat(tc.file); err != nil {
				t.Errorf("database file: %v", err)
			}
			// Every connection of the pool gets the settings.
			conns := make([]interface{ Close() error }, 0, 3)
			for range 3 {
				c, err := db.SQL().Conn(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				conns = append(conns, c)
				for pragma, want := range map[string]string{
					"journal_mode": "wal", "busy_timeout": "5000", "foreign_keys": "1", "synchronous": "1",
				} {
					var got string
					if err := c.QueryRowContext(context.Background(), "PRAGMA "+pragma).Scan(&got); err != nil {
						t.Fatal(err)
					}
					if got != want {
						t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
					}
				}
			}
			for _, c := range conns {
				if err := c.Close(); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

func TestOpenMemory(t *testing.T) {
	t.Parallel()
	db := openDSN(t, ":memory:", Options{})
	if n := count(t, db, "schema_migrations"); n == 0 {
		t.Error("no migrations recorded")
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for name, dsn := range map[string]string{
		"empty":       "",
		"bad-param":   filepath.Join(t.TempDir(), "x.db") + "?_txlock=sometimes",
		"pg-refused":  "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2",
		"pg-canceled": "postgresql://nobody@127.0.0.1:1/none?sslmode=disable",
	} {
		t.Run(name, func(t *testing.T) {
			c := context.Background()
			if name == "pg-canceled" {
				c = ctx
			}
			if db, err := Open(c, dsn, Options{}); err == nil {
				_ = db.Close()
				t.Fatalf("Open(%q) succeeded", dsn)
			}
		})
	}
}

func TestRebind(t *testing.T) {
	t.Parallel()
	db := &DB{dialect: postgres}
	for in, want := range map[string]string{
		"SELECT 1":                         "SELECT 1",
		"a = ? AND b IN (?, ?)":            "a = $1 AND b IN ($2, $3)",
		"x = '?' AND y = ? AND \"q?\" = ?": "x = '?' AND y = $1 AND \"q?\" = $2",
		"note = 'it''s ?' AND z = ?":       "note = 'it''s ?' AND z = $1",
	} {
		if got := db.rebind(in); got != want {
			t.Errorf("rebind(%q) = %q, want %q", in, got, want)
		}
	}
	sq := &DB{dialect: sqliteDialect}
	if got := sq.rebind("a = ?"); got != "a = ?" {
		t.Errorf("sqlite rebind = %q", got)
	}
}
