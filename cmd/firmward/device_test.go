package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/httpapi"
	"github.com/firmward/firmward/inventory"
)

func TestDeviceCommands(t *testing.T) {
	t.Parallel()
	s := startServer(t, t.TempDir(), nil)

	// add: human and JSON.
	out := s.ok(t, "device", "add", "--name", "Core switch", "--manufacturer", "Cisco", "--model", "Catalyst 9300",
		"--mac", "00:27:0D:AA:BB:01", "--mac", "00-27-0d-aa-bb-02", "--ip", "10.0.0.2", "--tag", "core,switch",
		"--category", "network-infrastructure", "--criticality", "high", "--site", "HQ", "--location", "IDF 1")
	mustContain(t, "device add", out, `added device 1 "Core switch"`, "--firmware-version", "--update-mechanism")

	var cam firmward.Device
	s.okJSON(t, &cam, "device", "add", "--name", "Lobby camera", "--manufacturer", "Axis Communications",
		"--firmware-version", "10.12.213", "--update-mechanism", "web-admin", "--auto-update", "no",
		"--category", "camera", "--exposure", "segmented", "--cpe", "cpe:2.3:o:axis:p3245-v_firmware:10.12.213:*:*:*:*:*:*:*",
		"--eol-date", "2030-01-31", "--replacement-cost", "749.5", "--notes", "by the door", "--owner", "Security")
	if cam.ID != 2 || cam.Category != firmward.CategoryCamera || cam.ReplacementCost != 749.5 || cam.Source != firmward.SourceManual {
		t.Fatalf("device add --json = %+v", cam)
	}

	// A bad device: exit 1 and a table of every bad field.
	r := s.fails(t, 1, "device", "add", "--name", "Bad", "--mac", "zz", "--category", "toaster", "--eol-date", "soon")
	mustContain(t, "stderr", r.stderr, "FIELD", "REASON", "macs", "category", "eol_date", `"toaster"`)
	// A MAC owned by another device.
	r = s.fails(t, 1, "device", "add", "--name", "Clone", "--mac", "00:27:0d:aa:bb:01")
	mustContain(t, "stderr", r.stderr, "00:27:0d:aa:bb:01")

	// show.
	out = s.ok(t, "device", "show", "1")
	mustContain(t, "device show", out, "Core switch", "00:27:0d:aa:bb:01, 00:27:0d:aa:bb:02", "core, switch", "Firmware version  unknown")
	var shown firmward.Device
	s.okJSON(t, &shown, "device", "show", "2")
	if shown.CPE != cam.CPE || shown.Notes != "by the door" {
		t.Fatalf("device show --json = %+v", shown)
	}
	r = s.fails(t, 1, "device", "show", "99")
	mustContain(t, "stderr", r.stderr, "firmward device list")

	// list: table, JSON, filters, pages.
	out = s.ok(t, "device", "list")
	mustContain(t, "device list", out, "ID", "NAME", "Core switch", "Lobby camera", "unknown")
	var list httpapi.DeviceList
	s.okJSON(t, &list, "device", "list", "--category", "camera")
	if len(list.Devices) != 1 || list.Devices[0].Name != "Lobby camera" {
		t.Fatalf("--category camera: %+v", list)
	}
	s.okJSON(t, &list, "device", "list", "--missing", "firmware_version")
	if len(list.Devices) != 1 || list.Devices[0].ID != 1 {
		t.Fatalf("--missing firmware_version: %+v", list)
	}
	s.okJSON(t, &list, "device", "list", "--q", "lobby")
	if len(list.Devices) != 1 {
		t.Fatalf("--q lobby: %+v", list)
	}
	s.okJSON(t, &list, "device", "list", "--tag", "core", "--site", "hq")
	if len(list.Devices) != 1 || list.Devices[0].ID != 1 {
		t.Fatalf("--tag core --site hq: %+v", list)
	}
	s.okJSON(t, &list, "device", "list", "--limit", "1")
	if len(list.Devices) != 1 || list.NextCursor == "" {
		t.Fatalf("--limit 1: %+v", list)
	}
	r = s.run(t, "device", "list", "--limit", "1")
	mustContain(t, "stderr", r.stderr, "1 device; more with --cursor "+list.NextCursor)
	s.okJSON(t, &list, "device", "list", "--limit", "1", "--cursor", list.NextCursor)
	if len(list.Devices) != 1 || list.Devices[0].ID != 2 {
		t.Fatalf("second page: %+v", list)
	}
	s.okJSON(t, &list, "device", "list", "--limit", "1", "--all")
	if len(list.Devices) != 2 || list.NextCursor != "" {
		t.Fatalf("--all with pages of 1: %+v", list)
	}
	r = s.fails(t, 1, "device", "list", "--category", "toaster")
	mustContain(t, "stderr", r.stderr, "category")

	// edit sends only the flags given.
	out = s.ok(t, "device", "edit", "2", "--firmware-version", "11.8.64", "--tag", "lobby")
	mustContain(t, "device edit", out, `updated device 2 "Lobby camera"`)
	var edited firmward.Device
	s.okJSON(t, &edited, "device", "show", "2")
	want := shown
	want.FirmwareVersion, want.Tags, want.UpdatedAt = "11.8.64", []string{"lobby"}, edited.UpdatedAt
	if !reflect.DeepEqual(edited, want) {
		t.Fatalf("edit changed more than asked:\n got %+v\nwant %+v", edited, want)
	}
	s.okJSON(t, &edited, "device", "edit", "2", "--tag=", "--replacement-cost", "0", "--json")
	if edited.Tags != nil || edited.ReplacementCost != 0 || edited.Notes != "by the door" {
		t.Fatalf("clearing tags and cost: %+v", edited)
	}
	r = s.fails(t, 1, "device", "edit", "2", "--criticality", "extreme")
	mustContain(t, "stderr", r.stderr, "criticality", `"extreme"`)

	// rm.
	mustContain(t, "device rm", s.ok(t, "device", "rm", "1"), "deleted device 1")
	var gone map[string]int64
	s.okJSON(t, &gone, "device", "rm", "2")
	if gone["deleted"] != 2 {
		t.Fatalf("device rm --json = %v", gone)
	}
	r = s.fails(t, 1, "device", "rm", "2")
	mustContain(t, "stderr", r.stderr, "firmward device list")
	r = s.run(t, "device", "list")
	mustContain(t, "stderr", r.stderr, "0 devices", "firmward seed home")
}

