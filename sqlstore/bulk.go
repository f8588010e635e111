package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/firmward/firmward"
)

// This file holds the bulk insert path and appendJSONChanges, the
// allocation-light JSON encoding of audit changes that imports write 100,000
// times in a row (bulk_test.go checks it against json.Marshal).

// appendJSONChanges appends the JSON array of changes to b: what
// json.Marshal would write, minus its HTML escaping and with empty "old"
// and "new" left out (a creation has no old values), which decodes to the
// same changes. Invalid UTF-8 becomes U+FFFD, as with json.Marshal; the
// store passes only valid text (see storable).
func appendJSONChanges(b []byte, changes []firmward.FieldChange) []byte {
	b = append(b, '[')
	for i, c := range changes {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"field":`...)
		b = appendJSONString(b, c.Field)
		if c.Old != "" {
			b = append(b, `,"old":`...)
			b = appendJSONString(b, c.Old)
		}
		if c.New != "" {
			b = append(b, `,"new":`...)
			b = appendJSONString(b, c.New)
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendJSONString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			switch {
			case r == utf8.RuneError && size == 1:
				b = append(b, s[start:i]...)
				b = append(b, `\ufffd`...)
				start = i + size
			case r == '\u2028' || r == '\u2029':
				b = append(b, s[start:i]...)
				b = append(b, `\u202`...)
				b = append(b, hexDigits[r&0xf])
				start = i + size
			}
			i += size
			continue
		}
		if c >= 0x20 && c != '"' && c != '\\' {
			i++
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// copyThreshold is the number of rows from which insertRows uses COPY on
// PostgreSQL.
const copyThreshold = 200

// insertRows inserts n rows into table; row(i, args) appends the values of
// row i, in the order of cols, to args.
//
// SQLite gets multi-row INSERTs of up to 1000 rows, within maxParams
// parameters, with one prepared statement for the full batches. PostgreSQL
// gets the same for a few rows and COPY for many: multi-row INSERTs there
// spend as much time parsing and binding as inserting, while COPY streams
// the rows and the server inserts them as they come (an import of 100,000
// devices takes half the time).
func insertRows(ctx context.Context, tx conn, table string, cols []string, n int, row func(i int, args []any) ([]any, error)) error {
	if n == 0 {
		return nil
	}
	if tx.db.dialect == postgres && tx.raw != nil && n >= copyThreshold {
		return copyRows(ctx, tx, table, cols, n, row)
	}
	per := min(maxParams/len(cols), 1000)
	head := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES "
	var full *sql.Stmt
	defer func() {
		if full != nil {
			_ = full.Close()
		}
	}()
	args := make([]any, 0, min(n, per)*len(cols))
	for start := 0; start < n; start += per {
		end := min(start+per, n)
		clear(args) // drop references to the last batch's values
		args = args[:0]
		for i := start; i < end; i++ {
			var err error
			if args, err = row(i, args); err != nil {
				return err
			}
		}
		if len(args) != (end-start)*len(cols) {
			return fmt.Errorf("inserting into %s: %d values for %d rows of %d columns", table, len(args), end-start, len(cols))
		}
		var err error
		if end-start == per {
			if full == nil {
				if full, err = tx.prepare(ctx, head+placeholders(per, len(cols))); err != nil {
					return fmt.Errorf("preparing insert into %s: %w", table, err)
				}
			}
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.exec(ctx, head+placeholders(end-start, len(cols)), args...)
		}
		if err != nil {
			return fmt.Errorf("inserting into %s: %w", table, err)
		}
	}
	return nil
}

// copyRows is insertRows through PostgreSQL's COPY, on the transaction's
// connection.
func copyRows(ctx context.Context, tx conn, table string, cols []string, n int, row func(i int, args []any) ([]any, error)) error {
	err := tx.raw.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("not a pgx connection: %T", dc)
		}
		i := 0
		args := make([]any, 0, len(cols))
		src := pgx.CopyFromFunc(func() ([]any, error) {
			if i == n {
				return nil, nil
			}
			var err error
			if args, err = row(i, args[:0]); err != nil {
				return nil, err
			}
			i++
			return args, nil
		})
		copied, err := sc.Conn().CopyFrom(ctx, pgx.Identifier{table}, cols, src)
		if err == nil && copied != int64(n) {
			err = fmt.Errorf("copied %d rows of %d", copied, n)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("copying into %s: %w", table, err)
	}
	return nil
}
