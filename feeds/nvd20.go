package feeds

import (
	"encoding/json"
	"fmt"
	"io"

	firmward "github.com/firmward/firmward"
)

// Page is the paging information of an NVD CVE API 2.0 response. A file
// holding a single bare cve object gives ResultsPerPage = TotalResults = 1.
type Page struct {
	ResultsPerPage int    `json:"resultsPerPage"`
	StartIndex     int    `json:"startIndex"`
	TotalResults   int    `json:"totalResults"`
	Timestamp      string `json:"timestamp"`
	Records        int    `json:"-"` // records actually delivered
}

// ParseNVD20 parses an NVD CVE API 2.0 response (plain or gzip) and calls
// fn with each vulnerabilities[].cve mapped into a Vulnerability (Sources
// "nvd-2.0"). A file holding a bare cve object (as the fkie-cad
// transcriptions do) is accepted as one record. Errors are described in
// the package documentation.
func ParseNVD20(r io.Reader, fn func(*firmward.Vulnerability) error) error {
	_, err := ParseNVD20Page(r, fn)
	return err
}

// ParseNVD20Page is ParseNVD20 that also returns the page information, for
// a client that walks the API's pages.
func ParseNVD20Page(r io.Reader, fn func(*firmward.Vulnerability) error) (Page, error) {
	var page Page
	u, err := maybeGunzip(r)
	if err != nil {
		return page, err
	}
	d := newDecoder(u)
	sawList := false
	var bare map[string]json.RawMessage // keys of a bare cve object
	deliver := func(c *nvd20CVE) error {
		page.Records++
		v, err := c.vulnerability(page.Records)
		if err != nil {
			return err
		}
		if err := fn(v); err != nil {
			return callbackError(page.Records, v.ID, err)
		}
		return nil
	}
	err = d.object("the response", func(key string) error {
		switch key {
		case "resultsPerPage":
			return d.value(&page.ResultsPerPage)
		case "startIndex":
			return d.value(&page.StartIndex)
		case "totalResults":
			return d.value(&page.TotalResults)
		case "timestamp":
			return d.value(&page.Timestamp)
		case "vulnerabilities":
			sawList = true
			return d.array("vulnerabilities", func() error {
				d.where = recordName(page.Records+1, "")
				var item struct {
					CVE *nvd20CVE `json:"cve"`
				}
				if err := d.value(&item); err != nil {
					return err
				}
				if item.CVE == nil {
					return recordError(page.Records+1, "", "vulnerabilities[].cve", "", "is missing")
				}
				return deliver(item.CVE)
			})
		}
		var raw json.RawMessage
		if err := d.value(&raw); err != nil {
			return err
		}
		if bare == nil {
			bare = make(map[string]json.RawMessage)
		}
		bare[key] = raw
		return nil
	})
	if err != nil {
		return page, err
	}
	if err := d.end(); err != nil {
		return page, err
	}
	if sawList {
		return page, nil
	}
	if _, ok := bare["id"]; !ok {
		return page, firmward.Errorf(firmward.EINVALID, "not an NVD 2.0 response: no vulnerabilities array and no cve id")
	}
	// A bare cve object: small, so re-decode its collected keys.
	b, err := json.Marshal(bare)
	if err != nil {
		return page, fmt.Errorf("re-encoding cve object: %w", err)
	}
	var c nvd20CVE
	if err := newDecoder(bytesReader(b)).value(&c); err != nil {
		return page, err
	}
	page.ResultsPerPage, page.TotalResults = 1, 1
	return page, deliver(&c)
}

type nvd20CVE struct {
	ID           string      `json:"id"`
	Published    string      `json:"published"`
	LastModified string      `json:"lastModified"`
	VulnStatus   string      `json:"vulnStatus"`
	Descriptions []langValue `json:"descriptions"`
	Metrics      struct {
		V2  []nvd20Metric `json:"cvssMetricV2"`
		V30 []nvd20Metric `json:"cvssMetricV30"`
		V31 []nvd20Metric `json:"cvssMetricV31"`
		V40 []nvd20Metric `json:"cvssMetricV40"`
	} `json:"metrics"`
	Weaknesses []struct {
		Description []langValue `json:"description"`
	} `json:"weaknesses"`
	Configurations []struct {
		Operator string `json:"operator"`
		Negate   bool   `json:"negate"`
		Nodes    []struct {
			Operator string       `json:"operator"`
			Negate   bool         `json:"negate"`
			Matches  []nvd20Match `json:"cpeMatch"`
		} `json:"nodes"`
	} `json:"configurations"`
	References []struct {
		URL string `json:"url"`
	} `json:"references"`
}

