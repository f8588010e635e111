package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/artifact"
	"github.com/firmward/firmward/httpapi"
)

// agentEnv is one firmward serve (with a TUF repository and an
// enrollment key) and a directory for one firmward-agent.
type agentEnv struct {
	srv   *testServer
	dir   string // the agent's files: config, state, slot, logs
	agent string // the firmward-agent binary
	api   *httpapi.Client
}

const testEnrollKey = "enroll-secret-1"

// buildAgent builds cmd/firmward-agent once for the tests of this run.
func buildAgent(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "firmward-agent")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-o", out, "../firmward-agent")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building firmward-agent: %v\n%s", err, b)
	}
	return out
}

func newAgentEnv(t *testing.T, agentBin string, serveArgs ...string) *agentEnv {
	t.Helper()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if r := cli(t, nil, false, "keys", "init", "--root-key-out", filepath.Join(dir, "root.key"), "--dir", filepath.Join(data, "tuf")); r.code != 0 {
		t.Fatalf("keys init: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", data, "--enrollment-key", testEnrollKey}, serveArgs...)
	s := startServer(t, data, nil, args...)
	ad := filepath.Join(dir, "agent")
	if err := os.MkdirAll(ad, 0o700); err != nil {
		t.Fatal(err)
	}
	root, err := os.ReadFile(filepath.Join(data, "tuf", "metadata", "root.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ad, "root.json"), root, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ad, "version"), []byte("1.0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return &agentEnv{srv: s, dir: ad, agent: agentBin, api: httpapi.NewClient(s.URL, s.Token)}
}

// config writes the agent's configuration: the script installer copies the
// artifact into slot/ and writes the new version; rollback restores 1.0.
// set replaces or adds keys ("" removes one).
func (e *agentEnv) config(t *testing.T, server string, set map[string]string) string {
	t.Helper()
	d := e.dir
	keys := []string{
		"server", "enrollment_key", "controller_id", "state_dir", "tuf_root", "firmware_version_file",
		"hardware_version", "installer", "install_command", "rollback_command", "commit_command", "health_timeout",
	}
	vals := map[string]string{
		"server":                server,
		"enrollment_key":        testEnrollKey,
		"controller_id":         "agent-" + strconv.FormatInt(time.Now().UnixNano()%1e9, 10),
		"state_dir":             "state",
		"tuf_root":              "root.json",
		"firmware_version_file": "version",
		"hardware_version":      "rev-B",
		"installer":             "script",
		"install_command":       `echo i >> ` + d + `/installs; mkdir -p ` + d + `/slot && cp "$1" ` + d + `/slot/ && basename "$1" .bin | sed s/fw-// > ` + d + `/version`,
		"rollback_command":      `echo r >> ` + d + `/rollbacks; rm -rf ` + d + `/slot; echo 1.0 > ` + d + `/version`,
		"commit_command":        `echo c >> ` + d + `/commits`,
		"health_timeout":        "5s",
	}
	for k, v := range set {
		if _, ok := vals[k]; !ok {
			keys = append(keys, k)
		}
		vals[k] = v
	}
	var b strings.Builder
	for _, k := range keys {
		if vals[k] != "" {
			fmt.Fprintf(&b, "%s = %s\n", k, strconv.Quote(vals[k]))
		}
	}
	p := filepath.Join(d, "agent.conf")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// crashOnce wraps a command so that its first run, once the command has
// done its work, kills the agent that started it (SIGKILL, as a power cut
// would) before the agent can record the step as done.
func (e *agentEnv) crashOnce(name, command string) string {
	m := e.dir + "/crashed-" + name
	return command + `; rc=$?; if [ ! -e ` + m + ` ]; then touch ` + m + `; kill -KILL $PPID; sleep 10; fi; exit $rc`
}

// runAgent runs firmward-agent -once and returns its log and exit error.
func (e *agentEnv) runAgent(t *testing.T, conf string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.agent, "-config", conf, "-once", "-log-level", "debug")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// deviceID is the id the agent got at enrollment.
func (e *agentEnv) deviceID(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(e.dir, "state", "device-id"))
	if err != nil {
		t.Fatalf("the agent stored no device id: %v", err)
	}
	id, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// release adds a release with one artifact fw-VERSION.bin and deploys it
// to the device (forced); it returns the release and the action id.
func (e *agentEnv) release(t *testing.T, version string, device int64, size int) (firmward.Release, int64) {
	t.Helper()
	return e.releaseWith(t, version, device, size, httpapi.DeployRequest{Type: firmward.ActionForced})
}

func (e *agentEnv) releaseWith(t *testing.T, version string, device int64, size int, req httpapi.DeployRequest) (firmward.Release, int64) {
	t.Helper()
	img := filepath.Join(t.TempDir(), "fw-"+version+".bin")
	if err := os.WriteFile(img, []byte(strings.Repeat("firmware "+version+" ", size/10+1)[:size]), 0o600); err != nil {
		t.Fatal(err)
	}
	var rel firmward.Release
	e.srv.okJSON(t, &rel, "release", "add", img, "--manufacturer", "Acme", "--model", "R1", "--version", version)
	req.Devices = []int64{device}
	acts, err := e.api.DeployRelease(t.Context(), rel.ID, req)
	if err != nil || len(acts) != 1 {
		t.Fatalf("deploy: %v %v", acts, err)
	}
	return rel, acts[0].ID
}

// cancel asks the server to cancel an action (POST /api/v1/actions/ID/cancel).
func (e *agentEnv) cancel(t *testing.T, id int64) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.srv.URL+"/api/v1/actions/"+strconv.FormatInt(id, 10)+"/cancel", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.srv.Token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("cancel %d: %s %s", id, res.Status, b)
	}
}

func (e *agentEnv) action(t *testing.T, id int64) *httpapi.ActionDetail {
	t.Helper()
	a, err := e.api.GetAction(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func count(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "\n")
}

func feedbackLog(d *httpapi.ActionDetail) string {
	var b strings.Builder
	for _, f := range d.Feedback {
		fmt.Fprintf(&b, "%s/%s %d/%d %s\n", f.Execution, f.Finished, f.ProgressCnt, f.ProgressOf, strings.Join(f.Details, " | "))
	}
	return b.String()
}

// enrolled runs the agent once with no action: it enrolls and reports its
// inventory.
func (e *agentEnv) enrolled(t *testing.T, conf string) int64 {
	t.Helper()
	if out, err := e.runAgent(t, conf); err != nil {
		t.Fatalf("first agent run: %v\n%s", err, out)
	}
	st, err := os.Stat(filepath.Join(e.dir, "state", "device-token"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("device token file: %v %v", st, err)
	}
	return e.deviceID(t)
}

// TestAgent runs the real firmward-agent binary against firmward serve:
// enrollment, inventory, a signed release installed with the script
// installer, health check pass and fail, a tampered artifact, a download
// cut off and resumed, the agent killed by its restart command (a reboot),
// and an MQTT nudge.
func TestAgent(t *testing.T) {
	t.Parallel()
	bin := buildAgent(t)

	t.Run("success", func(t *testing.T) {
		t.Parallel()
		e := newAgentEnv(t, bin)
		conf := e.config(t, e.srv.URL, map[string]string{"health_command": "test -f " + e.dir + "/slot/fw-2.0.bin"})
		dev := e.enrolled(t, conf)
		d, err := e.api.GetDevice(t.Context(), dev)
		if err != nil || d.FirmwareVersion != "1.0" || d.HardwareVersion != "rev-B" {
			t.Fatalf("enrolled device = %+v, %v", d, err)
		}
		_, actID := e.release(t, "2.0", dev, 50_000)
		if out, err := e.runAgent(t, conf); err != nil {
			t.Fatalf("agent: %v\n%s", err, out)
		}
		a := e.action(t, actID)
		if a.Action.Status != firmward.ActionFinished || a.Action.Result != firmward.ResultSuccess {
			t.Fatalf("action = %s/%s\n%s", a.Action.Status, a.Action.Result, feedbackLog(a))
		}
		log := feedbackLog(a)
		mustContain(t, "feedback", log, "proceeding/none 0/6 downloading", "2/6 downloaded and verified", "3/6 installed", "5/6 healthy", "closed/success 6/6")
		if count(t, filepath.Join(e.dir, "installs")) != 1 || count(t, filepath.Join(e.dir, "rollbacks")) != 0 {
			t.Errorf("installs/rollbacks = %d/%d", count(t, filepath.Join(e.dir, "installs")), count(t, filepath.Join(e.dir, "rollbacks")))
		}
		if count(t, filepath.Join(e.dir, "commits")) != 1 {
			t.Error("the install was not committed once")
		}
		// The next poll reports the new version.
		if out, err := e.runAgent(t, conf); err != nil {
			t.Fatalf("agent: %v\n%s", err, out)
		}
		if d, err := e.api.GetDevice(t.Context(), dev); err != nil || d.FirmwareVersion != "2.0" {
			t.Fatalf("device after the update = %+v, %v", d, err)
		}
		if left, _ := os.ReadDir(filepath.Join(e.dir, "state", "downloads")); len(left) != 0 {
			t.Errorf("downloads left behind: %v", left)
		}
	})

	t.Run("health check fails", func(t *testing.T) {
		t.Parallel()
		e := newAgentEnv(t, bin)
		conf := e.config(t, e.srv.URL, map[string]string{"health_command": "echo service down; exit 1"})
		dev := e.enrolled(t, conf)
		_, actID := e.release(t, "2.1", dev, 2000)
		if out, err := e.runAgent(t, conf); err != nil {
			t.Fatalf("agent: %v\n%s", err, out)
		}
		a := e.action(t, actID)
		if a.Action.Status != firmward.ActionFinished || a.Action.Result != firmward.ResultFailure {
			t.Fatalf("action = %s/%s\n%s", a.Action.Status, a.Action.Result, feedbackLog(a))
		}
		mustContain(t, "feedback", feedbackLog(a), "rolling back", "health: service down", "health check failed: ", "exit status 1", "rolled back")
		if count(t, filepath.Join(e.dir, "rollbacks")) != 1 {
			t.Error("the rollback command did not run once")
		}
		if b, _ := os.ReadFile(filepath.Join(e.dir, "version")); strings.TrimSpace(string(b)) != "1.0" {
			t.Errorf("version after rollback = %q", b)
		}
		if count(t, filepath.Join(e.dir, "commits")) != 0 {
			t.Error("a failed install was committed")
		}
	})

	t.Run("health check times out", func(t *testing.T) {
		t.Parallel()
		e := newAgentEnv(t, bin)
		conf := e.config(t, e.srv.URL, map[string]string{"health_command": "sleep 60", "health_timeout": "500ms"})
		dev := e.enrolled(t, conf)
		_, actID := e.release(t, "2.2", dev, 2000)
		start := time.Now()
		if out, err := e.runAgent(t, conf); err != nil {
			t.Fatalf("agent: %v\n%s", err, out)
		}
		if time.Since(start) > 30*time.Second {
			t.Errorf("the timed-out health check was not stopped (%v)", time.Since(start))
		}
		a := e.action(t, actID)
		if a.Action.Result != firmward.ResultFailure {
			t.Fatalf("action = %s/%s\n%s", a.Action.Status, a.Action.Result, feedbackLog(a))
		}
		mustContain(t, "feedback", feedbackLog(a), "health check timed out after 500ms", "rolled back")
	})

	t.Run("tampered artifact refused before install", func(t *testing.T) {
		t.Parallel()
		e := newAgentEnv(t, bin)
		conf := e.config(t, e.srv.URL, nil)
		dev := e.enrolled(t, conf)
		rel, actID := e.release(t, "2.3", dev, 4000)
		store, err := artifact.Open(filepath.Join(e.srv.Data, "artifacts"), artifact.Options{})
		if err != nil {
			t.Fatal(err)
		}
		p, err := store.Path(rel.Artifacts[0].SHA256)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b[100] ^= 1
		if err := os.Chmod(p, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := e.runAgent(t, conf); err != nil {
			t.Fatalf("agent: %v\n%s", err, out)
		}
		a := e.action(t, actID)
		if a.Action.Result != firmward.ResultFailure {
			t.Fatalf("action = %s/%s\n%s", a.Action.Status, a.Action.Result, feedbackLog(a))
		}
		mustContain(t, "feedback", feedbackLog(a), "refused before install", "sha256")
		if n := count(t, filepath.Join(e.dir, "installs")); n != 0 {
			t.Fatalf("the tampered artifact was installed (%d installs)", n)
		}
	})

	t.Run("agent killed by its restart command resumes", func(t *testing.T) {
		t.Parallel()
		e := newAgentEnv(t, bin)
		// A reboot: the restart command kills the agent (its parent).
		conf := e.config(t, e.srv.URL, map[string]string{
			"restart_command": "echo r >> " + e.dir + "/restarts; kill -KILL $PPID; sleep 10",
			"health_command":  "test -f " + e.dir + "/slot/fw-3.0.bin",
		})
		dev := e.enrolled(t, conf)
		_, actID := e.release(t, "3.0", dev, 3000)
		out, err := e.runAgent(t, conf)
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != -1 {
			t.Fatalf("the agent was not killed by its restart command: %v\n%s", err, out)
		}
		if a := e.action(t, actID); a.Action.Status != firmward.ActionRunning {
			t.Fatalf("action after the kill = %s\n%s", a.Action.Status, feedbackLog(a))
		}
		if out, err := e.runAgent(t, conf); err != nil {
			t.Fatalf("agent after the restart: %v\n%s", err, out)
		}
		a := e.action(t, actID)
		if a.Action.Result != firmward.ResultSuccess {
			t.Fatalf("action = %s/%s\n%s", a.Action.Status, a.Action.Result, feedbackLog(a))
		}
		if i, r := count(t, filepath.Join(e.dir, "installs")), count(t, filepath.Join(e.dir, "restarts")); i != 1 || r != 1 {
			t.Fatalf("installs %d, restarts %d: want 1 each", i, r)
		}
	})

	// A crash (SIGKILL) in the middle of each step: the restarted agent
	// repeats only the step that did not finish, and the action completes.
	crashes := []struct {
		step             string
		key              string // the command that crashes the agent once
		healthy          bool
		installs, rolled int
		result           string
	}{
		{"install", "install_command", true, 2, 0, firmward.ResultSuccess}, // an install not recorded as done is repeated
		{"health check", "health_command", true, 1, 0, firmward.ResultSuccess},
		{"commit", "commit_command", true, 1, 0, firmward.ResultSuccess},
		{"rollback", "rollback_command", false, 1, 2, firmward.ResultFailure}, // likewise the rollback
	}
	for _, tc := range crashes {
		t.Run("killed during "+tc.step, func(t *testing.T) {
			t.Parallel()
			e := newAgentEnv(t, bin)
			health := "test -f " + e.dir + "/slot/fw-6.0.bin"
			if !tc.healthy {
				health = "exit 1"
			}
			set := map[string]string{"health_command": health}
			conf := e.config(t, e.srv.URL, set)
			base, _ := os.ReadFile(conf)
			for _, line := range strings.Split(string(base), "\n") {
				if k, v, ok := strings.Cut(line, " = "); ok && k == tc.key {
					cmd, err := strconv.Unquote(v)
					if err != nil {
						t.Fatal(err)
					}
					set[tc.key] = e.crashOnce(tc.key, cmd)
				}
			}
			if set[tc.key] == "" {
				set[tc.key] = e.crashOnce(tc.key, "true")
			}
			conf = e.config(t, e.srv.URL, set)
			dev := e.enrolled(t, conf)
			_, actID := e.release(t, "6.0", dev, 3000)
			out, err := e.runAgent(t, conf)
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != -1 {
				t.Fatalf("the agent was not killed during the %s: %v\n%s", tc.step, err, out)
			}
			st, _ := os.ReadFile(filepath.Join(e.dir, "state", "state.json"))
			if out, err := e.runAgent(t, conf); err != nil {
				t.Fatalf("agent after the crash: %v\n%s", err, out)
			}
			a := e.action(t, actID)
			if a.Action.Status != firmward.ActionFinished || a.Action.Result != tc.result {
				t.Fatalf("action = %s/%s, want %s\nstate at the crash: %s\n%s", a.Action.Status, a.Action.Result, tc.result, st, feedbackLog(a))
			}
			if i, r := count(t, filepath.Join(e.dir, "installs")), count(t, filepath.Join(e.dir, "rollbacks")); i != tc.installs || r != tc.rolled {
				t.Errorf("installs %d, rollbacks %d; want %d, %d", i, r, tc.installs, tc.rolled)
			}
			if n := strings.Count(feedbackLog(a), "closed/"); n != 1 {
				t.Errorf("%d closing feedbacks:\n%s", n, feedbackLog(a))
			}
		})
	}

	t.Run("maintenance window, cancel, download only", func(t *testing.T) {
		t.Parallel()
		e := newAgentEnv(t, bin)
		conf := e.config(t, e.srv.URL, nil)
		dev := e.enrolled(t, conf)
		now := time.Now()
		_, actID := e.releaseWith(t, "7.0", dev, 2000, httpapi.DeployRequest{
			Type:              firmward.ActionForced,
			MaintenanceWindow: &firmward.MaintenanceWindow{Start: now.Add(time.Hour), End: now.Add(2 * time.Hour)},
		})
		for range 2 { // the second run neither installs nor repeats the feedback
			if out, err := e.runAgent(t, conf); err != nil {
				t.Fatalf("agent: %v\n%s", err, out)
			}
		}
		a := e.action(t, actID)
		if a.Action.Status != firmward.ActionRunning || count(t, filepath.Join(e.dir, "installs")) != 0 {
			t.Fatalf("outside the window: action %s, %d installs\n%s", a.Action.Status, count(t, filepath.Join(e.dir, "installs")), feedbackLog(a))
		}
		mustContain(t, "feedback", feedbackLog(a), "downloaded/none 2/6 waiting for the maintenance window")
		if n := strings.Count(feedbackLog(a), "downloaded/"); n != 1 {
			t.Errorf("%d downloaded feedbacks", n)
		}

		// Canceled while waiting: the agent confirms and drops the download.
		e.cancel(t, actID)
		if out, err := e.runAgent(t, conf); err != nil {
			t.Fatalf("agent: %v\n%s", err, out)
		}
		if a := e.action(t, actID); a.Action.Status != firmward.ActionCanceled {
			t.Fatalf("after the cancel: %s\n%s", a.Action.Status, feedbackLog(a))
		}
		if left, _ := os.ReadDir(filepath.Join(e.dir, "state", "downloads")); len(left) != 0 {
			t.Errorf("downloads left behind: %v", left)
		}

		_, dl := e.releaseWith(t, "7.1", dev, 2000, httpapi.DeployRequest{Type: firmward.ActionDownloadOnly})
		if out, err := e.runAgent(t, conf); err != nil {
			t.Fatalf("agent: %v\n%s", err, out)
		}
		a = e.action(t, dl)
		if a.Action.Result != firmward.ResultSuccess || count(t, filepath.Join(e.dir, "installs")) != 0 {
			t.Fatalf("download only: %s/%s, %d installs\n%s", a.Action.Status, a.Action.Result, count(t, filepath.Join(e.dir, "installs")), feedbackLog(a))
		}
		mustContain(t, "feedback", feedbackLog(a), "download only: not installed")
	})

	t.Run("download cut off resumes with Range", func(t *testing.T) {
		t.Parallel()
		e := newAgentEnv(t, bin)
		target, _ := url.Parse(e.srv.URL)
		var mu sync.Mutex
		var ranges []string
		cut := true
		proxy := httputil.NewSingleHostReverseProxy(target)
		proxy.ErrorLog = log.New(io.Discard, "", 0)
		proxy.ModifyResponse = func(res *http.Response) error {
			if !strings.Contains(res.Request.URL.Path, "/artifacts/") {
				return nil
			}
			mu.Lock()
			defer mu.Unlock()
			ranges = append(ranges, res.Request.Header.Get("Range"))
			if cut {
				cut = false
				res.Body = &cutBody{r: res.Body, left: 30_000}
			}
			return nil
		}
		ps := httptest.NewServer(proxy)
		t.Cleanup(ps.Close)
		conf := e.config(t, ps.URL, nil)
		dev := e.enrolled(t, conf)
		_, actID := e.release(t, "4.0", dev, 100_000)
		if out, err := e.runAgent(t, conf); err == nil {
			t.Fatalf("the agent did not notice the cut download\n%s", out)
		}
		if out, err := e.runAgent(t, conf); err != nil {
			t.Fatalf("agent: %v\n%s", err, out)
		}
		a := e.action(t, actID)
		if a.Action.Result != firmward.ResultSuccess {
			t.Fatalf("action = %s/%s\n%s", a.Action.Status, a.Action.Result, feedbackLog(a))
		}
		mu.Lock()
		defer mu.Unlock()
		if len(ranges) != 2 || ranges[0] != "" || !strings.HasPrefix(ranges[1], "bytes=") || ranges[1] == "bytes=0-" {
			t.Fatalf("artifact requests had Range %q; want none, then a resume", ranges)
		}
	})

	t.Run("MQTT nudge polls at once", func(t *testing.T) {
		t.Parallel()
		const broker = "127.0.0.1:1883"
		if c, err := net.DialTimeout("tcp", broker, 2*time.Second); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("the MQTT broker is not reachable at %s: %v", broker, err)
			}
			t.Skipf("the MQTT broker is not reachable at %s (apt-get install mosquitto): %v", broker, err) //nolint:misspell // the package name
		} else {
			_ = c.Close()
		}
		e := newAgentEnv(t, bin, "--mqtt-url", "tcp://"+broker, "--poll-interval", "1h")
		conf := e.config(t, e.srv.URL, map[string]string{"mqtt_url": "tcp://" + broker})
		dev := e.enrolled(t, conf)
		ctx, cancel := context.WithCancel(t.Context())
		cmd := exec.CommandContext(ctx, e.agent, "-config", conf)
		var logBuf syncBuffer
		cmd.Stdout, cmd.Stderr = &logBuf, &logBuf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cancel(); _ = cmd.Wait() })
		// Wait for the subscription, then deploy: the hour-long poll
		// interval means only the nudge can bring the action in time.
		deadline := time.Now().Add(20 * time.Second)
		// On (re)connecting, the agent nudges itself once, in case it
		// missed a nudge: wait for that poll, so that the second nudge
		// can only come from the server.
		for strings.Count(logBuf.String(), "nudged: polling now") < 1 {
			if time.Now().After(deadline) {
				t.Fatalf("the agent did not subscribe:\n%s", logBuf.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(300 * time.Millisecond) // that poll settles
		_, actID := e.release(t, "5.0", dev, 1000)
		for {
			a := e.action(t, actID)
			if a.Action.Status == firmward.ActionFinished {
				if a.Action.Result != firmward.ResultSuccess {
					t.Fatalf("action = %s\n%s", a.Action.Result, feedbackLog(a))
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no nudge: the action is %s after 20 s\nagent log:\n%s\nserver log:\n%s", a.Action.Status, logBuf.String(), e.srv.Stderr)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if n := strings.Count(logBuf.String(), "nudged: polling now"); n < 2 {
			t.Errorf("the agent was nudged %d times, want the server's nudge too:\n%s", n, logBuf.String())
		}
	})
}

// cutBody ends a response body with an error after left bytes.
type cutBody struct {
	r    io.ReadCloser
	left int
}

func (c *cutBody) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, errors.New("connection cut by the test")
	}
	if len(p) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= n
	return n, err
}

func (c *cutBody) Close() error { return c.r.Close() }
