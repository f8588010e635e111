// Package inventory reads and writes device inventories as CSV and JSON.
//
// It is pure logic over the domain types: readers parse and normalise every
// row and report every problem at once, with its line and column, so that an
// import is all-or-nothing; writers stream, and what they write reads back
// into the same inventory.
package inventory

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/firmward/firmward"
)

// Columns are the CSV columns in export order: DESIGN.md's columns plus
// every other device field. ReadCSV accepts them in any order.
var Columns = []string{
	"name", "manufacturer", "model", "hardware_version", "firmware_version", "serial",
	"category", "criticality", "exposure", "update_mechanism", "auto_update",
	"mac", "ip", "site", "location", "owner", "segment", "cpe", "eol_date",
	"purchase_date", "replacement_cost", "tags", "source", "first_seen", "last_seen", "notes",
}

// aliases maps other accepted spellings to a column of Columns.
var aliases = map[string]string{"macs": "mac", "ips": "ip", "tag": "tags"}

// Limits of one import.
const (
	MaxRows    = 1_000_000 // rows in one file
	MaxDetails = 1000      // problems listed before the report is cut short
)

// ListSeparator separates the values of list columns (mac, ip, tags).
const ListSeparator = ";"

// errorReport collects row problems up to MaxDetails.
type errorReport struct {
	details []firmward.ErrorDetail
	rows    map[int]bool
	more    int
	macs    map[string]int // MAC → line that holds it
}

// checkMACs reports MACs that an earlier row of the same file already holds.
func (r *errorReport) checkMACs(line int, field string, macs []string) {
	if r.macs == nil {
		r.macs = map[string]int{}
	}
	for _, m := range macs {
		if first, ok := r.macs[m]; ok {
			r.add(firmward.ErrorDetail{Line: line, Field: field, Value: m, Reason: fmt.Sprintf("MAC is already on line %d of this file; a MAC belongs to one device", first)})
			continue
		}
		r.macs[m] = line
	}
}

func (r *errorReport) add(d firmward.ErrorDetail) {
	if r.rows == nil {
		r.rows = map[int]bool{}
	}
	r.rows[d.Line] = true
	if len(r.details) >= MaxDetails {
		r.more++
		return
	}
	r.details = append(r.details, d)
}

func (r *errorReport) addDevice(line int, err error) {
	for _, d := range firmward.ErrorDetails(err) {
		d.Line = line
		r.add(d)
	}
	if len(firmward.ErrorDetails(err)) == 0 {
		r.add(firmward.ErrorDetail{Line: line, Reason: err.Error()})
	}
}

func (r *errorReport) err(what string) error {
	if len(r.details) == 0 {
		return nil
	}
	msg := fmt.Sprintf("%s refused: %d rows have problems; nothing was imported", what, len(r.rows))
	if len(r.rows) == 1 {
		msg = what + " refused: 1 row has problems; nothing was imported"
	}
	if r.more > 0 {
		msg += fmt.Sprintf(" (%d further problems not listed)", r.more)
	}
	return &firmward.Error{Code: firmward.EINVALID, Message: msg, Details: r.details}
}

// ReadCSV parses a CSV inventory. The first row is the header; column names
// are case-insensitive, in any order; unknown and repeated columns are
// refused by name and "name" is required. List columns hold values separated
// by ";". Every row is normalised (see firmward.Device.Normalize); the error,
// an EINVALID *firmward.Error, lists every bad row with its line and column.
func ReadCSV(r io.Reader) ([]firmward.ImportRow, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, firmward.Errorf(firmward.EINVALID, "the CSV file is empty: the first line must be a header row such as %q", strings.Join(Columns[:4], ","))
	}
	if err != nil {
		return nil, csvError(err)
	}
	cols, err := parseHeader(header)
	if err != nil {
		return nil, err
	}
	var rep errorReport
	var rows []firmward.ImportRow
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// A quoting error leaves the reader lost: report what we have.
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				rep.add(firmward.ErrorDetail{Line: pe.Line, Reason: "malformed CSV: " + pe.Err.Error()})
				return nil, rep.err("import")
			}
			return nil, fmt.Errorf("reading CSV: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if len(rows) >= MaxRows {
			return nil, firmward.Errorf(firmward.ETOOLARGE, "the file has more than %d rows: split it into several imports", MaxRows)
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // blank line with spaces
		}
		if len(rec) != len(cols) {
			rep.add(firmward.ErrorDetail{Line: line, Reason: fmt.Sprintf("has %d fields, the header has %d", len(rec), len(cols))})
			continue
		}
		d, problems := deviceFromRecord(cols, rec)
		for _, p := range problems {
			p.Line = line
			rep.add(p)
		}
		if err := d.Normalize(); err != nil {
			rep.addDevice(line, columnNames(err))
		}
		rep.checkMACs(line, "mac", d.MACs)
		rows = append(rows, firmward.ImportRow{Line: line, Device: d})
	}
	if err := rep.err("import"); err != nil {
		return nil, err
	}
	return rows, nil
}

