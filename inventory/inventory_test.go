package inventory

import (
	"bytes"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/firmward/firmward"
)

func sampleDevices() []*firmward.Device {
	seen := time.Date(2026, 11, 1, 8, 30, 0, 0, time.UTC)
	later := seen.Add(72 * time.Hour)
	return []*firmward.Device{
		{
			Name: "Living room router", Manufacturer: "TP-Link", Model: "Archer AX21", HardwareVersion: "V1.20",
			FirmwareVersion: "1.1.3 Build 20221201 rel.62108", Serial: "2215AB0001",
			Category: firmward.CategoryNetworkInfrastructure, Criticality: firmward.CriticalityHigh,
			Exposure: firmward.ExposureInternetFacing, UpdateMechanism: firmward.UpdateWebAdmin, AutoUpdate: firmward.AutoUpdateNo,
			MACs: []string{"50:c7:bf:12:34:56", "50:c7:bf:12:34:57"}, IPs: []string{"192.168.1.1", "fe80::1"},
			Site: "Home", Location: "Hallway, shelf", Owner: "Sam", Segment: "main",
			CPE:     `cpe:2.3:o:tp-link:archer_ax21_firmware:1.1.3:*:*:*:*:*:*:*`,
			EOLDate: "2028-12-31", PurchaseDate: "2023-03-04", ReplacementCost: 79.99,
			Notes: "=SUM(A1) \"quoted\", commas; and\nnewlines", Tags: []string{"wifi", "gateway"},
			Source: firmward.SourceManual, FirstSeen: &seen, LastSeen: &later,
		},
		{
			Name: "Bulb", Manufacturer: "Signify", Model: "Hue White A19", Category: firmward.CategoryConsumerSmartHome,
			Criticality: firmward.CriticalityLow, Exposure: firmward.ExposureInternal, AutoUpdate: firmward.AutoUpdateUnknown, Source: firmward.SourceImport,
		},
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"csv", "json"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			want := sampleDevices()
			var buf bytes.Buffer
			var w interface {
				Write(*firmward.Device) error
				Close() error
			}
			if format == "csv" {
				w = NewCSVWriter(&buf)
			} else {
				w = NewJSONWriter(&buf)
			}
			for _, d := range want {
				if err := w.Write(d); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			read := ReadCSV
			if format == "json" {
				read = ReadJSON
			}
			rows, err := read(&buf)
			if err != nil {
				t.Fatalf("reading back: %v\n%s", err, buf.String())
			}
			if len(rows) != len(want) {
				t.Fatalf("got %d rows, want %d", len(rows), len(want))
			}
			for i, r := range rows {
				if !reflect.DeepEqual(&r.Device, want[i]) {
					t.Errorf("row %d:\n got %+v\nwant %+v", i, r.Device, *want[i])
				}
			}
		})
	}
}

func TestReadCSVErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		code    string
		details []string // "line:field" of each expected detail, in order
	}{
		{"empty", "", firmward.EINVALID, nil},
		{"unknown columns named", "name,colour,size\nx,red,1\n", firmward.EINVALID, []string{"1:colour", "1:size"}},
		{"duplicate column", "name,mac,macs\nx,,\n", firmward.EINVALID, []string{"1:macs"}},
		{"no name column", "manufacturer\nAxis\n", firmward.EINVALID, []string{"1:name"}},
		{
			"every bad row listed", "name,mac,category,eol_date\nok,aa:bb:cc:dd:ee:01,camera,\n,zz,toaster,2026-13-01\nfine,,,\nb,,,yesterday\n",
			firmward.EINVALID,
			[]string{"3:name", "3:category", "3:mac", "3:eol_date", "5:eol_date"},
		},
		{"duplicate MAC in file", "name,mac\na,aa-bb-cc-00-00-01\nb,\nc,AABB.CC00.0001;aa:bb:cc:00:00:02\n", firmward.EINVALID, []string{"4:mac"}},
		{"wrong field count", "name,model\na,b,c\n", firmward.EINVALID, []string{"2:"}},
		{"bad number", "name,replacement_cost\na,cheap\n", firmward.EINVALID, []string{"2:replacement_cost"}},
		{"bad time", "name,last_seen\na,monday\n", firmward.EINVALID, []string{"2:last_seen"}},
		{"bad quoting", "name,notes\na,\"unterminated\n", firmward.EINVALID, []string{"2:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rows, err := ReadCSV(strings.NewReader(tt.in))
			if firmward.ErrorCode(err) != tt.code {
				t.Fatalf("code = %q (%v), want %q", firmward.ErrorCode(err), err, tt.code)
			}
			if rows != nil {
				t.Errorf("rows returned with an error: %d", len(rows))
			}
			var got []string
			for _, d := range firmward.ErrorDetails(err) {
				got = append(got, strconv.Itoa(d.Line)+":"+d.Field)
			}
			if tt.details != nil && !reflect.DeepEqual(got, tt.details) {
				t.Errorf("details = %v, want %v\n%v", got, tt.details, err)
			}
		})
	}
}

