package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/httpapi"
	"github.com/firmward/firmward/sim"
)

// simRelease adds release 2.0 of the simulated devices' model with one
// uploaded artifact of size bytes and returns it.
func simRelease(t testing.TB, server, token string, size int) *firmward.Release {
	t.Helper()
	file := filepath.Join(t.TempDir(), "sim-2.0.bin")
	b := make([]byte, size)
	_, _ = rand.Read(b)
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	var rel firmward.Release
	r := runApp(&app{stdin: strings.NewReader(""), getenv: mapEnv(nil)}, []string{
		"--server", server, "--token", token, "release", "add", file, "--manufacturer", "Firmward Sim",
		"--model", "SIM-1", "--version", "2.0", "--release-date", "2020-01-01", "--json",
	})
	if r.code != 0 {
		t.Fatalf("release add: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if err := json.Unmarshal([]byte(r.stdout), &rel); err != nil {
		t.Fatalf("release add printed no JSON: %v\n%s", err, r.stdout)
	}
	return &rel
}

// simRun is `firmward sim` running in the background.
type simRun struct {
	done chan result
}

func startSim(t *testing.T, server, token string, args ...string) *simRun {
	t.Helper()
	s := &simRun{done: make(chan result, 1)}
	go func() {
		s.done <- cli(t, nil, false, append([]string{"--server", server, "--token", token, "sim", "--json"}, args...)...)
	}()
	return s
}

// summary waits for the run to end and decodes its summary.
func (s *simRun) summary(t *testing.T, within time.Duration) *sim.Summary {
	t.Helper()
	select {
	case r := <-s.done:
		var sum sim.Summary
		if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil {
			t.Fatalf("sim printed no summary (exit %d): %v\n%s%s", r.code, err, r.stdout, r.stderr)
		}
		if r.code != 0 {
			t.Errorf("sim: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		return &sum
	case <-time.After(within):
		t.Fatalf("sim did not end within %s", within)
		return nil
	}
}

// waitDevices waits until the server holds n devices.
func waitDevices(t testing.TB, api *httpapi.Client, n int64, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		st, err := api.DeviceStats(t.Context())
		if err == nil && st.Total >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server holds %v devices after %s, want %d (last error %v)", st, within, n, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startSimCampaign creates and starts a campaign of rel over the simulated
// devices: staging ring (empty), then the waves given.
func startSimCampaign(t testing.TB, server, token string, rel *firmward.Release, waves ...string) int64 {
	t.Helper()
	args := []string{
		"--server", server, "--token", token, "campaign", "create", "--name", "sim fleet", "--release", strconv.FormatInt(rel.ID, 10),
		"--manufacturer", "Firmward Sim", "--success", "30", "--error", "60", "--json",
	}
	for _, w := range waves {
		args = append(args, "--wave", w)
	}
	r := runApp(&app{stdin: strings.NewReader(""), getenv: mapEnv(nil)}, args)
	var c firmward.Campaign
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &c) != nil {
		t.Fatalf("campaign create: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	id := strconv.FormatInt(c.ID, 10)
	if r := runApp(&app{stdin: strings.NewReader(""), getenv: mapEnv(nil)}, []string{"--server", server, "--token", token, "campaign", "start", id}); r.code != 0 {
		t.Fatalf("campaign start: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	return c.ID
}

// waitCampaign waits until the campaign is final and returns its report
// with members.
func waitCampaign(t *testing.T, api *httpapi.Client, id int64, within time.Duration) *httpapi.CampaignReport {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		rep, err := api.CampaignStatus(t.Context(), id, true)
		if err == nil && rep.Campaign.Status.Final() {
			return rep
		}
		if time.Now().After(deadline) {
			if rep != nil {
				t.Fatalf("campaign %d is %s (%s) after %s; waves %+v", id, rep.Campaign.Status, rep.Campaign.StatusReason, within, rep.Waves)
			}
			t.Fatalf("campaign %d: %v", id, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkSimCampaign checks that every simulated device has exactly one
// closed action in the campaign, with the result the seed decided.
func checkSimCampaign(t *testing.T, rep *httpapi.CampaignReport, n int, willFail func(int) bool) {
	t.Helper()
	if rep.Campaign.Status != firmward.CampaignFinished {
		t.Errorf("campaign is %s (%s), want finished", rep.Campaign.Status, rep.Campaign.StatusReason)
	}
	if len(rep.Members) != n {
		t.Fatalf("campaign has %d members, want %d", len(rep.Members), n)
	}
	seen := map[int64]bool{}
	for _, m := range rep.Members {
		if m.Device == nil || m.Action == nil {
			t.Fatalf("member %+v has no device or action", m)
		}
		if seen[m.DeviceID] {
			t.Errorf("device %d is a member twice", m.DeviceID)
		}
		seen[m.DeviceID] = true
		num, err := strconv.Atoi(strings.TrimPrefix(m.Device.Name, "sim-"))
		if err != nil {
			t.Fatalf("member device %q is not a simulated one", m.Device.Name)
		}
		want := firmward.ResultSuccess
		if willFail(num - 1) {
			want = firmward.ResultFailure
		}
		if m.Action.Status != firmward.ActionFinished || m.Action.Result != want {
			t.Errorf("device %s: action %d is %s/%s, want finished/%s", m.Device.Name, m.Action.ID, m.Action.Status, m.Action.Result, want)
		}
	}
}

// TestSim runs `firmward sim` over 50 devices for each protocol against
// a real server with a campaign: every action closes once, and the
// devices the seed picked (exactly fail-rate × 50) fail.
func TestSim(t *testing.T) {
	t.Parallel()
	const n, rate, seed = 50, 0.2, 7
	for _, proto := range []string{sim.ProtocolNative, sim.ProtocolDDI} {
		t.Run(proto, func(t *testing.T) {
			t.Parallel()
			data := filepath.Join(t.TempDir(), "data")
			s := startServer(t, data, nil, "serve", "--addr", "127.0.0.1:0", "--data", data, "--campaign-interval", "50ms", "--poll-interval", "1s")
			api := httpapi.NewClient(s.URL, s.Token)
			rel := simRelease(t, s.URL, s.Token, 64<<10)
			run := startSim(t, s.URL, s.Token, "--devices", strconv.Itoa(n), "--protocol", proto, "--fail-rate", fmt.Sprint(rate),
				"--poll", "100ms", "--seed", strconv.Itoa(seed), "--duration", "90s")
			waitDevices(t, api, n, 30*time.Second)
			id := startSimCampaign(t, s.URL, s.Token, rel, "50%", "50%")
			sum := run.summary(t, 100*time.Second)
			if !sum.Complete || sum.Done != n || sum.Succeeded+sum.Failed != n || sum.Failed != int64(n*rate) {
				t.Errorf("summary = %+v, want %d done, %d failed", sum, n, int(n*rate))
			}
			if sum.Downloads != n || sum.Bytes != n*(64<<10) || sum.Errors != 0 {
				t.Errorf("summary = %+v, want %d downloads of 64 KiB and no refusal", sum, n)
			}
			ref, err := sim.New(sim.Config{Server: s.URL, AdminToken: "x", Devices: n, Protocol: proto, FailRate: rate, Seed: seed})
			if err != nil {
				t.Fatal(err)
			}
			checkSimCampaign(t, waitCampaign(t, api, id, 30*time.Second), n, ref.WillFail)
		})
	}
}

// TestSimEnroll checks that devices enroll themselves with the enrollment
// key and poll with the token they got.
func TestSimEnroll(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	s := startServer(t, data, nil, "serve", "--addr", "127.0.0.1:0", "--data", data, "--enrollment-key", "sim-key")
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	sm, err := sim.New(sim.Config{Server: s.URL, EnrollmentKey: "sim-key", Devices: 5, Protocol: sim.ProtocolNative, Poll: 20 * time.Millisecond, Duration: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := sm.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// No campaign: the devices poll and find nothing to do.
	if sum.Registered != 5 || sum.Polls < 5 || sum.Complete || sum.Errors != 0 {
		t.Errorf("summary = %+v", sum)
	}
	st, err := httpapi.NewClient(s.URL, s.Token).DeviceStats(t.Context())
	if err != nil || st.Total != 5 {
		t.Fatalf("devices after enrollment: %+v, %v", st, err)
	}
	// A wrong key is refused at once, with the server's reason.
	bad, err := sim.New(sim.Config{Server: s.URL, EnrollmentKey: "wrong", Devices: 1, Protocol: sim.ProtocolDDI})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.Run(ctx); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("enrolling with a wrong key: %v", err)
	}
}

func TestSimUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"too-many", []string{"--devices", "100001"}, "devices 100001 is not between 1 and 100000"},
		{"zero", []string{"--devices", "0"}, "devices 0 is not between 1"},
		{"protocol", []string{"--protocol", "mqtt"}, `protocol "mqtt" is not native or ddi`},
		{"fail-rate", []string{"--fail-rate", "1.5"}, "fail rate 1.5 is not between 0 and 1"},
		{"seed", []string{"--seed", "-1"}, "--seed -1 must not be negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := cli(t, nil, false, append([]string{"--server", "http://127.0.0.1:1", "--token", "fwt_x", "sim"}, tc.args...)...)
			if r.code != exitUsage {
				t.Errorf("exit %d, want %d\n%s", r.code, exitUsage, r.stderr)
			}
			mustContain(t, "stderr", r.stderr, tc.want)
		})
	}
}
