package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/firmward/firmward/httpapi"
	"github.com/firmward/firmward/nac"
)

// The `firmward nac …` commands, in help order.
func nacStatusCommand() command     { return nacCommands()[0] }
func nacQuarantineCommand() command { return nacCommands()[1] }
func nacReleaseCommand() command    { return nacCommands()[2] }
func nacExemptCommand() command     { return nacCommands()[3] }
func nacApproveCommand() command    { return nacCommands()[4] }
func nacNFTCommand() command        { return nacCommands()[5] }
func nacNASCommand() command        { return nacCommands()[6] }

// nacCommands are `firmward nac …`.
func nacCommands() []command {
	return []command{
		{
			name: "nac status", args: "[--site S]",
			summary: "show quarantined devices, those monitor mode would quarantine, approvals and exemptions",
			help: "List the devices network access control is acting on: quarantined (enforce mode), would be quarantined\n" +
				"(monitor mode), waiting for a person's approval (safety-critical and protected devices), exempt, with the\n" +
				"reasons; then segment violations (devices seen outside their segment's subnet) with advice.",
			run: runNACStatus,
		},
		{
			name: "nac quarantine", args: "ID --reason TEXT", summary: "quarantine a device by hand",
			help: "Quarantine one device by hand, with a reason. It applies even to safety-critical devices (a person\n" +
				"decided) and in enforce mode sends the switch a Disconnect so the device re-authenticates into the\n" +
				"quarantine VLAN. Audited.",
			run: func(ctx context.Context, a *app, args []string) error {
				return runNACAction(ctx, a, args, "quarantine")
			},
		},
		{
			name: "nac release", args: "ID [--reason TEXT]", summary: "release a manual quarantine or an approval",
			help: "Clear a device's manual quarantine and approval. A quarantine by an automatic rule ends by itself when\n" +
				"the rule no longer holds (the findings are fixed); to lift it earlier, exempt the device.",
			run: func(ctx context.Context, a *app, args []string) error { return runNACAction(ctx, a, args, "release") },
		},
		{
			name: "nac exempt", args: "ID --reason TEXT --owner NAME --until DATE|DURATION | --remove",
			summary: "suspend the automatic quarantine rules for a device until a time",
			help: "Exempt one device from the automatic rules until --until (a date 2026-12-31, a time in RFC 3339, or a\n" +
				"duration from now such as 72h), with a reason and the owner who answers for it. --remove ends it.",
			run: func(ctx context.Context, a *app, args []string) error { return runNACAction(ctx, a, args, "exempt") },
		},
		{
			name: "nac approve", args: "ID --reason TEXT", summary: "approve the quarantine of a safety-critical device (admin)",
			help: "Safety-critical devices and protected categories (medical by default) are never cut off by a rule alone:\n" +
				"a person approves. After approval the rule's quarantine applies like any other.",
			run: func(ctx context.Context, a *app, args []string) error { return runNACAction(ctx, a, args, "approve") },
		},
		{
			name: "nac nft", args: "[--format nft|uci] [--allow ADDR]... [--table NAME]",
			summary: "print the nftables ruleset (or OpenWrt UCI) of quarantined devices",
			help: "Print an nftables ruleset with sets of type ether_addr and ipv4_addr holding the quarantined devices and\n" +
				"a forward chain that rejects their traffic, for `nft -f` on a router (it replaces its own table each\n" +
				"time); --format uci prints OpenWrt firewall4 ipset and rule sections instead. --allow lets quarantined\n" +
				"devices still reach an address (firmward, DNS). contrib/nac-nft-sync.sh applies it on a router.",
			run: runNACNFT,
		},
		{
			name: "nac nas", args: "[list | set NAS [--addr HOST:PORT] < SECRET | rm NAS]",
			summary: "list, store or remove the CoA secrets of NASes (admin)",
			help: "The switches and access points firmward sends RFC 5176 Disconnect requests to, keyed by the\n" +
				"NAS-IP-Address or NAS-Identifier their RADIUS requests carry. `list` (the default) never shows secrets.\n" +
				"`set` reads the secret from the first line of standard input (so that it stays out of process lists\n" +
				"and shell history) and the server stores it sealed with its key; --addr sends requests to HOST:PORT\n" +
				"instead of the NAS-IP-Address on UDP 3799. `rm` removes one.",
			run: runNAS,
		},
	}
}