// columnNames renames the JSON field names in a validation error to the CSV
// columns the user wrote (macs → mac, ips → ip).
func columnNames(err error) error {
	var e *firmward.Error
	if !errors.As(err, &e) {
		return err
	}
	for i, d := range e.Details {
		for col, field := range map[string]string{"mac": "macs", "ip": "ips"} {
			if d.Field == field {
				e.Details[i].Field = col
			}
		}
	}
	return e
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &firmward.Error{Code: firmward.EINVALID, Message: "malformed CSV", Details: []firmward.ErrorDetail{{Line: pe.Line, Reason: pe.Err.Error()}}}
	}
	return fmt.Errorf("reading CSV: %w", err)
}

func parseHeader(header []string) ([]string, error) {
	cols := make([]string, len(header))
	var details []firmward.ErrorDetail
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		if i == 0 {
			name = strings.TrimPrefix(name, "\ufeff") // byte-order mark
		}
		if a, ok := aliases[name]; ok {
			name = a
		}
		switch {
		case !slices.Contains(Columns, name):
			details = append(details, firmward.ErrorDetail{Line: 1, Field: h, Reason: "unknown column; known columns are " + strings.Join(Columns, ", ")})
		case slices.Contains(cols[:i], name):
			details = append(details, firmward.ErrorDetail{Line: 1, Field: h, Reason: "column appears twice"})
		}
		cols[i] = name
	}
	if len(details) == 0 && !slices.Contains(cols, "name") {
		details = append(details, firmward.ErrorDetail{Line: 1, Field: "name", Reason: "the header has no name column; every device needs a name"})
	}
	if len(details) > 0 {
		return nil, &firmward.Error{Code: firmward.EINVALID, Message: "the CSV header is not valid; nothing was imported", Details: details}
	}
	return cols, nil
}

// deviceFromRecord fills a device from one CSV record; it reports values
// that cannot even be parsed (numbers, times). Normalize checks the rest.
func deviceFromRecord(cols, rec []string) (firmward.Device, []firmward.ErrorDetail) {
	var d firmward.Device
	var problems []firmward.ErrorDetail
	for i, col := range cols {
		v := unescapeCell(rec[i])
		switch col {
		case "name":
			d.Name = v
		case "manufacturer":
			d.Manufacturer = v
		case "model":
			d.Model = v
		case "hardware_version":
			d.HardwareVersion = v
		case "firmware_version":
			d.FirmwareVersion = v
		case "serial":
			d.Serial = v
		case "category":
			d.Category = firmward.Category(v)
		case "criticality":
			d.Criticality = firmward.Criticality(v)
		case "exposure":
			d.Exposure = firmward.Exposure(v)
		case "update_mechanism":
			d.UpdateMechanism = firmward.UpdateMechanism(v)
		case "auto_update":
			d.AutoUpdate = firmward.AutoUpdate(v)
		case "mac":
			d.MACs = splitList(v)
		case "ip":
			d.IPs = splitList(v)
		case "site":
			d.Site = v
		case "location":
			d.Location = v
		case "owner":
			d.Owner = v
		case "segment":
			d.Segment = v
		case "cpe":
			d.CPE = v
		case "eol_date":
			d.EOLDate = v
		case "purchase_date":
			d.PurchaseDate = v
		case "replacement_cost":
			if s := strings.TrimSpace(v); s != "" {
				f, err := strconv.ParseFloat(s, 64)
				if err != nil {
					problems = append(problems, firmward.ErrorDetail{Field: col, Value: v, Reason: "must be a number"})
				}
				d.ReplacementCost = f
			}
		case "tags":
			d.Tags = splitList(v)
		case "source":
			d.Source = firmward.Source(v)
		case "first_seen", "last_seen":
			if s := strings.TrimSpace(v); s != "" {
				t, err := time.Parse(time.RFC3339, s)
				if err != nil {
					problems = append(problems, firmward.ErrorDetail{Field: col, Value: v, Reason: "must be a time such as 2026-01-31T14:05:00Z"})
					continue
				}
				t = t.UTC()
				if col == "first_seen" {
					d.FirstSeen = &t
				} else {
					d.LastSeen = &t
				}
			}
		case "notes":
			d.Notes = v
		}
	}
	return d, problems
}

