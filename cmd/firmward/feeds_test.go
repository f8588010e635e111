package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firmward/firmward"
)

func TestFeedsCommands(t *testing.T) {
	t.Parallel()
	data := filepath.Join("..", "..", "..", "shared", "data")
	kev := filepath.Join(data, "kev", "known_exploited_vulnerabilities.json")
	nvd := filepath.Join(data, "nvd", "api-2.0", "fkie-transcribed", "CVE-2023-1389.json")
	for _, p := range []string{kev, nvd} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("real data absent: %v", err)
		}
	}
	s := startServer(t, t.TempDir(), nil)

	out := s.ok(t, "feeds", "import", kev, nvd)
	mustContain(t, "feeds import", out, "FILE", "known_exploited_vulnerabilities.json", "kev", "1404", "CVE-2023-1389.json", "nvd-2.0")

	var again []*firmward.FeedImportResult
	s.okJSON(t, &again, "feeds", "import", kev)
	if len(again) != 1 || again[0].Unchanged != 1404 || again[0].Added != 0 {
		t.Errorf("second import of the same file: %+v", again)
	}

	out = s.ok(t, "vulns", "show", "cve-2023-1389")
	mustContain(t, "vulns show", out, "CVE-2023-1389", "KEV", "added 2023-05-01", "Configurations")

	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"hello":"world"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	r := s.fails(t, 1, "feeds", "import", kev, bad)
	mustContain(t, "stderr", r.stderr, "bad.json", "accepted", "The 1 files before")
	r = s.fails(t, 1, "vulns", "show", "CVE-1999-0001")
	if !strings.Contains(r.stderr, "feeds import") {
		t.Errorf("a missing CVE should say how to import feeds:\n%s", r.stderr)
	}
}
