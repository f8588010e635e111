package httpapi

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firmward/firmward"
)

// sharedData returns a file of the shared real data, or skips.
func sharedData(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "shared", "data", rel))
	if err != nil {
		t.Skipf("real data %s absent: %v", rel, err)
	}
	return b
}

func TestFeedImport(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := NewClient(e.ts.URL, e.secret[firmward.RoleOperator])
	kev := sharedData(t, "kev/known_exploited_vulnerabilities.json")
	nvd := sharedData(t, "nvd/api-2.0/fkie-transcribed/CVE-2023-1389.json")

	res, err := c.ImportFeed(ctx, "kev.json", bytes.NewReader(kev))
	if err != nil {
		t.Fatal(err)
	}
	if res.Format != "kev" || res.Records != 1404 || res.Added != 1404 || res.Name != "kev.json" {
		t.Errorf("first KEV import: %+v", res)
	}
	again, err := c.ImportFeed(ctx, "kev.json", bytes.NewReader(kev))
	if err != nil {
		t.Fatal(err)
	}
	if again.Unchanged != 1404 || again.Added+again.Updated != 0 || len(again.ChangedCVEs) != 0 {
		t.Errorf("importing the same file twice changed something: %+v", again)
	}
	if _, err := c.ImportFeed(ctx, "CVE-2023-1389.json", bytes.NewReader(nvd)); err != nil {
		t.Fatal(err)
	}

	v, err := c.GetVulnerability(ctx, "cve-2023-1389")
	if err != nil {
		t.Fatal(err)
	}
	if v.KEV == nil || len(v.Configurations) == 0 || !strings.Contains(strings.Join(v.Sources, ","), firmward.SourceNVD) {
		t.Errorf("CVE-2023-1389 should merge NVD configurations and its KEV entry: %+v", v)
	}
	list, err := c.ListVulnerabilities(ctx, true, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Vulnerabilities) != 10 || list.NextCursor == "" {
		t.Errorf("KEV page: %d records, cursor %q", len(list.Vulnerabilities), list.NextCursor)
	}
	next, err := c.ListVulnerabilities(ctx, true, list.NextCursor, 10)
	if err != nil || len(next.Vulnerabilities) == 0 || next.Vulnerabilities[0].ID <= list.Vulnerabilities[9].ID {
		t.Errorf("second page does not follow the first: %v %+v", err, next)
	}

	// Viewers read, but may not import.
	viewer := NewClient(e.ts.URL, e.secret[firmward.RoleViewer])
	if _, err := viewer.ImportFeed(ctx, "kev.json", bytes.NewReader(kev)); firmward.ErrorCode(err) != firmward.EFORBIDDEN {
		t.Errorf("viewer import: %v, want forbidden", err)
	}
	if _, err := viewer.GetVulnerability(ctx, "CVE-1999-0001"); firmward.ErrorCode(err) != firmward.ENOTFOUND {
		t.Errorf("unknown CVE: %v, want not_found", err)
	}
	if _, err := viewer.GetVulnerability(ctx, "not-a-cve"); firmward.ErrorCode(err) != firmward.EINVALID {
		t.Errorf("bad id: %v, want invalid", err)
	}
}

func TestFeedImportBadFilesKeepNothing(t *testing.T) {
	t.Parallel()
	page := sharedData(t, "nvd/api-2.0/vunnel/full-page.json")
	tests := []struct {
		name    string
		body    []byte
		maxFeed int64
		code    string
		says    string
	}{
		{"unknown format", []byte(`{"hello":"world"}`), 0, firmward.EINVALID, "accepted"},
		{"truncated", page[:len(page)/2], 0, firmward.EINVALID, "truncated.json"},
		{"bad CVE id in record 2", bytes.Replace(page, []byte(`"CVE-`), []byte(`"XVE-`), 2), 0, firmward.EINVALID, "record"},
		{"too large", page, 1024, firmward.ETOOLARGE, "1 KiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{maxFeed: tt.maxFeed})
			c := NewClient(e.ts.URL, e.secret[firmward.RoleOperator])
			ctx := context.Background()
			_, err := c.ImportFeed(ctx, "truncated.json", bytes.NewReader(tt.body))
			if firmward.ErrorCode(err) != tt.code || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("err = %v, want %s saying %q", err, tt.code, tt.says)
			}
			list, err := c.ListVulnerabilities(ctx, false, "", 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(list.Vulnerabilities) != 0 {
				t.Errorf("a refused file left %d records behind", len(list.Vulnerabilities))
			}
		})
	}
}
