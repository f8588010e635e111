package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/httpapi"
	"github.com/firmward/firmward/inventory"
	"github.com/firmward/firmward/lifecycle"
)

// Defaults of the external contract (DESIGN.md).
const (
	defaultServer  = "http://127.0.0.1:8080"
	defaultAddr    = "127.0.0.1:8080"
	defaultDataDir = "firmward-data"
	tokenFileName  = "admin-token"
	envPrefix      = "FIRMWARD_"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// app is one run of the firmward command: its streams, its environment and
// the global client flags. main makes one from the process; tests make one
// per run with buffers and a map for the environment.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// stderrTTY says stderr is a terminal, where progress bars are drawn.
	stderrTTY bool

	// Client flags, shared by every command that talks to a server.
	server string
	token  string
	json   bool
}

// command is one subcommand. Commands are listed once, in commands, which
// drives dispatch, `firmward help` and every usage text.
type command struct {
	name    string // "device add"
	args    string // synopsis of the arguments and main flags
	summary string // one line for the command list
	help    string // paragraph shown by -h
	run     func(ctx context.Context, a *app, args []string) error
}

// commandGroups orders the command list of `firmward help`.
var commandGroups = []struct {
	title string
	names []string
}{
	{"Server", []string{"serve"}},
	{"Inventory", []string{"device add", "device list", "device show", "device edit", "device rm", "device import", "device export", "device cpe"}},
	{"Sample data", []string{"seed home", "seed enterprise"}},
	{"Access", []string{"token create", "token list", "token revoke"}},
	{"Audit trail", []string{"audit list", "audit verify"}},
	{"Vulnerabilities", []string{"feeds import", "feeds sync", "vulns", "vulns show", "vulns assess"}},
	{"Discovery", []string{"scan"}},
	{"Lifecycle", []string{"checks", "checks record", "checks cadence", "eol list", "eol set", "eol rm", "eol import", "eol orphans", "eol value", "eol openfw", "vendors"}},
	{"Compliance", []string{"report"}},
	{"Notifications", []string{"notify channels", "notify add", "notify rm", "notify recipients", "notify subscribe", "notify test", "notify deliveries"}},
	{"Network access control", []string{"nac status", "nac quarantine", "nac release", "nac exempt", "nac approve", "nac nft", "nac nas"}},
	{"Signing", []string{"keys init", "keys show", "keys sign-root", "keys refresh"}},
	{"Delivery", []string{"release add", "release list", "release show", "release withdraw", "release deploy", "action show", "device token"}},
	{"Campaigns", []string{"campaign create", "campaign list", "campaign approve", "campaign start", "campaign pause", "campaign resume", "campaign cancel", "campaign rollback", "campaign status", "task list", "task assign", "task close"}},
	{"Simulation", []string{"sim"}},
	{"Other", []string{"help", "version"}},
}

