package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/firmward/firmward"
)

// feedBatch is the number of staged records of one kind that a feed import
// buffers before it looks up what is stored and writes what changed.
const feedBatch = 1000

// maxFilterIDs bounds VulnerabilityFilter.IDs: each ID is a parameter in
// each of three sub-queries.
const maxFilterIDs = 5000

// ChangeRetention is how long the change log of CVEs keeps an entry
// (see VulnerabilityService.VulnerabilityChanges): imports prune older
// ones.
const ChangeRetention = 7 * 24 * time.Hour

// MaxChangesPage bounds a page of VulnerabilityChanges.
const MaxChangesPage = 10000

// cveIDPattern is the shape of a CVE id.
var cveIDPattern = regexp.MustCompile(`^CVE-\d{4}-\d{4,}$`)

// VulnerabilityService stores vulnerability intelligence: one record per
// CVE and source, the KEV catalog and EPSS scores (see
// firmward.VulnerabilityService).
type VulnerabilityService struct {
	db *DB
}

var _ firmward.VulnerabilityService = (*VulnerabilityService)(nil)

// NewVulnerabilityService returns the vulnerability store kept in db.
func NewVulnerabilityService(db *DB) *VulnerabilityService {
	return &VulnerabilityService{db: db}
}

// BeginFeedImport opens the write transaction of one feed file's import.
// The transaction lives until Commit or Rollback; on SQLite it holds the
// writer for that long, so other writes wait. An empty name is EINVALID.
func (s *VulnerabilityService) BeginFeedImport(ctx context.Context, name, format string) (firmward.FeedImport, error) {
	if strings.TrimSpace(name) == "" {
		return nil, firmward.Errorf(firmward.EINVALID, "feed import needs a name (the file it imports)")
	}
	wt, err := s.db.beginWrite(ctx)
	if err != nil {
		return nil, fmt.Errorf("beginning feed import %s: %w", name, err)
	}
	return &feedImport{
		wt:      wt,
		name:    name,
		format:  format,
		changed: make(map[string]struct{}),
	}, nil
}

// feedImport is one open import. It is not safe for concurrent use. Until
// Commit or Rollback it holds a connection (and on SQLite the writer), so
// callers defer Rollback; a cancelled context ends the transaction in the
// database at once, and the next call releases the rest.
type feedImport struct {
	wt           *writeTx
	name, format string

	// Staged rows not yet written; each batch is written when it is full
	// and by Commit.
	vulns []stagedVuln
	kevs  []stagedKEV
	epss  []firmward.EPSSScore

	res     firmward.FeedImportResult // counts so far
	changed map[string]struct{}       // CVEs added or updated so far
	err     error                     // the error that ended the import, if any
}

type stagedVuln struct {
	cve, source  string
	lastModified int64
	data         string
}

type stagedKEV struct {
	e    *firmward.KEVEntry // a copy, with the CVE normalised
	data string
}

// fail ends the import with err: the transaction is rolled back and every
// later call returns err.
func (fi *feedImport) fail(err error) error {
	if fi.err == nil {
		fi.err = err
	}
	_ = fi.wt.rollback()
	return err
}

// check returns the error that ended the import, or the context's error
// (which ends it).
func (fi *feedImport) check(ctx context.Context) error {
	if fi.err != nil {
		return fmt.Errorf("feed import %s was aborted: %w", fi.name, fi.err)
	}
	if fi.wt.done {
		return fmt.Errorf("feed import %s has ended already", fi.name)
	}
	if err := ctx.Err(); err != nil {
		return fi.fail(fmt.Errorf("feed import %s: %w", fi.name, err))
	}
	return nil
}

// invalid returns the EINVALID error of a bad field of a staged record.
func (fi *feedImport) invalid(cve, field, value, reason string) error {
	if cve == "" {
		cve = "record"
	}
	return &firmward.Error{
		Code:    firmward.EINVALID,
		Message: fmt.Sprintf("feed %s: %s: invalid %s", fi.name, cve, field),
		Details: []firmward.ErrorDetail{{Field: field, Value: value, Reason: reason}},
	}
}

