package feeds

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	firmward "github.com/firmward/firmward"
)

// Format names a feed format that DetectFormat recognises.
type Format string

// The formats of the feeds.
const (
	FormatNVD11 Format = "nvd-1.1" // NVD JSON 1.1 feed (CVE_Items)
	FormatNVD20 Format = "nvd-2.0" // NVD CVE API 2.0 response page or single cve object
	FormatKEV   Format = "kev"     // CISA Known Exploited Vulnerabilities catalog JSON
	FormatEPSS  Format = "epss"    // FIRST EPSS scores CSV
	FormatCVE5  Format = "cve5"    // CVE JSON 5.x record
	FormatCSAF  Format = "csaf"    // CSAF 2.0 advisory
)

// peekSize is how much of a file Open reads to detect its format.
const peekSize = 64 << 10

// acceptedFormats is said in the error for an unknown format.
const acceptedFormats = "accepted: NVD JSON 1.1 feed (CVE_Items), NVD CVE API 2.0 response or cve object, CISA KEV JSON, FIRST EPSS CSV (cve,epss,percentile), CVE JSON 5.x record (dataType CVE_RECORD), CSAF 2.0 advisory (document.csaf_version); plain or gzip"

// DetectFormat tells the format of a feed from its first bytes (already
// uncompressed; Open handles gzip). It looks for the keys that mark each
// format, so peek should hold the first few kilobytes. An unknown format
// gives an EINVALID error that lists the accepted ones.
func DetectFormat(peek []byte) (Format, error) {
	b := trimBOM(peek)
	if len(b) == 0 {
		return "", firmward.Errorf(firmward.EINVALID, "empty feed file; %s", acceptedFormats)
	}
	has := func(s string) bool { return bytes.Contains(b, []byte(s)) }
	if b[0] == '{' {
		switch {
		case has(`"catalogVersion"`) || has(`"cveID"`):
			return FormatKEV, nil
		case has(`"CVE_Items"`):
			return FormatNVD11, nil
		case has(`"CVE_RECORD"`) || has(`"cveMetadata"`):
			return FormatCVE5, nil
		case has(`"csaf_version"`):
			return FormatCSAF, nil
		case has(`"NVD_CVE"`) || (has(`"vulnerabilities"`) && has(`"cve"`)):
			return FormatNVD20, nil
		case has(`"sourceIdentifier"`) || (has(`"id"`) && has(`"lastModified"`) && has(`"descriptions"`)):
			return FormatNVD20, nil
		}
		return "", firmward.Errorf(firmward.EINVALID, "unknown JSON feed format; %s", acceptedFormats)
	}
	// CSV: skip FIRST's comment lines (#model_version:…,score_date:…).
	for len(b) > 0 && b[0] == '#' {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			b = nil
			break
		}
		b = b[i+1:]
	}
	if bytes.HasPrefix(bytes.ToLower(b), []byte("cve,epss,percentile")) {
		return FormatEPSS, nil
	}
	return "", firmward.Errorf(firmward.EINVALID, "unknown feed format; %s", acceptedFormats)
}

// Open uncompresses r when it is gzip, detects the format from its first
// bytes and returns the format and a reader of the whole uncompressed
// content (nothing consumed), ready for the matching Parse function.
func Open(r io.Reader) (Format, io.Reader, error) {
	u, err := maybeGunzip(r)
	if err != nil {
		return "", nil, err
	}
	br, ok := u.(*bufio.Reader)
	if !ok || br.Size() < peekSize {
		br = bufio.NewReaderSize(u, peekSize)
	}
	peek, err := br.Peek(peekSize)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		if isInputError(err) {
			return "", nil, invalidInput("truncated or corrupt input", err)
		}
		return "", nil, fmt.Errorf("reading feed: %w", err)
	}
	f, err := DetectFormat(peek)
	if err != nil {
		return "", nil, err
	}
	return f, br, nil
}