func splitList(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '\n' })
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Cells that start with one of these characters are run as formulas by
// spreadsheets; the writer prefixes them with a quote and the reader strips it.
const formulaStarts = "=+-@\t\r"

func escapeCell(s string) string {
	if s != "" && strings.ContainsRune(formulaStarts, rune(s[0])) {
		return "'" + s
	}
	return s
}

func unescapeCell(s string) string {
	if len(s) > 1 && s[0] == '\'' && strings.ContainsRune(formulaStarts, rune(s[1])) {
		return s[1:]
	}
	return s
}

// ReadJSON parses a JSON inventory: an array of device objects, or an
// object {"devices": [...]}. Unknown fields are refused by name; id,
// created_at and updated_at are ignored. Every record is normalised, and the
// error lists every bad record; Line is the record's 1-based number.
func ReadJSON(r io.Reader) ([]firmward.ImportRow, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	tok, err := dec.Token()
	if err != nil {
		return nil, jsonError(0, err)
	}
	if tok == json.Delim('{') {
		key, err := dec.Token()
		if err != nil {
			return nil, jsonError(0, err)
		}
		if key != "devices" {
			return nil, firmward.Errorf(firmward.EINVALID, "the JSON import must be an array of devices or {\"devices\": [...]}, not an object with %q", key)
		}
		if tok, err = dec.Token(); err != nil {
			return nil, jsonError(0, err)
		}
	}
	if tok != json.Delim('[') {
		return nil, firmward.Errorf(firmward.EINVALID, "the JSON import must be an array of devices or {\"devices\": [...]}")
	}
	var rep errorReport
	var rows []firmward.ImportRow
	for n := 1; dec.More(); n++ {
		if len(rows) >= MaxRows {
			return nil, firmward.Errorf(firmward.ETOOLARGE, "the file has more than %d records: split it into several imports", MaxRows)
		}
		var d firmward.Device
		if err := dec.Decode(&d); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				// The decoder has consumed the value: go on with the next.
				rep.add(firmward.ErrorDetail{Line: n, Field: te.Field, Reason: fmt.Sprintf("must be a JSON %s, not %s", jsonKind(te.Type.String()), te.Value)})
				continue
			}
			if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
				field := strings.Trim(strings.TrimPrefix(msg, "json: unknown field "), `"`)
				rep.add(firmward.ErrorDetail{Line: n, Field: field, Reason: "unknown field"})
				continue // the decoder has consumed the value
			}
			rep.add(firmward.ErrorDetail{Line: n, Reason: "malformed JSON: " + err.Error()})
			return nil, rep.err("import")
		}
		d.ID, d.CreatedAt, d.UpdatedAt = 0, time.Time{}, time.Time{}
		if err := d.Normalize(); err != nil {
			rep.addDevice(n, err)
		}
		rep.checkMACs(n, "macs", d.MACs)
		rows = append(rows, firmward.ImportRow{Line: n, Device: d})
	}
	if err := rep.err("import"); err != nil {
		return nil, err
	}
	return rows, nil
}

func jsonKind(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "array"
	case goType == "float64", strings.HasPrefix(goType, "int"):
		return "number"
	case goType == "time.Time", goType == "string", strings.HasPrefix(goType, "firmward."):
		return "string"
	}
	return goType
}

func jsonError(n int, err error) error {
	if errors.Is(err, io.EOF) {
		return firmward.Errorf(firmward.EINVALID, "the JSON import is empty: send an array of devices")
	}
	return &firmward.Error{Code: firmward.EINVALID, Message: "malformed JSON", Details: []firmward.ErrorDetail{{Line: n, Reason: err.Error()}}}
}

