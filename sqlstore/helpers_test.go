package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firmward/firmward"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// defaultPostgresDSN is used when FIRMWARD_TEST_POSTGRES is not set.
const defaultPostgresDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// backend opens fresh databases of one dialect for tests.
type backend struct {
	name string
	// newDSN returns the DSN of a new, empty database that is removed when
	// the test ends (a file in t.TempDir, or a PostgreSQL schema).
	newDSN func(t testing.TB) string
}

// open opens a new, empty database.
func (b backend) open(t testing.TB, opts Options) *DB {
	t.Helper()
	return openDSN(t, b.newDSN(t), opts)
}

// openDSN opens dsn and closes it when the test ends.
func openDSN(t testing.TB, dsn string, opts Options) *DB {
	t.Helper()
	db, err := Open(context.Background(), dsn, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", dsn, err)
	}
	t.Cleanup(func() { _ = db.Close() }) // a second Close, after a test's own, is harmless
	return db
}

var backends = []backend{
	{name: DialectSQLite, newDSN: newSQLiteDSN},
	{name: DialectPostgres, newDSN: newPostgresDSN},
}

// forEachBackend runs fn as a parallel subtest per backend.
func forEachBackend(t *testing.T, fn func(t *testing.T, b backend)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			fn(t, b)
		})
	}
}

func newSQLiteDSN(t testing.TB) string {
	return filepath.Join(t.TempDir(), "data", "firmward.db")
}

// pg holds the connection that creates and drops test schemas.
var pg struct {
	once  sync.Once
	dsn   string
	admin *sql.DB
	err   error
}

func postgresAdmin(t testing.TB) (*sql.DB, string) {
	t.Helper()
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("PostgreSQL tests skipped in -short mode")
	}
	pg.once.Do(func() {
		pg.dsn = os.Getenv("FIRMWARD_TEST_POSTGRES")
		if pg.dsn == "" {
			pg.dsn = defaultPostgresDSN
		}
		pg.admin, pg.err = sql.Open("pgx", withParam(pg.dsn, "connect_timeout", "5"))
		if pg.err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			pg.err = pg.admin.PingContext(ctx)
		}
	})
	if pg.err != nil {
		msg := fmt.Sprintf("PostgreSQL is not reachable at %s: %v", pg.dsn, pg.err)
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s (CI=true requires PostgreSQL; set FIRMWARD_TEST_POSTGRES)", msg)
		}
		t.Skipf("%s; skipping the PostgreSQL tests. Start PostgreSQL (trust auth, database \"test\") or point FIRMWARD_TEST_POSTGRES at one to run them", msg)
	}
	return pg.admin, pg.dsn
}

// newPostgresDSN creates a schema with a random name and returns a DSN
// whose search_path is that schema; the schema is dropped at the end.
func newPostgresDSN(t testing.TB) string {
	t.Helper()
	admin, dsn := postgresAdmin(t)
	schema := "fwtest_" + randomHex(6)
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("creating schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	return withParam(dsn, "search_path", schema)
}

func withParam(dsn, key, value string) string {
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + key + "=" + value
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// clock is a settable time source for Options.Now.
type clock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// wantCode fails the test unless err carries the domain error code.
func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if got := firmward.ErrorCode(err); got != code {
		t.Fatalf("error code = %q, want %q (err: %v)", got, code, err)
	}
}

// count returns SELECT COUNT(*) FROM table.
func count(t testing.TB, db *DB, table string) int {
	t.Helper()
	var n int
	if err := db.SQL().QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatalf("counting %s: %v", table, err)
	}
	return n
}

// exec runs a "?" statement directly on the database (to tamper, say).
func exec(t testing.TB, db *DB, q string, args ...any) {
	t.Helper()
	if _, err := db.SQL().Exec(db.rebind(q), args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// auditEvents returns every event in seq order.
func auditEvents(t testing.TB, db *DB) []*firmward.AuditEvent {
	t.Helper()
	var all []*firmward.AuditEvent
	var after int64
	for {
		evs, next, err := NewAuditService(db).FindAuditEvents(context.Background(), firmward.AuditFilter{After: after, Limit: firmward.MaxPageSize})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, evs...)
		if next == 0 {
			return all
		}
		after = next
	}
}

// verifyOK fails the test unless the audit chain verifies.
func verifyOK(t testing.TB, db *DB) *firmward.AuditReport {
	t.Helper()
	rep, err := NewAuditService(db).VerifyAudit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK {
		t.Fatalf("audit chain broken: %+v", rep)
	}
	return rep
}

// fieldNames returns the Field of each change.
func fieldNames(cs []firmward.FieldChange) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Field)
	}
	return out
}

func ptr[T any](v T) *T { return &v }
