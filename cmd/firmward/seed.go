package main

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"strings"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/inventory"
	"github.com/firmward/firmward/seed"
)

// Seed limits: devices per import request, and the largest sample.
const (
	seedBatch    = 5000
	maxSeedCount = 100_000
)

func runSeedHome(ctx context.Context, a *app, args []string) error {
	const name = "seed home"
	var dryRun bool
	fs := newFlags(name)
	fs.BoolVar(&dryRun, "dry-run", false, "check the sample against the server and store nothing")
	if _, err := a.parse(fs, name, args, true, 0, 0); err != nil {
		return err
	}
	return a.seed(ctx, seed.Home(), "a sample home", seed.HomeSite, dryRun)
}

func runSeedEnterprise(ctx context.Context, a *app, args []string) error {
	const name = "seed enterprise"
	var count int
	var site string
	var dryRun bool
	fs := newFlags(name)
	fs.IntVar(&count, "count", seed.DefaultEnterpriseCount, fmt.Sprintf("how many devices, 1 to %d", maxSeedCount))
	fs.StringVar(&site, "site", seed.DefaultEnterpriseSite, "site `name`; each site gets different devices")
	fs.BoolVar(&dryRun, "dry-run", false, "check the sample against the server and store nothing")
	if _, err := a.parse(fs, name, args, true, 0, 0); err != nil {
		return err
	}
	if count < 1 || count > maxSeedCount {
		return usageError{cmd: name, msg: fmt.Sprintf("--count %d: use 1 to %d", count, maxSeedCount)}
	}
	// The site names the random sequence: the same site always gives the
	// same devices, and two sites get different MAC addresses.
	h := fnv.New64a()
	_, _ = io.WriteString(h, site)
	rnd := rand.New(rand.NewPCG(h.Sum64(), 0x5eed)) // #nosec G404 -- sample data, not a secret
	return a.seed(ctx, seed.Enterprise(count, site, rnd), "a sample hospital campus", site, dryRun)
}

// seed imports devices through the API in batches, with one progress bar
// over all of them, and says what to look at next.
func (a *app) seed(ctx context.Context, devices []firmward.Device, what, site string, dryRun bool) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	var batches [][]byte
	var total int64
	for start := 0; start < len(devices); start += seedBatch {
		var buf bytes.Buffer
		w := inventory.NewJSONWriter(&buf)
		for i := start; i < min(start+seedBatch, len(devices)); i++ {
			if err := w.Write(&devices[i]); err != nil {
				return err
			}
		}
		if err := w.Close(); err != nil {
			return err
		}
		batches = append(batches, buf.Bytes())
		total += int64(buf.Len())
	}
	bar := a.newProgress(fmt.Sprintf("seeding %d devices", len(devices)), total)
	sum := firmward.ImportResult{DryRun: dryRun}
	for _, b := range batches {
		res, err := c.ImportDevices(ctx, "json", bar.reader(bytes.NewReader(b)), dryRun)
		if err != nil {
			bar.finish()
			if sum.Created > 0 {
				err = withHint(err, fmt.Sprintf("%d devices were imported before this batch failed.", sum.Created))
			} else if macsTaken(err) {
				err = withHint(err, "The sample seems to be loaded already: its MAC addresses are taken. Delete those devices, or seed another --site.")
			}
			return err
		}
		sum.Created += res.Created
		sum.IDs = append(sum.IDs, res.IDs...)
	}
	bar.finish()
	if a.json {
		return writeJSON(a.stdout, sum)
	}
	if dryRun {
		a.printf("dry run: the %d devices of %s are valid; nothing was stored\n", sum.Created, what)
		return nil
	}
	a.printf("created %d devices of %s (site %q)\n\n", sum.Created, what, site)
	a.printf("Next:\n")
	t := newTable(a.stdout)
	t.row("  "+a.server+"/", "the dashboard (sign in with your API token)")
	t.row("  firmward device list --site '"+site+"'", "the devices")
	t.row("  firmward device list --missing firmware_version", "devices whose firmware nobody knows")
	t.row("  firmward device list --exposure internet-facing", "what attackers can reach")
	t.flush()
	return nil
}

// macsTaken reports whether err refuses devices because their MAC addresses
// belong to stored devices.
func macsTaken(err error) bool {
	if firmward.ErrorCode(err) == firmward.ECONFLICT {
		return true
	}
	for _, d := range firmward.ErrorDetails(err) {
		if strings.Contains(d.Reason, "already used") {
			return true
		}
	}
	return false
}