// CSVWriter streams devices as CSV with the Columns header.
type CSVWriter struct {
	w      *csv.Writer
	header bool
	rec    []string
}

// NewCSVWriter returns a writer that writes CSV to w.
func NewCSVWriter(w io.Writer) *CSVWriter {
	return &CSVWriter{w: csv.NewWriter(w), rec: make([]string, len(Columns))}
}

// Write writes one device (and the header first).
func (cw *CSVWriter) Write(d *firmward.Device) error {
	if !cw.header {
		cw.header = true
		if err := cw.w.Write(Columns); err != nil {
			return fmt.Errorf("writing CSV header: %w", err)
		}
	}
	for i, col := range Columns {
		cw.rec[i] = escapeCell(cellValue(d, col))
	}
	if err := cw.w.Write(cw.rec); err != nil {
		return fmt.Errorf("writing CSV: %w", err)
	}
	return nil
}

// Close writes the header if no device was written and flushes.
func (cw *CSVWriter) Close() error {
	if !cw.header {
		cw.header = true
		if err := cw.w.Write(Columns); err != nil {
			return fmt.Errorf("writing CSV header: %w", err)
		}
	}
	cw.w.Flush()
	if err := cw.w.Error(); err != nil {
		return fmt.Errorf("writing CSV: %w", err)
	}
	return nil
}

func cellValue(d *firmward.Device, col string) string {
	timeText := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	switch col {
	case "name":
		return d.Name
	case "manufacturer":
		return d.Manufacturer
	case "model":
		return d.Model
	case "hardware_version":
		return d.HardwareVersion
	case "firmware_version":
		return d.FirmwareVersion
	case "serial":
		return d.Serial
	case "category":
		return string(d.Category)
	case "criticality":
		return string(d.Criticality)
	case "exposure":
		return string(d.Exposure)
	case "update_mechanism":
		return string(d.UpdateMechanism)
	case "auto_update":
		return string(d.AutoUpdate)
	case "mac":
		return strings.Join(d.MACs, ListSeparator)
	case "ip":
		return strings.Join(d.IPs, ListSeparator)
	case "site":
		return d.Site
	case "location":
		return d.Location
	case "owner":
		return d.Owner
	case "segment":
		return d.Segment
	case "cpe":
		return d.CPE
	case "eol_date":
		return d.EOLDate
	case "purchase_date":
		return d.PurchaseDate
	case "replacement_cost":
		if d.ReplacementCost == 0 {
			return ""
		}
		return strconv.FormatFloat(d.ReplacementCost, 'f', -1, 64)
	case "tags":
		return strings.Join(d.Tags, ListSeparator)
	case "source":
		return string(d.Source)
	case "first_seen":
		return timeText(d.FirstSeen)
	case "last_seen":
		return timeText(d.LastSeen)
	case "notes":
		return d.Notes
	}
	panic("inventory: no cell for column " + col) // Columns and cellValue disagree: a bug
}

// JSONWriter streams devices as a JSON array.
type JSONWriter struct {
	w     io.Writer
	count int
	buf   bytes.Buffer
}

// NewJSONWriter returns a writer that writes a JSON array to w.
func NewJSONWriter(w io.Writer) *JSONWriter { return &JSONWriter{w: w} }

// Write writes one device.
func (jw *JSONWriter) Write(d *firmward.Device) error {
	jw.buf.Reset()
	if jw.count == 0 {
		jw.buf.WriteString("[\n")
	} else {
		jw.buf.WriteString(",\n")
	}
	b, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encoding device %d: %w", d.ID, err)
	}
	jw.buf.Write(b)
	jw.count++
	if _, err := jw.w.Write(jw.buf.Bytes()); err != nil {
		return fmt.Errorf("writing JSON: %w", err)
	}
	return nil
}

// Close ends the array.
func (jw *JSONWriter) Close() error {
	end := "\n]\n"
	if jw.count == 0 {
		end = "[]\n"
	}
	if _, err := io.WriteString(jw.w, end); err != nil {
		return fmt.Errorf("writing JSON: %w", err)
	}
	return nil
}
