package feeds

import (
	"fmt"
	"io"
	"strings"

	firmward "github.com/firmward/firmward"
)

// ParseCSAF parses one CSAF 2.0 advisory (plain or gzip) and calls fn once
// per vulnerabilities[] entry that has a cve. The product tree maps product
// ids to vendor, product name and version text; product_status
// known_affected, fixed and known_not_affected become Affected entries
// with Source "csaf:<document.tracking.id>" (statuses "affected" and
// "unaffected"), vendor_fix remediations go into Affected.Fixed and
// scores[].cvss_v3 into CVSS. Version text is kept as written, except that
// "<=X" and "<X" (also as "vers:T/<X") become a range from "0". An advisory
// is decoded whole (they are kilobytes). Errors are described in the
// package documentation; records are numbered by their index in
// vulnerabilities[], from 1.
func ParseCSAF(r io.Reader, fn func(*firmward.Vulnerability) error) error {
	var doc csafDoc
	if err := decodeWhole(r, &doc); err != nil {
		return err
	}
	if doc.Document.CSAFVersion == "" {
		return firmward.Errorf(firmward.EINVALID, "not a CSAF advisory: document.csaf_version is missing")
	}
	tr := doc.Document.Tracking
	if tr.ID == "" {
		return firmward.Errorf(firmward.EINVALID, "CSAF advisory: document.tracking.id is missing")
	}
	source := "csaf:" + tr.ID
	published, err := parseTime(tr.InitialReleaseDate)
	if err != nil {
		return &firmward.Error{Code: firmward.EINVALID, Message: "CSAF advisory " + tr.ID, Details: []firmward.ErrorDetail{{Field: "document.tracking.initial_release_date", Value: tr.InitialReleaseDate, Reason: err.Error()}}}
	}
	modified, err := parseTime(tr.CurrentReleaseDate)
	if err != nil {
		return &firmward.Error{Code: firmward.EINVALID, Message: "CSAF advisory " + tr.ID, Details: []firmward.ErrorDetail{{Field: "document.tracking.current_release_date", Value: tr.CurrentReleaseDate, Reason: err.Error()}}}
	}
	products := make(map[string]csafProduct)
	walkBranches(doc.ProductTree.Branches, csafProduct{}, products)
	for _, p := range doc.ProductTree.FullProductNames {
		if _, ok := products[p.ProductID]; !ok {
			products[p.ProductID] = csafProduct{Product: p.Name}
		}
	}
	for _, rel := range doc.ProductTree.Relationships {
		p := rel.FullProductName
		if _, ok := products[p.ProductID]; !ok {
			base := products[rel.ProductReference]
			base.Product = p.Name
			products[p.ProductID] = base
		}
	}
	for i := range doc.Vulnerabilities {
		cv := &doc.Vulnerabilities[i]
		if cv.CVE == "" {
			continue // CSAF allows vulnerabilities known by other ids only
		}
		v, err := cv.vulnerability(i+1, source, products)
		if err != nil {
			return err
		}
		v.Published, v.LastModified = published, modified
		if err := fn(v); err != nil {
			return callbackError(i+1, v.ID, err)
		}
	}
	return nil
}

type csafDoc struct {
	Document struct {
		CSAFVersion string `json:"csaf_version"`
		Tracking    struct {
			ID                 string `json:"id"`
			InitialReleaseDate string `json:"initial_release_date"`
			CurrentReleaseDate string `json:"current_release_date"`
		} `json:"tracking"`
	} `json:"document"`
	ProductTree struct {
		Branches         []csafBranch   `json:"branches"`
		FullProductNames []csafFullName `json:"full_product_names"`
		Relationships    []struct {
			ProductReference string       `json:"product_reference"`
			FullProductName  csafFullName `json:"full_product_name"`
		} `json:"relationships"`
	} `json:"product_tree"`
	Vulnerabilities []csafVuln `json:"vulnerabilities"`
}

type csafFullName struct {
	Name      string `json:"name"`
	ProductID string `json:"product_id"`
}

type csafBranch struct {
	Category string        `json:"category"`
	Name     string        `json:"name"`
	Product  *csafFullName `json:"product"`
	Branches []csafBranch  `json:"branches"`
}

type csafProduct struct {
	Vendor, Product, Version string
}

// walkBranches records every product of the tree with the vendor, product
// name and version of the branches above it.
func walkBranches(bs []csafBranch, at csafProduct, out map[string]csafProduct) {
	for _, b := range bs {
		p := at
		switch b.Category {
		case "vendor":
			p.Vendor = b.Name
		case "product_name", "product_family":
			if p.Product == "" || b.Category == "product_name" {
				p.Product = b.Name
			}
		case "product_version", "product_version_range":
			p.Version = b.Name
		}
		if b.Product != nil && b.Product.ProductID != "" {
			q := p
			if q.Product == "" {
				q.Product = b.Product.Name
			}
			out[b.Product.ProductID] = q
		}
		walkBranches(b.Branches, p, out)
	}
}

