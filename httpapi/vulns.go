package httpapi

import (
	"errors"
	"net/http"
	"regexp"
	"strings"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/feeds"
)

// DefaultMaxFeedBytes bounds a feed upload (gzip counts compressed): the
// largest NVD 1.1 yearly feed is about 20 MB gzipped, 300 MB plain.
const DefaultMaxFeedBytes = 512 << 20

// VulnerabilityList is one page of vulnerabilities; NextCursor is "" on the
// last page.
type VulnerabilityList struct {
	Vulnerabilities []*firmward.VulnerabilityRecord `json:"vulnerabilities"`
	NextCursor      string                          `json:"next_cursor"`
}

var (
	feedImportParams = []param{stringParam("name", "What to call the file in the audit trail and the result (its file name, say).")}
	listVulnParams   = []param{
		{name: "kev", desc: "Only CVEs in CISA's Known Exploited Vulnerabilities catalog.", schema: map[string]any{"type": "boolean", "default": false}},
		stringParam("cursor", "next_cursor of the previous page (the last CVE id)."),
		pageParams[1], // limit
	}
	cveIDPattern = regexp.MustCompile(`^CVE-\d{4}-\d{4,}$`)
)

// handleImportFeed imports one feed file, sent as the request body in any
// format feeds.Open recognises, plain or gzip: every record or none.
func (s *Server) handleImportFeed(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r.URL.RawQuery, paramNames(feedImportParams))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	name := q.get("name")
	if name == "" {
		name = "upload"
	}
	body := &limitedBody{r: http.MaxBytesReader(w, r.Body, s.maxFeed)}
	res, err := s.importFeed(r, name, body)
	if body.over {
		err = tooLarge(&http.MaxBytesError{Limit: s.maxFeed}, s.maxFeed)
	}
	if err != nil {
		if firmward.ErrorCode(err) == firmward.EINTERNAL && !errors.Is(err, r.Context().Err()) {
			s.logger.Warn("feed import failed", "name", name, "err", err)
		}
		s.writeError(w, r, feedError(name, err))
		return
	}
	s.writeJSON(w, r, http.StatusOK, res)
}

// importFeed detects the format, stages every record and commits; any
// failure rolls the whole file back.
func (s *Server) importFeed(r *http.Request, name string, body *limitedBody) (*firmward.FeedImportResult, error) {
	format, rd, err := feeds.Open(body)
	if err != nil {
		return nil, err
	}
	imp, err := s.vulns.BeginFeedImport(r.Context(), name, string(format))
	if err != nil {
		return nil, err
	}
	defer func() { _ = imp.Rollback() }() // a no-op after Commit
	if err := feeds.Stage(r.Context(), format, rd, imp); err != nil {
		return nil, err
	}
	return imp.Commit(r.Context())
}

// feedError prefixes the file's name to a client error so that the message
// names file, record and field ("nvdcve-1.1-2018.json.gz: record 17 (CVE-…): …").
func feedError(name string, err error) error {
	var fe *firmward.Error
	if !errors.As(err, &fe) || fe.Code == firmward.EINTERNAL {
		return err
	}
	out := *fe
	out.Message = name + ": " + fe.Message + "; nothing from this file was kept"
	return &out
}

func (s *Server) handleGetVulnerability(w http.ResponseWriter, r *http.Request) {
	id := strings.ToUpper(r.PathValue("id"))
	if !cveIDPattern.MatchString(id) {
		s.writeError(w, r, firmward.Errorf(firmward.EINVALID, "%q is not a CVE id (CVE-YYYY-NNNN)", r.PathValue("id")))
		return
	}
	v, err := s.vulns.FindVulnerabilityByID(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, v)
}

func (s *Server) handleListVulnerabilities(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r.URL.RawQuery, paramNames(listVulnParams))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var f firmward.VulnerabilityFilter
	if f.KEV, err = boolParam(q, "kev"); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.Limit, err = limitParam(q); err != nil {
		s.writeError(w, r, err)
		return
	}
	if c := q.get("cursor"); c != "" {
		if !cveIDPattern.MatchString(c) {
			s.writeError(w, r, paramError("cursor", c, "must be the next_cursor of a previous page"))
			return
		}
		f.After = c
	}
	list, next, err := s.vulns.FindVulnerabilities(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if list == nil {
		list = []*firmward.VulnerabilityRecord{}
	}
	s.writeJSON(w, r, http.StatusOK, VulnerabilityList{Vulnerabilities: list, NextCursor: next})
}