// normalizeCVE trims and upper-cases a CVE id.
func normalizeCVE(id string) string { return strings.ToUpper(strings.TrimSpace(id)) }

func (fi *feedImport) checkCVE(id string) (string, error) {
	cve := normalizeCVE(id)
	if !cveIDPattern.MatchString(cve) {
		return "", fi.invalid(id, "id", id, "not a CVE id (want CVE-YYYY-NNNN)")
	}
	return cve, nil
}

// PutVulnerability stages v as the record of source. A malformed id or an
// empty source is EINVALID; any error ends the import, rolled back.
func (fi *feedImport) PutVulnerability(ctx context.Context, source string, v *firmward.Vulnerability) error {
	if err := fi.check(ctx); err != nil {
		return err
	}
	if v == nil {
		return fi.fail(fi.invalid("", "vulnerability", "", "missing"))
	}
	cve, err := fi.checkCVE(v.ID)
	if err != nil {
		return fi.fail(err)
	}
	source = strings.TrimSpace(source)
	if source == "" {
		return fi.fail(fi.invalid(cve, "source", "", "empty"))
	}
	rec := *v
	rec.ID = cve
	rec.Sources = nil // the merge says which sources a CVE has
	data, err := json.Marshal(&rec)
	if err != nil {
		return fi.fail(fi.invalid(cve, "vulnerability", "", err.Error()))
	}
	fi.vulns = append(fi.vulns, stagedVuln{cve: cve, source: source, lastModified: micros(v.LastModified), data: string(data)})
	if len(fi.vulns) >= feedBatch {
		return fi.flushVulns(ctx)
	}
	return nil
}

// PutKEV stages e; it replaces the stored entry of its CVE when any field
// differs.
func (fi *feedImport) PutKEV(ctx context.Context, e *firmward.KEVEntry) error {
	if err := fi.check(ctx); err != nil {
		return err
	}
	if e == nil {
		return fi.fail(fi.invalid("", "kev", "", "missing"))
	}
	cve, err := fi.checkCVE(e.CVE)
	if err != nil {
		return fi.fail(err)
	}
	entry := *e
	entry.CVE = cve
	data, err := json.Marshal(&entry)
	if err != nil {
		return fi.fail(fi.invalid(cve, "kev", "", err.Error()))
	}
	fi.kevs = append(fi.kevs, stagedKEV{e: &entry, data: string(data)})
	if len(fi.kevs) >= feedBatch {
		return fi.flushKEV(ctx)
	}
	return nil
}

// PutEPSS stages s; it replaces the stored score of its CVE when any field
// differs. A score or percentile outside [0, 1] is EINVALID.
func (fi *feedImport) PutEPSS(ctx context.Context, s firmward.EPSSScore) error {
	if err := fi.check(ctx); err != nil {
		return err
	}
	cve, err := fi.checkCVE(s.CVE)
	if err != nil {
		return fi.fail(err)
	}
	s.CVE = cve
	for _, f := range []struct {
		name string
		v    float64
	}{{"score", s.Score}, {"percentile", s.Percentile}} {
		if math.IsNaN(f.v) || f.v < 0 || f.v > 1 {
			return fi.fail(fi.invalid(cve, f.name, strconv.FormatFloat(f.v, 'g', -1, 64), "must be between 0 and 1"))
		}
	}
	fi.epss = append(fi.epss, s)
	if len(fi.epss) >= feedBatch {
		return fi.flushEPSS(ctx)
	}
	return nil
}

