package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/firmward/firmward"
)

func ptr[T any](v T) *T { return &v }

func TestDeviceCRUD(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	op, viewer := e.client(firmward.RoleOperator), e.client(firmward.RoleViewer)

	created, err := op.CreateDevice(ctx, &firmward.Device{
		Name: "Front door lock", Manufacturer: "Yale", Model: "Linus", FirmwareVersion: "1.2.0",
		Category: "lock", Criticality: "high", MACs: []string{"AA-BB-CC-00-11-22"}, Tags: []string{"Home"},
		Site: "home", Notes: "keep",
	})
	if err != nil {
		t.Fatalf("CreateDevice: %v", err)
	}
	if created.ID == 0 || created.CreatedAt.IsZero() {
		t.Fatalf("created device has no id or created_at: %+v", created)
	}
	if got := created.MACs; !slices.Equal(got, []string{"aa:bb:cc:00:11:22"}) {
		t.Errorf("MACs = %v, want the normalised MAC", got)
	}

	got, err := viewer.GetDevice(ctx, created.ID)
	if err != nil {
		t.Fatalf("GetDevice: %v", err)
	}
	if !reflect.DeepEqual(got, created) {
		t.Errorf("GetDevice = %+v\nwant %+v", got, created)
	}

	// PATCH changes only what is given.
	updated, err := op.UpdateDevice(ctx, created.ID, firmward.DeviceUpdate{FirmwareVersion: ptr("1.3.0"), Tags: &[]string{"home", "door"}})
	if err != nil {
		t.Fatalf("UpdateDevice: %v", err)
	}
	want := *created
	want.FirmwareVersion, want.Tags, want.UpdatedAt = "1.3.0", []string{"home", "door"}, updated.UpdatedAt
	if !reflect.DeepEqual(updated, &want) {
		t.Errorf("UpdateDevice = %+v\nwant %+v", updated, &want)
	}
	// A raw PATCH with one field leaves the rest, notes included.
	r := e.do(t, "PATCH", fmt.Sprintf("/api/v1/devices/%d", created.ID), firmward.RoleOperator, `{"location":"hall"}`)
	if r.status != http.StatusOK {
		t.Fatalf("PATCH status %d: %s", r.status, r.body)
	}
	var patched firmward.Device
	if err := json.Unmarshal(r.body, &patched); err != nil {
		t.Fatal(err)
	}
	if patched.Location != "hall" || patched.Notes != "keep" || patched.FirmwareVersion != "1.3.0" || patched.Name != "Front door lock" {
		t.Errorf("PATCH location changed other fields: %+v", patched)
	}

	if err := op.DeleteDevice(ctx, created.ID); err != nil {
		t.Fatalf("DeleteDevice: %v", err)
	}
	_, err = viewer.GetDevice(ctx, created.ID)
	var fe *firmward.Error
	if !errors.As(err, &fe) || fe.Code != firmward.ENOTFOUND {
		t.Errorf("GetDevice after delete: %v, want not_found", err)
	}
	if err := op.DeleteDevice(ctx, created.ID); firmward.ErrorCode(err) != firmward.ENOTFOUND {
		t.Errorf("second DeleteDevice: %v, want not_found", err)
	}
}

func TestCreateDeviceAnswer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// id and timestamps sent by the client are the store's business.
	r := e.do(t, "POST", "/api/v1/devices", firmward.RoleOperator,
		`{"name":"cam","id":777,"created_at":"2001-01-01T00:00:00Z","category":"Camera"}`)
	if r.status != http.StatusCreated {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var d firmward.Device
	if err := json.Unmarshal(r.body, &d); err != nil {
		t.Fatal(err)
	}
	if d.ID == 777 || d.CreatedAt.Year() == 2001 || d.Category != firmward.CategoryCamera {
		t.Errorf("created %+v", d)
	}
	if got, want := r.header.Get("Location"), fmt.Sprintf("/api/v1/devices/%d", d.ID); got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	for name, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"X-Frame-Options":        "DENY",
		"Cache-Control":          "no-store",
		"Content-Type":           "application/json",
	} {
		if got := r.header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if r.header.Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id")
	}
}

func TestListDevicesFiltersAndPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	devices := []firmward.Device{
		{Name: "router", Manufacturer: "AVM", Category: "network-infrastructure", Criticality: "high", Exposure: "internet-facing", UpdateMechanism: "web-admin", FirmwareVersion: "7.5", Site: "Home"},
		{Name: "cam 1", Manufacturer: "Reolink", Category: "camera", UpdateMechanism: "vendor-cloud", Site: "home", Tags: []string{"outdoor"}},
		{Name: "cam 2", Manufacturer: "reolink", Category: "camera", Site: "office", Tags: []string{"outdoor", "door"}, FirmwareVersion: "3.0"},
		{Name: "thermostat", Manufacturer: "Nest", Category: "consumer-smart-home", Site: "home", Notes: "hallway unit"},
		{Name: "plc", Manufacturer: "Siemens", Category: "industrial", Criticality: "safety-critical", UpdateMechanism: "technician", Site: "plant", FirmwareVersion: "2.1"},
		{Name: "sensor a", Category: "sensor", Site: "plant", MACs: []string{"00:11:22:33:44:55"}},
		{Name: "sensor b", Category: "sensor", Site: "plant", IPs: []string{"10.0.0.7"}},
	}
	for _, d := range devices {
		e.mustCreate(t, d)
	}
	c := e.client(firmward.RoleViewer)
	names := func(ds []*firmward.Device) []string {
		var out []string
		for _, d := range ds {
			out = append(out, d.Name)
		}
		return out
	}
	tests := []struct {
		name string
		q    DeviceQuery
		want []string
	}{
		{"all", DeviceQuery{}, []string{"router", "cam 1", "cam 2", "thermostat", "plc", "sensor a", "sensor b"}},
		{"category", DeviceQuery{Category: "camera"}, []string{"cam 1", "cam 2"}},
		{"criticality", DeviceQuery{Criticality: "safety-critical"}, []string{"plc"}},
		{"exposure", DeviceQuery{Exposure: "internet-facing"}, []string{"router"}},
		{"update mechanism", DeviceQuery{UpdateMechanism: "vendor-cloud"}, []string{"cam 1"}},
		{"manufacturer any case", DeviceQuery{Manufacturer: "REOLINK"}, []string{"cam 1", "cam 2"}},
		{"site any case", DeviceQuery{Site: "HOME"}, []string{"router", "cam 1", "thermostat"}},
		{"tag", DeviceQuery{Tag: "door"}, []string{"cam 2"}},
		{"q in notes", DeviceQuery{Q: "HALLWAY"}, []string{"thermostat"}},
		{"q in mac", DeviceQuery{Q: "33:44"}, []string{"sensor a"}},
		{"q in ip", DeviceQuery{Q: "10.0.0.7"}, []string{"sensor b"}},
		{"missing firmware", DeviceQuery{Missing: "firmware_version"}, []string{"cam 1", "thermostat", "sensor a", "sensor b"}},
		{"missing mechanism", DeviceQuery{Missing: "update_mechanism"}, []string{"cam 2", "thermostat", "sensor a", "sensor b"}},
		{"combined", DeviceQuery{Category: "sensor", Site: "plant", Q: "sensor b"}, []string{"sensor b"}},
		{"nothing", DeviceQuery{Category: "medical"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, next, err := c.ListDevices(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if next != "" {
				t.Errorf("next cursor %q on the only page", next)
			}
			if !slices.Equal(names(got), tt.want) {
				t.Errorf("got %v, want %v", names(got), tt.want)
			}
		})
	}

	t.Run("pages", func(t *testing.T) {
		var all []string
		q := DeviceQuery{Limit: 2}
		pages := 0
		for {
			page, next, err := c.ListDevices(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			if len(page) > 2 {
				t.Fatalf("page of %d with limit 2", len(page))
			}
			all = append(all, names(page)...)
			if next == "" {
				break
			}
			if pages > 10 {
				t.Fatal("pagination does not end")
			}
			q.Cursor = next
		}
		if want := tests[0].want; !slices.Equal(all, want) {
			t.Errorf("paged through %v, want %v", all, want)
		}
		// Filters and pages together.
		page, next, err := c.ListDevices(ctx, DeviceQuery{Site: "plant", Limit: 1})
		if err != nil || len(page) != 1 || next == "" {
			t.Fatalf("first plant page: %v %q %v", names(page), next, err)
		}
		page, _, err = c.ListDevices(ctx, DeviceQuery{Site: "plant", Limit: 5, Cursor: next})
		if err != nil || !slices.Equal(names(page), []string{"sensor a", "sensor b"}) {
			t.Errorf("second plant page: %v %v", names(page), err)
		}
	})

	t.Run("empty list is an array", func(t *testing.T) {
		r := e.do(t, "GET", "/api/v1/devices?category=medical", firmward.RoleViewer, "")
		if !bytes.Contains(r.body, []byte(`"devices":[]`)) || !bytes.Contains(r.body, []byte(`"next_cursor":""`)) {
			t.Errorf("body %s", r.body)
		}
	})

	for _, tt := range []struct{ query, param string }{
		{"category=toaster", "category"},
		{"criticality=extreme", "criticality"},
		{"exposure=everywhere", "exposure"},
		{"update_mechanism=magic", "update_mechanism"},
		{"missing=name", "missing"},
		{"limit=0", "limit"},
		{"limit=abc", "limit"},
		{"limit=1001", "limit"},
		{"cursor=xyz", "cursor"},
		{"cursor=" + encodeCursor(cursorAuditOldest, 3), "cursor"},
		{"categroy=camera", "categroy"},
		{"tag=a&tag=b", "tag"},
	} {
		t.Run("bad "+tt.query, func(t *testing.T) {
			r := e.do(t, "GET", "/api/v1/devices?"+tt.query, firmward.RoleViewer, "")
			if r.status != http.StatusBadRequest {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			apiErr := r.apiError(t)
			if !strings.Contains(apiErr.Message, tt.param) && !slices.ContainsFunc(apiErr.Details, func(d firmward.ErrorDetail) bool { return d.Field == tt.param }) {
				t.Errorf("error does not name %s: %+v", tt.param, apiErr)
			}
		})
	}
}

func TestDeviceStats(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCreate(t, firmward.Device{Name: "a", Category: "camera"})
	e.mustCreate(t, firmward.Device{Name: "b", Category: "camera", FirmwareVersion: "1"})
	st, err := e.client(firmward.RoleViewer).DeviceStats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Total != 2 || st.ByCategory["camera"] != 2 || st.MissingFirmware != 1 {
		t.Errorf("stats %+v", st)
	}
}

const goodCSV = `name,manufacturer,model,firmware_version,category,criticality,exposure,update_mechanism,mac,ip,location,owner,cpe,eol_date,notes
Router,AVM,FRITZ!Box 7590,7.57,network-infrastructure,high,internet-facing,web-admin,aa:bb:cc:dd:ee:01,192.168.178.1,cellar,me,"cpe:2.3:o:avm:fritz\!os:7.57:*:*:*:*:*:*:*",,"main ""router"""
Camera,Reolink,RLC-810A,3.1.0,camera,medium,segmented,vendor-cloud,aa:bb:cc:dd:ee:02;aa:bb:cc:dd:ee:03,192.168.178.20,garden,me,,2030-12-31,
Thermostat,Nest,Learning 3,,consumer-smart-home,low,internal,,,,hall,,,,
`

func TestImportCSV(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := e.client(firmward.RoleOperator)

	t.Run("bad rows refuse the whole file", func(t *testing.T) {
		before := e.state(t)
		bad := goodCSV + "Lock,,,,lock,extreme,,,not-a-mac,,,,,,\n" + ",,,,,,,,,,,,,,\n"
		_, err := c.ImportDevices(ctx, "csv", strings.NewReader(bad), false)
		var fe *firmward.Error
		if !errors.As(err, &fe) || fe.Code != firmward.EINVALID {
			t.Fatalf("err %v, want invalid", err)
		}
		lines := map[int][]string{}
		for _, d := range fe.Details {
			lines[d.Line] = append(lines[d.Line], d.Field)
		}
		if !slices.Contains(lines[5], "criticality") || !slices.Contains(lines[5], "mac") || !slices.Contains(lines[6], "name") || len(lines) != 2 {
			t.Errorf("details by line %v, want criticality and mac on line 5, name on line 6: %+v", lines, fe.Details)
		}
		if after := e.state(t); after != before {
			t.Errorf("state changed from %+v to %+v", before, after)
		}
	})

	t.Run("dry run stores nothing", func(t *testing.T) {
		before := e.state(t)
		res, err := c.ImportDevices(ctx, "csv", strings.NewReader(goodCSV), true)
		if err != nil {
			t.Fatal(err)
		}
		if res.Created != 3 || !res.DryRun {
			t.Errorf("dry run result %+v", res)
		}
		if after := e.state(t); after != before {
			t.Errorf("state changed from %+v to %+v", before, after)
		}
	})

	t.Run("import", func(t *testing.T) {
		// Content-Type alone picks the format.
		r := e.do(t, "POST", "/api/v1/devices/import", firmward.RoleOperator, goodCSV, "Content-Type", "text/csv; charset=utf-8")
		if r.status != http.StatusOK {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		var res firmward.ImportResult
		if err := json.Unmarshal(r.body, &res); err != nil {
			t.Fatal(err)
		}
		if res.Created != 3 || res.DryRun || len(res.IDs) != 3 {
			t.Errorf("result %+v", res)
		}
		d, err := c.GetDevice(ctx, res.IDs[0])
		if err != nil {
			t.Fatal(err)
		}
		if d.Name != "Router" || d.Notes != `main "router"` || d.Source != firmward.SourceImport {
			t.Errorf("imported %+v", d)
		}
	})

	t.Run("a MAC already stored is a bad row", func(t *testing.T) {
		before := e.state(t)
		_, err := c.ImportDevices(ctx, "csv", strings.NewReader("name,mac\nother,AA:BB:CC:DD:EE:02\n"), false)
		if d := firmward.ErrorDetails(err); firmward.ErrorCode(err) != firmward.EINVALID || len(d) != 1 || d[0].Line != 2 {
			t.Errorf("err %v, want invalid with line 2", err)
		}
		if after := e.state(t); after != before {
			t.Errorf("state changed from %+v to %+v", before, after)
		}
	})

	t.Run("no format", func(t *testing.T) {
		r := e.do(t, "POST", "/api/v1/devices/import", firmward.RoleOperator, goodCSV, "Content-Type", "application/octet-stream")
		if r.status != http.StatusBadRequest || !strings.Contains(r.apiError(t).Message, "format") {
			t.Errorf("status %d: %s", r.status, r.body)
		}
	})
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// comparableDevices returns devices without what the store assigns.
func comparableDevices(ds []*firmward.Device) []firmward.Device {
	out := make([]firmward.Device, len(ds))
	for i, d := range ds {
		out[i] = *d
		out[i].ID, out[i].CreatedAt, out[i].UpdatedAt = 0, time.Time{}, time.Time{}
	}
	return out
}

func allDevices(t testing.TB, c *Client) []*firmward.Device {
	t.Helper()
	var all []*firmward.Device
	q := DeviceQuery{Limit: firmward.MaxPageSize}
	for {
		page, next, err := c.ListDevices(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if next == "" {
			return all
		}
		q.Cursor = next
	}
}

func TestExportImportRoundTrip(t *testing.T) {
	t.Parallel()
	src := newEnv(t)
	ctx := context.Background()
	seen := mustTime(t, "2025-03-01T10:00:00Z")
	later := mustTime(t, "2025-06-01T08:30:00Z")
	src.mustCreate(t, firmward.Device{
		Name: "everything", Manufacturer: "ACME, Inc.", Model: "M-1", HardwareVersion: "rev B", FirmwareVersion: "=1+1",
		Serial: "SN;42", Category: "medical", Criticality: "safety-critical", Exposure: "segmented",
		UpdateMechanism: "ddi", AutoUpdate: "yes", MACs: []string{"02:00:00:00:00:01", "02:00:00:00:00:02"},
		IPs: []string{"10.1.2.3", "fe80::1"}, Site: "ward 3", Location: "room \"7\"", Owner: "biomed",
		Segment: "vlan 30", CPE: "cpe:2.3:h:acme:m-1:-:*:*:*:*:*:*:*", EOLDate: "2031-01-31", PurchaseDate: "2020-02-29",
		ReplacementCost: 1234.5, Notes: "line one\nline two, with comma", Tags: []string{"icu", "pump"},
		Source: firmward.SourceScan, FirstSeen: &seen, LastSeen: &later,
	})
	src.mustCreate(t, firmward.Device{Name: "bare"})
	// More than one export page.
	for i := range firmward.MaxPageSize + 5 {
		src.mustCreate(t, firmward.Device{Name: fmt.Sprintf("sensor %04d", i), Category: "sensor", Tags: []string{"bulk"}})
	}
	want := comparableDevices(allDevices(t, src.client(firmward.RoleViewer)))

	for _, format := range []string{"csv", "json"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := src.client(firmward.RoleViewer).ExportDevices(ctx, format, &buf); err != nil {
				t.Fatalf("export: %v", err)
			}
			dst := newEnv(t)
			res, err := dst.client(firmward.RoleOperator).ImportDevices(ctx, format, &buf, false)
			if err != nil {
				t.Fatalf("import: %v", err)
			}
			if res.Created != len(want) {
				t.Errorf("created %d, want %d", res.Created, len(want))
			}
			got := comparableDevices(allDevices(t, dst.client(firmward.RoleViewer)))
			if len(got) != len(want) {
				t.Fatalf("got %d devices, want %d", len(got), len(want))
			}
			for i := range want {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Errorf("device %d:\n got %+v\nwant %+v", i, got[i], want[i])
				}
			}
		})
	}

	t.Run("headers and filters", func(t *testing.T) {
		r := src.do(t, "GET", "/api/v1/devices/export?format=csv&tag=pump", firmward.RoleViewer, "")
		if r.status != http.StatusOK {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		if got := r.header.Get("Content-Disposition"); got != `attachment; filename="firmward-devices.csv"` {
			t.Errorf("Content-Disposition = %q", got)
		}
		if got := r.header.Get("Content-Type"); !strings.HasPrefix(got, "text/csv") {
			t.Errorf("Content-Type = %q", got)
		}
		if n := bytes.Count(r.body, []byte("\n")); n < 3 || !bytes.Contains(r.body, []byte("everything")) || bytes.Contains(r.body, []byte("sensor 0001")) {
			t.Errorf("filtered export:\n%s", r.body)
		}
		r = src.do(t, "GET", "/api/v1/devices/export?format=xml", firmward.RoleViewer, "")
		if r.status != http.StatusBadRequest {
			t.Errorf("format=xml: status %d", r.status)
		}
	})
}

func TestBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{maxBody: 4 << 10})
	existing := e.mustCreate(t, firmward.Device{Name: "existing", MACs: []string{"aa:bb:cc:dd:ee:ff"}})
	devicePath := fmt.Sprintf("/api/v1/devices/%d", existing.ID)
	big := `{"name":"x","notes":"` + strings.Repeat("a", MaxJSONBodyBytes) + `"}`
	bigCSV := "name,notes\n" + strings.Repeat("x,"+strings.Repeat("y", 100)+"\n", 100)

	tests := []struct {
		name        string
		method      string
		path        string
		role        firmward.Role
		secret      string // overrides role
		body        string
		contentType string
		status      int
		mention     string // the message or a detail names this
	}{
		{"malformed JSON", "POST", "/api/v1/devices", firmward.RoleOperator, "", `{"name":`, "", 400, "JSON"},
		{"not JSON", "POST", "/api/v1/devices", firmward.RoleOperator, "", `name=x`, "", 400, "JSON"},
		{"empty body", "POST", "/api/v1/devices", firmward.RoleOperator, "", ``, "", 400, "empty"},
		{"wrong type", "POST", "/api/v1/devices", firmward.RoleOperator, "", `{"name":"x","replacement_cost":"cheap"}`, "", 400, "replacement_cost"},
		{"wrong list type", "POST", "/api/v1/devices", firmward.RoleOperator, "", `{"name":"x","macs":"aa:bb:cc:dd:ee:01"}`, "", 400, "macs"},
		{"unknown field", "POST", "/api/v1/devices", firmward.RoleOperator, "", `{"name":"x","colour":"red"}`, "", 400, "colour"},
		{"trailing garbage", "POST", "/api/v1/devices", firmward.RoleOperator, "", `{"name":"x"} {"name":"y"}`, "", 400, "after"},
		{"array", "POST", "/api/v1/devices", firmward.RoleOperator, "", `[{"name":"x"}]`, "", 400, "object"},
		{"bad time", "POST", "/api/v1/devices", firmward.RoleOperator, "", `{"name":"x","first_seen":"yesterday"}`, "", 400, "RFC 3339"},
		{"invalid device", "POST", "/api/v1/devices", firmward.RoleOperator, "", `{"name":"","category":"toaster"}`, "", 400, "category"},
		{"duplicate MAC", "POST", "/api/v1/devices", firmward.RoleOperator, "", `{"name":"twin","macs":["AA-BB-CC-DD-EE-FF"]}`, "", 409, ""},
		{"oversized JSON", "POST", "/api/v1/devices", firmward.RoleOperator, "", big, "", 413, "1 MiB"},
		{"bad token", "POST", "/api/v1/devices", "", "fwt_nope", `{"name":"x"}`, "", 401, ""},
		{"viewer creates", "POST", "/api/v1/devices", firmward.RoleViewer, "", `{"name":"x"}`, "", 403, "operator"},
		{"patch unknown field", "PATCH", devicePath, firmward.RoleOperator, "", `{"title":"x"}`, "", 400, "title"},
		{"patch id", "PATCH", devicePath, firmward.RoleOperator, "", `{"id":5}`, "", 400, "id"},
		{"patch wrong type", "PATCH", devicePath, firmward.RoleOperator, "", `{"tags":[1]}`, "", 400, "tags"},
		{"patch invalid value", "PATCH", devicePath, firmward.RoleOperator, "", `{"eol_date":"soon"}`, "", 400, "eol_date"},
		{"patch missing device", "PATCH", "/api/v1/devices/999999", firmward.RoleOperator, "", `{"name":"x"}`, "", 404, ""},
		{"patch bad id", "PATCH", "/api/v1/devices/abc", firmward.RoleOperator, "", `{"name":"x"}`, "", 404, "abc"},
		{"delete missing device", "DELETE", "/api/v1/devices/999999", firmward.RoleOperator, "", ``, "", 404, ""},
		{"unknown CSV column", "POST", "/api/v1/devices/import?format=csv", firmward.RoleOperator, "", "name,colour\nx,red\n", "", 400, "colour"},
		{"CSV MAC already stored", "POST", "/api/v1/devices/import?format=csv", firmward.RoleOperator, "", "name,mac\nx,aa:bb:cc:dd:ee:ff\n", "", 400, "already"},
		{"CSV MAC twice in file", "POST", "/api/v1/devices/import?format=csv", firmward.RoleOperator, "", "name,mac\nx,02:00:00:00:00:09\ny,02:00:00:00:00:09\n", "", 400, ""},
		{"oversized import", "POST", "/api/v1/devices/import?format=csv", firmward.RoleOperator, "", bigCSV, "", 413, "4 KiB"},
		{"bad dry_run", "POST", "/api/v1/devices/import?format=csv&dry_run=maybe", firmward.RoleOperator, "", goodCSV, "", 400, "dry_run"},
		{"JSON import unknown field", "POST", "/api/v1/devices/import?format=json", firmward.RoleOperator, "", `[{"name":"x","colour":"red"}]`, "", 400, "colour"},
		{"token bad role", "POST", "/api/v1/tokens", firmward.RoleAdmin, "", `{"name":"x","role":"god"}`, "", 400, "role"},
		{"token unknown field", "POST", "/api/v1/tokens", firmward.RoleAdmin, "", `{"name":"x","role":"viewer","expires":1}`, "", 400, "expires"},
		{"revoke missing token", "DELETE", "/api/v1/tokens/999999", firmward.RoleAdmin, "", ``, "", 404, ""},
		{"operator creates token", "POST", "/api/v1/tokens", firmward.RoleOperator, "", `{"name":"x","role":"admin"}`, "", 403, "admin"},
		{"unknown route", "POST", "/api/v1/gadgets", firmward.RoleAdmin, "", `{}`, "", 404, "/api/v1/gadgets"},
		{"wrong method", "PUT", devicePath, firmward.RoleAdmin, "", `{"name":"x"}`, "", 405, "PATCH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.state(t)
			tokensBefore, err := e.tokens.FindTokens(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			secret := e.secret[tt.role]
			if tt.secret != "" {
				secret = tt.secret
			}
			var header []string
			if tt.contentType != "" {
				header = []string{"Content-Type", tt.contentType}
			}
			r := e.doSecret(t, tt.method, tt.path, secret, strings.NewReader(tt.body), header...)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %.300s", r.status, tt.status, r.body)
			}
			apiErr := r.apiError(t)
			if tt.mention != "" {
				text := apiErr.Message
				for _, d := range apiErr.Details {
					text += " " + d.Field + " " + d.Reason
				}
				if !strings.Contains(text, tt.mention) {
					t.Errorf("error does not mention %q: %+v", tt.mention, apiErr)
				}
			}
			if after := e.state(t); after != before {
				t.Errorf("state changed from %+v to %+v", before, after)
			}
			tokensAfter, err := e.tokens.FindTokens(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(tokensAfter) != len(tokensBefore) {
				t.Errorf("tokens went from %d to %d", len(tokensBefore), len(tokensAfter))
			}
			if got, _ := e.devices.FindDeviceByID(context.Background(), existing.ID); got == nil || got.Name != "existing" {
				t.Errorf("existing device is now %+v", got)
			}
		})
	}
}

func TestTokensAndWhoami(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	admin := e.client(firmward.RoleAdmin)

	tok, secret, err := admin.CreateToken(ctx, "ci", firmward.RoleOperator)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, firmward.TokenSecretPrefix) || tok.Role != firmward.RoleOperator || tok.Name != "ci" {
		t.Fatalf("created %+v with secret %q", tok, secret)
	}
	me, err := NewClient(e.ts.URL, secret).Whoami(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if me.ID != tok.ID || me.Role != firmward.RoleOperator {
		t.Errorf("whoami %+v, want token %d", me, tok.ID)
	}
	r := e.doSecret(t, "GET", "/api/v1/whoami", secret, nil)
	if bytes.Contains(r.body, []byte(secret)) || bytes.Contains(r.body, []byte(`"secret"`)) {
		t.Errorf("whoami shows the secret: %s", r.body)
	}
	list, err := admin.ListTokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(list, func(x *firmward.Token) bool { return x.ID == tok.ID }) {
		t.Errorf("ListTokens lacks the new token: %+v", list)
	}
	r = e.do(t, "GET", "/api/v1/tokens", firmward.RoleAdmin, "")
	if bytes.Contains(r.body, []byte(secret)) {
		t.Errorf("token list shows a secret: %s", r.body)
	}

	if err := admin.RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	_, err = NewClient(e.ts.URL, secret).Whoami(ctx)
	if firmward.ErrorCode(err) != firmward.EUNAUTHORIZED {
		t.Errorf("whoami with a revoked token: %v, want unauthorized", err)
	}
	if err := admin.RevokeToken(ctx, tok.ID); firmward.ErrorCode(err) != firmward.ECONFLICT {
		t.Errorf("second revoke: %v, want conflict", err)
	}

	// Changes are attributed to the token that made them.
	d, err := e.client(firmward.RoleOperator).CreateDevice(ctx, &firmward.Device{Name: "attributed"})
	if err != nil {
		t.Fatal(err)
	}
	events, _, err := admin.ListAudit(ctx, AuditQuery{ObjectType: "device", ObjectID: fmt.Sprint(d.ID)})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || !strings.Contains(events[0].Actor, "test-operator") || events[0].Action != firmward.ActionDeviceCreate {
		t.Errorf("audit of the creation: %+v", events)
	}
}

func TestAudit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	op := e.client(firmward.RoleOperator)
	for i := range 5 {
		if _, err := op.CreateDevice(ctx, &firmward.Device{Name: fmt.Sprint("d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	c := e.client(firmward.RoleViewer)

	var oldest []int64
	q := AuditQuery{Limit: 2}
	for {
		page, next, err := c.ListAudit(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range page {
			oldest = append(oldest, ev.Seq)
		}
		if next == "" {
			break
		}
		q.Cursor = next
	}
	if len(oldest) < 8 || !slices.IsSorted(oldest) {
		t.Errorf("oldest-first seqs %v", oldest)
	}

	var newest []int64
	q = AuditQuery{Newest: true, Limit: 3}
	for {
		page, next, err := c.ListAudit(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range page {
			newest = append(newest, ev.Seq)
		}
		if next == "" {
			break
		}
		// A cursor of one order is refused in the other.
		r := e.do(t, "GET", "/api/v1/audit?cursor="+next, firmward.RoleViewer, "")
		if r.status != http.StatusBadRequest {
			t.Errorf("newest cursor used oldest-first: status %d", r.status)
		}
		q.Cursor = next
	}
	reversed := slices.Clone(oldest)
	slices.Reverse(reversed)
	if !slices.Equal(newest, reversed) {
		t.Errorf("newest-first %v, want %v", newest, reversed)
	}

	events, _, err := c.ListAudit(ctx, AuditQuery{Action: firmward.ActionDeviceCreate})
	if err != nil || len(events) != 5 {
		t.Errorf("device.create events: %d, %v", len(events), err)
	}
	rep, err := c.VerifyAudit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || rep.Checked != int64(len(oldest)) {
		t.Errorf("verify %+v, want ok over %d events", rep, len(oldest))
	}
	r := e.do(t, "GET", "/api/v1/audit?order=sideways", firmward.RoleViewer, "")
	if r.status != http.StatusBadRequest || !strings.Contains(r.apiError(t).Message, "order") {
		t.Errorf("order=sideways: %d %s", r.status, r.body)
	}
}

func TestOpenAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.do(t, "GET", "/api/v1/openapi.json", "", "")
	if r.status != http.StatusOK {
		t.Fatalf("status %d", r.status)
	}
	var doc struct {
		OpenAPI    string                               `json:"openapi"`
		Paths      map[string]map[string]map[string]any `json:"paths"`
		Components struct {
			Schemas         map[string]any `json:"schemas"`
			SecuritySchemes map[string]struct {
				Type   string `json:"type"`
				Scheme string `json:"scheme"`
			} `json:"securitySchemes"`
		} `json:"components"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q", doc.OpenAPI)
	}
	// Every registered pattern, not only the table, is documented.
	for _, p := range e.srv.mux.patterns {
		method, path, ok := strings.Cut(p, " ")
		if !ok {
			continue // the method-less API fallback
		}
		op := doc.Paths[path][strings.ToLower(method)]
		if op == nil {
			t.Errorf("%s is registered but not in openapi.json", p)
			continue
		}
		if op["operationId"] == "" || op["responses"] == nil {
			t.Errorf("%s: operation without id or responses: %v", p, op)
		}
	}
	for _, rt := range e.srv.Routes() {
		op := doc.Paths[rt.Pattern][strings.ToLower(rt.Method)]
		if rt.Role != "" && op["x-firmward-role"] != string(rt.Role) {
			t.Errorf("%s %s: x-firmward-role %v, want %s", rt.Method, rt.Pattern, op["x-firmward-role"], rt.Role)
		}
	}
	for _, name := range []string{"Device", "DeviceUpdate", "Error", "ImportResult", "Token", "AuditEvent", "DeviceStats"} {
		if doc.Components.Schemas[name] == nil {
			t.Errorf("no schema %s", name)
		}
	}
	if s := doc.Components.SecuritySchemes["bearer"]; s.Type != "http" || s.Scheme != "bearer" {
		t.Errorf("bearer scheme %+v", s)
	}
	// Every $ref resolves.
	for _, ref := range refs(r.body) {
		name, ok := strings.CutPrefix(ref, "#/components/schemas/")
		if !ok || doc.Components.Schemas[name] == nil {
			t.Errorf("dangling $ref %q", ref)
		}
	}
	// The Device schema follows the type: every JSON field is a property.
	props := doc.Components.Schemas["Device"].(map[string]any)["properties"].(map[string]any)
	for _, f := range reflect.VisibleFields(reflect.TypeFor[firmward.Device]()) {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if props[name] == nil {
			t.Errorf("Device schema lacks %s", name)
		}
	}
}

// refs lists every "$ref" value in a JSON document.
func refs(doc []byte) []string {
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "$ref" {
					out = append(out, s)
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	var v any
	_ = json.Unmarshal(doc, &v)
	walk(v)
	return out
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.mustCreate(t, firmward.Device{Name: "m"})
	if r := e.do(t, "GET", fmt.Sprintf("/api/v1/devices/%d", d.ID), firmward.RoleViewer, ""); r.status != 200 {
		t.Fatalf("status %d", r.status)
	}
	e.do(t, "GET", "/api/v1/devices/999999", firmward.RoleViewer, "")
	e.do(t, "GET", "/api/v1/no/such/thing", firmward.RoleViewer, "")
	e.do(t, "BREW", "/api/v1/devices", firmward.RoleViewer, "")

	r := e.do(t, "GET", "/metrics", "", "")
	if r.status != http.StatusOK {
		t.Fatalf("status %d", r.status)
	}
	text := string(r.body)
	for _, want := range []string{
		`firmward_http_requests_total{code="200",method="GET",route="/api/v1/devices/{id}"} 1`,
		`firmward_http_requests_total{code="404",method="GET",route="/api/v1/devices/{id}"} 1`,
		`firmward_http_requests_total{code="404",method="GET",route="/api/v1/"} 1`,
		`firmward_http_requests_total{code="405",method="other",route="/api/v1/"} 1`,
		`firmward_http_request_duration_seconds_bucket{method="GET",route="/api/v1/devices/{id}",le="+Inf"} 2`,
		`go_goroutines`,
		`process_`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	for _, raw := range []string{fmt.Sprintf(`route="/api/v1/devices/%d"`, d.ID), `route="/api/v1/no/such/thing"`, `method="BREW"`} {
		if strings.Contains(text, raw) {
			t.Errorf("metrics hold a raw label %s", raw)
		}
	}
	// A second server on the same registry reuses the collectors.
	NewServer(Config{Devices: e.devices, Tokens: e.tokens, Audit: e.audit, Vulns: e.vulns, Findings: e.finds, Registry: e.srv.registry})
}

func TestHealthz(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.do(t, "GET", "/healthz", "", "")
	if r.status != http.StatusOK || string(r.body) != "ok\n" {
		t.Errorf("ready: %d %q", r.status, r.body)
	}
	e.setNotReady(errors.New("database is locked by /secret/path"))
	r = e.do(t, "GET", "/healthz", "", "")
	if r.status != http.StatusServiceUnavailable {
		t.Errorf("not ready: %d %q", r.status, r.body)
	}
	if bytes.Contains(r.body, []byte("/secret/path")) {
		t.Errorf("healthz shows the reason: %s", r.body)
	}
	if !strings.Contains(e.logs.String(), "/secret/path") {
		t.Error("the reason is not logged")
	}
	e.setNotReady(nil)
	if r := e.do(t, "GET", "/healthz", "", ""); r.status != http.StatusOK {
		t.Errorf("ready again: %d", r.status)
	}
}

func TestMountAndFallbacks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{mount: map[string]http.Handler{
		"/": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Security-Policy", "default-src 'self'")
			_, _ = w.Write([]byte("<p>web</p>"))
		}),
		"/boom": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			panic("kaboom")
		}),
	}})

	r := e.do(t, "GET", "/devices", "", "")
	if r.status != 200 || string(r.body) != "<p>web</p>" {
		t.Errorf("web: %d %s", r.status, r.body)
	}
	if r.header.Get("X-Content-Type-Options") != "nosniff" || r.header.Get("Content-Security-Policy") != "default-src 'self'" {
		t.Errorf("web headers %v", r.header)
	}

	// Under /api/v1 nothing falls through to the web UI.
	r = e.do(t, "GET", "/api/v1/devices/1/firmware", firmward.RoleViewer, "")
	if r.status != http.StatusNotFound || r.apiError(t).Code != firmward.ENOTFOUND {
		t.Errorf("unknown API route: %d %s", r.status, r.body)
	}
	r = e.do(t, "POST", "/api/v1/whoami", firmward.RoleViewer, "")
	if r.status != http.StatusMethodNotAllowed || r.apiError(t).Code != codeMethodNotAllowed {
		t.Errorf("wrong method: %d %s", r.status, r.body)
	}
	if got := r.header.Get("Allow"); got != "GET, HEAD" {
		t.Errorf("Allow = %q", got)
	}
	r = e.do(t, "DELETE", "/api/v1/devices", firmward.RoleAdmin, "")
	if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "GET, HEAD, POST" {
		t.Errorf("DELETE /devices: %d Allow %q", r.status, r.header.Get("Allow"))
	}

	// A panic is a 500 in the error shape, and the server goes on.
	r = e.do(t, "GET", "/boom", "", "")
	if r.status != http.StatusInternalServerError {
		t.Fatalf("panic: status %d", r.status)
	}
	apiErr := r.apiError(t)
	if strings.Contains(apiErr.Message, "kaboom") || !strings.Contains(apiErr.Message, r.header.Get("X-Request-Id")) {
		t.Errorf("panic answer %+v", apiErr)
	}
	if logs := e.logs.String(); !strings.Contains(logs, "kaboom") || !strings.Contains(logs, "handler panicked") {
		t.Errorf("panic not logged:\n%s", logs)
	}
	if r := e.do(t, "GET", "/healthz", "", ""); r.status != 200 {
		t.Errorf("after the panic: %d", r.status)
	}
	r = e.do(t, "GET", "/metrics", "", "")
	for _, want := range []string{`route="/boom"`, `route="/"`} {
		if !bytes.Contains(r.body, []byte(want)) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestRequestLog(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.do(t, "GET", "/api/v1/stats/devices", firmward.RoleViewer, "")
	logs := e.logs.String()
	for _, want := range []string{"method=GET", "route=/api/v1/stats/devices", "status=200", "duration=", "actor=token:", "test-viewer"} {
		if !strings.Contains(logs, want) {
			t.Errorf("request log lacks %s:\n%s", want, logs)
		}
	}
}

// failingDevices is the real device service with failures injected where a
// real database cannot be made to fail on cue: after the first export page,
// and in DeviceStats.
type failingDevices struct {
	firmward.DeviceService
}

func (f failingDevices) FindDevices(ctx context.Context, filter firmward.DeviceFilter) ([]*firmward.Device, int64, error) {
	if filter.After > 0 {
		return nil, 0, errors.New("disk on fire at /var/lib/firmward")
	}
	return f.DeviceService.FindDevices(ctx, filter)
}

func (f failingDevices) DeviceStats(context.Context) (*firmward.DeviceStats, error) {
	return nil, errors.New("disk on fire at /var/lib/firmward")
}

func TestInternalErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i := range firmward.MaxPageSize + 1 {
		e.mustCreate(t, firmward.Device{Name: fmt.Sprint("d", i)})
	}
	srv := NewServer(Config{Devices: failingDevices{e.devices}, Tokens: e.tokens, Audit: e.audit, Vulns: e.vulns, Findings: e.finds, Logger: e.srv.logger})
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	c := NewClient(ts.URL, e.secret[firmward.RoleViewer])
	ctx := context.Background()

	// A 500 hides the cause from the caller and logs it.
	_, err := c.DeviceStats(ctx)
	var fe *firmward.Error
	if !errors.As(err, &fe) || fe.Code != firmward.EINTERNAL || strings.Contains(fe.Message, "disk on fire") || !strings.Contains(fe.Message, "request_id") {
		t.Errorf("DeviceStats: %#v", err)
	}
	if !strings.Contains(e.logs.String(), "disk on fire") {
		t.Error("the cause of the 500 is not logged")
	}

	// An export that fails after its first page breaks off rather than
	// ending like a complete file.
	var buf bytes.Buffer
	if err := c.ExportDevices(ctx, "json", &buf); err == nil {
		t.Errorf("export that failed midway: no error, got %d bytes", buf.Len())
	}
	if !strings.Contains(e.logs.String(), "export failed midway") {
		t.Error("the broken export is not logged")
	}
}
