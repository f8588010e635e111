package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/firmward/firmward"
)

func notifyChannelsCommand() command   { return notifyCommands()[0] }
func notifyAddCommand() command        { return notifyCommands()[1] }
func notifyRmCommand() command         { return notifyCommands()[2] }
func notifyRecipientsCommand() command { return notifyCommands()[3] }
func notifySubscribeCommand() command  { return notifyCommands()[4] }
func notifyTestCommand() command       { return notifyCommands()[5] }
func notifyDeliveriesCommand() command { return notifyCommands()[6] }

// notifyCommands are `firmward notify …` (issue 7, reminders and alerts).
func notifyCommands() []command {
	return []command{
		{
			name: "notify channels", args: "", summary: "list notification channels (e-mail, webhook, ntfy)",
			help: "List the channels. Secrets (SMTP password, webhook key, ntfy token) are never shown: SECRET says\n" +
				"whether one is set.",
			run: runNotifyChannels,
		},
		{
			name: "notify add", args: "--name N --type email|webhook|ntfy [--smtp-host H --from ADDR | --url URL [--topic T]] [--secret-file F]",
			summary: "add a notification channel",
			help: "Add a channel (admin). E-mail: --smtp-host, --smtp-port (587), --smtp-mode starttls|require-starttls|tls|none,\n" +
				"--smtp-user and --from. Webhook: --url; each POST is signed with the secret (X-Firmward-Signature:\n" +
				"sha256=HMAC of 'TIMESTAMP.BODY'). ntfy: --url of the server and --topic. The secret is read from\n" +
				"--secret-file (- for stdin), never from the command line; the server stores it sealed.",
			run: runNotifyAdd,
		},
		{
			name: "notify rm", args: "ID", summary: "remove a notification channel and its recipients",
			help: "Remove a channel (admin) and its recipients; its deliveries stay in the log.",
			run:  runNotifyRm,
		},
		{
			name: "notify recipients", args: "", summary: "list recipients and their preferences",
			help: "List who gets what: channel, address, kinds (all when empty), minimum severity, immediate or daily\n" +
				"digest with its hour, quiet hours and time zone.",
			run: runNotifyRecipients,
		},
		{
			name: "notify subscribe", args: "--channel ID --name N [--address ADDR] [--kinds K,…] [--digest] [flags]",
			summary: "add a recipient to a channel",
			help: "Add a recipient. --kinds from: " + strings.Join(firmward.NotifyKinds, ", ") + " (all when empty).\n" +
				"check.due and sla.overdue always come in the daily digest (at --digest-hour in --time-zone); --digest\n" +
				"sends everything that way. --quiet 22:00-07:00 holds immediate alerts until the quiet hours end.",
			run: runNotifySubscribe,
		},
		{
			name: "notify test", args: "CHANNEL-ID [--to ADDR]", summary: "send a test message through a channel now",
			help: "Send a test message and print what happened: sent, or the server's error (an SMTP refusal, an\n" +
				"unreachable webhook). --to is the e-mail address for an e-mail channel. Exits 1 when the message failed.",
			run: runNotifyTest,
		},
		{
			name: "notify deliveries", args: "[--status pending|sent|failed] [--channel ID] [--limit N] [--id ID]",
			summary: "the delivery log: every message, its state, attempts and last error",
			help:    "List deliveries, newest first; --id shows one with every attempt (time, channel, recipient, outcome, error).",
			run:     runNotifyDeliveries,
		},
	}
}

