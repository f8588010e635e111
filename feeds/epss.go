package feeds

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	firmward "github.com/firmward/firmward"
)

// EPSSInfo is what the comment line of a FIRST EPSS file says.
type EPSSInfo struct {
	ModelVersion string // e.g. "v2025.03.14"
	ScoreDate    string // YYYY-MM-DD
	Records      int    // scores delivered
}

// ParseEPSS parses a FIRST EPSS CSV file (plain or gzip): optional comment
// lines starting with '#' (FIRST's "#model_version:…,score_date:…" is read
// into each score), a "cve,epss,percentile" header, then one row per CVE.
// Scores and percentiles must lie in [0, 1]. A bad row gives an EINVALID
// error naming its line; see the package documentation.
func ParseEPSS(r io.Reader, fn func(firmward.EPSSScore) error) error {
	_, err := ParseEPSSInfo(r, fn)
	return err
}

// ParseEPSSInfo is ParseEPSS that also returns the model version and
// score date.
func ParseEPSSInfo(r io.Reader, fn func(firmward.EPSSScore) error) (EPSSInfo, error) {
	var info EPSSInfo
	u, err := maybeGunzip(r)
	if err != nil {
		return info, err
	}
	er := &errReader{r: u}
	sc := bufio.NewScanner(er)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	line := 0
	header := false
	bad := func(field, value, reason string, id string) error {
		if er.err != nil && isInputError(er.err) { // a cut line of a truncated file
			return invalidInput(fmt.Sprintf("truncated or corrupt input at line %d", line), er.err)
		}
		if len(value) > 80 {
			value = value[:77] + "..."
		}
		msg := fmt.Sprintf("line %d", line)
		if id != "" {
			msg += " (" + id + ")"
		}
		return &firmward.Error{Code: firmward.EINVALID, Message: msg, Details: []firmward.ErrorDetail{{Field: field, Value: value, Reason: reason}}}
	}
	for sc.Scan() {
		line++
		text := strings.TrimSuffix(sc.Text(), "\r")
		if line == 1 {
			text = strings.TrimPrefix(text, "\ufeff")
		}
		if !header {
			switch {
			case strings.HasPrefix(text, "#"):
				for _, kv := range strings.Split(text[1:], ",") {
					k, v, _ := strings.Cut(kv, ":")
					switch strings.TrimSpace(k) {
					case "model_version":
						info.ModelVersion = strings.TrimSpace(v)
					case "score_date":
						info.ScoreDate = strings.TrimSpace(v)
						if len(info.ScoreDate) >= 10 && isDate(info.ScoreDate[:10]) {
							info.ScoreDate = info.ScoreDate[:10]
						}
					}
				}
				continue
			case strings.TrimSpace(text) == "":
				continue
			case strings.EqualFold(strings.ReplaceAll(text, " ", ""), "cve,epss,percentile"):
				header = true
				continue
			}
			return info, bad("header", text, "want the header cve,epss,percentile", "")
		}
		if text == "" {
			continue
		}
		cve, rest, ok1 := strings.Cut(text, ",")
		es, ps, ok2 := strings.Cut(rest, ",")
		if !ok1 || !ok2 || strings.Contains(ps, ",") {
			return info, bad("", text, "want 3 columns cve,epss,percentile", "")
		}
		if !isCVEID(cve) {
			return info, bad("cve", cve, cveIDReason, "")
		}
		score, err := strconv.ParseFloat(es, 64)
		if err != nil || !(score >= 0 && score <= 1) {
			return info, bad("epss", es, "is not a probability in [0, 1]", cve)
		}
		pct, err := strconv.ParseFloat(ps, 64)
		if err != nil || !(pct >= 0 && pct <= 1) {
			return info, bad("percentile", ps, "is not a percentile in [0, 1]", cve)
		}
		info.Records++
		if err := fn(firmward.EPSSScore{CVE: cve, Score: score, Percentile: pct, ModelVersion: info.ModelVersion, ScoreDate: info.ScoreDate}); err != nil {
			return info, fmt.Errorf("feeds: callback for line %d (%s): %w", line, cve, err)
		}
	}
	if err := sc.Err(); err != nil {
		switch {
		case errors.Is(err, bufio.ErrTooLong):
			return info, bad("", "", "line too long", "")
		case isInputError(err):
			return info, invalidInput(fmt.Sprintf("truncated or corrupt input after line %d", line), err)
		}
		return info, fmt.Errorf("reading EPSS file after line %d: %w", line, err)
	}
	if !header {
		return info, firmward.Errorf(firmward.EINVALID, "not an EPSS file: no cve,epss,percentile header")
	}
	return info, nil
}

// errReader remembers the first error of r other than io.EOF.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && e.err == nil {
		e.err = err
	}
	return n, err
}
