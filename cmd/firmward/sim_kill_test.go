//go:build unix

package main

import (
	"context"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/firmward/firmward/httpapi"
	"github.com/firmward/firmward/sim"
	"github.com/firmward/firmward/sqlstore"
)

// killedServer is `firmward serve` as a subprocess, on a fixed address and
// data directory, so that it can be SIGKILLed and started again.
type killedServer struct {
	t    testing.TB
	bin  string
	addr string
	data string
	log  *os.File
	cmd  *exec.Cmd
	args []string
}

func (k *killedServer) start() {
	k.t.Helper()
	args := append([]string{"serve", "--addr", k.addr, "--data", k.data}, k.args...)
	k.cmd = exec.Command(k.bin, args...) //nolint:gosec // the binary this test built
	k.cmd.Stdout, k.cmd.Stderr = k.log, k.log
	if err := k.cmd.Start(); err != nil {
		k.t.Fatalf("starting firmward serve: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(k.t.Context(), http.MethodGet, "http://"+k.addr+"/healthz", nil)
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			_ = res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			k.t.Fatalf("firmward serve is not healthy 30 s after its start (last error %v); log %s", err, k.log.Name())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop sends sig and waits for the process to end.
func (k *killedServer) stop(sig syscall.Signal) {
	k.t.Helper()
	if k.cmd == nil || k.cmd.Process == nil {
		return
	}
	_ = k.cmd.Process.Signal(sig)
	_ = k.cmd.Wait()
	k.cmd = nil
}

// TestSimServerKills runs a campaign over 1,000 simulated DDI devices while
// the server is SIGKILLed 20 times at random (seeded) moments and started
// again on the same data directory each time. The simulator retries while
// the server is down. In the end every device has exactly one action in
// the campaign, closed exactly once with the result the seed decided, and
// the campaign has finished: nothing lost, nothing duplicated.
func TestSimServerKills(t *testing.T) {
	t.Parallel()
	serverKills(t, "", 20)
}

// TestSimServerKillsPostgres does the same on PostgreSQL, where the
// campaign ticks are River jobs: a replica killed in the middle of a tick,
// or while River's leader, takes both back when it starts again under the
// same name (jobs.Start), so the campaign goes on at once.
func TestSimServerKillsPostgres(t *testing.T) {
	t.Parallel()
	serverKills(t, replicaDSN(t), 10)
}

// serverKills runs the kill test on the database dsn ("" SQLite in the
// data directory).
func serverKills(t *testing.T, dsn string, kills int) {
	const (
		n    = 1000
		rate = 0.05
		seed = 42
	)
	dir := t.TempDir()
	bin := filepath.Join(dir, "firmward")
	if out, err := exec.CommandContext(t.Context(), "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("building firmward: %v\n%s", err, out)
	}
	logf, err := os.Create(filepath.Join(dir, "serve.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = logf.Close() }()
	k := &killedServer{
		t: t, bin: bin, addr: freeAddr(t), data: filepath.Join(dir, "data"), log: logf,
		args: []string{"--campaign-interval", "200ms", "--poll-interval", "1s"},
	}
	if dsn != "" {
		k.args = append(k.args, "--db", dsn)
	}
	k.start()
	t.Cleanup(func() { k.stop(syscall.SIGKILL) })
	url := "http://" + k.addr
	tok, err := os.ReadFile(filepath.Join(k.data, tokenFileName))
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(tok))
	api := httpapi.NewClient(url, token)
	rel := simRelease(t, url, token, 16<<10)

	began := time.Now()
	cfg := sim.Config{
		Server: url, AdminToken: token, Devices: n, Protocol: sim.ProtocolDDI, FailRate: rate, Seed: seed,
		Poll: 3 * time.Second, Duration: 150 * time.Second,
	}
	s, err := sim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	type outcome struct {
		sum *sim.Summary
		err error
	}
	ran := make(chan outcome, 1)
	go func() {
		sum, err := s.Run(context.Background())
		ran <- outcome{sum, err}
	}()
	waitDevices(t, api, n, 60*time.Second)
	for s.Snapshot().Registered < n {
		time.Sleep(20 * time.Millisecond)
	}
	id := startSimCampaign(t, url, token, rel, "5%", "10%", "15%", "15%", "15%", "20%", "20%")

	// Kill at seeded moments; each time the server is down for a moment,
	// then started on the same data.
	rng := rand.New(rand.NewPCG(seed, 2))
	campaignStart := time.Now()
	var running int
	for range kills {
		time.Sleep(100*time.Millisecond + time.Duration(rng.Int64N(int64(700*time.Millisecond))))
		if rep, err := api.CampaignStatus(t.Context(), id, false); err == nil && !rep.Campaign.Status.Final() {
			running++
		}
		k.stop(syscall.SIGKILL)
		time.Sleep(time.Duration(rng.Int64N(int64(300 * time.Millisecond))))
		k.start()
	}
	killsDone := time.Since(campaignStart)

	var out outcome
	select {
	case out = <-ran:
	case <-time.After(120 * time.Second):
		t.Fatalf("the simulator did not end: %+v", s.Snapshot())
	}
	if out.err != nil {
		t.Fatal(out.err)
	}
	sum := out.sum
	rep := waitCampaign(t, api, id, 60*time.Second)
	t.Logf("%d devices, %d kills (%d while the campaign ran) in %s; campaign done %s after its start, test %s; sim: %d polls, %d retries, %d refused (%s)",
		n, kills, running, killsDone.Round(time.Millisecond), time.Since(campaignStart).Round(time.Millisecond), time.Since(began).Round(time.Millisecond),
		sum.Polls, sum.Retries, sum.Errors, sum.LastError)
	if running < kills*3/4 {
		t.Errorf("only %d of %d kills hit a running campaign", running, kills)
	}
	if !sum.Complete || sum.Succeeded+sum.Failed != n || sum.Failed != int64(n*rate) {
		t.Errorf("summary = %+v, want %d done, %d failed", sum, n, int(n*rate))
	}
	checkSimCampaign(t, rep, n, s.WillFail)

	// The database agrees: one action per device, each closed once.
	k.stop(syscall.SIGTERM)
	if dsn == "" {
		dsn = filepath.Join(k.data, "firmward.db")
	}
	db, err := sqlstore.Open(t.Context(), dsn, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	checks := []struct {
		name  string
		query string
		want  int
	}{
		{"actions", "SELECT COUNT(*) FROM actions WHERE campaign_id = ?", n},
		{"devices with an action", "SELECT COUNT(DISTINCT device_id) FROM actions WHERE campaign_id = ?", n},
		{"actions not finished", "SELECT COUNT(*) FROM actions WHERE campaign_id = ? AND status <> 'finished'", 0},
		{"members", "SELECT COUNT(*) FROM campaign_devices WHERE campaign_id = ? AND action_id <> 0", n},
		{"failed actions", "SELECT COUNT(*) FROM actions WHERE campaign_id = ? AND result = 'failure'", int(n * rate)},
		{
			"actions not closed exactly once",
			"SELECT COUNT(*) FROM (SELECT a.id FROM actions a LEFT JOIN action_feedback f ON f.action_id = a.id AND f.execution = 'closed'" +
				" WHERE a.campaign_id = ? GROUP BY a.id HAVING COUNT(f.id) <> 1) AS x", 0,
		},
	}
	for _, c := range checks {
		var got int
		q := c.query
		if db.Dialect() == sqlstore.DialectPostgres {
			q = strings.Replace(q, "?", "$1", 1)
		}
		if err := db.SQL().QueryRowContext(t.Context(), q, id).Scan(&got); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}