func runNotifyChannels(ctx context.Context, a *app, args []string) error {
	const name = "notify channels"
	if _, err := a.parse(newFlags(name), name, args, true, 0, 0); err != nil {
		return err
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	list, err := c.ListChannels(ctx)
	if err != nil {
		return err
	}
	if a.json {
		return writeJSON(a.stdout, list)
	}
	if len(list) == 0 {
		a.printf("No notification channels. Add one with 'firmward notify add'.\n")
		return nil
	}
	t := newTable(a.stdout)
	t.row("ID", "NAME", "TYPE", "ENABLED", "DESTINATION", "SECRET")
	for _, ch := range list {
		t.row(strconv.FormatInt(ch.ID, 10), ch.Name, string(ch.Type), yesNo(ch.Enabled), channelDestination(ch), map[bool]string{true: "set", false: "-"}[ch.HasSecret])
	}
	t.flush()
	return nil
}

// channelDestination says where a channel sends, in one cell.
func channelDestination(ch *firmward.NotifyChannel) string {
	switch ch.Type {
	case firmward.ChannelEmail:
		user := ""
		if ch.SMTPUser != "" {
			user = ch.SMTPUser + "@"
		}
		return fmt.Sprintf("smtp://%s%s:%d (%s) from %s", user, ch.SMTPHost, ch.SMTPPort, ch.SMTPMode, ch.From)
	case firmward.ChannelNtfy:
		return strings.TrimSuffix(ch.URL, "/") + "/" + ch.Topic
	}
	return ch.URL
}

// readSecret reads a secret from a file or stdin ("-"), first line only.
func (a *app) readSecret(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	in := a.stdin
	if path != "-" {
		f, err := os.Open(path) //nolint:gosec // the user names the file on purpose
		if err != nil {
			return "", fmt.Errorf("opening the secret file: %w", err)
		}
		defer func() { _ = f.Close() }() // read only
		in = f
	}
	b, err := io.ReadAll(io.LimitReader(in, firmward.MaxNotifySecret+2))
	if err != nil {
		return "", fmt.Errorf("reading the secret: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return strings.TrimRight(line, "\r"), nil
}

func runNotifyAdd(ctx context.Context, a *app, args []string) error {
	const name = "notify add"
	ch := firmward.NotifyChannel{Enabled: true}
	var typ, secretFile string
	var disabled bool
	fs := newFlags(name)
	fs.StringVar(&ch.Name, "name", "", "channel `name` (required)")
	fs.StringVar(&typ, "type", "", "email, webhook or ntfy (required)")
	fs.StringVar(&ch.SMTPHost, "smtp-host", "", "SMTP server `host` (email)")
	fs.IntVar(&ch.SMTPPort, "smtp-port", 0, "SMTP `port` (587; 465 with --smtp-mode tls)")
	fs.StringVar(&ch.SMTPMode, "smtp-mode", "", "starttls (when offered; default), require-starttls, tls or none")
	fs.StringVar(&ch.SMTPUser, "smtp-user", "", "SMTP `user` (AUTH PLAIN; the password is the secret)")
	fs.StringVar(&ch.From, "from", "", "sender `address` (email)")
	fs.StringVar(&ch.URL, "url", "", "webhook `URL`, or the ntfy server's URL")
	fs.StringVar(&ch.Topic, "topic", "", "ntfy `topic`")
	fs.StringVar(&secretFile, "secret-file", "", "read the secret (SMTP password, webhook key, ntfy token) from this `file` (- for stdin)")
	fs.BoolVar(&disabled, "disabled", false, "add the channel switched off")
	if _, err := a.parse(fs, name, args, true, 0, 0); err != nil {
		return err
	}
	ch.Type, ch.Enabled = firmward.ChannelType(typ), !disabled
	secret, err := a.readSecret(secretFile)
	if err != nil {
		return err
	}
	ch.Secret = secret
	c, err := a.client()
	if err != nil {
		return err
	}
	got, err := c.CreateChannel(ctx, &ch)
	if err != nil {
		return err
	}
	if a.json {
		return writeJSON(a.stdout, got)
	}
	a.printf("added channel %d %q (%s → %s); try it with 'firmward notify test %d'\n", got.ID, got.Name, got.Type, channelDestination(got), got.ID)
	return nil
}

func runNotifyRm(ctx context.Context, a *app, args []string) error {
	const name = "notify rm"
	pos, err := a.parse(newFlags(name), name, args, true, 1, 1)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id < 1 {
		return usageError{cmd: name, msg: fmt.Sprintf("%q is not a channel id", pos[0])}
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	if err := c.DeleteChannel(ctx, id); err != nil {
		return err
	}
	if !a.json {
		a.printf("removed channel %d\n", id)
	}
	return nil
}

func runNotifyRecipients(ctx context.Context, a *app, args []string) error {
	const name = "notify recipients"
	if _, err := a.parse(newFlags(name), name, args, true, 0, 0); err != nil {
		return err
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	list, err := c.ListRecipients(ctx)
	if err != nil {
		return err
	}
	if a.json {
		return writeJSON(a.stdout, list)
	}
	if len(list) == 0 {
		a.printf("No recipients. Add one with 'firmward notify subscribe'.\n")
		return nil
	}
	t := newTable(a.stdout)
	t.row("ID", "NAME", "CHANNEL", "ADDRESS", "KINDS", "MIN", "MODE", "QUIET", "ZONE", "ENABLED")
	for _, r := range list {
		kinds := strings.Join(r.Kinds, ",")
		if kinds == "" {
			kinds = "all"
		}
		quiet := "-"
		if r.QuietStart != "" {
			quiet = r.QuietStart + "-" + r.QuietEnd
		}
		mode := r.Mode
		if r.Mode == firmward.NotifyDigest {
			mode = fmt.Sprintf("digest %02d:00", r.DigestHour)
		}
		t.row(strconv.FormatInt(r.ID, 10), r.Name, strconv.FormatInt(r.ChannelID, 10), orDash(r.Address), kinds, string(r.MinSeverity),
			mode, quiet, r.TimeZone, yesNo(r.Enabled))
	}
	t.flush()
	return nil
}

func runNotifySubscribe(ctx context.Context, a *app, args []string) error {
	const name = "notify subscribe"
	r := firmward.NotifyRecipient{Enabled: true, DigestHour: firmward.DefaultDigestHour}
	var kinds, quiet, minSev string
	var digest bool
	fs := newFlags(name)
	fs.Int64Var(&r.ChannelID, "channel", 0, "channel `id` (required)")
	fs.StringVar(&r.Name, "name", "", "who this is (required)")
	fs.StringVar(&r.Address, "address", "", "e-mail `address` (e-mail channels)")
	fs.StringVar(&kinds, "kinds", "", "comma-separated alert `kinds` (empty: all)")
	fs.StringVar(&minSev, "min-severity", "", "lowest `severity` sent: info, low, medium, high, critical")
	fs.BoolVar(&digest, "digest", false, "send everything in the daily digest instead of immediately")
	fs.IntVar(&r.DigestHour, "digest-hour", r.DigestHour, "`hour` (0-23, local) of the daily digest")
	fs.StringVar(&quiet, "quiet", "", "quiet hours `HH:MM-HH:MM` (immediate alerts wait until they end)")
	fs.StringVar(&r.TimeZone, "time-zone", "UTC", "IANA time `zone` of the digest hour and quiet hours")
	if _, err := a.parse(fs, name, args, true, 0, 0); err != nil {
		return err
	}
	if kinds != "" {
		r.Kinds = strings.Split(kinds, ",")
	}
	r.MinSeverity = firmward.Severity(minSev)
	if digest {
		r.Mode = firmward.NotifyDigest
	}
	if quiet != "" {
		var ok bool
		r.QuietStart, r.QuietEnd, ok = strings.Cut(quiet, "-")
		if !ok {
			return usageError{cmd: name, msg: fmt.Sprintf("--quiet %q: use HH:MM-HH:MM", quiet)}
		}
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	got, err := c.CreateRecipient(ctx, &r)
	if err != nil {
		return err
	}
	if a.json {
		return writeJSON(a.stdout, got)
	}
	a.printf("added recipient %d %q on channel %d (%s)\n", got.ID, got.Name, got.ChannelID, got.Mode)
	return nil
}

func runNotifyTest(ctx context.Context, a *app, args []string) error {
	const name = "notify test"
	var to string
	fs := newFlags(name)
	fs.StringVar(&to, "to", "", "e-mail `address` (e-mail channels)")
	pos, err := a.parse(fs, name, args, true, 1, 1)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id < 1 {
		return usageError{cmd: name, msg: fmt.Sprintf("%q is not a channel id", pos[0])}
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	d, err := c.SendTestNotification(ctx, id, to)
	if err != nil {
		return err
	}
	if a.json {
		if err := writeJSON(a.stdout, d); err != nil {
			return err
		}
	} else if d.Status == firmward.DeliverySent {
		a.printf("sent: test message %d through channel %d\n", d.ID, id)
	}
	switch d.Status {
	case firmward.DeliverySent:
		return nil
	case firmward.DeliveryFailed:
		return fmt.Errorf("the test message through channel %d failed: %s", id, d.LastError)
	}
	return fmt.Errorf("the test message %d is %s: another server took it; see 'firmward notify deliveries --id %d'", d.ID, d.Status, d.ID)
}

func runNotifyDeliveries(ctx context.Context, a *app, args []string) error {
	const name = "notify deliveries"
	var status string
	var channel, id int64
	var limit int
	fs := newFlags(name)
	fs.StringVar(&status, "status", "", "only `state`: pending, sent or failed")
	fs.Int64Var(&channel, "channel", 0, "only through this channel `id`")
	fs.IntVar(&limit, "limit", 50, "at most `N` deliveries")
	fs.Int64Var(&id, "id", 0, "show one delivery and its attempts")
	if _, err := a.parse(fs, name, args, true, 0, 0); err != nil {
		return err
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	if id > 0 {
		det, err := c.GetDelivery(ctx, id)
		if err != nil {
			return err
		}
		if a.json {
			return writeJSON(a.stdout, det)
		}
		d := det.Delivery
		a.printf("delivery %d  %s  %s  channel %d  recipient %d %s\nsubject: %s\n", d.ID, d.Key, d.Status, d.ChannelID, d.RecipientID, d.Address, d.Subject)
		t := newTable(a.stdout)
		t.row("#", "TIME", "CHANNEL", "RECIPIENT", "OUTCOME", "ERROR")
		for _, at := range det.Attempts {
			t.row(strconv.Itoa(at.Attempt), at.Time.Format(time.RFC3339), string(at.ChannelType), at.Recipient, at.Outcome, orDash(at.Error))
		}
		t.flush()
		return nil
	}
	list, next, err := c.ListDeliveries(ctx, status, channel, "", limit)
	if err != nil {
		return err
	}
	if a.json {
		return writeJSON(a.stdout, list)
	}
	if len(list) == 0 {
		a.printf("No deliveries.\n")
		return nil
	}
	t := newTable(a.stdout)
	t.row("ID", "CREATED", "KIND", "CHANNEL", "TO", "STATUS", "ATTEMPTS", "NEXT/SENT", "ERROR")
	for _, d := range list {
		when := d.NextAttemptAt.Format(time.RFC3339)
		if d.SentAt != nil {
			when = d.SentAt.Format(time.RFC3339)
		}
		t.row(strconv.FormatInt(d.ID, 10), d.CreatedAt.Format(time.RFC3339), d.Kind, strconv.FormatInt(d.ChannelID, 10), orDash(d.Address),
			d.Status, strconv.Itoa(d.Attempts), when, orDash(d.LastError))
	}
	t.flush()
	if next != "" {
		a.printf("(more: raise --limit)\n")
	}
	return nil
}