// Commit writes what is staged, appends the import's audit event and
// commits. On any error the import is rolled back.
func (fi *feedImport) Commit(ctx context.Context) (*firmward.FeedImportResult, error) {
	if err := fi.check(ctx); err != nil {
		return nil, err
	}
	for _, flush := range []func(context.Context) error{fi.flushVulns, fi.flushKEV, fi.flushEPSS} {
		if err := flush(ctx); err != nil {
			return nil, err
		}
	}
	res := fi.res
	res.Name, res.Format = fi.name, fi.format
	if len(fi.changed) > 0 {
		res.ChangedCVEs = make([]string, 0, len(fi.changed))
		for cve := range fi.changed {
			res.ChangedCVEs = append(res.ChangedCVEs, cve)
		}
		slices.Sort(res.ChangedCVEs)
	}
	ev := &firmward.AuditEvent{
		Action:     firmward.ActionFeedImport,
		ObjectType: "feed",
		ObjectID:   fi.name,
		Changes: []firmward.FieldChange{
			{Field: "format", New: fi.format},
			{Field: "records", New: strconv.Itoa(res.Records)},
			{Field: "added", New: strconv.Itoa(res.Added)},
			{Field: "updated", New: strconv.Itoa(res.Updated)},
			{Field: "unchanged", New: strconv.Itoa(res.Unchanged)},
		},
	}
	if err := appendAudit(ctx, fi.wt.conn, []*firmward.AuditEvent{ev}); err != nil {
		return nil, fi.fail(fmt.Errorf("feed import %s: %w", fi.name, err))
	}
	first, last, err := appendChanges(ctx, fi.wt.conn, res.ChangedCVEs)
	if err != nil {
		return nil, fi.fail(fmt.Errorf("feed import %s: %w", fi.name, err))
	}
	res.FirstChange, res.LastChange = first, last
	if err := fi.wt.commit(); err != nil {
		fi.err = err
		return nil, fmt.Errorf("feed import %s: %w", fi.name, err)
	}
	return &res, nil
}

// Rollback discards the import. It is safe after Commit and after an
// earlier Rollback, and then does nothing.
func (fi *feedImport) Rollback() error {
	fi.vulns, fi.kevs, fi.epss = nil, nil, nil
	return fi.wt.rollback()
}

// count records the outcome of one staged record.
func (fi *feedImport) count(cve string, existed, write bool) {
	fi.res.Records++
	switch {
	case !write:
		fi.res.Unchanged++
		return
	case existed:
		fi.res.Updated++
	default:
		fi.res.Added++
	}
	fi.changed[cve] = struct{}{}
}

// flushVulns writes the staged vulnerability records that are new or newer
// than the stored ones: it reads the stored last_modified of the batch's
// CVEs per source, deletes the rows being replaced and inserts the batch's
// winners in one bulk insert.
func (fi *feedImport) flushVulns(ctx context.Context) error {
	if len(fi.vulns) == 0 {
		return nil
	}
	tx := fi.wt.conn
	type key struct{ cve, source string }
	bySource := map[string][]string{}
	for _, r := range fi.vulns {
		bySource[r.source] = append(bySource[r.source], r.cve)
	}
	stored := make(map[key]int64, len(fi.vulns))
	for source, cves := range bySource {
		err := queryCVEs(ctx, tx, "SELECT cve, last_modified FROM vuln_records WHERE source = ? AND cve IN ", []any{source}, cves,
			func(rows *sql.Rows) error {
				var cve string
				var lm int64
				if err := rows.Scan(&cve, &lm); err != nil {
					return err
				}
				stored[key{cve, source}] = lm
				return nil
			})
		if err != nil {
			return fi.fail(fmt.Errorf("feed import %s: reading stored records: %w", fi.name, err))
		}
	}
	// Decide in order, so that a record repeated in the batch counts as it
	// would one batch later; the last winner of each key is written.
	winner := make(map[key]int, len(fi.vulns))
	replace := map[string][]string{} // source → CVEs whose stored row goes
	for i, r := range fi.vulns {
		k := key{r.cve, r.source}
		lm, existed := stored[k]
		write := !existed || r.lastModified > lm
		fi.count(r.cve, existed, write)
		if !write {
			continue
		}
		if _, pending := winner[k]; existed && !pending {
			replace[r.source] = append(replace[r.source], r.cve)
		}
		winner[k] = i
		stored[k] = r.lastModified
	}
	for source, cves := range replace {
		if err := execCVEs(ctx, tx, "DELETE FROM vuln_records WHERE source = ? AND cve IN ", []any{source}, cves); err != nil {
			return fi.fail(fmt.Errorf("feed import %s: replacing records: %w", fi.name, err))
		}
	}
	rows := make([]int, 0, len(winner))
	for _, i := range winner {
		rows = append(rows, i)
	}
	slices.Sort(rows)
	err := insertRows(ctx, tx, "vuln_records", []string{"cve", "source", "last_modified", "data"}, len(rows),
		func(i int, args []any) ([]any, error) {
			r := &fi.vulns[rows[i]]
			return append(args, r.cve, r.source, r.lastModified, r.data), nil
		})
	if err != nil {
		return fi.fail(fmt.Errorf("feed import %s: %w", fi.name, err))
	}
	clear(fi.vulns)
	fi.vulns = fi.vulns[:0]
	return nil
}

