package lifecycle

import (
	"bytes"
	"strings"
	"testing"

	"github.com/firmward/firmward"
)

func TestReadEOLCSV(t *testing.T) {
	t.Parallel()
	good := "Manufacturer,model,release_date,end_of_support,source\n" +
		"TP-Link,Archer C7,2013-06-01,2022-12-31,https://www.tp-link.com/\n" +
		"\n" +
		"Wyze,,,2025-02-01,vendor notice\n"
	rows, err := ReadEOLCSV(strings.NewReader(good))
	if err != nil {
		t.Fatalf("ReadEOLCSV: %v", err)
	}
	if len(rows) != 2 {
		t.Fatalf("got %d rows, want 2", len(rows))
	}
	if rows[0].Line != 2 || rows[0].Entry.Model != "Archer C7" || rows[0].Entry.ReleaseDate != "2013-06-01" {
		t.Errorf("row 0 = %+v", rows[0])
	}
	if rows[1].Line != 4 || rows[1].Entry.Model != "" || rows[1].Entry.EndOfSupport != "2025-02-01" {
		t.Errorf("row 1 = %+v", rows[1])
	}

	bad := []struct {
		name  string
		in    string
		want  []firmward.ErrorDetail // Line and Field of each detail, in order
		inMsg string
	}{
		{"empty", "", nil, "empty"},
		{"unknown column", "manufacturer,end_of_support,colour\n", []firmward.ErrorDetail{{Line: 1, Field: "colour"}}, ""},
		{"missing column", "manufacturer,model\n", []firmward.ErrorDetail{{Line: 1, Field: "end_of_support"}}, ""},
		{"duplicate column", "manufacturer,model,model,end_of_support\n", []firmward.ErrorDetail{{Line: 1, Field: "model"}}, ""},
		{"no rows", "manufacturer,end_of_support\n", nil, "no entries"},
		{
			"bad rows all listed",
			"manufacturer,model,end_of_support,release_date\n" +
				"Acme,X1,2020-13-01,\n" + // bad date
				",X2,2020-01-01,\n" + // no manufacturer
				"Acme,X3,2020-01-01,2021-01-01\n" + // release after end
				"Acme,X4,,\n" + // no end
				"acme,x1,2020-01-01,\n" + // duplicate of line 2 (any case)
				"Acme,X5\n", // short row
			[]firmward.ErrorDetail{
				{Line: 2, Field: "end_of_support"},
				{Line: 3, Field: "manufacturer"},
				{Line: 4, Field: "release_date"},
				{Line: 5, Field: "end_of_support"},
				{Line: 7},
				{Line: 6, Field: "model"},
			},
			"nothing was imported",
		},
		{"bad quoting", "manufacturer,end_of_support\n\"Acme,2020-01-01\n", []firmward.ErrorDetail{{Line: 2}}, "not valid CSV"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rows, err := ReadEOLCSV(strings.NewReader(tc.in))
			if err == nil {
				t.Fatalf("no error; rows %+v", rows)
			}
			if rows != nil {
				t.Errorf("rows returned with an error: %+v", rows)
			}
			if firmward.ErrorCode(err) != firmward.EINVALID {
				t.Errorf("code %q, want invalid: %v", firmward.ErrorCode(err), err)
			}
			if tc.inMsg != "" && !strings.Contains(err.Error(), tc.inMsg) {
				t.Errorf("error %q lacks %q", err, tc.inMsg)
			}
			got := firmward.ErrorDetails(err)
			if tc.want != nil && len(got) != len(tc.want) {
				t.Fatalf("details %+v, want %d", got, len(tc.want))
			}
			for i, w := range tc.want {
				if got[i].Line != w.Line || got[i].Field != w.Field {
					t.Errorf("detail %d = %+v, want line %d field %q", i, got[i], w.Line, w.Field)
				}
				if got[i].Reason == "" {
					t.Errorf("detail %d has no reason", i)
				}
			}
		})
	}
}

