package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/tufrepo"
)

// The `firmward keys …` commands manage the TUF repository that signs
// releases (docs/SIGNING.md). They work on the files of the repository
// directly, not through the server, so they run on the server's machine
// (the root key can stay on a USB stick that is plugged in for sign-root).

// keysRootWarning is how long before the root expires `keys show` warns.
const keysRootWarning = 30 * 24 * time.Hour

func keysInitCommand() command {
	return command{
		name: "keys init", args: "--root-key-out PATH [--dir DIR] [--timestamp-expiry 24h]",
		summary: "create the TUF repository and its signing keys",
		help: "Create the TUF repository that signs releases: four ed25519 keys, version 1 of the root, targets,\n" +
			"snapshot and timestamp metadata. The root key is written to --root-key-out (mode 0600): move it\n" +
			"offline (a USB stick in a safe); only `firmward keys sign-root` needs it. The online keys (targets,\n" +
			"snapshot, timestamp) go to DIR/keys, the metadata to DIR/metadata, which the server publishes.\n" +
			"DIR defaults to FIRMWARD_DATA/tuf (./firmward-data/tuf).",
		run: runKeysInit,
	}
}

func keysShowCommand() command {
	return command{
		name: "keys show", args: "[--dir DIR] [--json]",
		summary: "show the signing keys, metadata versions and expiries",
		help: "Show each TUF role: its key id, metadata version, expiry, and whether the server holds its key.\n" +
			"Warns when the root expires within 30 days or metadata has expired.",
		run: runKeysShow,
	}
}

func keysSignRootCommand() command {
	return command{
		name: "keys sign-root", args: "--root-key PATH [--new-root-key-out PATH] [--rotate ROLE,...] [--dir DIR]",
		summary: "sign a new root version: extend its expiry, rotate keys",
		help: "Sign a new version of root.json with the offline root key: it renews the root's expiry (a year),\n" +
			"and with --rotate replaces the online keys of the roles named (targets, snapshot, timestamp), with\n" +
			"--new-root-key-out replaces the root key itself (the new key is written there). The new root is\n" +
			"signed by the old and the new root key, so devices follow the change. Run it at least once a year.",
		run: runKeysSignRoot,
	}
}

func keysRefreshCommand() command {
	return command{
		name: "keys refresh", args: "[--dir DIR] [--timestamp-expiry 24h]",
		summary: "re-sign the timestamp (and whatever else is close to expiring)",
		help: "Re-sign timestamp.json now with a new version and expiry, and any other online metadata that has\n" +
			"less than half of its lifetime left. The server does this by itself while it runs; use this when it\n" +
			"has been down longer than the timestamp expiry, or from cron.",
		run: runKeysRefresh,
	}
}

// keysFlags registers the flags every keys command has: --dir and --json.
func (a *app) keysFlags(fs *flag.FlagSet) *string {
	dir := fs.String("dir", "", "TUF repository `directory` (default: FIRMWARD_DATA/tuf, else ./firmward-data/tuf)")
	fs.BoolVar(&a.json, "json", a.json, "print JSON instead of text")
	return dir
}

// keysDir is --dir, else DATA/tuf.
func (a *app) keysDir(dir string) string {
	if dir != "" {
		return dir
	}
	data := a.getenv(envName("data"))
	if data == "" {
		data = defaultDataDir
	}
	return filepath.Join(data, "tuf")
}

func timestampExpiryFlag(fs *flag.FlagSet) *time.Duration {
	return fs.Duration("timestamp-expiry", tufrepo.DefaultTimestampExpiry, "how long a signed timestamp is valid (`duration`, at least 1m)")
}

// openRepo opens the repository in dir and explains what to do when there
// is none.
func openRepo(ctx context.Context, dir string, tsExpiry time.Duration) (*tufrepo.Repo, error) {
	r, err := tufrepo.Open(ctx, tufrepo.Config{Dir: dir, TimestampExpiry: tsExpiry})
	if firmward.ErrorCode(err) == firmward.ENOTFOUND {
		return nil, withHint(firmward.Errorf(firmward.ENOTFOUND, "no TUF repository in %s", dir),
			"Create one with: firmward keys init --root-key-out /path/to/usb/root.key --dir "+dir)
	}
	return r, err
}

