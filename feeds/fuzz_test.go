package feeds

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"

	firmward "github.com/firmward/firmward"
)

var errFuzzStop = errors.New("fuzz callback stop")

// fuzzParser checks that parse never panics and that its errors are a
// *firmward.Error or the callback's own error, wrapped.
func fuzzParser(f *testing.F, seedFile string, seeds []string, parse func(io.Reader, func() error) error) {
	if b, err := os.ReadFile(seedFile); err == nil {
		f.Add(b)
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		n := 0
		err := parse(bytes.NewReader(in), func() error {
			n++
			if n == 3 {
				return errFuzzStop
			}
			return nil
		})
		var fe *firmward.Error
		if err != nil && !errors.As(err, &fe) && !errors.Is(err, errFuzzStop) {
			t.Fatalf("error is neither *firmward.Error nor the callback's: %T %v", err, err)
		}
	})
}

func FuzzParseNVD11(f *testing.F) {
	fuzzParser(f, "testdata/nvd11.input.json", []string{`{"CVE_Items":[{}]}`, `{"CVE_Items":null}`}, func(r io.Reader, cb func() error) error {
		return ParseNVD11(r, func(*firmward.Vulnerability) error { return cb() })
	})
}

func FuzzParseNVD20(f *testing.F) {
	fuzzParser(f, "testdata/nvd20.input.json.gz", []string{`{"vulnerabilities":[{"cve":{}}]}`, `{"id":"CVE-2023-1389"}`}, func(r io.Reader, cb func() error) error {
		return ParseNVD20(r, func(*firmward.Vulnerability) error { return cb() })
	})
}

func FuzzParseKEV(f *testing.F) {
	fuzzParser(f, "testdata/kev.input.json", []string{`{"vulnerabilities":[{"cveID":"CVE-2023-1389","dateAdded":"2023-05-01"}]}`}, func(r io.Reader, cb func() error) error {
		return ParseKEV(r, func(*firmward.KEVEntry) error { return cb() })
	})
}

func FuzzParseEPSS(f *testing.F) {
	fuzzParser(f, "testdata/epss.input.csv", []string{"cve,epss,percentile\nCVE-2023-1389,0.5,0.5\n"}, func(r io.Reader, cb func() error) error {
		return ParseEPSS(r, func(firmward.EPSSScore) error { return cb() })
	})
}

func FuzzParseCVE5(f *testing.F) {
	fuzzParser(f, "testdata/cve5.input.json", []string{`{"cveMetadata":{"cveId":"CVE-2023-1389"}}`}, func(r io.Reader, cb func() error) error {
		return ParseCVE5(r, func(*firmward.Vulnerability) error { return cb() })
	})
}

func FuzzParseCSAF(f *testing.F) {
	fuzzParser(f, "testdata/csaf.input.json", []string{`{"document":{"csaf_version":"2.0","tracking":{"id":"X","initial_release_date":"2023-01-01","current_release_date":"2023-01-01"}},"vulnerabilities":[{"cve":"CVE-2023-1389"}]}`}, func(r io.Reader, cb func() error) error {
		return ParseCSAF(r, func(*firmward.Vulnerability) error { return cb() })
	})
}
