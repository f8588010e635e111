package sqlstore

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/firmward/firmward"
)

// everyField returns a device with every field set to something non-zero,
// found by reflection, so that a field added to Device shows up here.
func everyField(t *testing.T, seed int) *firmward.Device {
	t.Helper()
	var d firmward.Device
	v := reflect.ValueOf(&d).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		name := v.Type().Field(i).Name
		switch f.Kind() {
		case reflect.String:
			f.SetString(fmt.Sprintf("%s-%d \"ü\"\n", name, seed))
		case reflect.Int64:
			f.SetInt(int64(seed + 1))
		case reflect.Float64:
			f.SetFloat(float64(seed) + 0.25)
		case reflect.Slice:
			f.Set(reflect.ValueOf([]string{name + "-a", fmt.Sprint(seed)}))
		case reflect.Pointer:
			tm := time.Date(2024, 5, 6, 7, 8, 9, seed*1000+1, time.FixedZone("Z2", 7200))
			f.Set(reflect.ValueOf(&tm))
		case reflect.Struct:
			f.Set(reflect.ValueOf(time.Date(2023, 1, 1, 0, 0, seed, 0, time.UTC)))
		default:
			t.Fatalf("everyField: field %s of kind %s is not handled", name, f.Kind())
		}
	}
	return &d
}

func TestCreationChanges(t *testing.T) {
	devices := []*firmward.Device{everyField(t, 1), {}, {Name: "only", ReplacementCost: 1e-9}}
	for i := range 200 {
		d := benchDevice(i)
		devices = append(devices, &d)
	}
	for i, d := range devices {
		got, want := creationChanges(d), firmward.DiffDevices(nil, d)
		if len(want) == 0 {
			want = []firmward.FieldChange{}
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("device %d: creationChanges =\n %v\nDiffDevices =\n %v", i, got, want)
		}
	}
}

func TestSealer(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	str := func() string {
		const alphabet = "ab:;0123456789\x00\n\"\\ü€😀"
		var b strings.Builder
		for range r.IntN(20) {
			rs := []rune(alphabet)
			b.WriteRune(rs[r.IntN(len(rs))])
		}
		return b.String()
	}
	var sl sealer
	prevSeq, prevHash := int64(0), ""
	for i := range 500 {
		e := firmward.AuditEvent{
			Time:       time.Unix(r.Int64N(4e9), r.Int64N(1e9)).In(time.FixedZone("X", 3600*r.IntN(12))),
			Actor:      str(),
			Action:     str(),
			ObjectType: str(),
			ObjectID:   str(),
		}
		for range r.IntN(4) {
			e.Changes = append(e.Changes, firmward.FieldChange{Field: str(), Old: str(), New: str()})
		}
		want := e
		want.Changes = append([]firmward.FieldChange(nil), e.Changes...)
		want.Seal(prevSeq, prevHash)
		sl.seal(&e, prevSeq, prevHash)
		if !reflect.DeepEqual(e, want) {
			t.Fatalf("event %d: sealer gave\n %+v\nSeal gave\n %+v", i, e, want)
		}
		prevSeq, prevHash = e.Seq, e.Hash
	}
}

func TestAppendJSONChanges(t *testing.T) {
	var all []string
	for c := range 0x80 {
		all = append(all, string(rune(c)))
	}
	all = append(all, "\u2028x\u2029", "<&>", "ünï😀", "\xff", "a\xc3", "")
	for _, s := range all {
		changes := []firmward.FieldChange{{Field: s, Old: "o" + s, New: s + "n"}}
		b := appendJSONChanges(nil, changes)
		var back []firmward.FieldChange
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%q: %s is not JSON: %v", s, b, err)
		}
		want := changes
		if !json.Valid([]byte(`"` + s + `"`)) || strings.ToValidUTF8(s, "\uFFFD") != s {
			// Invalid UTF-8 comes back as U+FFFD, as with encoding/json.
			std, _ := json.Marshal(changes)
			want = nil
			json.Unmarshal(std, &want)
		}
		if !reflect.DeepEqual(back, want) {
			t.Errorf("%q: round trip gave %q", s, back)
		}
	}
	if got := string(appendJSONChanges(nil, nil)); got != "[]" {
		t.Errorf("no changes = %s", got)
	}
}