// commands returns every command. It is a function, not a variable, because
// the help command refers back to the table.
func commands() []command {
	return append([]command{
		{
			name: "serve", args: "[--addr 127.0.0.1:8080] [--data ./firmward-data] [--db URL]",
			summary: "run the server: REST API, web UI, /healthz and /metrics",
			help: "Run the firmward server. On first start it creates an admin API token, prints it once and saves it\n" +
				"to DATA/admin-token (mode 0600). The database is the SQLite file DATA/firmward.db unless --db names\n" +
				"another file or a postgres:// URL. SIGINT or SIGTERM stops it gracefully: requests in flight finish.",
			run: runServe,
		},
		{
			name: "device add", args: "--name NAME [--manufacturer M] [--model M] [--mac MAC]... [flags]",
			summary: "add a device to the inventory",
			help:    "Add one device. --mac, --ip and --tag may be repeated (or hold values separated by commas).",
			run:     runDeviceAdd,
		},
		{
			name: "device list", args: "[--category C] [--q TEXT] [--missing firmware_version] [--all] [flags]",
			summary: "list devices, with filters",
			help:    "List devices, oldest first, one page at a time (--limit, --cursor), or every page with --all.",
			run:     runDeviceList,
		},
		{
			name: "device show", args: "ID", summary: "show every field of one device",
			help: "Show one device.", run: runDeviceShow,
		},
		{
			name: "device edit", args: "ID --FIELD VALUE...", summary: "change fields of a device",
			help: "Change the fields given as flags; the others stay as they are. A list flag (--mac, --ip, --tag)\n" +
				"replaces the whole list; --tag= (empty) clears it.",
			run: runDeviceEdit,
		},
		{name: "device rm", args: "ID", summary: "delete a device", help: "Delete a device.", run: runDeviceRm},
		{
			name: "device import", args: "FILE [--dry-run] [--format csv|json]",
			summary: "import devices from a CSV or JSON file",
			help: "Import an inventory file: all rows or none. The format comes from --format, else from the file's\n" +
				"extension. FILE - reads standard input. With --dry-run the server checks every row and stores\n" +
				"nothing. When rows are bad, every problem is listed with its line and column.\n" +
				"CSV columns: " + strings.Join(inventory.Columns, ", ") + ".",
			run: runDeviceImport,
		},
		{
			name: "device export", args: "[--format csv|json] [-o FILE]",
			summary: "export every device as CSV or JSON",
			help:    "Write the whole inventory to standard output or to FILE (-o). The format comes from --format, else\nfrom FILE's extension, else CSV. What export writes, import reads back.",
			run:     runDeviceExport,
		},
		{
			name: "device cpe", args: "ID [--set CPE | --confirm | --clear] [--reason TEXT]",
			summary: "show the proposed CPE names of a device, or confirm, set or clear its cpe",
			help: "Without flags, show the device's cpe and what firmward proposes from its manufacturer and model:\n" +
				"firmware and hardware CPE names with a confidence and a reason, and alternatives. --confirm sets the\n" +
				"cpe to the proposed firmware name, --set to the name given (an alternative or your own), --clear\n" +
				"removes it. Each choice is audited with how it relates to the proposal and the confidence proposed.",
			run: runDeviceCPE,
		},
		{
			name: "seed home", args: "", summary: "load a sample home inventory (about 20 devices)",
			help: "Generate the inventory of a typical home (router, mesh Wi-Fi, cameras, lock, thermostat, …) and\nimport it through the API.",
			run:  runSeedHome,
		},
		{
			name: "seed enterprise", args: "[--count 2000] [--site NAME]",
			summary: "load a sample hospital campus inventory",
			help: "Generate the inventory of a hospital campus (cameras, access points, switches, printers, HVAC and\n" +
				"badge controllers, infusion pumps, PLCs, sensors) and import it through the API. The same --site\n" +
				"always gives the same devices.",
			run: runSeedEnterprise,
		},
		{
			name: "token create", args: "--name NAME [--role viewer|operator|admin]",
			summary: "create an API token (the secret is shown once)",
			help:    "Create an API token. Roles: viewer reads, operator changes the inventory, admin also manages tokens.",
			run:     runTokenCreate,
		},
		{name: "token list", args: "", summary: "list API tokens", help: "List every API token, revoked ones included.", run: runTokenList},
		{name: "token revoke", args: "ID", summary: "revoke an API token", help: "Revoke an API token: it stops working at once.", run: runTokenRevoke},
		{
			name: "audit list", args: "[--object-type device] [--object-id ID] [--action A] [--limit N]",
			summary: "list audit events, newest first",
			help:    "List the audit trail: who changed what, when.",
			run:     runAuditList,
		},
		{
			name: "audit verify", args: "", summary: "verify the audit trail's hash chain",
			help: "Check that no audit event was edited, deleted or reordered. Exits 1 when the chain is broken.",
			run:  runAuditVerify,
		},
		{
			name: "feeds import", args: "FILE...",
			summary: "import vulnerability feed files (NVD, KEV, EPSS, CVE 5, CSAF)",
			help: "Upload feed files to the server, one after the other: NVD JSON 1.1 yearly feeds or CVE API 2.0\n" +
				"pages, the CISA KEV catalog (JSON), FIRST EPSS scores (CSV), CVE JSON 5.x records, CSAF 2.0\n" +
				"advisories; plain or .gz. The format is detected from the content. Each file is imported whole or\n" +
				"not at all; importing a file twice changes nothing, and a newer record replaces an older one.",
			run: runFeedsImport,
		},
		{
			name: "feeds sync", args: "[--kev-url U] [--epss-url U] [--nvd-url U] [--nvd-api-key K] [--state FILE]",
			summary: "download the feeds from their publishers and import what changed",
			help: "Download the CISA KEV catalog, the FIRST EPSS scores and (with --nvd-url) the NVD CVE API 2.0, and\n" +
				"upload what changed to the server, one source after the other, as `feeds import` does. A file the\n" +
				"publisher says is unchanged (ETag, Last-Modified, kept in --state) is not downloaded again; its\n" +
				"validators are recorded only once the server imported it. The NVD API is walked page by page within\n" +
				"its rate limit (5 requests per 30 s, 50 with --nvd-api-key); each page is one import. An empty URL\n" +
				"skips that source.",
			run: runFeedsSync,
		},
		{
			name: "vulns show", args: "CVE-ID", summary: "show what firmward knows of one CVE",
			help: "Show one CVE merged across the imported feeds, with its CVSS scores, KEV entry and EPSS score.",
			run:  runVulnsShow,
		},
		{
			name: "vulns", args: "[--device ID] [--kev] [--overdue] [--decision D] [--status S] [--limit N]",
			summary: "list findings, most urgent first",
			help: "List the findings of the last assessment, most urgent first: priority, SSVC decision, CVE, device,\n" +
				"KEV, EPSS, CVSS, SLA due date and status. Open findings unless --status says otherwise (--status all\n" +
				"lists every status). One page at a time: the line under the table gives the command for the next.",
			run: runVulns,
		},
		{
			name: "vulns assess", args: "[--device ID] [--cve CVE]", summary: "re-match devices against the imported CVEs now",
			help: "Match every device against every imported CVE, rate each match (SSVC decision, priority, due date)\n" +
				"and store the findings: new ones open, those the firmware no longer matches become fixed. It runs on\n" +
				"the server and answers when it is done. --device and --cve narrow it to those devices, or to those\n" +
				"CVEs on the devices they name. The server also does this by itself: a changed device and the CVEs\n" +
				"a feed import changed are re-matched within seconds, and everything at start and once a day.",
			run: runVulnsAssess,
		},
		keysInitCommand(), keysShowCommand(), keysSignRootCommand(), keysRefreshCommand(),
		scanCommand(),
		nacStatusCommand(), nacQuarantineCommand(), nacReleaseCommand(), nacExemptCommand(), nacApproveCommand(), nacNFTCommand(),
		nacNASCommand(),
		{
			name: "checks", args: "[--due] [--site S] [--category C]", summary: "list health-check schedules, due ones first",
			help: "Each device is checked monthly (network infrastructure, locks, cameras, anything internet-facing) or\n" +
				"quarterly (the rest), unless 'checks cadence' says otherwise per site and category. A check is due\n" +
				"until someone confirms the firmware version and the automatic-update setting.",
			run: runChecks,
		},
		{
			name: "checks record", args: "ID --firmware-version V --auto-update yes|no|not-available [flags]",
			summary: "record a health check of a device",
			help: "Record the answers of a health check (each audited). A confirmed firmware version or automatic-update\n" +
				"setting other than the inventory's also updates the device.",
			run: runChecksRecord,
		},
		{
			name: "checks cadence", args: "[--site S] [--category C] [--months N | --rm]",
			summary: "list or set health-check cadences per site and category",
			help:    "Without --months or --rm, list the rules. The most specific rule wins: site and category, category, site.",
			run:     runChecksCadence,
		},
		{name: "eol list", args: "[--csv]", summary: "list end-of-support dates per manufacturer and model", help: "List the end-of-support table; --csv prints a file 'eol import' reads back.", run: runEOLList},
		{
			name: "eol set", args: "--manufacturer M [--model M] --end-of-support YYYY-MM-DD [--release-date D] [--source S]",
			summary: "set the end-of-support date of a model (or of every model of a manufacturer)",
			help:    "Create or change one entry; audited.", run: runEOLSet,
		},
		{name: "eol rm", args: "ID", summary: "remove an end-of-support entry", help: "Remove one entry of the end-of-support table; audited.", run: runEOLRm},
		{
			name: "eol import", args: "FILE [--format csv|json]", summary: "import end-of-support dates from CSV or JSON",
			help: "Import an end-of-support file: every row or none. CSV columns: " + strings.Join(lifecycle.EOLColumns, ", ") + "\n" +
				"(manufacturer and end_of_support required; model empty means every model). JSON: an array of objects\n" +
				"with the same fields. Bad rows are listed with their line and field.",
			run: runEOLImport,
		},
		{
			name: "eol orphans", args: "[--all] [--stale-months N]",
			summary: "orphaned devices and their risk assessment",
			help: "A device is orphaned when its vendor's support ended, or when it has open findings and no firmware newer\n" +
				"than N months (default 18) is known. For each: operational value (asked of the owner), likelihood\n" +
				"(findings, KEV, EPSS, exposure), impact (criticality), a recommendation among isolate, third-party\n" +
				"firmware, replace and disconnect with the reasoning, and the cost of ownership over its life.",
			run: runEOLOrphans,
		},
		{name: "eol value", args: "ID low|medium|high [--note TEXT]", summary: "record how much the owner needs a device", help: "The owner's operational value feeds the orphan risk assessment; audited.", run: runEOLValue},
		{
			name: "eol openfw", args: "[--add --manufacturer M --model M [--hardware-version V] [--url U] | --rm ID]",
			summary: "list or edit the models an open firmware (OpenWrt) supports",
			help:    "The list starts with a few OpenWrt-supported models from the OpenWrt Table of Hardware; edit it freely.",
			run:     runEOLOpenFW,
		},
		{
			name: "vendors", args: "[--category C]", summary: "the vendor support record, ranked (before you buy)",
			help: "Per manufacturer, from what firmward knows: share of CVEs with a known fix, KEV count, median days to a\n" +
				"fix, median support length, automatic-update availability, each with its number of data points.",
			run: runVendors,
		},
		reportCommand(),
		notifyChannelsCommand(), notifyAddCommand(), notifyRmCommand(), notifyRecipientsCommand(), notifySubscribeCommand(),
		notifyTestCommand(), notifyDeliveriesCommand(),
	}, append(append(append(releaseCommands(), campaignCommands()...), taskCommands()...),
		simCommand(),
		command{name: "help", args: "[COMMAND]", summary: "show help for firmward or a command", run: runHelp},
		command{name: "version", args: "", summary: "print the version", run: runVersion},
	)...)
}