func runNAS(ctx context.Context, a *app, args []string) error {
	const name = "nac nas"
	fs := newFlags(name)
	addr := fs.String("addr", "", "with set: send requests to `HOST:PORT` (default: the NAS-IP-Address, UDP 3799)")
	pos, err := a.parse(fs, name, args, true, 0, 2)
	if err != nil {
		return err
	}
	verb := "list"
	if len(pos) > 0 {
		verb = pos[0]
	}
	switch {
	case verb == "list" && len(pos) <= 1:
		return runNASList(ctx, a)
	case verb == "set" && len(pos) == 2:
		return runNASSet(ctx, a, pos[1], *addr)
	case verb == "rm" && len(pos) == 2:
		return runNASRm(ctx, a, pos[1])
	}
	return usageError{cmd: name, msg: "use: nac nas list | nac nas set NAS [--addr HOST:PORT] < SECRET | nac nas rm NAS"}
}

func runNASList(ctx context.Context, a *app) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	list, err := c.NASList(ctx)
	if err != nil {
		return err
	}
	if a.json {
		return writeJSON(a.stdout, list)
	}
	if len(list.NAS) == 0 {
		a.printf("no NAS secret stored: `firmward nac nas set NAS < secret-file` adds one\n")
		return nil
	}
	t := newTable(a.stdout)
	t.row("NAS", "SEND TO", "UPDATED")
	for _, n := range list.NAS {
		t.row(n.NAS, orDash(n.Addr), n.UpdatedAt.Format(time.RFC3339))
	}
	t.flush()
	return nil
}

