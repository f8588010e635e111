package sqlstore

import (
	"strings"
	"testing"

	"github.com/firmward/firmward"
)

// TestSettingsConformance checks the settings store on both databases:
// unset is ENOTFOUND, set and change are audited, an unchanged value
// records nothing, bad names are refused.
func TestSettingsConformance(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db := b.open(t, Options{})
		s := NewSettingsService(db)
		if _, err := s.Setting(lcCtx, firmward.SettingSetupMode); firmward.ErrorCode(err) != firmward.ENOTFOUND {
			t.Fatalf("unset setting: err = %v, want ENOTFOUND", err)
		}
		steps := []struct{ value, old string }{
			{firmward.SetupModeHome, ""},
			{firmward.SetupModeOrganisation, firmward.SetupModeHome},
		}
		for _, st := range steps {
			if err := s.SetSetting(lcCtx, firmward.SettingSetupMode, st.value); err != nil {
				t.Fatal(err)
			}
			got, err := s.Setting(lcCtx, firmward.SettingSetupMode)
			if err != nil || got != st.value {
				t.Fatalf("Setting = %q, %v; want %q", got, err, st.value)
			}
			ev := lastEvent(t, db)
			if ev.Action != firmward.ActionSettingSet || ev.ObjectID != firmward.SettingSetupMode ||
				len(ev.Changes) != 1 || ev.Changes[0].Old != st.old || ev.Changes[0].New != st.value || ev.Actor == "" {
				t.Fatalf("audit event = %+v", ev)
			}
		}
		seq := lastEvent(t, db).Seq
		if err := s.SetSetting(lcCtx, firmward.SettingSetupMode, firmward.SetupModeOrganisation); err != nil {
			t.Fatal(err)
		}
		if got := lastEvent(t, db).Seq; got != seq {
			t.Errorf("setting the same value recorded event %d", got)
		}
		for _, bad := range []struct{ name, value string }{{"", "x"}, {strings.Repeat("n", 101), "x"}, {"ok", strings.Repeat("v", 1001)}} {
			if err := s.SetSetting(lcCtx, bad.name, bad.value); firmward.ErrorCode(err) != firmward.EINVALID {
				t.Errorf("SetSetting(%.10q…) = %v, want EINVALID", bad.name, err)
			}
		}
	})
}