func runKeysInit(ctx context.Context, a *app, args []string) error {
	const name = "keys init"
	fs := newFlags(name)
	dir := a.keysFlags(fs)
	rootOut := fs.String("root-key-out", "", "`file` to write the root key to (it must not exist); move it offline afterwards")
	tsExpiry := timestampExpiryFlag(fs)
	if _, err := a.parse(fs, name, args, false, 0, 0); err != nil {
		return err
	}
	if *rootOut == "" {
		return usageError{cmd: name, msg: "--root-key-out is required: say where to write the root key, which you will then take offline"}
	}
	d := a.keysDir(*dir)
	_, res, err := tufrepo.Init(ctx, tufrepo.Config{Dir: d, TimestampExpiry: *tsExpiry}, *rootOut)
	if err != nil {
		if firmward.ErrorCode(err) == firmward.ECONFLICT && !strings.Contains(err.Error(), *rootOut) {
			return withHint(err, "Show it with: firmward keys show --dir "+d)
		}
		return err
	}
	if a.json {
		return writeJSON(a.stdout, res)
	}
	a.printf("Created the TUF repository in %s.\n\n", d)
	printRoles(a, res.Status)
	rootExp := res.Role(tufrepo.RoleRoot).Expires
	a.printf("\nThe ROOT KEY is in %s (key %s).\n", res.RootKeyPath, shortID(res.RootKeyID))
	a.printf("Move it offline now: copy it to two USB sticks kept apart, then delete it from this machine:\n")
	a.printf("  cp %s /media/usb/firmward-root.key && shred -u %s\n", res.RootKeyPath, res.RootKeyPath)
	a.printf("The server needs only %s (online keys) and publishes %s.\n",
		filepath.Join(d, "keys"), filepath.Join(d, "metadata"))
	a.printf("Devices are enrolled with %s.\n", filepath.Join(d, "metadata", "root.json"))
	a.printf("Plug the root key in for `firmward keys sign-root --root-key PATH` before the root expires on %s.\n",
		rootExp.Format("2006-01-02"))
	return nil
}

func runKeysShow(ctx context.Context, a *app, args []string) error {
	const name = "keys show"
	fs := newFlags(name)
	dir := a.keysFlags(fs)
	if _, err := a.parse(fs, name, args, false, 0, 0); err != nil {
		return err
	}
	d := a.keysDir(*dir)
	r, err := openRepo(ctx, d, 0)
	if err != nil {
		return err
	}
	st, err := r.Status(ctx)
	if err != nil {
		return err
	}
	if a.json {
		return writeJSON(a.stdout, st)
	}
	a.printf("TUF repository %s: %d signed targets, consistent snapshots %s.\n\n", st.Dir, st.Targets, yesNo(st.ConsistentSnapshot))
	printRoles(a, st)
	for _, w := range keysWarnings(st, time.Now()) {
		a.printf("\n%s", w)
	}
	return nil
}

// keysWarnings says what needs doing, each line ending in a newline.
func keysWarnings(st tufrepo.Status, now time.Time) []string {
	var out []string
	root := st.Role(tufrepo.RoleRoot)
	switch {
	case now.After(root.Expires):
		out = append(out, fmt.Sprintf("WARNING: the root EXPIRED on %s: devices refuse every update. Run: firmward keys sign-root --root-key PATH\n",
			root.Expires.Format("2006-01-02")))
	case root.Expires.Sub(now) < keysRootWarning:
		out = append(out, fmt.Sprintf("WARNING: the root expires on %s. Plug in the root key and run: firmward keys sign-root --root-key PATH\n",
			root.Expires.Format("2006-01-02")))
	}
	for _, role := range tufrepo.OnlineRoles() {
		rs := st.Role(role)
		if !rs.KeyPresent {
			out = append(out, fmt.Sprintf("WARNING: the %s key is missing from %s: nothing can be signed. Run: firmward keys sign-root --root-key PATH --rotate %s\n",
				role, filepath.Join(st.Dir, "keys"), role))
		}
		if now.After(rs.Expires) {
			out = append(out, fmt.Sprintf("WARNING: %s.json expired at %s: devices refuse updates until it is re-signed. Run: firmward keys refresh\n",
				role, rs.Expires.Format(time.RFC3339)))
		}
	}
	return out
}

