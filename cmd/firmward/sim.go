package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/firmward/firmward/sim"
)

// runSim runs `firmward sim`: a fleet of simulated devices against a
// server, until each closed its action or --duration passed.
func runSim(ctx context.Context, a *app, args []string) error {
	const name = "sim"
	cfg := sim.Config{}
	var seed int64
	fs := newFlags(name)
	fs.IntVar(&cfg.Devices, "devices", 10, fmt.Sprintf("how many devices to simulate (1 to %d)", sim.MaxDevices))
	fs.StringVar(&cfg.Protocol, "protocol", sim.ProtocolNative, "device `API`: native (firmward-agent) or ddi (hawkBit)")
	fs.Float64Var(&cfg.FailRate, "fail-rate", 0, "share of devices whose install fails, 0 to 1")
	fs.DurationVar(&cfg.Poll, "poll", sim.DefaultPoll, "poll `interval` of each device")
	fs.StringVar(&cfg.EnrollmentKey, "enrollment-key", "", "enroll with this `key` (serve --enrollment-key) instead of pre-registering with the API token")
	fs.Int64Var(&seed, "seed", 1, "`seed` of which devices fail and when each polls first")
	fs.DurationVar(&cfg.Duration, "duration", sim.DefaultDuration, "stop after this `long` even if actions are open")
	fs.IntVar(&cfg.Actions, "actions", 1, "actions each device closes before it is done")
	fs.StringVar(&cfg.Prefix, "prefix", "sim", "device names are `PREFIX`-000001…")
	fs.StringVar(&cfg.Manufacturer, "manufacturer", "Firmward Sim", "manufacturer of the simulated devices")
	fs.StringVar(&cfg.Model, "model", "SIM-1", "model of the simulated devices")
	fs.StringVar(&cfg.FirmwareVersion, "firmware-version", "1.0", "firmware `version` the devices start with")
	if _, err := a.parse(fs, name, args, true, 0, 0); err != nil {
		return err
	}
	if seed < 0 {
		return usageError{cmd: name, msg: fmt.Sprintf("--seed %d must not be negative", seed)}
	}
	cfg.Seed = uint64(seed)
	server := strings.TrimRight(a.server, "/")
	if !strings.Contains(server, "://") {
		server = "http://" + server
	}
	cfg.Server = server
	if cfg.EnrollmentKey == "" {
		tok := strings.TrimSpace(a.token)
		if tok == "" {
			var err error
			if tok, err = a.savedToken(); err != nil {
				return withHint(err, "or pass --enrollment-key")
			}
		}
		cfg.AdminToken = tok
	}
	s, err := sim.New(cfg)
	if err != nil {
		return usageError{cmd: name, msg: strings.TrimPrefix(err.Error(), "sim: ")}
	}

	done := make(chan struct{})
	drawn := make(chan struct{})
	go func() {
		defer close(drawn)
		if !a.stderrTTY {
			return
		}
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				_, _ = fmt.Fprintf(a.stderr, "\r%s\n", simLine(s.Snapshot()))
				return
			case <-t.C:
				_, _ = fmt.Fprintf(a.stderr, "\r%s", simLine(s.Snapshot()))
			}
		}
	}()
	sum, err := s.Run(ctx)
	close(done)
	<-drawn
	if err != nil {
		return err
	}
	if a.json {
		if err := writeJSON(a.stdout, sum); err != nil {
			return err
		}
	} else {
		printSimSummary(a, sum)
	}
	if !sum.Complete {
		return fmt.Errorf("the simulation ended before every device closed its action: %d of %d done", sum.Done, sum.Devices)
	}
	return nil
}

// simLine is the live progress line of a run.
func simLine(st sim.Stats) string {
	return fmt.Sprintf("sim %s: %d/%d registered, %d/%d done, %d ok, %d failed, %d polls, %d retries   ",
		st.Elapsed.Round(time.Second), st.Registered, st.Devices, st.Done, st.Devices, st.Succeeded, st.Failed, st.Polls, st.Retries)
}

func printSimSummary(a *app, s *sim.Summary) {
	t := newTable(a.stdout)
	t.row("protocol", s.Protocol)
	t.row("devices", fmt.Sprint(s.Devices))
	t.row("done", fmt.Sprintf("%d (complete: %v)", s.Done, s.Complete))
	t.row("actions", fmt.Sprint(s.Actions))
	t.row("succeeded", fmt.Sprint(s.Succeeded))
	t.row("failed", fmt.Sprintf("%d (fail rate %g, seed %d)", s.Failed, s.FailRate, s.Seed))
	t.row("polls", fmt.Sprint(s.Polls))
	t.row("downloads", fmt.Sprintf("%d (%d bytes)", s.Downloads, s.Bytes))
	t.row("retries", fmt.Sprint(s.Retries))
	t.row("refused", fmt.Sprint(s.Errors))
	if s.LastError != "" {
		t.row("last refusal", cut(s.LastError, 120))
	}
	t.row("elapsed", s.Elapsed.Round(time.Millisecond).String())
	t.flush()
}

func simCommand() command {
	return command{
		name: "sim", args: "--devices N [--protocol native|ddi] [--fail-rate P] [--poll D] [--enrollment-key K] [--seed S]",
		summary: "simulate a fleet of devices that poll, download, install and report",
		help: "Run N simulated devices in this process against --server. They are pre-registered with the API token\n" +
			"(imported with update mechanism agent or ddi, each with a device token), or enroll themselves with\n" +
			"--enrollment-key. Each device polls every --poll, downloads the artifacts of the action it is offered\n" +
			"(checking size and sha256), installs in simulated steps and reports proceeding, then closed success or\n" +
			"failure. Exactly round(N × --fail-rate) devices, drawn from --seed, fail. Devices retry while the server\n" +
			"is down. The run ends when every device closed --actions actions (exit 0) or after --duration (exit 1).\n" +
			"A live progress line is drawn on a terminal; --json prints the summary as JSON.",
		run: runSim,
	}
}
