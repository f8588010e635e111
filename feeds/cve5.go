package feeds

import (
	"fmt"
	"io"
	"strings"

	firmward "github.com/firmward/firmward"
)

// ParseCVE5 parses one CVE JSON 5.x record (plain or gzip) and calls fn
// once with it mapped into a Vulnerability (Sources "cve5"): the CNA's
// affected[] (Source "cve5:cna") and every ADP's (Source
// "cve5:adp:<shortName>"), CVSS from CNA and ADP metrics, CWEs, references,
// and CISA's SSVC values normalised to lower case. A record is a few
// kilobytes and is decoded whole. Errors are described in the package
// documentation.
func ParseCVE5(r io.Reader, fn func(*firmward.Vulnerability) error) error {
	var rec cve5Record
	if err := decodeWhole(r, &rec); err != nil {
		return err
	}
	v, err := rec.vulnerability()
	if err != nil {
		return err
	}
	if err := fn(v); err != nil {
		return callbackError(1, v.ID, err)
	}
	return nil
}

type cve5Record struct {
	DataType string `json:"dataType"`
	Meta     struct {
		CVEID         string `json:"cveId"`
		State         string `json:"state"`
		DatePublished string `json:"datePublished"`
		DateUpdated   string `json:"dateUpdated"`
	} `json:"cveMetadata"`
	Containers struct {
		CNA cve5Container   `json:"cna"`
		ADP []cve5Container `json:"adp"`
	} `json:"containers"`
}

type cve5Container struct {
	Provider struct {
		ShortName string `json:"shortName"`
	} `json:"providerMetadata"`
	Descriptions []langValue `json:"descriptions"`
	Affected     []struct {
		Vendor        string   `json:"vendor"`
		Product       string   `json:"product"`
		CPEs          []string `json:"cpes"`
		DefaultStatus string   `json:"defaultStatus"`
		Versions      []struct {
			Version         string `json:"version"`
			LessThan        string `json:"lessThan"`
			LessThanOrEqual string `json:"lessThanOrEqual"`
			Status          string `json:"status"`
			VersionType     string `json:"versionType"`
		} `json:"versions"`
	} `json:"affected"`
	Metrics []struct {
		V40   *cve5CVSS `json:"cvssV4_0"`
		V31   *cve5CVSS `json:"cvssV3_1"`
		V30   *cve5CVSS `json:"cvssV3_0"`
		V20   *cve5CVSS `json:"cvssV2_0"`
		Other *struct {
			Type    string `json:"type"`
			Content struct {
				Options []map[string]string `json:"options"`
			} `json:"content"`
		} `json:"other"`
	} `json:"metrics"`
	ProblemTypes []struct {
		Descriptions []struct {
			CWEID string `json:"cweId"`
		} `json:"descriptions"`
	} `json:"problemTypes"`
	References []struct {
		URL string `json:"url"`
	} `json:"references"`
}

type cve5CVSS struct {
	Version      string  `json:"version"`
	VectorString string  `json:"vectorString"`
	BaseScore    float64 `json:"baseScore"`
	BaseSeverity string  `json:"baseSeverity"`
}

func (rec *cve5Record) vulnerability() (*firmward.Vulnerability, error) {
	id := rec.Meta.CVEID
	bad := func(field, value, reason string) error { return recordError(1, id, field, value, reason) }
	if rec.DataType != "" && rec.DataType != "CVE_RECORD" {
		return nil, bad("dataType", rec.DataType, "must be CVE_RECORD")
	}
	if !isCVEID(id) {
		return nil, bad("cveMetadata.cveId", id, cveIDReason)
	}
	v := &firmward.Vulnerability{ID: id, Sources: []string{"cve5"}, Description: english(rec.Containers.CNA.Descriptions)}
	var err error
	if s := rec.Meta.DatePublished; s != "" {
		if v.Published, err = parseTime(s); err != nil {
			return nil, bad("cveMetadata.datePublished", s, err.Error())
		}
	}
	if s := rec.Meta.DateUpdated; s != "" {
		if v.LastModified, err = parseTime(s); err != nil {
			return nil, bad("cveMetadata.dateUpdated", s, err.Error())
		}
	}
	if v.LastModified.IsZero() {
		v.LastModified = v.Published
	}
	if err := rec.Containers.CNA.addTo(v, "containers.cna", "cve5:cna", bad); err != nil {
		return nil, err
	}
	for i := range rec.Containers.ADP {
		a := &rec.Containers.ADP[i]
		name := a.Provider.ShortName
		if name == "" {
			name = fmt.Sprint(i)
		}
		if err := a.addTo(v, fmt.Sprintf("containers.adp[%d]", i), "cve5:adp:"+name, bad); err != nil {
			return nil, err
		}
	}
	return v, nil
}