func runKeysSignRoot(ctx context.Context, a *app, args []string) error {
	const name = "keys sign-root"
	fs := newFlags(name)
	dir := a.keysFlags(fs)
	rootKeyPath := fs.String("root-key", "", "`file` of the current (offline) root key")
	newRootOut := fs.String("new-root-key-out", "", "rotate the root key: write a new one to this `file` (it must not exist)")
	var rotate listFlag
	fs.Var(&rotate, "rotate", "online `roles` whose keys to replace: targets, snapshot, timestamp or all (repeatable or comma-separated)")
	tsExpiry := timestampExpiryFlag(fs)
	if _, err := a.parse(fs, name, args, false, 0, 0); err != nil {
		return err
	}
	if *rootKeyPath == "" {
		return usageError{cmd: name, msg: "--root-key is required: the file of the current root key (from your USB stick)"}
	}
	for _, role := range rotate.values {
		if role == "all" {
			rotate.values = tufrepo.OnlineRoles()
			break
		}
		if !isOnlineRole(role) {
			return usageError{cmd: name, msg: fmt.Sprintf("--rotate %q: online roles are targets, snapshot and timestamp (use --new-root-key-out to rotate the root key)", role)}
		}
	}
	d := a.keysDir(*dir)
	r, err := openRepo(ctx, d, *tsExpiry)
	if err != nil {
		return err
	}
	rootKey, err := tufrepo.ReadKeyFile(*rootKeyPath)
	if err != nil {
		return err
	}
	req := tufrepo.RootSigning{RootKey: rootKey, Rotate: rotate.values}
	if *newRootOut != "" {
		if req.NewRootKey, err = tufrepo.GenerateKey(); err != nil {
			return err
		}
		// The new key is saved before the root naming it is published, so
		// a failure cannot leave a root nobody holds the key of.
		if err := tufrepo.WriteNewKeyFile(*newRootOut, req.NewRootKey); err != nil {
			return err
		}
	}
	st, err := r.SignRoot(ctx, req)
	if err != nil {
		if *newRootOut != "" {
			return keepOrRemoveNewRootKey(ctx, r, req.NewRootKey, *newRootOut, err)
		}
		return err
	}
	if a.json {
		return writeJSON(a.stdout, st)
	}
	root := st.Role(tufrepo.RoleRoot)
	a.printf("Signed root version %d; it expires on %s.\n\n", root.Version, root.Expires.Format("2006-01-02"))
	printRoles(a, st)
	if len(rotate.values) > 0 {
		a.printf("\nNew online keys for %s are in %s; the old ones are no longer trusted.\n",
			strings.Join(rotate.values, ", "), filepath.Join(d, "keys"))
	}
	if *newRootOut != "" {
		a.printf("\nThe NEW ROOT KEY is in %s. Move it offline now (two USB sticks kept apart) and delete it here:\n", *newRootOut)
		a.printf("  cp %s /media/usb/firmward-root.key && shred -u %s\n", *newRootOut, *newRootOut)
		a.printf("The old root key %s signs nothing any more: destroy it.\n", *rootKeyPath)
	} else {
		a.printf("\nUnplug the root key (%s) and put it back offline.\n", *rootKeyPath)
	}
	a.printf("Devices fetch %d.root.json at their next poll and follow the change.\n", root.Version)
	return nil
}

// keepOrRemoveNewRootKey handles a failed sign-root that generated a new
// root key: the key file is deleted when no published root names it, and
// kept (with a warning) when the new root was published before the
// failure.
func keepOrRemoveNewRootKey(ctx context.Context, r *tufrepo.Repo, key ed25519.PrivateKey, path string, cause error) error {
	id, err := tufrepo.KeyID(key)
	if err != nil {
		return errors.Join(cause, err)
	}
	st, err := r.Status(ctx)
	if err == nil && slices.Contains(st.Role(tufrepo.RoleRoot).KeyIDs, id) {
		return withHint(cause, "The new root naming the new root key was published: KEEP "+path+" and move it offline.")
	}
	if rmErr := os.Remove(path); rmErr != nil {
		return errors.Join(cause, rmErr)
	}
	return cause
}

func isOnlineRole(role string) bool { return slices.Contains(tufrepo.OnlineRoles(), role) }

func runKeysRefresh(ctx context.Context, a *app, args []string) error {
	const name = "keys refresh"
	fs := newFlags(name)
	dir := a.keysFlags(fs)
	tsExpiry := timestampExpiryFlag(fs)
	if _, err := a.parse(fs, name, args, false, 0, 0); err != nil {
		return err
	}
	r, err := openRepo(ctx, a.keysDir(*dir), *tsExpiry)
	if err != nil {
		return err
	}
	resigned, err := r.Refresh(ctx, true)
	if err != nil {
		return err
	}
	st, err := r.Status(ctx)
	if err != nil {
		return err
	}
	if a.json {
		return writeJSON(a.stdout, map[string]any{"resigned": resigned, "status": st})
	}
	for _, role := range resigned {
		rs := st.Role(role)
		a.printf("Re-signed %s: version %d, expires %s.\n", role, rs.Version, rs.Expires.Format(time.RFC3339))
	}
	a.printf("The server re-signs the timestamp by itself while it runs; run this again if it is down for longer than %s.\n", *tsExpiry)
	return nil
}

// printRoles prints one line per role.
func printRoles(a *app, st tufrepo.Status) {
	t := newTable(a.stdout)
	t.row("ROLE", "KEY", "VERSION", "EXPIRES", "KEY HELD")
	for _, rs := range st.Roles {
		ids := make([]string, len(rs.KeyIDs))
		for i, id := range rs.KeyIDs {
			ids[i] = shortID(id)
		}
		held := "offline"
		if rs.Online {
			held = "server"
			if !rs.KeyPresent {
				held = "MISSING"
			}
		}
		t.row(rs.Role, strings.Join(ids, ","), strconv.FormatInt(rs.Version, 10), rs.Expires.Format(time.RFC3339), held)
	}
	t.flush()
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func yesNo(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