type nvd20Metric struct {
	Source       string      `json:"source"`
	Type         string      `json:"type"`
	Data         nvdCVSSData `json:"cvssData"`
	BaseSeverity string      `json:"baseSeverity"` // V2 keeps it outside cvssData
}

type nvd20Match struct {
	Vulnerable            bool   `json:"vulnerable"`
	Criteria              string `json:"criteria"`
	VersionStartIncluding string `json:"versionStartIncluding"`
	VersionStartExcluding string `json:"versionStartExcluding"`
	VersionEndIncluding   string `json:"versionEndIncluding"`
	VersionEndExcluding   string `json:"versionEndExcluding"`
}

func (c *nvd20CVE) vulnerability(n int) (*firmward.Vulnerability, error) {
	bad := func(field, value, reason string) error { return recordError(n, c.ID, field, value, reason) }
	if !isCVEID(c.ID) {
		return nil, bad("id", c.ID, cveIDReason)
	}
	v := &firmward.Vulnerability{ID: c.ID, Sources: []string{"nvd-2.0"}, Description: english(c.Descriptions)}
	var err error
	if v.Published, err = parseTime(c.Published); err != nil {
		return nil, bad("published", c.Published, err.Error())
	}
	if v.LastModified, err = parseTime(c.LastModified); err != nil {
		return nil, bad("lastModified", c.LastModified, err.Error())
	}
	for _, w := range c.Weaknesses {
		for _, d := range w.Description {
			v.CWEs = appendUnique(v.CWEs, d.Value)
		}
	}
	for _, ref := range c.References {
		v.References = appendUnique(v.References, ref.URL)
	}
	for _, set := range []struct {
		name, version string
		list          []nvd20Metric
	}{
		{"cvssMetricV40", "4.0", c.Metrics.V40},
		{"cvssMetricV31", "3.1", c.Metrics.V31},
		{"cvssMetricV30", "3.0", c.Metrics.V30},
		{"cvssMetricV2", "2.0", c.Metrics.V2},
	} {
		for i, m := range set.list {
			if m.Data.BaseSeverity == "" {
				m.Data.BaseSeverity = m.BaseSeverity
			}
			cv, err := m.Data.cvss(fmt.Sprintf("metrics.%s[%d].cvssData", set.name, i), set.version, m.Source, bad)
			if err != nil {
				return nil, err
			}
			if m.Type != "" {
				cv.Type = m.Type
			}
			v.CVSS = append(v.CVSS, cv)
		}
	}
	for i, cf := range c.Configurations {
		field := fmt.Sprintf("configurations[%d]", i)
		op, err := operator(cf.Operator, field, bad)
		if err != nil {
			return nil, err
		}
		if cf.Operator == "" {
			op = ""
		}
		conf := firmward.Configuration{Operator: op, Negate: cf.Negate, Nodes: make([]firmward.Node, 0, len(cf.Nodes))}
		for j, nd := range cf.Nodes {
			nf := fmt.Sprintf("%s.nodes[%d]", field, j)
			nop, err := operator(nd.Operator, nf, bad)
			if err != nil {
				return nil, err
			}
			node := firmward.Node{Operator: nop, Negate: nd.Negate, Matches: make([]firmward.CPEMatch, 0, len(nd.Matches))}
			for k, m := range nd.Matches {
				if err := firmward.ValidateCPE23(m.Criteria); err != nil {
					return nil, bad(fmt.Sprintf("%s.cpeMatch[%d].criteria", nf, k), m.Criteria, err.Error())
				}
				node.Matches = append(node.Matches, firmward.CPEMatch(m))
			}
			conf.Nodes = append(conf.Nodes, node)
		}
		v.Configurations = append(v.Configurations, conf)
	}
	return v, nil
}