func (c *cve5Container) addTo(v *firmward.Vulnerability, field, source string, bad func(field, value, reason string) error) error {
	for _, pt := range c.ProblemTypes {
		for _, d := range pt.Descriptions {
			v.CWEs = appendUnique(v.CWEs, d.CWEID)
		}
	}
	for _, ref := range c.References {
		v.References = appendUnique(v.References, ref.URL)
	}
	for i, a := range c.Affected {
		af := firmward.Affected{Source: source, Vendor: a.Vendor, Product: a.Product, Default: a.DefaultStatus}
		for j, cpe := range a.CPEs {
			if !strings.HasPrefix(cpe, "cpe:2.3:") {
				continue // CPE 2.2 URIs (cpe:/…) occur; only 2.3 names are kept
			}
			if err := firmward.ValidateCPE23(cpe); err != nil {
				return bad(fmt.Sprintf("%s.affected[%d].cpes[%d]", field, i, j), cpe, err.Error())
			}
			af.CPEs = append(af.CPEs, cpe)
		}
		for _, ver := range a.Versions {
			af.Versions = append(af.Versions, firmward.AffectedVersion(ver))
		}
		v.Affected = append(v.Affected, af)
	}
	provider := c.Provider.ShortName
	for i, m := range c.Metrics {
		for _, s := range []struct {
			name, version string
			c             *cve5CVSS
		}{{"cvssV4_0", "4.0", m.V40}, {"cvssV3_1", "3.1", m.V31}, {"cvssV3_0", "3.0", m.V30}, {"cvssV2_0", "2.0", m.V20}} {
			if s.c == nil {
				continue
			}
			f := fmt.Sprintf("%s.metrics[%d].%s", field, i, s.name)
			if s.c.VectorString == "" {
				return bad(f+".vectorString", "", "is missing")
			}
			if !checkScore(s.c.BaseScore) {
				return bad(f+".baseScore", fmt.Sprint(s.c.BaseScore), "is not a CVSS score in [0, 10]")
			}
			ver := s.c.Version
			if ver == "" {
				ver = s.version
			}
			v.CVSS = append(v.CVSS, firmward.CVSS{Version: ver, Vector: s.c.VectorString, BaseScore: s.c.BaseScore, Severity: s.c.BaseSeverity, Source: provider, Type: "Secondary"})
		}
		if m.Other != nil && strings.EqualFold(m.Other.Type, "ssvc") {
			ssvc, err := ssvcValues(m.Other.Content.Options, fmt.Sprintf("%s.metrics[%d].other.content.options", field, i), bad)
			if err != nil {
				return err
			}
			v.SSVC = ssvc
		}
	}
	return nil
}

// ssvcValues reads CISA's SSVC options, e.g. [{"Exploitation":"poc"},
// {"Automatable":"no"},{"Technical Impact":"total"}], with any case.
func ssvcValues(opts []map[string]string, field string, bad func(field, value, reason string) error) (*firmward.SSVCValues, error) {
	s := &firmward.SSVCValues{}
	for i, o := range opts {
		for k, val := range o {
			val = strings.ToLower(strings.TrimSpace(val))
			f := fmt.Sprintf("%s[%d].%s", field, i, k)
			key := strings.ToLower(strings.ReplaceAll(strings.ReplaceAll(k, " ", ""), "_", ""))
			switch key {
			case "exploitation":
				if val != "none" && val != "poc" && val != "active" {
					return nil, bad(f, val, "must be none, poc or active")
				}
				s.Exploitation = val
			case "automatable":
				if val != "yes" && val != "no" {
					return nil, bad(f, val, "must be yes or no")
				}
				s.Automatable = val
			case "technicalimpact":
				if val != "partial" && val != "total" {
					return nil, bad(f, val, "must be partial or total")
				}
				s.TechnicalImpact = val
			}
		}
	}
	return s, nil
}
