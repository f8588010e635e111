package lifecycle

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/firmward/firmward"
)

// Limits of an end-of-support import.
const (
	MaxEOLRows    = 100_000 // entries in one file
	MaxEOLDetails = 1000    // problems listed before the report is cut short
)

// EOLColumns are the CSV columns of an end-of-support file, in export order.
// manufacturer and end_of_support are required; the others may be absent.
var EOLColumns = []string{"manufacturer", "model", "release_date", "end_of_support", "source"}

// eolReport collects row problems up to MaxEOLDetails.
type eolReport struct {
	details []firmward.ErrorDetail
	more    int
}

func (r *eolReport) add(d firmward.ErrorDetail) {
	if len(r.details) >= MaxEOLDetails {
		r.more++
		return
	}
	r.details = append(r.details, d)
}

// addEntry adds the details of a Normalize error with their line.
func (r *eolReport) addEntry(line int, err error) {
	ds := firmward.ErrorDetails(err)
	if len(ds) == 0 {
		r.add(firmward.ErrorDetail{Line: line, Reason: firmward.ErrorMessage(err)})
	}
	for _, d := range ds {
		d.Line = line
		r.add(d)
	}
}

func (r *eolReport) err() error {
	if len(r.details) == 0 {
		return nil
	}
	n := len(r.details) + r.more
	what := "problems"
	if n == 1 {
		what = "problem"
	}
	msg := fmt.Sprintf("the end-of-support import has %d %s; nothing was imported", n, what)
	if r.more > 0 {
		msg += fmt.Sprintf(" (the first %d are listed)", len(r.details))
	}
	return &firmward.Error{Code: firmward.EINVALID, Message: msg, Details: r.details}
}

// checkDuplicates reports rows naming a manufacturer and model an earlier
// row named.
func (r *eolReport) checkDuplicates(rows []firmward.EOLRow) {
	seen := make(map[string]int, len(rows))
	for _, row := range rows {
		k := row.Entry.EOLKey()
		if first, ok := seen[k]; ok {
			r.add(firmward.ErrorDetail{
				Line: row.Line, Field: "model", Value: row.Entry.Model,
				Reason: fmt.Sprintf("%s %s is already on line %d", row.Entry.Manufacturer, row.Entry.Model, first),
			})
			continue
		}
		seen[k] = row.Line
	}
}

// ReadEOL reads an end-of-support file in format "csv" or "json"; any
// other format is EINVALID.
func ReadEOL(r io.Reader, format string) ([]firmward.EOLRow, error) {
	switch strings.ToLower(format) {
	case "csv":
		return ReadEOLCSV(r)
	case "json":
		return ReadEOLJSON(r)
	}
	return nil, firmward.Errorf(firmward.EINVALID, "format %q: want csv or json", format)
}

// ReadEOLCSV parses a CSV file with a header row naming EOLColumns (any
// order, any case; unknown or repeated columns are refused). Every row is
// normalised; on any problem the EINVALID error lists every bad row by line
// and field, and no rows are returned.
func ReadEOLCSV(r io.Reader) ([]firmward.EOLRow, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, firmward.Errorf(firmward.EINVALID, "the end-of-support file is empty: it needs a header row (%s)", strings.Join(EOLColumns, ","))
	}
	if err != nil {
		return nil, csvError(err)
	}
	cols := make([]string, len(header))
	var rep eolReport
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		switch {
		case !slices.Contains(EOLColumns, h):
			rep.add(firmward.ErrorDetail{Line: 1, Field: h, Reason: "unknown column; the columns are " + strings.Join(EOLColumns, ", ")})
		case slices.Contains(cols[:i], h):
			rep.add(firmward.ErrorDetail{Line: 1, Field: h, Reason: "column appears twice"})
		}
		cols[i] = h
	}
	for _, req := range []string{"manufacturer", "end_of_support"} {
		if !slices.Contains(cols, req) {
			rep.add(firmward.ErrorDetail{Line: 1, Field: req, Reason: "required column is missing"})
		}
	}
	if err := rep.err(); err != nil {
		return nil, err
	}
	var rows []firmward.EOLRow
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvError(err)
		}
		line, _ := cr.FieldPos(0)
		if len(rows) >= MaxEOLRows {
			return nil, firmward.Errorf(firmward.ETOOLARGE, "the file has more than %d rows: split it into several imports", MaxEOLRows)
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		if len(rec) != len(cols) {
			rep.add(firmward.ErrorDetail{Line: line, Reason: fmt.Sprintf("has %d fields; the header has %d", len(rec), len(cols))})
			continue
		}
		var e firmward.EOLEntry
		for i, c := range cols {
			switch c {
			case "manufacturer":
				e.Manufacturer = rec[i]
			case "model":
				e.Model = rec[i]
			case "release_date":
				e.ReleaseDate = rec[i]
			case "end_of_support":
				e.EndOfSupport = rec[i]
			case "source":
				e.Source = rec[i]
			}
		}
		if err := e.Normalize(); err != nil {
			rep.addEntry(line, err)
		}
		rows = append(rows, firmward.EOLRow{Line: line, Entry: e})
	}
	rep.checkDuplicates(rows)
	if err := rep.err(); err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, firmward.Errorf(firmward.EINVALID, "the end-of-support file has a header but no entries")
	}
	return rows, nil
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &firmward.Error{
			Code: firmward.EINVALID, Message: "the end-of-support file is not valid CSV; nothing was imported",
			Details: []firmward.ErrorDetail{{Line: pe.Line, Reason: pe.Err.Error()}},
		}
	}
	return fmt.Errorf("reading the end-of-support file: %w", err)
}