func runNASSet(ctx context.Context, a *app, nas, addr string) error {
	line, err := bufio.NewReader(io.LimitReader(a.stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("reading the secret from standard input: %w", err)
	}
	secret := strings.TrimRight(line, "\r\n")
	if secret == "" {
		return usageError{cmd: "nac nas", msg: "give the secret on standard input, e.g. firmward nac nas set " + nas + " < secret-file"}
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	if err := c.SetNAS(ctx, nas, httpapi.NASRequest{Addr: addr, Secret: secret}); err != nil {
		return err
	}
	if a.json {
		return writeJSON(a.stdout, map[string]any{"nas": nas, "addr": addr})
	}
	a.printf("stored the CoA secret of NAS %s\n", nas)
	return nil
}

func runNASRm(ctx context.Context, a *app, nas string) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	if err := c.DeleteNAS(ctx, nas); err != nil {
		return err
	}
	if a.json {
		return writeJSON(a.stdout, map[string]any{"removed": nas})
	}
	a.printf("removed the CoA secret of NAS %s\n", nas)
	return nil
}

func runNACStatus(ctx context.Context, a *app, args []string) error {
	const name = "nac status"
	fs := newFlags(name)
	site := fs.String("site", "", "only this `site`")
	if _, err := a.parse(fs, name, args, true, 0, 0); err != nil {
		return err
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	st, err := c.NACStatus(ctx, *site)
	if err != nil {
		return err
	}
	if a.json {
		return writeJSON(a.stdout, st)
	}
	a.printf("quarantined %d, would be (monitor mode) %d, waiting for approval %d, exempt %d\n\n",
		st.Quarantined, st.WouldBe, st.NeedsApproval, st.Exempt)
	if len(st.Devices) > 0 {
		t := newTable(a.stdout)
		t.row("ID", "DEVICE", "SITE", "MODE", "STATE", "VLAN", "WHY")
		for _, d := range st.Devices {
			t.row(strconv.FormatInt(d.ID, 10), cut(d.Name, 28), d.Site, string(d.Decision.Mode), nacStateWord(d), orDash(vlanText(d)), cut(d.Decision.Summary(), 90))
		}
		t.flush()
	}
	for _, p := range st.Policies {
		a.printf("\nsite %s: %s mode, quarantine VLAN %s\n", p.Site, p.Mode, orDash(p.QuarantineVLAN))
	}
	if len(st.Violations) > 0 {
		a.printf("\nsegment violations:\n")
		for _, v := range st.Violations {
			a.printf("  - %s\n", v.Advice)
		}
	}
	return nil
}

func vlanText(d nac.DeviceReport) string {
	if d.Decision.Reject {
		return "reject"
	}
	return d.Decision.VLAN
}

func nacStateWord(d nac.DeviceReport) string {
	switch {
	case d.Decision.Enforced:
		return "quarantined"
	case d.Decision.Quarantine:
		return "would-quarantine"
	case d.Decision.NeedsApproval:
		return "needs-approval"
	case d.Decision.Exempt != "":
		return "exempt"
	}
	return "compliant"
}

func runNACAction(ctx context.Context, a *app, args []string, action string) error {
	name := "nac " + action
	fs := newFlags(name)
	reason := fs.String("reason", "", "why (recorded in the audit trail)")
	var owner, until *string
	var remove *bool
	if action == "exempt" {
		owner = fs.String("owner", "", "who answers for the exemption")
		until = fs.String("until", "", "end: a `DATE` (2026-12-31), an RFC 3339 time, or a duration from now (72h)")
		remove = fs.Bool("remove", false, "end the exemption now")
	}
	pos, err := a.parse(fs, name, args, true, 1, 1)
	if err != nil {
		return err
	}
	id, err := parseID(name, pos[0], "device")
	if err != nil {
		return err
	}
	req := httpapi.NACActionRequest{Reason: *reason}
	if action == "exempt" {
		req.Owner = *owner
		if !*remove {
			if *until == "" {
				return usageError{cmd: name, msg: "--until is required (or --remove)"}
			}
			t, err := parseUntil(*until, time.Now())
			if err != nil {
				return usageError{cmd: name, msg: err.Error()}
			}
			req.Until = t
		}
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	res, err := c.NACAction(ctx, action, id, req)
	if err != nil {
		return err
	}
	if a.json {
		return writeJSON(a.stdout, res)
	}
	a.printf("device %d: %s\n", id, res.Decision.Summary())
	if res.Decision.Quarantine && !res.Decision.Enforced {
		a.printf("site %s is in monitor mode: nothing is enforced on the network\n", res.Decision.Site)
	}
	if res.Warning != "" {
		a.printf("warning: %s\n", res.Warning)
	}
	return nil
}

// parseUntil reads a date (end of that day, UTC), an RFC 3339 time or a
// duration from now.
func parseUntil(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		if d <= 0 {
			return time.Time{}, fmt.Errorf("--until %q: the duration must be positive", s)
		}
		return now.Add(d), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.AddDate(0, 0, 1), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--until %q: want a date (2026-12-31), an RFC 3339 time or a duration (72h)", s)
}

func runNACNFT(ctx context.Context, a *app, args []string) error {
	const name = "nac nft"
	fs := newFlags(name)
	format := fs.String("format", "nft", "`nft` (a ruleset for nft -f) or uci (OpenWrt firewall4 sections)")
	table := fs.String("table", "", "nftables table `name` (default firmward)")
	var allow listFlag
	fs.Var(&allow, "allow", "an IPv4 `address` or prefix quarantined devices may still reach (repeatable)")
	if _, err := a.parse(fs, name, args, true, 0, 0); err != nil {
		return err
	}
	if *format != "nft" && *format != "uci" {
		return usageError{cmd: name, msg: fmt.Sprintf("--format %q: use nft or uci", *format)}
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	var b strings.Builder
	if err := c.NFT(ctx, *format, *table, allow.values, &b); err != nil {
		return err
	}
	a.printf("%s", b.String())
	return nil
}
