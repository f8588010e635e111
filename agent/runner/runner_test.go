package runner

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/agent/install"
)

func TestParseUptime(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"12345.67 54321.00\n", 12345, true},
		{"0.01 0.00", 0, true},
		{"", 0, false},
		{"abc 1", 0, false},
		{"-5 1", 0, false},
		{"NaN 1", 0, false},
		{"1e300 1", 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseUptime(tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Fatalf("ParseUptime(%q) = %d, %v", tc.in, got, err)
			}
		})
	}
}

func FuzzParseUptime(f *testing.F) {
	for _, s := range []string{"1.5 2", "", "9999999999999 0", "+Inf", "0x10"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if v, err := ParseUptime(s); err == nil && v < 0 {
			t.Fatalf("ParseUptime(%q) = %d", s, v)
		}
	})
}

func TestState(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, stateFile)
	st, err := loadState(p)
	if err != nil || st.Phase != PhaseIdle {
		t.Fatalf("missing state = %+v, %v", st, err)
	}
	want := &State{Phase: PhaseRestart, Action: &Action{ID: 7, Version: "2.0"}, Files: []string{"/x"}, Attempts: 1}
	if err := saveState(p, want); err != nil {
		t.Fatal(err)
	}
	got, err := loadState(p)
	if err != nil || got.Phase != PhaseRestart || got.Action.ID != 7 || got.Files[0] != "/x" || got.Attempts != 1 {
		t.Fatalf("loaded %+v, %v", got, err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode = %v", fi.Mode())
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".state.json.*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	if err := os.WriteFile(p, []byte(`{"phase":`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadState(p); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("damaged state: %v", err)
	}
}

// TestUnknownPhase: a state file from elsewhere is an error naming it, not
// a panic or a silent restart.
func TestUnknownPhase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, err := New(Config{Server: "http://127.0.0.1:1", StateDir: dir, ControllerID: "c", Installer: &install.Script{}, InsecureSkipTUF: true})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, stateFile)
	if err := saveState(p, &State{Phase: "levitate", Action: &Action{ID: 1}}); err != nil {
		t.Fatal(err)
	}
	st, _ := loadState(p)
	_, err = a.advance(context.Background(), p, st)
	if err == nil || !strings.Contains(err.Error(), `unknown phase "levitate"`) {
		t.Fatalf("advance = %v", err)
	}
}

func TestNewRefusesUnverified(t *testing.T) {
	t.Parallel()
	_, err := New(Config{Server: "http://127.0.0.1:1", StateDir: t.TempDir(), ControllerID: "c", Installer: &install.Script{}})
	if err == nil || !strings.Contains(err.Error(), "TUF") {
		t.Fatalf("New without verification = %v", err)
	}
}

// TestGivesUpAfterRepeatedKills: a phase that was started maxAttempts
// times (the agent killed each time) ends the action as a failure.
func TestGivesUpAfterRepeatedKills(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, err := New(Config{Server: "http://127.0.0.1:1", StateDir: dir, ControllerID: "c", Installer: &install.Script{InstallCommand: "false"}, InsecureSkipTUF: true})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, stateFile)
	if err := saveState(p, &State{Phase: PhaseInstall, Action: &Action{ID: 1}, Attempts: maxAttempts}); err != nil {
		t.Fatal(err)
	}
	st, _ := loadState(p)
	if _, err := a.advance(context.Background(), p, st); err != nil {
		t.Fatal(err)
	}
	st, _ = loadState(p)
	if st.Phase != PhaseReport || st.Result != "failure" || !strings.Contains(strings.Join(st.Details, "\n"), "install did not complete after 3 attempts") {
		t.Fatalf("state = %+v", st)
	}
}