type csafVuln struct {
	CVE   string `json:"cve"`
	Notes []struct {
		Category string `json:"category"`
		Text     string `json:"text"`
	} `json:"notes"`
	CWE *struct {
		ID string `json:"id"`
	} `json:"cwe"`
	ProductStatus struct {
		KnownAffected    []string `json:"known_affected"`
		Fixed            []string `json:"fixed"`
		KnownNotAffected []string `json:"known_not_affected"`
	} `json:"product_status"`
	Remediations []struct {
		Category   string   `json:"category"`
		Details    string   `json:"details"`
		URL        string   `json:"url"`
		ProductIDs []string `json:"product_ids"`
	} `json:"remediations"`
	Scores []struct {
		CVSSV3 *cve5CVSS `json:"cvss_v3"`
	} `json:"scores"`
	References []struct {
		URL string `json:"url"`
	} `json:"references"`
}

func (cv *csafVuln) vulnerability(n int, source string, products map[string]csafProduct) (*firmward.Vulnerability, error) {
	bad := func(field, value, reason string) error { return recordError(n, cv.CVE, field, value, reason) }
	field := fmt.Sprintf("vulnerabilities[%d]", n-1)
	if !isCVEID(cv.CVE) {
		return nil, bad(field+".cve", cv.CVE, cveIDReason)
	}
	v := &firmward.Vulnerability{ID: cv.CVE, Sources: []string{source}}
	for _, note := range cv.Notes {
		if note.Category == "description" || (note.Category == "summary" && v.Description == "") {
			v.Description = note.Text
		}
	}
	if cv.CWE != nil {
		v.CWEs = appendUnique(v.CWEs, cv.CWE.ID)
	}
	for _, ref := range cv.References {
		v.References = appendUnique(v.References, ref.URL)
	}
	for i, s := range cv.Scores {
		if s.CVSSV3 == nil {
			continue
		}
		f := fmt.Sprintf("%s.scores[%d].cvss_v3", field, i)
		if s.CVSSV3.VectorString == "" {
			return nil, bad(f+".vectorString", "", "is missing")
		}
		if !checkScore(s.CVSSV3.BaseScore) {
			return nil, bad(f+".baseScore", fmt.Sprint(s.CVSSV3.BaseScore), "is not a CVSS score in [0, 10]")
		}
		c := firmward.CVSS{Version: s.CVSSV3.Version, Vector: s.CVSSV3.VectorString, BaseScore: s.CVSSV3.BaseScore, Severity: s.CVSSV3.BaseSeverity, Source: source}
		if !containsCVSS(v.CVSS, c) {
			v.CVSS = append(v.CVSS, c)
		}
	}
	fixes := make(map[string][]string)
	for _, rem := range cv.Remediations {
		if rem.Category != "vendor_fix" {
			continue
		}
		text := strings.TrimSpace(rem.Details)
		if rem.URL != "" {
			text = strings.TrimSpace(text + " " + rem.URL)
		}
		for _, id := range rem.ProductIDs {
			fixes[id] = appendUnique(fixes[id], text)
		}
	}
	add := func(list []string, status, f string) error {
		for j, id := range list {
			p, ok := products[id]
			if !ok {
				return bad(fmt.Sprintf("%s.%s[%d]", field, f, j), id, "is not a product_id of the product_tree")
			}
			af := firmward.Affected{Source: source, Vendor: p.Vendor, Product: p.Product, Fixed: fixes[id]}
			if p.Version != "" {
				af.Versions = []firmward.AffectedVersion{csafVersion(p.Version, status)}
			}
			v.Affected = append(v.Affected, af)
		}
		return nil
	}
	if err := add(cv.ProductStatus.KnownAffected, "affected", "product_status.known_affected"); err != nil {
		return nil, err
	}
	if err := add(cv.ProductStatus.Fixed, "unaffected", "product_status.fixed"); err != nil {
		return nil, err
	}
	if err := add(cv.ProductStatus.KnownNotAffected, "unaffected", "product_status.known_not_affected"); err != nil {
		return nil, err
	}
	return v, nil
}

func containsCVSS(list []firmward.CVSS, c firmward.CVSS) bool {
	for _, x := range list {
		if x == c {
			return true
		}
	}
	return false
}

// csafVersion turns a CSAF version text into an AffectedVersion: "<=X" and
// "<X" (optionally as "vers:T/<=X") become ranges from "0" with version
// type T; anything else is kept verbatim in Version with type "csaf".
func csafVersion(text, status string) firmward.AffectedVersion {
	av := firmward.AffectedVersion{Version: text, Status: status, VersionType: "csaf"}
	s := strings.TrimSpace(text)
	if rest, ok := strings.CutPrefix(s, "vers:"); ok {
		typ, r, found := strings.Cut(rest, "/")
		if !found {
			return av
		}
		av.VersionType, s = typ, strings.TrimSpace(r)
	}
	simple := func(x string) bool { return x != "" && !strings.ContainsAny(x, " |<>=,*") }
	switch {
	case strings.HasPrefix(s, "<="):
		if x := strings.TrimSpace(s[2:]); simple(x) {
			av.Version, av.LessThanOrEqual = "0", x
			return av
		}
	case strings.HasPrefix(s, "<"):
		if x := strings.TrimSpace(s[1:]); simple(x) {
			av.Version, av.LessThan = "0", x
			return av
		}
	}
	av.Version, av.VersionType = text, "csaf"
	return av
}