func findCommand(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// groupCommands returns the commands under a group word ("device").
func groupCommands(group string) []command {
	var out []command
	for _, c := range commands() {
		if strings.HasPrefix(c.name, group+" ") {
			out = append(out, c)
		}
	}
	return out
}

// run runs the command line args (without the program name) and returns the
// exit status.
func (a *app) run(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("firmward", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	a.clientFlags(fs)
	if err := applyEnv(fs, a.getenv); err != nil {
		return a.exit(usageError{cmd: "", msg: err.Error()})
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			a.usage(a.stdout)
			return exitOK
		}
		return a.exit(usageError{msg: err.Error()})
	}
	args = fs.Args()
	if len(args) == 0 {
		a.usage(a.stderr)
		return exitUsage
	}
	cmd, rest, err := lookup(args)
	if err != nil {
		return a.exit(err)
	}
	return a.exit(cmd.run(ctx, a, rest))
}

// lookup finds the command named by the first one or two words of args;
// two words win, so that "vulns show" is not "vulns" with an argument.
func lookup(args []string) (command, []string, error) {
	if len(args) > 1 {
		if c, ok := findCommand(args[0] + " " + args[1]); ok {
			return c, args[2:], nil
		}
	}
	group := groupCommands(args[0])
	// "vulns help" is help on the group even though "vulns" is a command
	// too ("vulns -h" stays the command's own usage).
	if c, ok := findCommand(args[0]); ok && len(group) > 0 && len(args) == 2 && args[1] == "help" {
		return command{run: func(_ context.Context, a *app, _ []string) error {
			a.groupUsage(a.stdout, args[0], append([]command{c}, group...))
			return nil
		}}, nil, nil
	}
	if c, ok := findCommand(args[0]); ok {
		return c, args[1:], nil
	}
	if len(group) == 0 {
		return command{}, nil, usageError{msg: fmt.Sprintf("unknown command %q; commands are: %s", args[0], strings.Join(commandWords(), ", "))}
	}
	var subs []string
	for _, c := range group {
		subs = append(subs, strings.TrimPrefix(c.name, args[0]+" "))
	}
	if len(args) > 1 && (args[1] == "-h" || args[1] == "--help" || args[1] == "help") {
		return command{run: func(_ context.Context, a *app, _ []string) error {
			a.groupUsage(a.stdout, args[0], group)
			return nil
		}}, nil, nil
	}
	what := "needs a subcommand"
	if len(args) > 1 {
		what = fmt.Sprintf("has no subcommand %q", args[1])
	}
	return command{}, nil, usageError{cmd: args[0], msg: fmt.Sprintf("%s %s; use one of: %s", args[0], what, strings.Join(subs, ", "))}
}

// commandWords lists the first words of every command, for error messages.
func commandWords() []string {
	var out []string
	for _, c := range commands() {
		w, _, _ := strings.Cut(c.name, " ")
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

// clientFlags registers the flags of every command that talks to a server,
// with the values already set (by the flags before the command) as
// defaults.
func (a *app) clientFlags(fs *flag.FlagSet) {
	if a.server == "" {
		a.server = defaultServer
	}
	fs.StringVar(&a.server, "server", a.server, "firmward server `URL`")
	fs.StringVar(&a.token, "token", a.token, "API `token` (default: FIRMWARD_TOKEN, then ./firmward-data/admin-token)")
	fs.BoolVar(&a.json, "json", a.json, "print JSON instead of tables")
}

// newFlags returns the flag set of the command called name.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("firmward "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // a.parse prints usage and errors itself
	return fs
}

// parse parses the arguments of the command called name: it applies the
// environment twins of the command's own flags, adds the client flags when
// client is set, parses flags wherever they stand among the arguments
// ("device show 3 --json") and checks that there are between minArgs and maxArgs
// positional arguments. It returns those arguments.
func (a *app) parse(fs *flag.FlagSet, name string, args []string, client bool, minArgs, maxArgs int) ([]string, error) {
	if err := applyEnv(fs, a.getenv); err != nil {
		return nil, usageError{cmd: name, msg: err.Error()}
	}
	if client {
		a.clientFlags(fs)
	}
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		a.commandUsage(a.stdout, name, fs)
		return nil, errHelpShown
	}
	if err != nil {
		return nil, usageError{cmd: name, msg: err.Error()}
	}
	switch {
	case len(pos) < minArgs:
		c, _ := findCommand(name)
		return nil, usageError{cmd: name, msg: fmt.Sprintf("missing argument: firmward %s %s", name, c.args)}
	case len(pos) > maxArgs:
		return nil, usageError{cmd: name, msg: fmt.Sprintf("unexpected argument %q", pos[maxArgs])}
	}
	return pos, nil
}

// parseInterspersed parses flags that may stand before, between or after
// positional arguments; "--" ends the flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if consumed := args[:len(args)-len(rest)]; len(consumed) > 0 && consumed[len(consumed)-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// envName is the environment twin of a flag: --update-mechanism is
// FIRMWARD_UPDATE_MECHANISM.
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// applyEnv sets every flag of fs whose environment twin is set. Flags on
// the command line are parsed afterwards and win. One-letter aliases (-o)
// have no twin of their own: their long name's twin covers them.
func applyEnv(fs *flag.FlagSet, getenv func(string) string) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if len(f.Name) == 1 || err != nil {
			return
		}
		name := envName(f.Name)
		v := getenv(name)
		if v == "" {
			return
		}
		if e := fs.Set(f.Name, v); e != nil {
			err = fmt.Errorf("environment variable %s=%q: %w", name, v, e)
			return
		}
		if l, ok := f.Value.(*listFlag); ok {
			l.fromEnv = true
		}
	})
	return err
}