// TestTokenStaysHome: an action whose artifact URL points elsewhere is
// refused without sending the device token there.
func TestTokenStaysHome(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var feedback []string
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the agent contacted another host with Authorization %q", r.Header.Get("Authorization"))
	}))
	defer elsewhere.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/agent/v1/poll":
			mu.Lock()
			closed := len(feedback) > 0 && strings.Contains(feedback[len(feedback)-1], `"closed"`)
			mu.Unlock()
			if closed {
				_, _ = w.Write([]byte(`{"poll_seconds":60}`))
				return
			}
			_ = json.NewEncoder(w).Encode(PollResponse{PollSeconds: 60, Action: &Action{
				ID: 5, Type: "forced", InstallAllowed: true, Version: "2",
				Artifacts: []Artifact{{Name: "fw.bin", URL: elsewhere.URL + "/fw.bin", TUFTarget: "releases/1/fw.bin"}},
			}})
		case strings.HasSuffix(r.URL.Path, "/feedback"):
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			feedback = append(feedback, string(b))
			mu.Unlock()
			_, _ = w.Write([]byte("{}"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	a, err := New(Config{
		Server: srv.URL, DeviceToken: "fwd_secret", StateDir: t.TempDir(), ControllerID: "c",
		Installer: &install.Script{InstallCommand: "false"}, InsecureSkipTUF: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if a.interval != time.Minute {
		t.Errorf("poll interval = %v, want the server's 60 s", a.interval)
	}
	mu.Lock()
	defer mu.Unlock()
	last := feedback[len(feedback)-1]
	if !strings.Contains(last, `"finished":"failure"`) || !strings.Contains(last, "is not on the server") {
		t.Fatalf("feedback = %q", feedback)
	}
}

func TestParsePollResponse(t *testing.T) {
	t.Parallel()
	art := `{"name":"fw.bin","url":"http://127.0.0.1/a","size":3}`
	cases := []struct {
		name, in string
		poll     int
		err      string
	}{
		{"no action", `{"poll_seconds":30}`, 30, ""},
		{"default interval", `{}`, 300, ""},
		{"huge interval clamped", `{"poll_seconds":9223372036854775807}`, maxPollSeconds, ""},
		{"action", `{"poll_seconds":5,"action":{"id":1,"type":"forced","artifacts":[` + art + `]}}`, 5, ""},
		{"not JSON", `<html>`, 0, "not the expected JSON"},
		{"bad id", `{"action":{"id":0,"type":"forced"}}`, 0, "has id 0"},
		{"bad type", `{"action":{"id":1,"type":"yolo"}}`, 0, `unknown type "yolo"`},
		{"traversal", `{"action":{"id":1,"type":"forced","artifacts":[{"name":"../x","url":"http://h/"}]}}`, 0, "artifact name"},
		{"bad URL", `{"action":{"id":1,"type":"forced","artifacts":[{"name":"a","url":"file:///etc/passwd"}]}}`, 0, "no http(s) URL"},
		{"negative size", `{"action":{"id":1,"type":"forced","artifacts":[{"name":"a","url":"http://h/","size":-1}]}}`, 0, "negative size"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := ParsePollResponse([]byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || p.PollSeconds != tc.poll {
				t.Fatalf("= %+v, %v", p, err)
			}
		})
	}
}

func FuzzParsePollResponse(f *testing.F) {
	f.Add([]byte(`{"poll_seconds":30,"action":{"id":1,"type":"forced","install_allowed":true,"artifacts":[{"name":"fw.bin","url":"http://127.0.0.1/a","size":3,"sha256":"ab"}]}}`))
	f.Add([]byte(`{"poll_seconds":-1}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePollResponse(b)
		if err != nil {
			return
		}
		if p.PollSeconds < minPollSeconds || p.PollSeconds > maxPollSeconds {
			t.Fatalf("poll seconds %d out of bounds", p.PollSeconds)
		}
		if p.Action != nil {
			for _, a := range p.Action.Artifacts {
				if firmward.ValidArtifactName(a.Name) != "" {
					t.Fatalf("accepted artifact name %q", a.Name)
				}
			}
		}
	})
}
