package feeds

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	firmward "github.com/firmward/firmward"
)

// importFile opens and stages one file, as a server does with an upload.
func importFile(ctx context.Context, r io.Reader, imp firmward.FeedImport) (Format, error) {
	format, rd, err := Open(r)
	if err != nil {
		return "", err
	}
	return format, Stage(ctx, format, rd, imp)
}

// stager records what Stage stages; committing is the store's business and
// is tested there.
type stager struct {
	vulns   map[string]int // source → records
	kev     int
	epss    int
	failAt  int // fail the n-th put (1-based); 0 never
	puts    int
	lastCVE string
}

var _ firmward.FeedImport = (*stager)(nil)

func (s *stager) put(cve string) error {
	s.puts++
	s.lastCVE = cve
	if s.failAt > 0 && s.puts == s.failAt {
		return errors.New("store full")
	}
	return nil
}

func (s *stager) PutVulnerability(_ context.Context, source string, v *firmward.Vulnerability) error {
	if s.vulns == nil {
		s.vulns = map[string]int{}
	}
	s.vulns[source]++
	return s.put(v.ID)
}

func (s *stager) PutKEV(_ context.Context, e *firmward.KEVEntry) error {
	s.kev++
	return s.put(e.CVE)
}

func (s *stager) PutEPSS(_ context.Context, e firmward.EPSSScore) error {
	s.epss++
	return s.put(e.CVE)
}

func (s *stager) Commit(context.Context) (*firmward.FeedImportResult, error) { return nil, nil }
func (s *stager) Rollback() error                                            { return nil }

func TestImportStagesEveryRecordUnderItsSource(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file   string
		format Format
		check  func(t *testing.T, s *stager)
	}{
		{"kev/known_exploited_vulnerabilities.json", FormatKEV, func(t *testing.T, s *stager) {
			if s.kev != 1404 {
				t.Errorf("staged %d KEV entries, want 1404", s.kev)
			}
		}},
		{"epss/epss_scores-2026-08-16.csv.gz", FormatEPSS, func(t *testing.T, s *stager) {
			if s.epss != 360142 {
				t.Errorf("staged %d EPSS scores, want 360142", s.epss)
			}
		}},
		{"nvd/api-2.0/vunnel/full-page.json", FormatNVD20, func(t *testing.T, s *stager) {
			if s.vulns[firmward.SourceNVD] != 38 || len(s.vulns) != 1 {
				t.Errorf("staged %v, want 38 under %q", s.vulns, firmward.SourceNVD)
			}
		}},
		{"nvd/feeds-1.1/nvdcve-1.1-2002.json.gz", FormatNVD11, func(t *testing.T, s *stager) {
			if s.vulns[firmward.SourceNVD] == 0 || len(s.vulns) != 1 {
				t.Errorf("staged %v, want all under %q", s.vulns, firmward.SourceNVD)
			}
		}},
		{"csaf/cisa-ot-2023-2024/icsa-23-005-01.json", FormatCSAF, func(t *testing.T, s *stager) {
			for src := range s.vulns {
				if !strings.HasPrefix(src, "csaf:") {
					t.Errorf("CSAF record staged under %q", src)
				}
			}
			if len(s.vulns) != 1 {
				t.Errorf("staged %v, want one csaf:ID source", s.vulns)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(string(tt.format), func(t *testing.T) {
			t.Parallel()
			f, err := os.Open(dataFile(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = f.Close() }()
			var s stager
			format, err := importFile(context.Background(), f, &s)
			if err != nil {
				t.Fatal(err)
			}
			if format != tt.format {
				t.Errorf("format %q, want %q", format, tt.format)
			}
			tt.check(t, &s)
		})
	}
}

func TestImportStops(t *testing.T) {
	t.Parallel()
	path := dataFile(t, "kev/known_exploited_vulnerabilities.json")
	t.Run("store error", func(t *testing.T) {
		t.Parallel()
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = f.Close() }()
		s := stager{failAt: 10}
		if _, err := importFile(context.Background(), f, &s); err == nil || s.puts != 10 {
			t.Fatalf("err = %v after %d puts, want the store's error at put 10", err, s.puts)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		t.Parallel()
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = f.Close() }()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var s stager
		if _, err := importFile(ctx, f, &s); !errors.Is(err, context.Canceled) || s.puts != 0 {
			t.Fatalf("err = %v after %d puts, want context.Canceled before any put", err, s.puts)
		}
	})
	t.Run("unknown format", func(t *testing.T) {
		t.Parallel()
		var s stager
		_, err := importFile(context.Background(), strings.NewReader(`{"hello":"world"}`), &s)
		if firmward.ErrorCode(err) != firmward.EINVALID || !strings.Contains(err.Error(), "accepted") {
			t.Fatalf("err = %v, want EINVALID listing the accepted formats", err)
		}
	})
}