// flushKEV writes the staged KEV entries that are new or differ from the
// stored ones.
func (fi *feedImport) flushKEV(ctx context.Context) error {
	if len(fi.kevs) == 0 {
		return nil
	}
	tx := fi.wt.conn
	cves := make([]string, len(fi.kevs))
	for i, k := range fi.kevs {
		cves[i] = k.e.CVE
	}
	stored := make(map[string]string, len(cves))
	err := queryCVEs(ctx, tx, "SELECT cve, data FROM kev WHERE cve IN ", nil, cves, func(rows *sql.Rows) error {
		var cve, data string
		if err := rows.Scan(&cve, &data); err != nil {
			return err
		}
		stored[cve] = data
		return nil
	})
	if err != nil {
		return fi.fail(fmt.Errorf("feed import %s: reading stored KEV entries: %w", fi.name, err))
	}
	winner := map[string]int{}
	var replace []string
	for i, k := range fi.kevs {
		data, existed := stored[k.e.CVE]
		write := !existed || data != k.data
		fi.count(k.e.CVE, existed, write)
		if !write {
			continue
		}
		if _, pending := winner[k.e.CVE]; existed && !pending {
			replace = append(replace, k.e.CVE)
		}
		winner[k.e.CVE] = i
		stored[k.e.CVE] = k.data
	}
	if err := execCVEs(ctx, tx, "DELETE FROM kev WHERE cve IN ", nil, replace); err != nil {
		return fi.fail(fmt.Errorf("feed import %s: replacing KEV entries: %w", fi.name, err))
	}
	rows := sortedValues(winner)
	err = insertRows(ctx, tx, "kev", []string{"cve", "data", "date_added", "due_date", "ransomware"}, len(rows),
		func(i int, args []any) ([]any, error) {
			k := fi.kevs[rows[i]]
			return append(args, k.e.CVE, k.data, k.e.DateAdded, k.e.DueDate, k.e.KnownRansomwareUse), nil
		})
	if err != nil {
		return fi.fail(fmt.Errorf("feed import %s: %w", fi.name, err))
	}
	clear(fi.kevs)
	fi.kevs = fi.kevs[:0]
	return nil
}

// flushEPSS writes the staged EPSS scores that are new or differ from the
// stored ones.
func (fi *feedImport) flushEPSS(ctx context.Context) error {
	if len(fi.epss) == 0 {
		return nil
	}
	tx := fi.wt.conn
	cves := make([]string, len(fi.epss))
	for i, s := range fi.epss {
		cves[i] = s.CVE
	}
	stored := make(map[string]firmward.EPSSScore, len(cves))
	err := queryCVEs(ctx, tx, "SELECT cve, score, percentile, score_date, model_version FROM epss WHERE cve IN ", nil, cves,
		func(rows *sql.Rows) error {
			var s firmward.EPSSScore
			if err := rows.Scan(&s.CVE, &s.Score, &s.Percentile, &s.ScoreDate, &s.ModelVersion); err != nil {
				return err
			}
			stored[s.CVE] = s
			return nil
		})
	if err != nil {
		return fi.fail(fmt.Errorf("feed import %s: reading stored EPSS scores: %w", fi.name, err))
	}
	winner := map[string]int{}
	var replace []string
	for i, s := range fi.epss {
		old, existed := stored[s.CVE]
		write := !existed || old != s
		fi.count(s.CVE, existed, write)
		if !write {
			continue
		}
		if _, pending := winner[s.CVE]; existed && !pending {
			replace = append(replace, s.CVE)
		}
		winner[s.CVE] = i
		stored[s.CVE] = s
	}
	if err := execCVEs(ctx, tx, "DELETE FROM epss WHERE cve IN ", nil, replace); err != nil {
		return fi.fail(fmt.Errorf("feed import %s: replacing EPSS scores: %w", fi.name, err))
	}
	rows := sortedValues(winner)
	err = insertRows(ctx, tx, "epss", []string{"cve", "score", "percentile", "score_date", "model_version"}, len(rows),
		func(i int, args []any) ([]any, error) {
			s := &fi.epss[rows[i]]
			return append(args, s.CVE, s.Score, s.Percentile, s.ScoreDate, s.ModelVersion), nil
		})
	if err != nil {
		return fi.fail(fmt.Errorf("feed import %s: %w", fi.name, err))
	}
	fi.epss = fi.epss[:0]
	return nil
}

