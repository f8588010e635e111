//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/firmward/firmward/httpapi"
	"github.com/firmward/firmward/sim"
)

// procStats reads a process's CPU time (user + system) and peak RSS from
// /proc.
func procStats(pid int) (cpu time.Duration, peakRSS int64, err error) {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, err
	}
	// Fields after the command name, which ends with ')'.
	i := strings.LastIndexByte(string(stat), ')')
	f := strings.Fields(string(stat)[i+1:])
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("/proc/%d/stat has %d fields", pid, len(f))
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	cpu = time.Duration(utime+stime) * time.Second / 100 // USER_HZ is 100 on Linux
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0, err
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			peakRSS = kb << 10
		}
	}
	return cpu, peakRSS, nil
}

// postgresCPU is the CPU time every PostgreSQL process of this machine has
// used: each live process's own (user + system), plus what the
// postmasters' reaped children used. Its growth over a run is what the
// database server spent, as long as nothing else uses PostgreSQL.
func postgresCPU() (time.Duration, error) {
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	var ticks int64
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			continue // ended meanwhile
		}
		open, end := strings.IndexByte(string(stat), '('), strings.LastIndexByte(string(stat), ')')
		if open < 0 || end < open || !strings.HasPrefix(string(stat)[open+1:end], "postgres") {
			continue
		}
		f := strings.Fields(string(stat)[end+1:])
		if len(f) < 15 {
			continue
		}
		for _, k := range []int{11, 12} { // utime, stime
			v, _ := strconv.ParseInt(f[k], 10, 64)
			ticks += v
		}
		if ppid, _ := strconv.Atoi(f[1]); !isPostgres(ppid) { // a postmaster: add its reaped backends
			for _, k := range []int{13, 14} { // cutime, cstime
				v, _ := strconv.ParseInt(f[k], 10, 64)
				ticks += v
			}
		}
	}
	return time.Duration(ticks) * time.Second / 100, nil
}

// isPostgres reports whether process pid is a PostgreSQL process.
func isPostgres(pid int) bool {
	comm, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	return err == nil && strings.HasPrefix(strings.TrimSpace(string(comm)), "postgres")
}

