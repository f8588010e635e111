package firmward_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/firmward/firmward"
)

func TestNormalizeMAC(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"aa:bb:cc:dd:ee:ff", "aa:bb:cc:dd:ee:ff", true},
		{"AA-BB-CC-DD-EE-FF", "aa:bb:cc:dd:ee:ff", true},
		{"aabb.ccdd.eeff", "aa:bb:cc:dd:ee:ff", true},
		{"AABBCCDDEEFF", "aa:bb:cc:dd:ee:ff", true},
		{" 3C-D9-2B-00-00-13 ", "3c:d9:2b:00:00:13", true},
		{"aa bb cc dd ee ff", "aa:bb:cc:dd:ee:ff", true},
		{"aa:bb:cc:dd:ee", "", false},
		{"aa:bb:cc:dd:ee:ff:00", "", false},
		{"gg:bb:cc:dd:ee:ff", "", false},
		{"a:abb:cc:dd:ee:ff", "", false},
		{"aabbcc:ddeeff", "", false},
		{"", "", false},
		{"aa::bb:cc:dd:ee:ff", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := firmward.NormalizeMAC(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("NormalizeMAC(%q) = %q, %v; want %q ok=%v", tt.in, got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestValidateCPE23(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in string
		ok bool
	}{
		// Real names from the NVD data, escapes included.
		{`cpe:2.3:o:tp-link:archer_ax21_firmware:*:*:*:*:*:*:*:*`, true},
		{`cpe:2.3:h:tp-link:archer_ax21:3.0:*:*:*:*:*:*:*`, true},
		{`cpe:2.3:o:hikvision:ds-2cd2032-i_firmware:-:*:*:*:*:*:*:*`, true},
		{`cpe:2.3:o:mikrotik:routeros:6.49.7:*:*:*:ltr:*:*:*`, true},
		{`cpe:2.3:a:acme:widget\/pro:1.0:*:*:*:*:*:*:*`, true},
		{`cpe:2.3:o:netgear:r7000_firmware:1.0.11.116_10.2.100:*:*:*:*:*:*:*`, true},
		{`cpe:2.3:a:vendor:product\,with\,commas:*:*:*:*:*:*:*:*`, true},
		{`cpe:2.3:a:vendor:prod*:1.*:*:*:*:*:*:*:*`, true},
		{`cpe:2.3:o:tp-link:archer_ax21_firmware:*:*:*:*:*:*:*`, false}, // 10 components
		{`cpe:/o:tp-link:archer_ax21_firmware:1.0`, false},              // CPE 2.2 URI
		{`cpe:2.3:x:tp-link:archer:*:*:*:*:*:*:*:*`, false},
		{`cpe:2.3:o:tp-link:archer ax21:*:*:*:*:*:*:*:*`, false},
		{`cpe:2.3:o:tp-link::*:*:*:*:*:*:*:*`, false},
		{`cpe:2.3:o:tp-link:ar*cher:*:*:*:*:*:*:*:*`, false},
		{`cpe:2.3:o:tp-link:archer:*:*:*:*:*:*:*:\`, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			err := firmward.ValidateCPE23(tt.in)
			if (err == nil) != tt.ok {
				t.Errorf("ValidateCPE23(%q) = %v, want ok=%v", tt.in, err, tt.ok)
			}
		})
	}
}

func TestDeviceNormalize(t *testing.T) {
	t.Parallel()
	d := firmward.Device{
		Name: "  Cam 1 ", Category: "Camera", Criticality: "", Exposure: "INTERNET_FACING",
		MACs: []string{"AC-CC-8E-00-00-01", "ac:cc:8e:00:00:01", ""}, IPs: []string{"::ffff:10.0.0.5"},
		Tags: []string{"Lobby", "lobby"}, EOLDate: "2027-01-31",
	}
	if err := d.Normalize(); err != nil {
		t.Fatal(err)
	}
	want := firmward.Device{
		Name: "Cam 1", Category: firmward.CategoryCamera, Criticality: firmward.CriticalityMedium,
		Exposure: firmward.ExposureInternetFacing, AutoUpdate: firmward.AutoUpdateUnknown,
		MACs: []string{"ac:cc:8e:00:00:01"}, IPs: []string{"10.0.0.5"}, Tags: []string{"lobby"}, EOLDate: "2027-01-31",
	}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("got %+v\nwant %+v", d, want)
	}

	bad := firmward.Device{
		Name: "", Category: "toaster", MACs: []string{"nope"}, IPs: []string{"10.0.0.300"},
		CPE: "cpe:2.3:o", EOLDate: "31/01/2027", ReplacementCost: -1, Tags: []string{"two words"},
	}
	err := bad.Normalize()
	var fields []string
	for _, det := range firmward.ErrorDetails(err) {
		fields = append(fields, det.Field)
	}
	wantFields := []string{"name", "category", "macs", "ips", "tags", "cpe", "eol_date", "replacement_cost"}
	if firmward.ErrorCode(err) != firmward.EINVALID || !reflect.DeepEqual(fields, wantFields) {
		t.Errorf("errors on fields %v (%v), want %v", fields, err, wantFields)
	}
}

func FuzzNormalizeMAC(f *testing.F) {
	for _, s := range []string{"aa:bb:cc:dd:ee:ff", "aabb.ccdd.eeff", "AA-BB-CC-DD-EE-FF", "::::", "a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := firmward.NormalizeMAC(s)
		if err != nil {
			return
		}
		again, err := firmward.NormalizeMAC(got)
		if err != nil || again != got || len(got) != 17 {
			t.Fatalf("NormalizeMAC(%q) = %q, not a fixed point (%q, %v)", s, got, again, err)
		}
	})
}

func FuzzValidateCPE23(f *testing.F) {
	f.Add(`cpe:2.3:o:tp-link:archer_ax21_firmware:*:*:*:*:*:*:*:*`)
	f.Add(`cpe:2.3:a:vendor:product\,x:1.0:*:*:*:*:*:*:*`)
	f.Fuzz(func(t *testing.T, s string) {
		if err := firmward.ValidateCPE23(s); err == nil && !strings.HasPrefix(s, "cpe:2.3:") {
			t.Fatalf("accepted %q", s)
		}
	})
}

func TestRoleIncludes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		have, need firmward.Role
		ok         bool
	}{
		{firmward.RoleAdmin, firmward.RoleViewer, true},
		{firmward.RoleOperator, firmward.RoleOperator, true},
		{firmward.RoleOperator, firmward.RoleAdmin, false},
		{firmward.RoleViewer, firmward.RoleOperator, false},
		{"root", firmward.RoleViewer, false},
	}
	for _, tt := range tests {
		if got := tt.have.Includes(tt.need); got != tt.ok {
			t.Errorf("%s.Includes(%s) = %v", tt.have, tt.need, got)
		}
	}
}

func TestAuditChain(t *testing.T) {
	t.Parallel()
	var events []*firmward.AuditEvent
	var seq int64
	var hash string
	for i := range 4 {
		e := &firmward.AuditEvent{
			Time: time.Date(2026, 11, 24, 10, 0, i, 123456789, time.UTC), Actor: "token:1(admin)",
			Action: firmward.ActionDeviceUpdate, ObjectType: "device", ObjectID: "7",
			Changes: []firmward.FieldChange{{Field: "name", Old: "a", New: "b"}},
		}
		e.Seal(seq, hash)
		seq, hash = e.Seq, e.Hash
		events = append(events, e)
	}
	check := func(evs []*firmward.AuditEvent) error {
		var c firmward.AuditChain
		for _, e := range evs {
			if err := c.Check(e); err != nil {
				return err
			}
		}
		return nil
	}
	if err := check(events); err != nil {
		t.Fatalf("intact chain: %v", err)
	}
	edited := *events[1]
	edited.Changes = []firmward.FieldChange{{Field: "name", Old: "a", New: "c"}}
	tests := map[string][]*firmward.AuditEvent{
		"edited":    {events[0], &edited, events[2], events[3]},
		"deleted":   {events[0], events[2], events[3]},
		"reordered": {events[0], events[2], events[1], events[3]},
	}
	for name, evs := range tests {
		if err := check(evs); err == nil {
			t.Errorf("%s chain passed", name)
		}
	}
}

func TestErrorHelpers(t *testing.T) {
	t.Parallel()
	e := firmward.Errorf(firmward.ENOTFOUND, "device %d not found", 3)
	wrapped := errors.Join(errors.New("ctx"), e)
	if firmward.ErrorCode(wrapped) != firmward.ENOTFOUND || firmward.ErrorMessage(wrapped) != "device 3 not found" {
		t.Errorf("code/message lost through wrapping: %q %q", firmward.ErrorCode(wrapped), firmward.ErrorMessage(wrapped))
	}
	if firmward.ErrorCode(errors.New("boom")) != firmward.EINTERNAL || firmward.ErrorMessage(errors.New("secret")) != "internal error" {
		t.Error("plain errors must be internal and hidden")
	}
}

func TestDiffDevices(t *testing.T) {
	t.Parallel()
	old := &firmward.Device{ID: 1, Name: "a", MACs: []string{"aa:bb:cc:dd:ee:ff"}}
	upd := &firmward.Device{ID: 1, Name: "b", MACs: []string{"aa:bb:cc:dd:ee:ff"}, ReplacementCost: 12.5, UpdatedAt: time.Now()}
	got := firmward.DiffDevices(old, upd)
	want := []firmward.FieldChange{{Field: "name", Old: "a", New: "b"}, {Field: "replacement_cost", Old: "", New: "12.5"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("diff = %+v, want %+v", got, want)
	}
}

// TestDiffDevicesCoversEveryField sets each Device field alone and checks
// that DiffDevices names it: a new field must be added to the audit trail.
func TestDiffDevicesCoversEveryField(t *testing.T) {
	t.Parallel()
	typ := reflect.TypeFor[firmward.Device]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "id", "created_at", "updated_at":
			continue // kept by the store, not by people
		}
		var d firmward.Device
		v := reflect.ValueOf(&d).Elem().Field(i)
		switch v.Kind() {
		case reflect.String:
			v.SetString("x")
		case reflect.Float64:
			v.SetFloat(1.5)
		case reflect.Slice:
			v.Set(reflect.ValueOf([]string{"x"}))
		case reflect.Pointer:
			now := time.Now()
			v.Set(reflect.ValueOf(&now))
		default:
			t.Fatalf("field %s has kind %s: teach DiffDevices about it", f.Name, v.Kind())
		}
		got := firmward.DiffDevices(nil, &d)
		if len(got) != 1 || got[0].Field != name || got[0].New == "" {
			t.Errorf("field %s: DiffDevices = %+v, want one change of %q", f.Name, got, name)
		}
	}
}

func TestVulnerabilityEachMatch(t *testing.T) {
	t.Parallel()
	v := &firmward.Vulnerability{Configurations: []firmward.Configuration{
		{Nodes: []firmward.Node{{
			Operator: "AND",
			Matches:  []firmward.CPEMatch{{Criteria: "a"}},
			Children: []firmward.Node{{Matches: []firmward.CPEMatch{{Criteria: "b"}, {Criteria: "c"}}}},
		}}},
		{Nodes: []firmward.Node{{Matches: []firmward.CPEMatch{{Criteria: "d"}}}, {Matches: []firmward.CPEMatch{{Criteria: "e"}}}}},
	}}
	var got []string
	v.EachMatch(func(m *firmward.CPEMatch) {
		got = append(got, m.Criteria)
		m.Criteria += "!"
	})
	if !reflect.DeepEqual(got, []string{"a", "b", "c", "d", "e"}) {
		t.Errorf("visited %v", got)
	}
	if v.Configurations[0].Nodes[0].Children[0].Matches[1].Criteria != "c!" {
		t.Error("fn could not change a nested match in place")
	}
}
