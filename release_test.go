package firmward

import (
	"strings"
	"testing"
	"time"
)

func TestValidArtifactName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"image.swu", true},
		{"fw 2.0 (final).bin", true},
		{"", false},
		{".", false},
		{"..", false},
		{"../etc/passwd", false},
		{"a/b", false},
		{`a\b`, false},
		{"a\x00b", false},
		{"line\nbreak", false},
		{"\xff\xfe", false},
		{strings.Repeat("x", MaxArtifactNameLen+1), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ValidArtifactName(tc.name) == ""; got != tc.ok {
				t.Errorf("ValidArtifactName(%q) ok = %v, want %v", tc.name, got, tc.ok)
			}
		})
	}
}

func TestValidControllerID(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"board-01", true},
		{"aa:bb:cc", true},
		{"Dev_1.2", true},
		{"", false},
		{"a b", false},
		{"../x", false},
		{"ü", false},
		{strings.Repeat("a", MaxControllerIDLen+1), false},
	} {
		if got := ValidControllerID(tc.id) == ""; got != tc.ok {
			t.Errorf("ValidControllerID(%q) ok = %v, want %v", tc.id, got, tc.ok)
		}
	}
}

func TestMaintenanceWindow(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 1, 22, 0, 0, 0, time.UTC)
	w := &MaintenanceWindow{Start: start, End: start.Add(2 * time.Hour)}
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{
		{start.Add(-time.Second), false}, {start, true}, {start.Add(time.Hour), true}, {start.Add(2 * time.Hour), false},
	} {
		if got := w.Contains(tc.at); got != tc.want {
			t.Errorf("Contains(%s) = %v, want %v", tc.at, got, tc.want)
		}
	}
	var none *MaintenanceWindow
	if !none.Contains(start) {
		t.Error("no window must always allow installs")
	}
}

func TestFeedbackValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		fb   ActionFeedback
		ok   bool
	}{
		{"proceeding", ActionFeedback{Execution: ExecProceeding, Finished: "none"}, true},
		{"closed success", ActionFeedback{Execution: ExecClosed, Finished: ResultSuccess}, true},
		{"unknown execution", ActionFeedback{Execution: "done", Finished: "none"}, false},
		{"unknown result", ActionFeedback{Execution: ExecClosed, Finished: "ok"}, false},
		{"negative progress", ActionFeedback{Execution: ExecProceeding, Finished: "none", ProgressCnt: -1}, false},
		{"progress over total", ActionFeedback{Execution: ExecProceeding, Finished: "none", ProgressCnt: 3, ProgressOf: 2}, false},
		{"too many lines", ActionFeedback{Execution: ExecProceeding, Finished: "none", Details: make([]string, MaxFeedbackDetails+1)}, false},
		{"too long", ActionFeedback{Execution: ExecProceeding, Finished: "none", Details: []string{strings.Repeat("x", MaxFeedbackDetailsLen+1)}}, false},
		{"not text", ActionFeedback{Execution: ExecProceeding, Finished: "none", Details: []string{"a\x00"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.fb.Validate()
			if (err == nil) != tc.ok {
				t.Fatalf("Validate() = %v, want ok %v", err, tc.ok)
			}
			if err != nil && ErrorCode(err) != EINVALID {
				t.Fatalf("code %q", ErrorCode(err))
			}
		})
	}
}
