package httpapi

import (
	"net/http"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/lifecycle"
)

// VendorReport is the vendor support record of every manufacturer (or of
// those making devices of Category), best score first.
type VendorReport struct {
	Category firmward.Category        `json:"category,omitempty"`
	Vendors  []lifecycle.VendorRecord `json:"vendors"`
	// FirmwareDates says whether release dates of firmware are known;
	// without them days_to_fix has no data points.
	FirmwareDates bool `json:"firmware_dates"`
}

var vendorParams = []param{
	enumParamDoc("category", "Rank only manufacturers of devices of this category (\"before you buy a camera\").", firmward.Categories),
}

func (s *Server) handleVendors(w http.ResponseWriter, r *http.Request) {
	if !s.lifecycleReady(w, r) {
		return
	}
	q, err := parseQuery(r.URL.RawQuery, paramNames(vendorParams))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var cat firmward.Category
	if q.get("category") != "" {
		if cat, err = enumParam(q, "category", firmward.Categories); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	fl, err := s.loadFleet(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	recs := fl.VendorRecords(cat)
	if recs == nil {
		recs = []lifecycle.VendorRecord{}
	}
	s.writeJSON(w, r, http.StatusOK, VendorReport{Category: cat, Vendors: recs, FirmwareDates: s.firmwareDates != nil})
}