// eolJSON is one record of a JSON import; unknown fields are refused.
type eolJSON struct {
	Manufacturer string `json:"manufacturer"`
	Model        string `json:"model"`
	ReleaseDate  string `json:"release_date"`
	EndOfSupport string `json:"end_of_support"`
	Source       string `json:"source"`
}

// ReadEOLJSON parses a JSON array of entries (or {"entries": [...]}), with
// fields named as EOLColumns. Line in errors and rows is the record number,
// from 1. All or nothing, as ReadEOLCSV.
func ReadEOLJSON(r io.Reader) ([]firmward.EOLRow, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading the end-of-support file: %w", err)
	}
	data = bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\ufeff")))
	if len(data) > 0 && data[0] == '{' {
		var wrap struct {
			Entries json.RawMessage `json:"entries"`
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&wrap); err != nil || wrap.Entries == nil {
			return nil, firmward.Errorf(firmward.EINVALID, "the end-of-support JSON must be an array of entries or {\"entries\": [...]}")
		}
		data = wrap.Entries
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, firmward.Errorf(firmward.EINVALID, "the end-of-support JSON must be an array of entries or {\"entries\": [...]}: %v", err)
	}
	if len(raw) > MaxEOLRows {
		return nil, firmward.Errorf(firmward.ETOOLARGE, "the file has more than %d entries: split it into several imports", MaxEOLRows)
	}
	if len(raw) == 0 {
		return nil, firmward.Errorf(firmward.EINVALID, "the end-of-support file has no entries")
	}
	var rep eolReport
	rows := make([]firmward.EOLRow, 0, len(raw))
	for i, m := range raw {
		n := i + 1
		var j eolJSON
		dec := json.NewDecoder(bytes.NewReader(m))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&j); err != nil {
			var te *json.UnmarshalTypeError
			switch {
			case errors.As(err, &te):
				rep.add(firmward.ErrorDetail{Line: n, Field: te.Field, Reason: "must be a JSON string"})
			case strings.HasPrefix(err.Error(), "json: unknown field "):
				field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
				rep.add(firmward.ErrorDetail{Line: n, Field: field, Reason: "unknown field; the fields are " + strings.Join(EOLColumns, ", ")})
			default:
				rep.add(firmward.ErrorDetail{Line: n, Reason: "must be an object: " + err.Error()})
			}
			continue
		}
		e := firmward.EOLEntry{Manufacturer: j.Manufacturer, Model: j.Model, ReleaseDate: j.ReleaseDate, EndOfSupport: j.EndOfSupport, Source: j.Source}
		if err := e.Normalize(); err != nil {
			rep.addEntry(n, err)
		}
		rows = append(rows, firmward.EOLRow{Line: n, Entry: e})
	}
	rep.checkDuplicates(rows)
	if err := rep.err(); err != nil {
		return nil, err
	}
	return rows, nil
}

// WriteEOLCSV writes entries as a CSV file that ReadEOLCSV reads back.
func WriteEOLCSV(w io.Writer, entries []*firmward.EOLEntry) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(EOLColumns); err != nil {
		return fmt.Errorf("writing CSV: %w", err)
	}
	for _, e := range entries {
		if err := cw.Write([]string{e.Manufacturer, e.Model, e.ReleaseDate, e.EndOfSupport, e.Source}); err != nil {
			return fmt.Errorf("writing CSV: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("writing CSV: %w", err)
	}
	return nil
}
