package feeds

import (
	"io"

	firmward "github.com/firmward/firmward"
)

// KEVCatalog is the header of the CISA KEV catalog.
type KEVCatalog struct {
	Title        string
	Version      string // catalogVersion, e.g. "2025.08.25"
	DateReleased string // dateReleased as written (RFC 3339)
	Count        int    // count as the catalog states it
	Records      int    // entries actually delivered
}

// ParseKEV parses the CISA Known Exploited Vulnerabilities catalog JSON
// (plain or gzip) and calls fn with each entry. Each entry carries the
// catalog version and release date when the catalog states them before its
// vulnerabilities array (as CISA's file does). Errors are described in the
// package documentation.
func ParseKEV(r io.Reader, fn func(*firmward.KEVEntry) error) error {
	_, err := ParseKEVCatalog(r, fn)
	return err
}

// ParseKEVCatalog is ParseKEV that also returns the catalog header.
func ParseKEVCatalog(r io.Reader, fn func(*firmward.KEVEntry) error) (KEVCatalog, error) {
	var cat KEVCatalog
	u, err := maybeGunzip(r)
	if err != nil {
		return cat, err
	}
	d := newDecoder(u)
	sawList := false
	err = d.object("the catalog", func(key string) error {
		switch key {
		case "title":
			return d.value(&cat.Title)
		case "catalogVersion":
			return d.value(&cat.Version)
		case "dateReleased":
			return d.value(&cat.DateReleased)
		case "count":
			return d.value(&cat.Count)
		case "vulnerabilities":
			sawList = true
			return d.array("vulnerabilities", func() error {
				cat.Records++
				n := cat.Records
				d.where = recordName(n, "")
				var e kevItem
				if err := d.value(&e); err != nil {
					return err
				}
				entry, err := e.entry(n, &cat)
				if err != nil {
					return err
				}
				if err := fn(entry); err != nil {
					return callbackError(n, entry.CVE, err)
				}
				return nil
			})
		}
		return d.skip()
	})
	if err != nil {
		return cat, err
	}
	if !sawList {
		return cat, firmward.Errorf(firmward.EINVALID, "not a KEV catalog: no vulnerabilities array")
	}
	return cat, d.end()
}

type kevItem struct {
	CVE                string `json:"cveID"`
	VendorProject      string `json:"vendorProject"`
	Product            string `json:"product"`
	Name               string `json:"vulnerabilityName"`
	DateAdded          string `json:"dateAdded"`
	ShortDescription   string `json:"shortDescription"`
	RequiredAction     string `json:"requiredAction"`
	DueDate            string `json:"dueDate"`
	KnownRansomwareUse string `json:"knownRansomwareCampaignUse"`
	Notes              string `json:"notes"`
}

func (e *kevItem) entry(n int, cat *KEVCatalog) (*firmward.KEVEntry, error) {
	if !isCVEID(e.CVE) {
		return nil, recordError(n, "", "cveID", e.CVE, cveIDReason)
	}
	if !isDate(e.DateAdded) {
		return nil, recordError(n, e.CVE, "dateAdded", e.DateAdded, "is not a date (YYYY-MM-DD)")
	}
	if e.DueDate != "" && !isDate(e.DueDate) {
		return nil, recordError(n, e.CVE, "dueDate", e.DueDate, "is not a date (YYYY-MM-DD)")
	}
	return &firmward.KEVEntry{
		CVE: e.CVE, VendorProject: e.VendorProject, Product: e.Product, Name: e.Name,
		DateAdded: e.DateAdded, DueDate: e.DueDate, RequiredAction: e.RequiredAction,
		KnownRansomwareUse: e.KnownRansomwareUse == "Known", KnownRansomwareValue: e.KnownRansomwareUse,
		ShortDescription: e.ShortDescription, Notes: e.Notes,
		CatalogVersion: cat.Version, CatalogDateReleased: cat.DateReleased,
	}, nil
}
