package feeds

import (
	"fmt"
	"io"
	"strconv"

	firmward "github.com/firmward/firmward"
)

// NVD11Info is the header of an NVD JSON 1.1 feed.
type NVD11Info struct {
	NumberOfCVEs int    // CVE_data_numberOfCVEs as the feed states it
	Timestamp    string // CVE_data_timestamp
	Records      int    // records actually delivered
}

// ParseNVD11 parses an NVD JSON 1.1 feed (plain or gzip) and calls fn with
// each CVE_Items element mapped into a Vulnerability (Sources "nvd-1.1").
// Each top-level configuration node becomes one Configuration holding that
// node, with 1.1 children as Node.Children. Errors are described in the
// package documentation.
func ParseNVD11(r io.Reader, fn func(*firmward.Vulnerability) error) error {
	_, err := ParseNVD11Feed(r, fn)
	return err
}

// ParseNVD11Feed is ParseNVD11 that also returns the feed's header.
func ParseNVD11Feed(r io.Reader, fn func(*firmward.Vulnerability) error) (NVD11Info, error) {
	var info NVD11Info
	u, err := maybeGunzip(r)
	if err != nil {
		return info, err
	}
	d := newDecoder(u)
	sawItems := false
	err = d.object("the feed", func(key string) error {
		switch key {
		case "CVE_data_numberOfCVEs":
			var s string
			if err := d.value(&s); err != nil {
				return err
			}
			n, err := strconv.Atoi(s)
			if err != nil {
				return firmward.Errorf(firmward.EINVALID, "CVE_data_numberOfCVEs is not a number: %q", s)
			}
			info.NumberOfCVEs = n
			return nil
		case "CVE_data_timestamp":
			return d.value(&info.Timestamp)
		case "CVE_Items":
			sawItems = true
			return d.array("CVE_Items", func() error {
				info.Records++
				d.where = recordName(info.Records, "")
				var item nvd11Item
				if err := d.value(&item); err != nil {
					return err
				}
				v, err := item.vulnerability(info.Records)
				if err != nil {
					return err
				}
				if err := fn(v); err != nil {
					return callbackError(info.Records, v.ID, err)
				}
				return nil
			})
		}
		return d.skip()
	})
	if err != nil {
		return info, err
	}
	if !sawItems {
		return info, firmward.Errorf(firmward.EINVALID, "not an NVD 1.1 feed: no CVE_Items")
	}
	return info, d.end()
}

type nvd11Item struct {
	CVE struct {
		Meta struct {
			ID string `json:"ID"`
		} `json:"CVE_data_meta"`
		ProblemType struct {
			Data []struct {
				Description []langValue `json:"description"`
			} `json:"problemtype_data"`
		} `json:"problemtype"`
		References struct {
			Data []struct {
				URL string `json:"url"`
			} `json:"reference_data"`
		} `json:"references"`
		Description struct {
			Data []langValue `json:"description_data"`
		} `json:"description"`
	} `json:"cve"`
	Configurations struct {
		Nodes []nvd11Node `json:"nodes"`
	} `json:"configurations"`
	Impact struct {
		V3 *struct {
			CVSS nvdCVSSData `json:"cvssV3"`
		} `json:"baseMetricV3"`
		V2 *struct {
			CVSS     nvdCVSSData `json:"cvssV2"`
			Severity string      `json:"severity"`
		} `json:"baseMetricV2"`
	} `json:"impact"`
	Published    string `json:"publishedDate"`
	LastModified string `json:"lastModifiedDate"`
}

type nvd11Node struct {
	Operator string       `json:"operator"`
	Negate   bool         `json:"negate"`
	Children []nvd11Node  `json:"children"`
	Matches  []nvd11Match `json:"cpe_match"`
}

type nvd11Match struct {
	Vulnerable            bool   `json:"vulnerable"`
	CPE                   string `json:"cpe23Uri"`
	VersionStartIncluding string `json:"versionStartIncluding"`
	VersionStartExcluding string `json:"versionStartExcluding"`
	VersionEndIncluding   string `json:"versionEndIncluding"`
	VersionEndExcluding   string `json:"versionEndExcluding"`
}

// nvdCVSSData is the cvssData (2.0) / cvssV3 (1.1) object of NVD.
type nvdCVSSData struct {
	Version      string  `json:"version"`
	VectorString string  `json:"vectorString"`
	BaseScore    float64 `json:"baseScore"`
	BaseSeverity string  `json:"baseSeverity"`
}