// listFlag is a repeatable flag; each value may also hold several items
// separated by commas. "--tag=" sets the list to empty. Values from the
// environment are replaced, not extended, by values on the command line.
type listFlag struct {
	values  []string
	fromEnv bool
}

func (l *listFlag) String() string { return strings.Join(l.values, ",") }

func (l *listFlag) Set(s string) error {
	if l.fromEnv {
		l.values, l.fromEnv = nil, false
	}
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			l.values = append(l.values, v)
		}
	}
	if l.values == nil {
		l.values = []string{}
	}
	return nil
}

// usageError is a mistake on the command line: exit status 2.
type usageError struct {
	cmd string // the command, "" for firmward itself
	msg string
}

func (e usageError) Error() string { return e.msg }

// errHelpShown ends a run after -h printed the usage: exit status 0.
var errHelpShown = errors.New("help shown")

// exitError ends a run with a status after the command printed why.
type exitError struct{ code int }

func (e exitError) Error() string { return "exit status " + strconv.Itoa(e.code) }

// exit prints err the way its kind needs and returns the exit status.
func (a *app) exit(err error) int {
	var ue usageError
	var ee exitError
	switch {
	case err == nil, errors.Is(err, errHelpShown):
		return exitOK
	case errors.As(err, &ue):
		prog := strings.TrimSpace("firmward " + ue.cmd)
		a.eprintf("%s: %s\nRun '%s -h' for usage.\n", prog, ue.msg, prog)
		return exitUsage
	case errors.As(err, &ee):
		return ee.code
	}
	if a.json {
		// The error in the API's shape for the program reading stdout, and
		// one line for a person watching.
		_ = writeJSON(a.stdout, map[string]any{"error": map[string]any{
			"code":    firmward.ErrorCode(err),
			"message": errorText(err),
			"details": firmward.ErrorDetails(err),
		}})
		a.eprintf("firmward: %s\n", errorText(err))
		return exitFailure
	}
	a.printError(err)
	return exitFailure
}