func TestReadCSVAcceptsDesignColumnsAnyOrder(t *testing.T) {
	t.Parallel()
	// The columns of DESIGN.md's contract, shuffled, upper-cased, with a BOM.
	in := "\ufeffNOTES,name,manufacturer,model,firmware_version,category,criticality,exposure,update_mechanism,mac,ip,location,owner,cpe,eol_date\n" +
		"front door,Doorbell,Ring,Video Doorbell 4,1.4.26,camera,medium,internet-facing,vendor-cloud,AC-63-BE-01-02-03,192.168.1.40,Porch,Alex,,\n"
	rows, err := ReadCSV(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	d := rows[0].Device
	if rows[0].Line != 2 || d.Name != "Doorbell" || d.MACs[0] != "ac:63:be:01:02:03" || d.Notes != "front door" || d.Exposure != firmward.ExposureInternetFacing {
		t.Errorf("unexpected row: %+v", rows[0])
	}
}

func TestReadJSONErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		details []string
	}{
		{"not an array", `{"name":"x"}`, nil},
		{"wrong type", `[{"name":"a"},{"name":5},{"name":"c","macs":"aa"}]`, []string{"2:name", "3:macs"}},
		{"unknown field", `[{"name":"a","colour":"red"}]`, []string{"1:colour"}},
		{"invalid values", `{"devices":[{"name":""},{"name":"b","exposure":"cloud"}]}`, []string{"1:name", "2:exposure"}},
		{"syntax", `[{"name":"a"},{`, []string{"2:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ReadJSON(strings.NewReader(tt.in))
			if firmward.ErrorCode(err) != firmward.EINVALID {
				t.Fatalf("err = %v, want invalid", err)
			}
			var got []string
			for _, d := range firmward.ErrorDetails(err) {
				got = append(got, strconv.Itoa(d.Line)+":"+d.Field)
			}
			if tt.details != nil && !reflect.DeepEqual(got, tt.details) {
				t.Errorf("details = %v, want %v (%v)", got, tt.details, err)
			}
		})
	}
}

func FuzzReadCSV(f *testing.F) {
	f.Add("name,mac,ip,tags\nrouter,aa-bb-cc-dd-ee-ff,10.0.0.1,a;b\n")
	f.Add("name,notes\n\"x\"\"y\",\"multi\nline\"\n")
	f.Add(strings.Join(Columns, ",") + "\n" + strings.Repeat(",", len(Columns)-1) + "\n")
	f.Fuzz(func(t *testing.T, in string) {
		rows, err := ReadCSV(strings.NewReader(in))
		if err != nil {
			if firmward.ErrorCode(err) == firmward.EINTERNAL {
				t.Fatalf("internal error on input: %v", err)
			}
			return
		}
		// Whatever was accepted writes out and reads back the same.
		var buf bytes.Buffer
		w := NewCSVWriter(&buf)
		for i := range rows {
			if err := w.Write(&rows[i].Device); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		again, err := ReadCSV(&buf)
		if err != nil {
			t.Fatalf("re-reading own output: %v", err)
		}
		for i := range rows {
			if !reflect.DeepEqual(rows[i].Device, again[i].Device) {
				t.Fatalf("round trip changed row %d:\n%+v\n%+v", i, rows[i].Device, again[i].Device)
			}
		}
	})
}

func FuzzReadJSON(f *testing.F) {
	f.Add(`[{"name":"a","macs":["aa:bb:cc:dd:ee:ff"],"replacement_cost":3.5}]`)
	f.Add(`{"devices":[{"name":"b","tags":["x"],"first_seen":"2026-01-01T00:00:00Z"}]}`)
	f.Fuzz(func(t *testing.T, in string) {
		rows, err := ReadJSON(strings.NewReader(in))
		if firmward.ErrorCode(err) == firmward.EINTERNAL {
			t.Fatalf("internal error: %v", err)
		}
		for _, r := range rows {
			d := r.Device
			if err := d.Normalize(); err != nil {
				t.Fatalf("accepted row does not normalise: %v", err)
			}
		}
	})
}

// BenchmarkReadCSV parses and validates a 100,000-row inventory, the
// front half of an import (the store does the rest).
func BenchmarkReadCSV(b *testing.B) {
	var buf bytes.Buffer
	w := NewCSVWriter(&buf)
	for i := range 100_000 {
		d := *sampleDevices()[0]
		d.Name = "device " + strconv.Itoa(i)
		d.MACs = []string{fmt.Sprintf("02:00:00:%02x:%02x:%02x", byte(i>>16), byte(i>>8), byte(i))}
		if err := w.Write(&d); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		rows, err := ReadCSV(bytes.NewReader(data))
		if err != nil || len(rows) != 100_000 {
			b.Fatal(len(rows), err)
		}
	}
	b.ReportMetric(float64(100_000*b.N)/b.Elapsed().Seconds(), "rows/s")
}