func TestReadEOLJSON(t *testing.T) {
	t.Parallel()
	rows, err := ReadEOLJSON(strings.NewReader(`{"entries":[{"manufacturer":"Netgear","model":"R7800","end_of_support":"2024-01-01"}]}`))
	if err != nil || len(rows) != 1 || rows[0].Entry.Model != "R7800" || rows[0].Line != 1 {
		t.Fatalf("wrapped: %+v, %v", rows, err)
	}
	tests := []struct {
		name string
		in   string
		want []firmward.ErrorDetail
	}{
		{"unknown field", `[{"manufacturer":"A","end_of_support":"2020-01-01"},{"manufacturer":"B","end_of_support":"2020-01-01","price":3}]`, []firmward.ErrorDetail{{Line: 2, Field: "price"}}},
		{"wrong type", `[{"manufacturer":"A","end_of_support":20200101}]`, []firmward.ErrorDetail{{Line: 1, Field: "end_of_support"}}},
		{"invalid entry", `[{"manufacturer":"A","end_of_support":"2020-01-01"},{"model":"B","end_of_support":"yesterday"}]`, []firmward.ErrorDetail{{Line: 2, Field: "end_of_support"}, {Line: 2, Field: "manufacturer"}}},
		{"not an array", `"x"`, nil},
		{"empty array", `[]`, nil},
		{"other object", `{"devices":[]}`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rows, err := ReadEOLJSON(strings.NewReader(tc.in))
			if err == nil || rows != nil {
				t.Fatalf("rows %+v, err %v; want an error and no rows", rows, err)
			}
			if firmward.ErrorCode(err) != firmward.EINVALID {
				t.Errorf("code %q: %v", firmward.ErrorCode(err), err)
			}
			got := firmward.ErrorDetails(err)
			if len(got) != len(tc.want) {
				t.Fatalf("details %+v, want %+v", got, tc.want)
			}
			for i, w := range tc.want {
				if got[i].Line != w.Line || got[i].Field != w.Field {
					t.Errorf("detail %d = %+v, want %+v", i, got[i], w)
				}
			}
		})
	}
}

func TestEOLCSVRoundTrip(t *testing.T) {
	t.Parallel()
	in := []*firmward.EOLEntry{
		{Manufacturer: "TP-Link", Model: "Archer C7", ReleaseDate: "2013-06-01", EndOfSupport: "2022-12-31", Source: "a, \"quoted\" note"},
		{Manufacturer: "Wyze", EndOfSupport: "2025-02-01"},
	}
	var buf bytes.Buffer
	if err := WriteEOLCSV(&buf, in); err != nil {
		t.Fatal(err)
	}
	rows, err := ReadEOL(&buf, "CSV")
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		if r.Entry != *in[i] {
			t.Errorf("row %d = %+v, want %+v", i, r.Entry, *in[i])
		}
	}
	if _, err := ReadEOL(strings.NewReader(""), "xml"); firmward.ErrorCode(err) != firmward.EINVALID {
		t.Errorf("format xml: %v", err)
	}
}

// FuzzReadEOL checks that no input panics, and that whatever is accepted
// is normalised and free of duplicates.
func FuzzReadEOL(f *testing.F) {
	f.Add([]byte("manufacturer,model,end_of_support\nAcme,X,2020-01-01\n"), false)
	f.Add([]byte("manufacturer,end_of_support\n\"a\"\"b\",2020-02-30\n"), false)
	f.Add([]byte("\ufeffMANUFACTURER,End_Of_Support,release_date\nx,2020-01-01,2021-01-01\n"), false)
	f.Add([]byte(`[{"manufacturer":"A","model":"B","end_of_support":"2030-01-01","release_date":"2020-01-01"}]`), true)
	f.Add([]byte(`{"entries":[{"manufacturer":"\u0000"}]}`), true)
	f.Add([]byte(`[1,"x",null,{}]`), true)
	f.Fuzz(func(t *testing.T, data []byte, asJSON bool) {
		format := "csv"
		if asJSON {
			format = "json"
		}
		rows, err := ReadEOL(bytes.NewReader(data), format)
		if err != nil {
			if rows != nil {
				t.Fatalf("rows with an error")
			}
			if firmward.ErrorCode(err) == firmward.EINTERNAL {
				t.Fatalf("internal error for bad input: %v", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, r := range rows {
			e := r.Entry
			if err := e.Normalize(); err != nil || e != r.Entry {
				t.Fatalf("accepted entry is not normalised: %+v (%v)", r.Entry, err)
			}
			if seen[e.EOLKey()] {
				t.Fatalf("duplicate accepted: %+v", e)
			}
			seen[e.EOLKey()] = true
		}
	})
}