// errorText is the message of err for a person: the *firmward.Error's own
// message (its details are printed as a table), or the whole text.
func errorText(err error) string {
	var e *firmward.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

// printError prints err, what to do about it, and its details as a table.
func (a *app) printError(err error) {
	a.eprintf("firmward: %s\n", errorText(err))
	switch firmward.ErrorCode(err) {
	case firmward.EUNAUTHORIZED:
		a.eprintf("The server refused the token. Pass a valid one with --token or FIRMWARD_TOKEN; the first admin token is in %s.\n",
			filepath.Join(defaultDataDir, tokenFileName))
	case firmward.EFORBIDDEN:
		a.eprintf("This token's role does not allow that. Ask an admin for a token with a stronger role (firmward token create --role operator).\n")
	}
	if details := firmward.ErrorDetails(err); len(details) > 0 {
		a.eprintf("\n")
		printDetails(a.stderr, details)
	}
	var he hintError
	if errors.As(err, &he) {
		a.eprintf("\n%s\n", he.hint)
	}
}

// printDetails prints error details as a table: LINE and COLUMN for an
// import, FIELD for a form.
func printDetails(w io.Writer, details []firmward.ErrorDetail) {
	lines := slices.ContainsFunc(details, func(d firmward.ErrorDetail) bool { return d.Line > 0 })
	t := newTable(w)
	if lines {
		t.row("LINE", "COLUMN", "VALUE", "REASON")
	} else {
		t.row("FIELD", "VALUE", "REASON")
	}
	for _, d := range details {
		if lines {
			line := ""
			if d.Line > 0 {
				line = strconv.Itoa(d.Line)
			}
			t.row(line, d.Field, quoteValue(d.Value), d.Reason)
		} else {
			t.row(d.Field, quoteValue(d.Value), d.Reason)
		}
	}
	t.flush()
}

func quoteValue(v string) string {
	if v == "" {
		return ""
	}
	return strconv.Quote(v)
}

// client returns an API client for --server with --token, or with the token
// saved by `firmward serve` when no token is given.
func (a *app) client() (*httpapi.Client, error) {
	server := strings.TrimRight(a.server, "/")
	if !strings.Contains(server, "://") {
		server = "http://" + server
	}
	tok := strings.TrimSpace(a.token)
	if tok == "" {
		var err error
		if tok, err = a.savedToken(); err != nil {
			return nil, err
		}
	}
	a.server = server
	return httpapi.NewClient(server, tok), nil
}

// savedToken reads the admin token `firmward serve` saved: in
// $FIRMWARD_DATA, else ./firmward-data.
func (a *app) savedToken() (string, error) {
	dir := a.getenv(envName("data"))
	if dir == "" {
		dir = defaultDataDir
	}
	path := filepath.Join(dir, tokenFileName)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", firmward.Errorf(firmward.EUNAUTHORIZED,
			"no API token: %s does not exist; run `firmward serve` first (it saves an admin token there), or pass --token or set FIRMWARD_TOKEN", path)
	}
	if err != nil {
		return "", fmt.Errorf("reading the API token: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", firmward.Errorf(firmward.EUNAUTHORIZED, "no API token: %s is empty; pass --token or set FIRMWARD_TOKEN", path)
	}
	return tok, nil
}

