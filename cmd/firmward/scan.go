package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/firmward/firmward/discovery"
	"github.com/firmward/firmward/recog"
)

// scanCommand is `firmward scan`: it runs on this machine and needs no
// server. It is a function because the command table refers back to it.
func scanCommand() command {
	return command{
		name: "scan", args: "--cidr CIDR [--interface IF] [--json] [--oui PATH] [--recog DIR] [--timeout D] [--rate N] [--import [--site SITE]]",
		summary: "find the devices of a network and identify maker, model and firmware",
		help: "Sweep an IPv4 network from this machine: ARP and ICMP echo when run as root (else TCP and UDP probes\n" +
			"only, and the output says so), TCP connect on the IoT ports " + joinInts(discovery.DefaultPorts) + ",\n" +
			"HTTP(S) Server header, title and favicon, TLS certificate, SNMP v2c, SSDP/UPnP and mDNS. Each device's\n" +
			"manufacturer, model, firmware version and category come with a confidence and the evidence behind\n" +
			"them; hints flag telnet, clear-text admin pages, UPnP port forwards and IoT devices on the main network.\n" +
			"Only addresses inside --cidr are ever contacted.\n" +
			"With --import the results are sent to the server (--server, --token) and join its inventory: new\n" +
			"devices are created (source scan) and alerted, known ones updated, conflicts with what people entered\n" +
			"are kept for review.",
		run: runScan,
	}
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

func runScan(ctx context.Context, a *app, args []string) error {
	const name = "scan"
	fs := newFlags(name)
	cidr := fs.String("cidr", "", "IPv4 network to scan, e.g. 192.168.1.0/24 (required)")
	iface := fs.String("interface", "", "network `interface` for the ARP sweep and multicast (default: the one on --cidr)")
	ouiPath := fs.String("oui", discovery.DefaultOUIPath, "IEEE OUI registry CSV `file` for MAC vendors (Debian's ieee-data)")
	recogDir := fs.String("recog", "", "`directory` of recog XML fingerprint files, used with firmward's own rules")
	timeout := fs.Duration("timeout", discovery.DefaultTimeout, "time allowed for the probes of one host")
	rate := fs.Int("rate", discovery.DefaultRate, "most probes sent per second over the whole scan")
	listen := fs.Duration("listen", discovery.DefaultListenWait, "how long to wait for SSDP, mDNS, SNMP, ARP and ICMP answers")
	var communities listFlag
	fs.Var(&communities, "community", "SNMP v2c `community` to try (repeatable; default public)")
	noRaw := fs.Bool("no-raw", false, "do not use raw sockets (no ARP sweep or ICMP echo), as without root")
	iotSegment := fs.Bool("iot-segment", false, "the network is already an IoT segment: do not flag IoT devices on it")
	importTo := fs.Bool("import", false, "send the results to the server's inventory (see --server and --token)")
	site := fs.String("site", "", "with --import: the `site` of the devices found")
	if _, err := a.parse(fs, name, args, true, 0, 0); err != nil {
		return err
	}
	if *cidr == "" {
		return usageError{cmd: name, msg: "--cidr is required, e.g. --cidr 192.168.1.0/24"}
	}
	if *rate <= 0 {
		return usageError{cmd: name, msg: fmt.Sprintf("--rate must be a positive number of probes per second, not %d", *rate)}
	}
	if *timeout <= 0 || *listen <= 0 {
		return usageError{cmd: name, msg: "--timeout and --listen must be positive durations such as 3s"}
	}
	rules, err := recog.Builtin()
	if err != nil {
		return fmt.Errorf("loading firmward's fingerprint rules: %w", err)
	}
	if *recogDir != "" {
		dir, err := recog.LoadDir(*recogDir)
		if err != nil {
			return fmt.Errorf("loading --recog: %w", err)
		}
		rules.Merge(dir)
	}
	o := discovery.Options{
		CIDR: *cidr, Interface: *iface, Timeout: *timeout, Rate: *rate, ListenWait: *listen,
		Communities: communities.values, Rules: rules, NoRaw: *noRaw, IoTSegment: *iotSegment,
		Logger: slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	if oui, err := discovery.LoadOUI(*ouiPath); err == nil {
		o.OUI = oui
	} else if *ouiPath != discovery.DefaultOUIPath || !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("--oui: %w", err)
	}
	var bar *progress
	o.Progress = func(p discovery.Progress) {
		if !a.stderrTTY {
			return
		}
		switch p.Phase {
		case "sweep":
			a.eprintf("sweeping %s (ARP, ICMP, SNMP, SSDP, mDNS)…\n", *cidr)
		case "probe":
			if bar == nil {
				bar = a.newProgress("probing", int64(p.Total))
				bar.unit = "hosts"
			}
			bar.add(int64(p.Done) - bar.done)
		case "describe":
			bar.finish()
		}
	}
	res, err := discovery.Scan(ctx, o)
	if err != nil {
		return err
	}
	if a.json {
		err = writeJSON(a.stdout, res)
	} else {
		a.printScan(res)
	}
	if err != nil || !*importTo {
		return err
	}
	return a.importScan(ctx, *site, res)
}

// importScan sends a scan's results to the server's inventory and says
// what they did there.
func (a *app) importScan(ctx context.Context, site string, res *discovery.Result) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	run, err := c.ImportScan(ctx, site, res.Report())
	if err != nil {
		return fmt.Errorf("sending the scan to the server: %w", err)
	}
	a.eprintf("imported as scan %d: %d new devices, %d updated, %d conflicts to review (%s/scans/%d)\n",
		run.ID, run.New, run.Updated, run.Conflicts, strings.TrimSuffix(a.server, "/"), run.ID)
	return nil
}

// printScan prints a scan result as a table of hosts, then the hints.
func (a *app) printScan(res *discovery.Result) {
	for _, n := range res.Notes {
		a.eprintf("note: %s\n", n)
	}
	took := res.FinishedAt.Sub(res.StartedAt).Round(10 * time.Millisecond)
	a.printf("%s: %d of %d addresses answered in %s\n\n", res.CIDR, len(res.Hosts), res.Scanned, took)
	if len(res.Hosts) == 0 {
		return
	}
	t := newTable(a.stdout)
	t.row("IP", "MAC", "MANUFACTURER", "MODEL", "FIRMWARE", "CATEGORY", "PORTS", "SEEN BY")
	for _, h := range res.Hosts {
		f := h.Fingerprint
		var ports []string
		for _, p := range h.Ports {
			ports = append(ports, strconv.Itoa(p.Port))
		}
		t.row(h.IP, orDash(h.MAC), cut(fact(f.Manufacturer), 28), cut(fact(f.Model), 36), cut(fact(f.Firmware), 20),
			fact(f.Category), orDash(strings.Join(ports, ",")), strings.Join(h.AliveBy, ","))
	}
	t.flush()
	var hints int
	for _, h := range res.Hosts {
		for _, x := range h.Hints {
			if hints == 0 {
				a.printf("\nHints:\n")
			}
			hints++
			a.printf("\n[%s] %s\n  At home: %s\n  In an enterprise: %s\n", x.Severity, x.Summary, x.Home, x.Enterprise)
		}
	}
	a.printf("\nConfidence in brackets; --json shows the evidence behind every value.\n")
}

// fact formats a value with its confidence: "Siemens (0.95)".
func fact(f discovery.Fact) string {
	if f.Value == "" {
		return "-"
	}
	return fmt.Sprintf("%s (%.2f)", f.Value, f.Confidence)
}
