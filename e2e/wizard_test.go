package e2e

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestWizard walks the first-run wizard and the home "do this now" list in
// Chromium (e2e/browser/wizard.mjs): a fresh `firmward serve`, the wizard
// (home, three catalog devices and two typed, a webhook channel), then
// `firmward feeds import` of CVE-2023-1389 from the NVD and the KEV
// catalog (excerpts in testdata/) and `firmward eol set` for the typed
// camera, after which the dashboard's first item must be to update the
// router, with the fixed version, and the end-of-life camera must follow
// the auto-update and guest Wi-Fi items. Screenshots go to
// the test's temporary directory, or to $WIZARD_SCREENSHOTS when set, and
// each must be a non-empty PNG.
func TestWizard(t *testing.T) {
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("browser test skipped in -short mode")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	_, err = os.Stat(chromium)
	need(t, err == nil, "no Chromium at "+chromium+" (apt-get install chromium, or set CHROMIUM)")
	node, err := exec.LookPath("node")
	need(t, err == nil, "node is not installed (apt-get install nodejs npm)")
	_, err = os.Stat(filepath.Join(root, "e2e", "browser", "node_modules", "playwright-core", "package.json"))
	need(t, err == nil, "playwright-core is not installed: run (cd e2e/browser && npm ci)")
	goTool, err := exec.LookPath("go")
	need(t, err == nil, "the go tool is not in PATH")

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "firmward")
	build := exec.CommandContext(ctx, goTool, "build", "-o", bin, "./cmd/firmward")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/firmward: %v\n%s", err, out)
	}
	base, token := startServer(t, ctx, bin, filepath.Join(tmp, "data"))

	outDir := os.Getenv("WIZARD_SCREENSHOTS")
	if outDir == "" {
		outDir = filepath.Join(tmp, "screenshots")
	}
	profile := filepath.Join(tmp, "profile")
	runPhase := func(phase string) {
		t.Helper()
		script := exec.CommandContext(ctx, node, filepath.Join("e2e", "browser", "wizard.mjs"))
		script.Dir = root
		script.Env = append(cleanEnv(), "BASE_URL="+base, "TOKEN="+token, "OUT_DIR="+outDir, "CHROMIUM="+chromium,
			"PROFILE="+profile, "PHASE="+phase, "HOOK_URL=http://127.0.0.1:9/firmward-hook")
		out, err := script.CombinedOutput()
		t.Logf("wizard.mjs %s:\n%s", phase, out)
		if err != nil {
			t.Fatalf("browser phase %s failed (%v); screenshots in %s", phase, err, outDir)
		}
	}

	runPhase("wizard")

	imp := exec.CommandContext(ctx, bin, "feeds", "import", "--server", base, "--token", token,
		filepath.Join("testdata", "nvd-CVE-2023-1389.json"), filepath.Join("testdata", "kev-CVE-2023-1389.json"))
	imp.Env = cleanEnv()
	if out, err := imp.CombinedOutput(); err != nil {
		t.Fatalf("firmward feeds import: %v\n%s", err, out)
	} else {
		t.Logf("feeds import:\n%s", out)
	}

	// An end-of-support date (test data, not a vendor statement) makes the
	// typed D-Link camera an orphan.
	eol := exec.CommandContext(ctx, bin, "eol", "set", "--server", base, "--token", token,
		"--manufacturer", "D-Link", "--model", "DCS-930L", "--end-of-support", "2020-01-01", "--source", "e2e test data")
	eol.Env = cleanEnv()
	if out, err := eol.CombinedOutput(); err != nil {
		t.Fatalf("firmward eol set: %v\n%s", err, out)
	}

	runPhase("home")

	for _, name := range []string{
		"wizard-01-offer", "wizard-02-mode", "wizard-03-catalog", "wizard-04-devices", "wizard-05-channel-refused",
		"wizard-06-home-before-feeds", "wizard-07-home-do-this-now", "wizard-08-router",
	} {
		checkPNG(t, filepath.Join(outDir, name+".png"))
	}
}

// checkPNG fails unless path is a decodable PNG of a plausible page size.
func checkPNG(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("screenshot: %v", err)
		return
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		t.Errorf("screenshot %s is not a PNG: %v", path, err)
		return
	}
	if cfg.Width < 800 || cfg.Height < 400 {
		t.Errorf("screenshot %s is %dx%d, smaller than a page", path, cfg.Width, cfg.Height)
	}
}