// parseID reads a positional ID argument.
func parseID(cmd, s, what string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, usageError{cmd: cmd, msg: fmt.Sprintf("%q is not a %s ID: IDs are whole numbers such as 12", s, what)}
	}
	return id, nil
}

func runHelp(_ context.Context, a *app, args []string) error {
	if len(args) == 0 {
		a.usage(a.stdout)
		return nil
	}
	name := strings.Join(args, " ")
	if c, ok := findCommand(name); ok {
		if c.name == "help" || c.name == "version" {
			a.printf("Usage: firmward %s %s\n\n%s.\n", c.name, c.args, c.summary)
			return nil
		}
		// Running the command with -h prints its usage with its flags.
		return c.run(context.Background(), a, []string{"-h"})
	}
	if g := groupCommands(name); len(g) > 0 {
		a.groupUsage(a.stdout, name, g)
		return nil
	}
	return usageError{cmd: "help", msg: fmt.Sprintf("unknown command %q; commands are: %s", name, strings.Join(commandWords(), ", "))}
}

func runVersion(_ context.Context, a *app, args []string) error {
	fs := newFlags("version")
	if _, err := a.parse(fs, "version", args, false, 0, 0); err != nil {
		return err
	}
	a.printf("firmward %s\n", version())
	return nil
}