// TestDeviceEnvTwins: list flags from the environment are replaced, not
// extended, by the command line; every device flag has a twin.
func TestDeviceEnvTwins(t *testing.T) {
	t.Parallel()
	s := startServer(t, t.TempDir(), nil)
	env := map[string]string{
		"FIRMWARD_SERVER": s.URL, "FIRMWARD_TOKEN": s.Token, "FIRMWARD_JSON": "1",
		"FIRMWARD_MANUFACTURER": "Acme", "FIRMWARD_TAG": "a,b", "FIRMWARD_UPDATE_MECHANISM": "ddi",
	}
	var d firmward.Device
	r := cli(t, env, false, "device", "add", "--name", "from-env")
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &d) != nil {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if d.Manufacturer != "Acme" || !reflect.DeepEqual(d.Tags, []string{"a", "b"}) || d.UpdateMechanism != firmward.UpdateDDI {
		t.Fatalf("twins not applied: %+v", d)
	}
	r = cli(t, env, false, "device", "add", "--name", "flag-wins", "--tag", "c", "--manufacturer", "Other")
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &d) != nil {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if d.Manufacturer != "Other" || !reflect.DeepEqual(d.Tags, []string{"c"}) {
		t.Fatalf("flags did not win: %+v", d)
	}
}

const goodCSV = `name,manufacturer,model,firmware_version,category,mac,ip,tags
Router,TP-Link,Archer AX21,1.1.3,network-infrastructure,50:c7:bf:00:00:01,192.168.1.1,wifi;gateway
Camera,Reolink,RLC-810A,,camera,ec:71:db:00:00:02,192.168.1.40,
`