func (it *nvd11Item) vulnerability(n int) (*firmward.Vulnerability, error) {
	id := it.CVE.Meta.ID
	bad := func(field, value, reason string) error { return recordError(n, id, field, value, reason) }
	if !isCVEID(id) {
		return nil, bad("cve.CVE_data_meta.ID", id, cveIDReason)
	}
	v := &firmward.Vulnerability{ID: id, Sources: []string{"nvd-1.1"}}
	var err error
	if v.Published, err = parseTime(it.Published); err != nil {
		return nil, bad("publishedDate", it.Published, err.Error())
	}
	if v.LastModified, err = parseTime(it.LastModified); err != nil {
		return nil, bad("lastModifiedDate", it.LastModified, err.Error())
	}
	v.Description = english(it.CVE.Description.Data)
	for _, pt := range it.CVE.ProblemType.Data {
		for _, d := range pt.Description {
			v.CWEs = appendUnique(v.CWEs, d.Value)
		}
	}
	for _, ref := range it.CVE.References.Data {
		v.References = appendUnique(v.References, ref.URL)
	}
	if m := it.Impact.V3; m != nil {
		c, err := m.CVSS.cvss("impact.baseMetricV3.cvssV3", "3.0", "", bad)
		if err != nil {
			return nil, err
		}
		v.CVSS = append(v.CVSS, c)
	}
	if m := it.Impact.V2; m != nil {
		m.CVSS.BaseSeverity = m.Severity
		c, err := m.CVSS.cvss("impact.baseMetricV2.cvssV2", "2.0", "", bad)
		if err != nil {
			return nil, err
		}
		v.CVSS = append(v.CVSS, c)
	}
	for i := range it.Configurations.Nodes {
		node, err := it.Configurations.Nodes[i].node(fmt.Sprintf("configurations.nodes[%d]", i), bad)
		if err != nil {
			return nil, err
		}
		v.Configurations = append(v.Configurations, firmward.Configuration{Nodes: []firmward.Node{node}})
	}
	return v, nil
}

// cvss maps an NVD CVSS object; NVD scores are by nvd@nist.gov, Primary
// unless source says otherwise.
func (c *nvdCVSSData) cvss(field, defVersion, source string, bad func(field, value, reason string) error) (firmward.CVSS, error) {
	if c.VectorString == "" {
		return firmward.CVSS{}, bad(field+".vectorString", "", "is missing")
	}
	if !checkScore(c.BaseScore) {
		return firmward.CVSS{}, bad(field+".baseScore", strconv.FormatFloat(c.BaseScore, 'g', -1, 64), "is not a CVSS score in [0, 10]")
	}
	ver := c.Version
	if ver == "" {
		ver = defVersion
	}
	if source == "" {
		source = "nvd@nist.gov"
	}
	return firmward.CVSS{Version: ver, Vector: c.VectorString, BaseScore: c.BaseScore, Severity: c.BaseSeverity, Source: source, Type: "Primary"}, nil
}

func (nd *nvd11Node) node(field string, bad func(field, value, reason string) error) (firmward.Node, error) {
	op, err := operator(nd.Operator, field, bad)
	if err != nil {
		return firmward.Node{}, err
	}
	out := firmward.Node{Operator: op, Negate: nd.Negate}
	if len(nd.Matches) > 0 {
		out.Matches = make([]firmward.CPEMatch, 0, len(nd.Matches))
	}
	for i, m := range nd.Matches {
		if err := firmward.ValidateCPE23(m.CPE); err != nil {
			return out, bad(fmt.Sprintf("%s.cpe_match[%d].cpe23Uri", field, i), m.CPE, err.Error())
		}
		out.Matches = append(out.Matches, firmward.CPEMatch{
			Vulnerable: m.Vulnerable, Criteria: m.CPE,
			VersionStartIncluding: m.VersionStartIncluding, VersionStartExcluding: m.VersionStartExcluding,
			VersionEndIncluding: m.VersionEndIncluding, VersionEndExcluding: m.VersionEndExcluding,
		})
	}
	for i := range nd.Children {
		c, err := nd.Children[i].node(fmt.Sprintf("%s.children[%d]", field, i), bad)
		if err != nil {
			return out, err
		}
		out.Children = append(out.Children, c)
	}
	return out, nil
}

// operator checks an AND/OR operator; empty means OR.
func operator(op, field string, bad func(field, value, reason string) error) (string, error) {
	switch op {
	case "AND", "OR":
		return op, nil
	case "":
		return "OR", nil
	}
	return "", bad(field+".operator", op, "must be AND or OR")
}
