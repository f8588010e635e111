package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testSchemaGolden compares the schema the migrations build with
// testdata/schema.<dialect>.sql; go test -run SchemaGolden -update
// rewrites it.
func testSchemaGolden(t *testing.T, b backend) {
	db := b.open(t, Options{})
	got, err := dumpSchema(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "schema."+db.Dialect()+".sql")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run SchemaGolden -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("schema differs from %s (run go test ./sqlstore -run SchemaGolden -update after checking the change):\n%s",
			path, lineDiff(string(want), got))
	}
}

// dumpSchema describes the tables, columns, constraints and indexes of the
// database in a stable text form.
func dumpSchema(ctx context.Context, db *DB) (string, error) {
	var b strings.Builder
	if db.dialect == sqliteDialect {
		b.WriteString("-- SQLite schema built by the migrations (sqlite_master). Generated: go test -run SchemaGolden -update\n\n")
		rows, err := db.SQL().QueryContext(ctx, `SELECT sql FROM sqlite_master
			WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'
			ORDER BY tbl_name, CASE type WHEN 'table' THEN 0 ELSE 1 END, name`)
		if err != nil {
			return "", err
		}
		defer func() { _ = rows.Close() }()
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				return "", err
			}
			b.WriteString(s + ";\n\n")
		}
		return b.String(), rows.Err()
	}

	b.WriteString("-- PostgreSQL schema built by the migrations (information_schema, pg_catalog). Generated: go test -run SchemaGolden -update\n")
	var schema string
	if err := db.SQL().QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return "", err
	}
	each := func(q string, fn func(rows *sql.Rows) error) error {
		rows, err := db.SQL().QueryContext(ctx, q, schema)
		if err != nil {
			return err
		}
		defer func() { _ = rows.Close() }()
		for rows.Next() {
			if err := fn(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	table := ""
	err := each(`SELECT table_name, column_name, data_type, is_nullable, COALESCE(column_default, ''), is_identity
		FROM information_schema.columns WHERE table_schema = $1 ORDER BY table_name, ordinal_position`,
		func(rows *sql.Rows) error {
			var tbl, col, typ, nullable, def, identity string
			if err := rows.Scan(&tbl, &col, &typ, &nullable, &def, &identity); err != nil {
				return err
			}
			if tbl != table {
				fmt.Fprintf(&b, "\nTABLE %s\n", tbl)
				table = tbl
			}
			fmt.Fprintf(&b, "    %s %s", col, typ)
			if nullable == "NO" {
				b.WriteString(" NOT NULL")
			}
			if def != "" {
				b.WriteString(" DEFAULT " + def)
			}
			if identity == "YES" {
				b.WriteString(" IDENTITY")
			}
			b.WriteString("\n")
			return nil
		})
	if err != nil {
		return "", err
	}
	b.WriteString("\n")
	err = each(`SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
		FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
		WHERE n.nspname = $1 ORDER BY 1, 2`,
		func(rows *sql.Rows) error {
			var tbl, name, def string
			if err := rows.Scan(&tbl, &name, &def); err != nil {
				return err
			}
			fmt.Fprintf(&b, "CONSTRAINT %s.%s %s\n", tbl, name, def)
			return nil
		})
	if err != nil {
		return "", err
	}
	b.WriteString("\n")
	err = each(`SELECT indexdef FROM pg_indexes WHERE schemaname = $1 ORDER BY tablename, indexname`,
		func(rows *sql.Rows) error {
			var def string
			if err := rows.Scan(&def); err != nil {
				return err
			}
			b.WriteString(def + ";\n")
			return nil
		})
	if err != nil {
		return "", err
	}
	return strings.ReplaceAll(b.String(), schema+".", ""), nil
}

// lineDiff lists the lines only in want (-) and only in got (+).
func lineDiff(want, got string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	w, g := in(want), in(got)
	var b strings.Builder
	for _, l := range strings.Split(want, "\n") {
		if !g[l] {
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range strings.Split(got, "\n") {
		if !w[l] {
			b.WriteString("+ " + l + "\n")
		}
	}
	return b.String()
}