const badCSV = `name,manufacturer,mac,ip,category
Good,Acme,02:00:00:00:00:01,10.0.0.1,sensor
Bad MAC,Acme,zz,10.0.0.2,sensor
,Acme,,999.1.1.1,toaster
`

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDeviceImportExport(t *testing.T) {
	t.Parallel()
	s := startServer(t, t.TempDir(), nil)
	good := writeFile(t, "inventory.csv", goodCSV)
	bad := writeFile(t, "bad.csv", badCSV)

	// A bad file: exit 1, every bad row in a table, nothing stored.
	r := s.fails(t, 1, "device", "import", bad)
	mustContain(t, "stderr", r.stderr, "2 rows have problems",
		"LINE", "COLUMN", "VALUE", "REASON",
		`3     mac       "zz"`, "4     name", `4     category  "toaster"`, `"999.1.1.1"`,
		"Nothing was imported")
	var body struct {
		Error struct {
			Code    string
			Details []firmward.ErrorDetail
		}
	}
	r = s.fails(t, 1, "device", "import", bad, "--json")
	if err := json.Unmarshal([]byte(r.stdout), &body); err != nil || body.Error.Code != firmward.EINVALID || len(body.Error.Details) != 4 {
		t.Fatalf("import --json of a bad file: %v\n%s", err, r.stdout)
	}
	if d := body.Error.Details[0]; d.Line != 3 || d.Field != "mac" || d.Value != "zz" {
		t.Fatalf("first detail %+v", d)
	}
	r = s.fails(t, 1, "device", "import", writeFile(t, "cols.csv", "name,colour\nx,red\n"))
	mustContain(t, "stderr", r.stderr, "colour", "unknown column")

	// Dry run, then the import, with a progress bar on a terminal.
	mustContain(t, "dry run", s.ok(t, "device", "import", good, "--dry-run"), "dry run: all 2 devices are valid")
	tty := cli(t, nil, true, "--server", s.URL, "--token", s.Token, "device", "import", good)
	if tty.code != 0 {
		t.Fatalf("import: exit %d\n%s", tty.code, tty.stderr)
	}
	mustContain(t, "stdout", tty.stdout, "imported 2 devices")
	mustContain(t, "progress bar", tty.stderr, "\rimporting inventory.csv [", "100%", fmt.Sprintf("/ %d B", len(goodCSV)))
	if !strings.HasSuffix(tty.stderr, "\n") {
		t.Errorf("the progress bar does not end its line: %q", tty.stderr)
	}
	// No bar when stderr is not a terminal.
	var res firmward.ImportResult
	json1 := writeFile(t, "more.json", `[{"name":"Plug","manufacturer":"TP-Link","macs":["98:da:c4:00:00:03"]}]`)
	r = s.run(t, "device", "import", json1, "--json")
	if r.code != 0 || strings.Contains(r.stderr, "\r") || json.Unmarshal([]byte(r.stdout), &res) != nil || res.Created != 1 {
		t.Fatalf("json import: exit %d, %q, %q", r.code, r.stdout, r.stderr)
	}
	// The same rows again conflict on their MACs.
	r = s.fails(t, 1, "device", "import", good)
	mustContain(t, "stderr", r.stderr, "50:c7:bf:00:00:01")
	// --format overrides the extension; "-" reads stdin.
	r = s.fails(t, 1, "device", "import", good, "--format", "json")
	mustContain(t, "stderr", r.stderr, "malformed JSON")

	// Export: CSV to stdout, JSON to a file; what export writes, import reads.
	csvOut := s.ok(t, "device", "export")
	rows, err := inventory.ReadCSV(strings.NewReader(csvOut))
	if err != nil || len(rows) != 3 {
		t.Fatalf("export CSV read back: %d rows, %v\n%s", len(rows), err, csvOut)
	}
	mustContain(t, "export", csvOut, strings.Join(inventory.Columns, ","), "wifi;gateway")
	file := filepath.Join(t.TempDir(), "out.json")
	r = s.run(t, "device", "export", "-o", file)
	mustContain(t, "stderr", r.stderr, "exported the inventory to "+file+" (json)")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	jrows, err := inventory.ReadJSON(bytes.NewReader(b))
	if err != nil || len(jrows) != 3 || jrows[0].Device.Name != "Router" {
		t.Fatalf("export JSON read back: %v %+v", err, jrows)
	}
	if st, _ := os.Stat(file); st.Mode().Perm() != 0o600 {
		t.Errorf("export file mode %o, want 0600", st.Mode().Perm())
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(file), ".out.json.*")); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
	s.ok(t, "device", "export", "--output", file, "--format", "csv")
	if b, _ := os.ReadFile(file); !strings.HasPrefix(string(b), "name,") {
		t.Errorf("--format csv wrote %.40q", b)
	}

	// Round trip: export, delete everything, import the export from stdin,
	// and the inventory is the same but for IDs and timestamps.
	before := s.ok(t, "device", "export", "--format", "json")
	var list httpapi.DeviceList
	s.okJSON(t, &list, "device", "list", "--all")
	for _, d := range list.Devices {
		s.ok(t, "device", "rm", strconv.FormatInt(d.ID, 10))
	}
	r = cliStdin(t, before, "--server", s.URL, "--token", s.Token, "device", "import", "-", "--format", "json")
	if r.code != 0 {
		t.Fatalf("import from stdin: exit %d\n%s", r.code, r.stderr)
	}
	after := s.ok(t, "device", "export", "--format", "json")
	strip := func(export string) []firmward.Device {
		var ds []firmward.Device
		if err := json.Unmarshal([]byte(export), &ds); err != nil {
			t.Fatal(err)
		}
		for i := range ds {
			ds[i].ID, ds[i].CreatedAt, ds[i].UpdatedAt = 0, time.Time{}, time.Time{}
		}
		return ds
	}
	if b, a := strip(before), strip(after); !reflect.DeepEqual(b, a) || len(a) != 3 {
		t.Fatalf("export → import changed the inventory:\nbefore %+v\nafter  %+v", b, a)
	}
}