// version describes the build: the module version, else the VCS revision.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := bi.Main.Version
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "+dirty"
			}
		}
	}
	if (v == "" || v == "(devel)") && rev != "" {
		v = "devel " + rev[:min(12, len(rev))] + modified
	}
	if v == "" {
		v = "(devel)"
	}
	return v + " " + bi.GoVersion
}

// printf writes command output to stdout, eprintf messages to stderr.
// Write errors are ignored on purpose: when the terminal or pipe is gone,
// there is nobody left to tell.
func (a *app) printf(format string, args ...any)  { _, _ = fmt.Fprintf(a.stdout, format, args...) }
func (a *app) eprintf(format string, args ...any) { _, _ = fmt.Fprintf(a.stderr, format, args...) }

// usage prints the overview of every command.
func (a *app) usage(w io.Writer) {
	var b strings.Builder
	b.WriteString(`firmward keeps connected devices patched: inventory, vulnerabilities, rollouts.

Usage:
  firmward serve [--addr 127.0.0.1:8080] [--data ./firmward-data] [--db URL]
  firmward [client flags] COMMAND [arguments] [flags]
`)
	for _, g := range commandGroups {
		fmt.Fprintf(&b, "\n%s:\n", g.title)
		for _, name := range g.names {
			c, _ := findCommand(name)
			fmt.Fprintf(&b, "  %-17s %s\n", c.name, c.summary)
		}
	}
	b.WriteString(`
Client flags (for every command that talks to a server):
  --server URL    the server (default ` + defaultServer + `)
  --token TOKEN   API token (default: FIRMWARD_TOKEN, then ./firmward-data/admin-token)
  --json          print JSON instead of tables

Every flag has an environment twin: --update-mechanism is FIRMWARD_UPDATE_MECHANISM,
--server is FIRMWARD_SERVER. A flag on the command line wins over its twin.

Run 'firmward COMMAND -h' for the flags of a command.
Exit status: 0 success, 1 failure, 2 usage error.
`)
	_, _ = io.WriteString(w, b.String())
}

func (a *app) groupUsage(w io.Writer, group string, cmds []command) {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: firmward %s SUBCOMMAND [arguments] [flags]\n\nSubcommands:\n", group)
	t := newTable(&b)
	for _, c := range cmds {
		t.row("  "+c.name, c.summary)
	}
	t.flush()
	fmt.Fprintf(&b, "\nRun 'firmward %s SUBCOMMAND -h' for its flags.\n", group)
	_, _ = io.WriteString(w, b.String())
}

// commandUsage prints the usage of one command with its flags.
func (a *app) commandUsage(w io.Writer, name string, fs *flag.FlagSet) {
	var b strings.Builder
	c, _ := findCommand(name)
	fmt.Fprintf(&b, "Usage: firmward %s %s\n\n", c.name, c.args)
	if c.help != "" {
		fmt.Fprintf(&b, "%s\n\n", c.help)
	}
	b.WriteString("Flags:\n")
	fs.VisitAll(func(f *flag.Flag) {
		typ, usage := flag.UnquoteUsage(f)
		dash := "--"
		if len(f.Name) == 1 {
			dash = "-"
		}
		line := "  " + dash + f.Name
		if typ != "" {
			line += " " + typ
		}
		b.WriteString(line + "\n")
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.Name != "token" {
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		if len(f.Name) > 1 {
			usage += " [$" + envName(f.Name) + "]"
		}
		fmt.Fprintf(&b, "      %s\n", usage)
	})
	_, _ = io.WriteString(w, b.String())
}
