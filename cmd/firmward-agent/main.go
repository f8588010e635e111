// Command firmward-agent installs firmware on a device from a firmward
// server: it enrolls, polls with the device's inventory, downloads and
// verifies (sha256 and TUF) each release it is given, installs it with a
// script, rauc or swupdate, restarts, checks health, and commits or rolls
// back, reporting every step. See docs/AGENT.md.
//
// Usage:
//
//	firmward-agent -config /etc/firmward-agent.conf [-once] [-log-level info]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/firmward/firmward/agent/agentconf"
	"github.com/firmward/firmward/agent/install"
	"github.com/firmward/firmward/agent/mqttsub"
	"github.com/firmward/firmward/agent/runner"
	"github.com/firmward/firmward/agent/tufclient"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole program; it returns the exit status (2 for usage).
func run(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("firmward-agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "/etc/firmward-agent.conf", "configuration `file` (key = value lines; see docs/AGENT.md)")
	once := fs.Bool("once", false, "poll and work until nothing is left to do now, then exit")
	level := fs.String("log-level", "info", "log `level`: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		_, _ = fmt.Fprintf(stderr, "firmward-agent: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		_, _ = fmt.Fprintf(stderr, "firmward-agent: -log-level %q: use debug, info, warn or error\n", *level)
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lv}))
	if err := serve(ctx, *path, *once, logger); err != nil {
		if ctx.Err() != nil {
			return 0
		}
		logger.Error("firmward-agent stopped", "err", err)
		return 1
	}
	return 0
}

// serve reads the configuration at path, builds the agent and runs it.
func serve(ctx context.Context, path string, once bool, logger *slog.Logger) error {
	data, err := os.ReadFile(path) //nolint:gosec // the operator names the file
	if err != nil {
		return fmt.Errorf("reading the configuration: %w", err)
	}
	cfg, err := agentconf.Parse(data, filepath.Dir(path))
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	agent, err := build(cfg, logger)
	if err != nil {
		return err
	}
	if once {
		return agent.RunOnce(ctx)
	}
	if cfg.MQTTURL != "" {
		if err := agent.Enroll(ctx); err != nil {
			return err
		}
		id := cfg.DeviceID
		if id == 0 {
			id = agent.DeviceID()
		}
		nudges, err := mqttsub.Subscribe(ctx, mqttsub.Config{BrokerURL: cfg.MQTTURL, ClientID: "firmward-agent-" + cfg.ControllerID, DeviceID: id, Logger: logger})
		if err != nil {
			logger.Warn("MQTT nudges off", "err", err)
		} else {
			agent.SetNudges(nudges)
		}
	}
	return agent.Run(ctx)
}

// build wires the agent from its configuration.
func build(cfg *agentconf.Config, logger *slog.Logger) (*runner.Agent, error) {
	cmds := install.Runner{}
	var inst install.Installer
	switch cfg.Installer {
	case agentconf.InstallerScript:
		inst = &install.Script{Runner: cmds, InstallCommand: cfg.InstallCommand, CommitCommand: cfg.CommitCommand, RollbackCommand: cfg.RollbackCommand}
	case agentconf.InstallerRAUC:
		inst = &install.RAUC{Runner: cmds, Args: cfg.InstallArgs, CommitCommand: cfg.CommitCommand, RollbackCommand: cfg.RollbackCommand}
	case agentconf.InstallerSWUpdate:
		inst = &install.SWUpdate{Runner: cmds, Args: cfg.InstallArgs, CommitCommand: cfg.CommitCommand, RollbackCommand: cfg.RollbackCommand}
	default:
		return nil, fmt.Errorf("unknown installer %q", cfg.Installer)
	}
	rc := runner.Config{
		Server: cfg.Server, DeviceToken: cfg.DeviceToken, EnrollmentKey: cfg.EnrollmentKey, ControllerID: cfg.ControllerID,
		Device: runner.Device{
			Name: cfg.Name, Manufacturer: cfg.Manufacturer, Model: cfg.Model, Serial: cfg.Serial, HardwareVersion: cfg.HardwareVersion,
		},
		StateDir: cfg.StateDir, Installer: inst, Commands: cmds,
		RestartCommand: cfg.RestartCommand, HealthCommand: cfg.HealthCommand, HealthTimeout: cfg.HealthTimeout,
		InsecureSkipTUF:        cfg.InsecureSkipTUF,
		FirmwareVersionCommand: cfg.FirmwareVersionCommand, FirmwareVersionFile: cfg.FirmwareVersionFile,
		PollInterval: cfg.PollInterval, Logger: logger, Now: time.Now,
	}
	if cfg.TUFRoot != "" {
		root, err := os.ReadFile(cfg.TUFRoot) //nolint:gosec // the operator names the file
		if err != nil {
			return nil, fmt.Errorf("reading the trusted TUF root (tuf_root): %w", err)
		}
		tc, err := tufclient.New(tufclient.Config{
			TrustedRoot: root, MetadataDir: filepath.Join(cfg.StateDir, "tuf"),
			MetadataURL: strings.TrimRight(cfg.Server, "/") + "/tuf", Now: time.Now, Logger: logger,
		})
		if err != nil {
			return nil, err
		}
		rc.Verify = func(ctx context.Context, target, path string) error {
			_, err := tc.VerifyFile(ctx, target, path)
			return err
		}
	}
	return runner.New(rc)
}
