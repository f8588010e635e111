package sqlstore

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/firmward/firmward"
)

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
		if !json.Valid([]byte(`"`+s+`"`)) || strings.ToValidUTF8(s, "\uFFFD") != s {
			// Invalid UTF-8 comes back as U+FFFD, as with encoding/json.
			std, _ := json.Marshal(changes)
			want = nil
			if err := json.Unmarshal(std, &want); err != nil {
				t.Fatal(err)
			}
		}
		if !reflect.DeepEqual(back, want) {
			t.Errorf("%q: round trip gave %q", s, back)
		}
	}
	if got := string(appendJSONChanges(nil, nil)); got != "[]" {
		t.Errorf("no changes = %s", got)
	}
}
