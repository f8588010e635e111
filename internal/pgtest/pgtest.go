// Package pgtest gives a test a PostgreSQL schema of its own on the test
// database, so that tests and replicas started by a test share nothing with
// other tests. It is imported by tests only.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// DefaultDSN is the test database of this machine (trust auth).
const DefaultDSN = "postgres://postgres@127.0.0.1:5432/test"

// BaseDSN is FIRMWARD_TEST_POSTGRES, else DefaultDSN.
func BaseDSN() string {
	if dsn := os.Getenv("FIRMWARD_TEST_POSTGRES"); dsn != "" {
		return dsn
	}
	return DefaultDSN
}

// Schema creates a schema named prefix_<random> on the test database and
// returns a DSN whose search_path is that schema; the schema is dropped
// when t ends. Without a reachable PostgreSQL, t is skipped, or fails
// when CI=true (CI provides PostgreSQL).
func Schema(t testing.TB, prefix string) string {
	t.Helper()
	base := BaseDSN()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("FIRMWARD_TEST_POSTGRES %q: %v", base, err)
	}
	admin, err := sql.Open("pgx", base)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = admin.PingContext(ctx)
		cancel()
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL at %s is needed under CI=true: %v", base, err)
		}
		t.Skipf("no PostgreSQL at %s (%v): set FIRMWARD_TEST_POSTGRES to run this test", base, err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := prefix + "_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("creating schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
		_ = admin.Close()
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
