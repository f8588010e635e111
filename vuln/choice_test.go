package vuln

import (
	"strings"
	"testing"

	"github.com/firmward/firmward"
)

func TestChoose(t *testing.T) {
	t.Parallel()
	cat := NewCatalog()
	for _, s := range []string{
		"cpe:2.3:o:tp-link:archer_ax21_firmware:*:*:*:*:*:*:*:*",
		"cpe:2.3:h:tp-link:archer_ax21:-:*:*:*:*:*:*:*",
		"cpe:2.3:o:tp-link:archer_ax21_v2_firmware:*:*:*:*:*:*:*:*",
	} {
		if err := cat.Add(s); err != nil {
			t.Fatal(err)
		}
	}
	p := Propose(cat, firmward.Device{Manufacturer: "TP-Link", Model: "Archer AX21", FirmwareVersion: "1.1.4 Build 20230219"})
	if p.Source != ProposalProposed || p.Firmware.CPE == "" || p.Hardware.CPE == "" || len(p.Alternatives) == 0 {
		t.Fatalf("proposal = %+v, want firmware, hardware and alternatives", p)
	}
	alt := p.Alternatives[0]
	tests := []struct {
		name, cpe, choice string
		confidence        float64
	}{
		{"firmware", p.Firmware.CPE, ChoiceConfirmed, p.Firmware.Confidence},
		{"firmware any case", strings.ToUpper(p.Firmware.CPE[:12]) + p.Firmware.CPE[12:], ChoiceConfirmed, p.Firmware.Confidence},
		{"hardware", p.Hardware.CPE, ChoiceHardware, p.Hardware.Confidence},
		{"alternative", alt.CPE, ChoiceAlternative, alt.Confidence},
		{"override", "cpe:2.3:o:tp-link:archer_ax23_firmware:1.0:*:*:*:*:*:*:*", ChoiceOverride, 0},
		{"cleared", "", ChoiceCleared, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := Choose(p, 7, "cpe:2.3:o:old:thing:*:*:*:*:*:*:*:*", tc.cpe, "checked the label")
			if c.Choice != tc.choice || c.Confidence != tc.confidence || c.Proposed != p.Firmware || c.DeviceID != 7 {
				t.Errorf("Choose = %+v, want %s with confidence %v", c, tc.choice, tc.confidence)
			}
			ev := c.AuditEvent()
			if ev.Action != firmward.ActionDeviceCPEConfirm || ev.ObjectType != "device" || ev.ObjectID != "7" {
				t.Errorf("event = %+v", ev)
			}
			got := map[string]firmward.FieldChange{}
			for _, ch := range ev.Changes {
				got[ch.Field] = ch
			}
			if got["cpe"].Old != "cpe:2.3:o:old:thing:*:*:*:*:*:*:*:*" || got["cpe"].New != tc.cpe ||
				got["choice"].New != tc.choice || got["proposed"].New != p.Firmware.CPE ||
				got["proposed_confidence"].New == "" || got["reason"].New != "checked the label" {
				t.Errorf("changes = %+v", ev.Changes)
			}
			if _, ok := got["chosen_confidence"]; ok != (tc.confidence != 0) {
				t.Errorf("chosen_confidence present = %v, want %v", ok, tc.confidence != 0)
			}
		})
	}
}

func TestCheckChoice(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, cpe, reason string
		fields            []string // fields of the details; nil for valid
	}{
		{"firmware", " cpe:2.3:o:acme:fw:1.0:*:*:*:*:*:*:* ", "", nil},
		{"hardware", "cpe:2.3:h:acme:box:-:*:*:*:*:*:*:*", "label on the box", nil},
		{"clear", "  ", "", nil},
		{"not a cpe", "acme router", "", []string{"cpe"}},
		{"too few components", "cpe:2.3:o:acme:fw", "", []string{"cpe"}},
		{"application", "cpe:2.3:a:acme:app:1.0:*:*:*:*:*:*:*", "", []string{"cpe"}},
		{"long reason", "", strings.Repeat("é", MaxChoiceReason+1), []string{"reason"}},
		{"bad utf8", "", "\xff", []string{"reason"}},
		{"both", "cpe:2.3:x", "\xff", []string{"cpe", "reason"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cpe, _, err := CheckChoice(tc.cpe, tc.reason)
			if tc.fields == nil {
				if err != nil || cpe != strings.TrimSpace(tc.cpe) {
					t.Fatalf("CheckChoice = %q, %v", cpe, err)
				}
				return
			}
			if firmward.ErrorCode(err) != firmward.EINVALID {
				t.Fatalf("err = %v, want invalid", err)
			}
			var fields []string
			for _, d := range firmward.ErrorDetails(err) {
				fields = append(fields, d.Field)
			}
			if strings.Join(fields, ",") != strings.Join(tc.fields, ",") {
				t.Errorf("fields = %v, want %v (%v)", fields, tc.fields, err)
			}
			if !strings.Contains(firmward.ErrorMessage(err), tc.fields[0]) && len(tc.fields) == 1 {
				t.Errorf("message %q does not name %s", firmward.ErrorMessage(err), tc.fields[0])
			}
		})
	}
}

// FuzzCheckChoice: any input gives either trimmed valid values or an
// EINVALID error with details, never a panic.
func FuzzCheckChoice(f *testing.F) {
	f.Add("cpe:2.3:o:tp-link:archer_ax21_firmware:1.1.4:*:*:*:*:*:*:*", "")
	f.Add("cpe:2.3:h:d-link:dir-859:a1:*:*:*:*:*:*:*", "reason")
	f.Add("cpe:2.3:o:a\\:b:c:*:*:*:*:*:*:*:*", "")
	f.Add("cpe:2.3:a:x:y:*:*:*:*:*:*:*:*", "\xff")
	f.Fuzz(func(t *testing.T, cpe, reason string) {
		c, r, err := CheckChoice(cpe, reason)
		if err != nil {
			if firmward.ErrorCode(err) != firmward.EINVALID || len(firmward.ErrorDetails(err)) == 0 {
				t.Fatalf("err = %v", err)
			}
			return
		}
		if c != "" && firmward.ValidateCPE23(c) != nil {
			t.Fatalf("accepted invalid cpe %q", c)
		}
		ch := Choose(Proposal{}, 1, "", c, r)
		_ = ch.AuditEvent()
	})
}