func sortedValues(m map[string]int) []int {
	out := make([]int, 0, len(m))
	for _, i := range m {
		out = append(out, i)
	}
	slices.Sort(out)
	return out
}

// queryCVEs runs head + "(?, …)" with args followed by the CVEs, in
// chunks that stay under maxParams, and calls fn for each row.
func queryCVEs(ctx context.Context, c conn, head string, args []any, cves []string, fn func(rows *sql.Rows) error) error {
	per := maxParams - len(args)
	for start := 0; start < len(cves); start += per {
		chunk := cves[start:min(start+per, len(cves))]
		if err := queryChunk(ctx, c, head, args, chunk, fn); err != nil {
			return err
		}
	}
	return nil
}

func queryChunk(ctx context.Context, c conn, head string, args []any, cves []string, fn func(rows *sql.Rows) error) error {
	all := make([]any, 0, len(args)+len(cves))
	all = append(all, args...)
	for _, cve := range cves {
		all = append(all, cve)
	}
	rows, err := c.query(ctx, head+"("+inList(len(cves))+")", all...)
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

// execCVEs runs head + "(?, …)" with args followed by the CVEs, in chunks
// that stay under maxParams.
func execCVEs(ctx context.Context, c conn, head string, args []any, cves []string) error {
	per := maxParams - len(args)
	for start := 0; start < len(cves); start += per {
		chunk := cves[start:min(start+per, len(cves))]
		all := make([]any, 0, len(args)+len(chunk))
		all = append(all, args...)
		for _, cve := range chunk {
			all = append(all, cve)
		}
		if _, err := c.exec(ctx, head+"("+inList(len(chunk))+")", all...); err != nil {
			return err
		}
	}
	return nil
}

// FindVulnerabilityByID returns the merged record of the CVE id, or
// ENOTFOUND when nothing is stored about it (no record, KEV entry or EPSS
// score). A malformed id is ENOTFOUND too.
func (s *VulnerabilityService) FindVulnerabilityByID(ctx context.Context, id string) (*firmward.VulnerabilityRecord, error) {
	cve := normalizeCVE(id)
	var recs []*firmward.VulnerabilityRecord
	if cveIDPattern.MatchString(cve) {
		err := s.db.snapshot(ctx, func(tx conn) error {
			var err error
			recs, err = loadVulnerabilities(ctx, tx, []string{cve})
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	if len(recs) == 0 {
		return nil, firmward.Errorf(firmward.ENOTFOUND, "vulnerability %s not found", id)
	}
	return recs[0], nil
}

// FindVulnerabilities returns one page of merged records in CVE order: the
// CVEs with any record, KEV entry or EPSS score (with f.KEV, those in the
// KEV catalog), limited to f.IDs when given, after f.After. The cursor of
// the next page is "" at the end. More than 5,000 IDs are EINVALID.
func (s *VulnerabilityService) FindVulnerabilities(ctx context.Context, f firmward.VulnerabilityFilter) ([]*firmward.VulnerabilityRecord, string, error) {
	if len(f.IDs) > maxFilterIDs {
		return nil, "", firmward.Errorf(firmward.EINVALID, "at most %d CVE ids per query, got %d", maxFilterIDs, len(f.IDs))
	}
	ids := make([]string, 0, len(f.IDs))
	for _, id := range f.IDs {
		ids = append(ids, normalizeCVE(id))
	}
	if f.IDs != nil && len(ids) == 0 {
		return nil, "", nil
	}
	limit := pageSize(f.Limit)

	// Each table's next CVEs after the cursor, then the first of their union:
	// every branch stops after limit+1 rows of its primary key.
	branch := func(table string, distinct bool) (string, []any) {
		q := "SELECT cve FROM " + table + " WHERE cve > ?"
		if f.Described && table != "vuln_records" {
			q += " AND cve IN (SELECT cve FROM vuln_records)"
		}
		args := []any{normalizeCVE(f.After)}
		if len(ids) > 0 {
			q += " AND cve IN (" + inList(len(ids)) + ")"
			for _, id := range ids {
				args = append(args, id)
			}
		}
		if distinct {
			q = strings.Replace(q, "SELECT cve", "SELECT DISTINCT cve", 1)
		}
		return q + " ORDER BY cve LIMIT ?", append(args, limit+1)
	}
	var parts []string
	var args []any
	var tables []string
	switch {
	case f.KEV:
		tables = []string{"kev"}
	case f.Described:
		tables = []string{"vuln_records"}
	default:
		tables = []string{"vuln_records", "kev", "epss"}
	}
	for i, table := range tables {
		q, a := branch(table, table == "vuln_records")
		parts = append(parts, "SELECT cve FROM ("+q+") b"+strconv.Itoa(i))
		args = append(args, a...)
	}
	q := "SELECT cve FROM (" + strings.Join(parts, " UNION ") + ") u ORDER BY cve LIMIT ?"
	args = append(args, limit+1)

	var out []*firmward.VulnerabilityRecord
	err := s.db.snapshot(ctx, func(tx conn) error {
		var page []string
		rows, err := tx.query(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("listing vulnerabilities: %w", err)
		}
		defer func() { _ = rows.Close() }()
		for rows.Next() {
			var cve string
			if err := rows.Scan(&cve); err != nil {
				return fmt.Errorf("listing vulnerabilities: %w", err)
			}
			page = append(page, cve)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("listing vulnerabilities: %w", err)
		}
		out, err = loadVulnerabilities(ctx, tx, page)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	return out, next, nil
}

// loadVulnerabilities reads the records, KEV entries and EPSS scores of
// cves (one query each) and returns the merged record of each CVE that has
// any, in CVE order.
func loadVulnerabilities(ctx context.Context, tx conn, cves []string) ([]*firmward.VulnerabilityRecord, error) {
	if len(cves) == 0 {
		return nil, nil
	}
	type sourced struct {
		source string
		v      *firmward.Vulnerability
	}
	records := map[string][]sourced{}
	kev := map[string]*firmward.KEVEntry{}
	epss := map[string]*firmward.EPSSScore{}
	type raw struct{ cve, source, data string }
	var raws []raw
	err := queryCVEs(ctx, tx, "SELECT cve, source, data FROM vuln_records WHERE cve IN ", nil, cves, func(rows *sql.Rows) error {
		var r raw
		if err := rows.Scan(&r.cve, &r.source, &r.data); err != nil {
			return err
		}
		raws = append(raws, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading vulnerability records: %w", err)
	}
	// Decoding the JSON is most of the cost of a page: spread it over
	// the CPUs.
	vs := make([]firmward.Vulnerability, len(raws))
	errs := make([]error, len(raws))
	parallelChunks(len(raws), func(i int) {
		if err := json.Unmarshal([]byte(raws[i].data), &vs[i]); err != nil {
			errs[i] = fmt.Errorf("%s record of %s: %w", raws[i].source, raws[i].cve, err)
		}
	})
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("reading vulnerability records: %w", err)
	}
	for i, r := range raws {
		records[r.cve] = append(records[r.cve], sourced{r.source, &vs[i]})
	}
	err = queryCVEs(ctx, tx, "SELECT cve, data FROM kev WHERE cve IN ", nil, cves, func(rows *sql.Rows) error {
		var cve, data string
		if err := rows.Scan(&cve, &data); err != nil {
			return err
		}
		var e firmward.KEVEntry
		if err := json.Unmarshal([]byte(data), &e); err != nil {
			return fmt.Errorf("KEV entry of %s: %w", cve, err)
		}
		kev[cve] = &e
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading KEV entries: %w", err)
	}
	err = queryCVEs(ctx, tx, "SELECT cve, score, percentile, score_date, model_version FROM epss WHERE cve IN ", nil, cves,
		func(rows *sql.Rows) error {
			var s firmward.EPSSScore
			if err := rows.Scan(&s.CVE, &s.Score, &s.Percentile, &s.ScoreDate, &s.ModelVersion); err != nil {
				return err
			}
			epss[s.CVE] = &s
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("reading EPSS scores: %w", err)
	}

	sorted := slices.Clone(cves)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	var out []*firmward.VulnerabilityRecord
	for _, cve := range sorted {
		recs := records[cve]
		if len(recs) == 0 && kev[cve] == nil && epss[cve] == nil {
			continue
		}
		slices.SortFunc(recs, func(a, b sourced) int { return compareSources(a.source, b.source) })
		srcs := make([]string, len(recs))
		vs := make([]*firmward.Vulnerability, len(recs))
		for i, r := range recs {
			srcs[i], vs[i] = r.source, r.v
		}
		out = append(out, &firmward.VulnerabilityRecord{
			Vulnerability: mergeVulnerability(cve, srcs, vs),
			KEV:           kev[cve],
			EPSS:          epss[cve],
		})
	}
	return out, nil
}

// sourceRank orders sources for the merge: NVD, then CVE 5.x, then CSAF
// advisories, then anything else.
func sourceRank(source string) int {
	switch {
	case source == firmward.SourceNVD:
		return 0
	case source == firmward.SourceCVE5:
		return 1
	case strings.HasPrefix(source, "csaf:"):
		return 2
	}
	return 3
}

func compareSources(a, b string) int {
	if ra, rb := sourceRank(a), sourceRank(b); ra != rb {
		return ra - rb
	}
	return strings.Compare(a, b)
}

// mergeVulnerability merges the records of one CVE, given in merge order
// (see compareSources). The first record is the base: its description,
// dates, CWEs, configurations, CVSS and references (NVD's, when there is an
// NVD record). The others add their Affected products (tagged with their
// source when they do not say one), the first SSVC values found, CVSS
// scores only while there are none, and fill a missing description, CWEs,
// references and publication date. LastModified is the newest of all.
func mergeVulnerability(cve string, sources []string, recs []*firmward.Vulnerability) firmward.Vulnerability {
	m := firmward.Vulnerability{ID: cve, Sources: sources}
	if m.Sources == nil {
		m.Sources = []string{}
	}
	for i, r := range recs {
		if i == 0 {
			m.Published, m.Description = r.Published, r.Description
			m.CWEs, m.Configurations, m.References = r.CWEs, r.Configurations, r.References
		}
		if r.LastModified.After(m.LastModified) {
			m.LastModified = r.LastModified
		}
		if m.Published.IsZero() {
			m.Published = r.Published
		}
		if m.Description == "" {
			m.Description = r.Description
		}
		if len(m.CWEs) == 0 {
			m.CWEs = r.CWEs
		}
		if len(m.References) == 0 {
			m.References = r.References
		}
		if len(m.CVSS) == 0 {
			m.CVSS = r.CVSS
		}
		if m.SSVC == nil && r.SSVC != nil {
			m.SSVC = r.SSVC
		}
		for _, a := range r.Affected {
			if a.Source == "" {
				a.Source = sources[i]
			}
			m.Affected = append(m.Affected, a)
		}
	}
	return m
}

// parallelChunks calls fn(i) for every i below n, on every CPU.
func parallelChunks(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), (n+63)/64)
	if workers <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				lo := int(next.Add(64)) - 64
				if lo >= n {
					return
				}
				for i := lo; i < min(lo+64, n); i++ {
					fn(i)
				}
			}
		})
	}
	wg.Wait()
}

// appendChanges appends one vuln_changes row per CVE (in the import's
// transaction) and prunes the rows older than ChangeRetention. It returns
// the seq of the first and last row appended, 0 and 0 for none.
//
// Entries must become visible in seq order, or a reader could pass over a
// seq committed after a greater one: SQLite has one writer at a time, and
// on PostgreSQL the table lock, held until commit, keeps other imports
// from drawing a seq in between. It does not block readers.
func appendChanges(ctx context.Context, tx conn, cves []string) (first, last int64, err error) {
	if tx.db.dialect == postgres {
		if _, err := tx.exec(ctx, "LOCK TABLE vuln_changes IN SHARE ROW EXCLUSIVE MODE"); err != nil {
			return 0, 0, fmt.Errorf("locking the change log: %w", err)
		}
	}
	now := tx.db.nowUTC()
	var old sql.NullInt64
	err = tx.queryRow(ctx, "SELECT MAX(seq) FROM vuln_changes WHERE changed_at < ?", micros(now.Add(-ChangeRetention))).Scan(&old)
	if err != nil {
		return 0, 0, fmt.Errorf("finding old changes: %w", err)
	}
	if old.Valid {
		if _, err := tx.exec(ctx, "DELETE FROM vuln_changes WHERE seq <= ?", old.Int64); err != nil {
			return 0, 0, fmt.Errorf("pruning old changes: %w", err)
		}
		if _, err := tx.exec(ctx, "UPDATE vuln_changes_pruned SET seq = ? WHERE id = 1 AND seq < ?", old.Int64, old.Int64); err != nil {
			return 0, 0, fmt.Errorf("recording pruned changes: %w", err)
		}
	}
	if len(cves) == 0 {
		return 0, 0, nil
	}
	var before int64
	if err := tx.queryRow(ctx, "SELECT COALESCE(MAX(seq), 0) FROM vuln_changes").Scan(&before); err != nil {
		return 0, 0, fmt.Errorf("reading the change log: %w", err)
	}
	at := micros(now)
	err = insertRows(ctx, tx, "vuln_changes", []string{"cve", "changed_at"}, len(cves), func(i int, args []any) ([]any, error) {
		return append(args, cves[i], at), nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("appending to the change log: %w", err)
	}
	if err := tx.queryRow(ctx, "SELECT MIN(seq), MAX(seq) FROM vuln_changes WHERE seq > ?", before).Scan(&first, &last); err != nil {
		return 0, 0, fmt.Errorf("reading the change log: %w", err)
	}
	return first, last, nil
}

// VulnerabilityChanges returns the change log after seq after: at most
// limit entries in seq order (at most MaxChangesPage; none with limit 0,
// for the newest seq alone), and the newest seq. When entries after after
// were pruned (older than ChangeRetention), it returns no entries and
// Truncated. A negative after or limit is EINVALID.
func (s *VulnerabilityService) VulnerabilityChanges(ctx context.Context, after int64, limit int) (*firmward.VulnerabilityChanges, error) {
	if after < 0 || limit < 0 {
		return nil, firmward.Errorf(firmward.EINVALID, "change log: after %d and limit %d must not be negative", after, limit)
	}
	limit = min(limit, MaxChangesPage)
	out := &firmward.VulnerabilityChanges{Changes: []firmward.VulnerabilityChange{}}
	err := s.db.snapshot(ctx, func(tx conn) error {
		var pruned, newest int64
		err := tx.queryRow(ctx, "SELECT p.seq, COALESCE((SELECT MAX(seq) FROM vuln_changes), 0) FROM vuln_changes_pruned p WHERE p.id = 1").
			Scan(&pruned, &newest)
		if err != nil {
			return fmt.Errorf("reading the change log: %w", err)
		}
		out.Newest = max(newest, pruned)
		if after < pruned {
			out.Truncated = true
			return nil
		}
		if limit == 0 || after >= newest {
			return nil
		}
		rows, err := tx.query(ctx, "SELECT seq, cve, changed_at FROM vuln_changes WHERE seq > ? ORDER BY seq LIMIT ?", after, limit)
		if err != nil {
			return fmt.Errorf("reading the change log: %w", err)
		}
		defer func() { _ = rows.Close() }()
		for rows.Next() {
			var c firmward.VulnerabilityChange
			var at int64
			if err := rows.Scan(&c.Seq, &c.CVE, &at); err != nil {
				return fmt.Errorf("reading the change log: %w", err)
			}
			c.ChangedAt = fromMicros(at)
			out.Changes = append(out.Changes, c)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("reading the change log: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
