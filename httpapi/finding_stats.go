package httpapi

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/firmward/firmward"
)

// findingStatsParams are the parameters of GET /api/v1/findings/stats.
var findingStatsParams = []param{
	{name: "days", desc: "Days of overdue history, ending today (UTC).", schema: map[string]any{"type": "integer", "minimum": 1, "maximum": firmward.MaxStatsDays, "default": firmward.DefaultStatsDays}},
	{name: "vendors", desc: "How many vendors to rank by open findings.", schema: map[string]any{"type": "integer", "minimum": 1, "maximum": firmward.MaxStatsVendors, "default": firmward.DefaultStatsVendors}},
}

// intParam reads a whole-number parameter from lo to hi; 0 when not given.
func intParam(q query, name string, lo, hi int) (int, error) {
	raw := q.get(name)
	if raw == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < lo || n > hi {
		return 0, paramError(name, raw, fmt.Sprintf("must be a whole number from %d to %d", lo, hi))
	}
	return n, nil
}

func (s *Server) handleFindingStats(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r.URL.RawQuery, paramNames(findingStatsParams))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var f firmward.FindingStatsFilter
	if f.Days, err = intParam(q, "days", 1, firmward.MaxStatsDays); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.Vendors, err = intParam(q, "vendors", 1, firmward.MaxStatsVendors); err != nil {
		s.writeError(w, r, err)
		return
	}
	st, err := s.findings.FindingStats(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, st)
}