// BenchmarkCampaign100k runs a 5-wave campaign over 100,000 simulated DDI
// devices against `firmward serve` (SQLite, or PostgreSQL with
// FIRMWARD_BENCH_DB=postgres) as a subprocess, and reports the campaign's
// wall time, the server's CPU time and peak RSS. Run it with -benchtime 1x
// (docs/BENCHMARKS.md).
func BenchmarkCampaign100k(b *testing.B) {
	const rate = 0.02
	n := 100_000
	if v := os.Getenv("FIRMWARD_BENCH_DEVICES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatalf("FIRMWARD_BENCH_DEVICES: %v", err)
		}
	}
	poll := 2 * time.Minute
	if v := os.Getenv("FIRMWARD_BENCH_POLL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("FIRMWARD_BENCH_POLL: %v", err)
		}
		poll = d
	}
	interval := "1s"
	if v := os.Getenv("FIRMWARD_BENCH_CAMPAIGN_INTERVAL"); v != "" {
		interval = v
	}
	for b.Loop() {
		dir := b.TempDir()
		bin := filepath.Join(dir, "firmward")
		if out, err := exec.CommandContext(b.Context(), "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
			b.Fatalf("building firmward: %v\n%s", err, out)
		}
		logf, err := os.Create(filepath.Join(dir, "serve.log"))
		if err != nil {
			b.Fatal(err)
		}
		k := &killedServer{
			t: b, bin: bin, addr: freeAddr(b), data: filepath.Join(dir, "data"), log: logf,
			args: []string{"--campaign-interval", interval, "--poll-interval", poll.String(), "--log-level", "warn"},
		}
		db := "sqlite"
		if os.Getenv("FIRMWARD_BENCH_DB") == "postgres" { // a fresh schema, dropped afterwards
			db = "postgres"
			k.args = append(k.args, "--db", replicaDSN(b))
		}
		k.start()
		url := "http://" + k.addr
		tok, err := os.ReadFile(filepath.Join(k.data, tokenFileName))
		if err != nil {
			b.Fatal(err)
		}
		token := strings.TrimSpace(string(tok))
		api := httpapi.NewClient(url, token)
		rel := simRelease(b, url, token, 16<<10)

		s, err := sim.New(sim.Config{
			Server: url, AdminToken: token, Devices: n, Protocol: sim.ProtocolDDI, FailRate: rate, Seed: 1,
			Poll: poll, Duration: 35 * time.Minute,
		})
		if err != nil {
			b.Fatal(err)
		}
		pgBefore, _ := postgresCPU()
		began := time.Now()
		ran := make(chan *sim.Summary, 1)
		go func() {
			sum, err := s.Run(context.Background())
			if err != nil {
				b.Error(err)
				sum = &sim.Summary{}
			}
			ran <- sum
		}()
		for s.Snapshot().Registered < n {
			if time.Since(began) > 10*time.Minute {
				b.Fatalf("registration not done after 10 min: %+v", s.Snapshot())
			}
			time.Sleep(100 * time.Millisecond)
		}
		registered := time.Since(began)
		id := startSimCampaign(b, url, token, rel, "10%", "20%", "20%", "25%", "25%")
		started := time.Now()
		// The simulator ends when every device closed its action; the
		// campaign's status (a read of all its members) is asked for only
		// then, so that the harness does not load the server.
		var sum *sim.Summary
		tick := time.NewTicker(15 * time.Second)
		for sum == nil {
			select {
			case sum = <-ran:
			case <-tick.C:
				if testing.Verbose() {
					st := s.Snapshot()
					fmt.Fprintf(os.Stderr, "%s: %d of %d devices done, %d polls, %d retries, %d refused\n",
						time.Since(started).Round(time.Second), st.Done, n, st.Polls, st.Retries, st.Errors)
				}
			}
		}
		tick.Stop()
		var rep *httpapi.CampaignReport
		for {
			rep, err = api.CampaignStatus(b.Context(), id, false)
			if err == nil && rep.Campaign.Status.Final() {
				break
			}
			if time.Since(started) > 35*time.Minute {
				b.Fatalf("campaign not final after 35 min: %+v %v", rep, err)
			}
			time.Sleep(2 * time.Second)
		}
		wall := time.Since(started)
		cpu, rss, err := procStats(k.cmd.Process.Pid)
		if err != nil {
			b.Fatal(err)
		}
		pgAfter, _ := postgresCPU()
		k.stop(syscall.SIGTERM)
		if rep.Campaign.Status != "finished" || sum == nil || !sum.Complete || sum.Failed != int64(float64(n)*rate+0.5) {
			b.Fatalf("campaign %s (%s); sim %+v", rep.Campaign.Status, rep.Campaign.StatusReason, sum)
		}
		b.ReportMetric(wall.Seconds(), "campaign_s")
		b.ReportMetric(registered.Seconds(), "register_s")
		b.ReportMetric(cpu.Seconds(), "server_cpu_s")
		b.ReportMetric(float64(rss)/(1<<20), "server_peak_rss_MiB")
		if db == "postgres" {
			b.ReportMetric((pgAfter - pgBefore).Seconds(), "postgres_cpu_s")
			b.Logf("PostgreSQL processes used %s of CPU from registration to the end", pgAfter-pgBefore)
		}
		b.Logf("%s, %d devices, poll %s, campaign interval %s: registration %s, campaign %s, server CPU %s, peak RSS %d MiB; sim %d polls, %d downloads, %d retries, %d refused",
			db, n, poll, interval, registered.Round(time.Millisecond), wall.Round(time.Millisecond), cpu, rss>>20, sum.Polls, sum.Downloads, sum.Retries, sum.Errors)
	}
}
