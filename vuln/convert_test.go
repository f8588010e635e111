package vuln

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/firmward/firmward"
)

// This file is a test-only converter from NVD CVE API 2.0 JSON and CVE 5.x
// JSON to firmward.Vulnerability; the real feed parsers live in package
// feeds, which vuln must not import.

type nvdFile struct {
	Vulnerabilities []struct {
		CVE nvdCVE `json:"cve"`
	} `json:"vulnerabilities"`
}

type nvdCVE struct {
	ID           string `json:"id"`
	Descriptions []struct {
		Lang  string `json:"lang"`
		Value string `json:"value"`
	} `json:"descriptions"`
	Configurations []struct {
		Operator string    `json:"operator"`
		Negate   bool      `json:"negate"`
		Nodes    []nvdNode `json:"nodes"`
	} `json:"configurations"`
}

type nvdNode struct {
	Operator string     `json:"operator"`
	Negate   bool       `json:"negate"`
	CPEMatch []nvdMatch `json:"cpeMatch"`
	Children []nvdNode  `json:"children"` // not in 2.0; accepted for 1.1-shaped trees
}

type nvdMatch struct {
	Vulnerable            bool   `json:"vulnerable"`
	Criteria              string `json:"criteria"`
	VersionStartIncluding string `json:"versionStartIncluding"`
	VersionStartExcluding string `json:"versionStartExcluding"`
	VersionEndIncluding   string `json:"versionEndIncluding"`
	VersionEndExcluding   string `json:"versionEndExcluding"`
}

func (n nvdNode) node() firmward.Node {
	out := firmward.Node{Operator: n.Operator, Negate: n.Negate}
	for _, m := range n.CPEMatch {
		out.Matches = append(out.Matches, firmward.CPEMatch(m))
	}
	for _, c := range n.Children {
		out.Children = append(out.Children, c.node())
	}
	return out
}

func (c nvdCVE) vulnerability() firmward.Vulnerability {
	v := firmward.Vulnerability{ID: c.ID, Sources: []string{"nvd-2.0"}}
	for _, d := range c.Descriptions {
		if d.Lang == "en" {
			v.Description = d.Value
		}
	}
	for _, cfg := range c.Configurations {
		fc := firmward.Configuration{Operator: cfg.Operator, Negate: cfg.Negate}
		for _, n := range cfg.Nodes {
			fc.Nodes = append(fc.Nodes, n.node())
		}
		v.Configurations = append(v.Configurations, fc)
	}
	return v
}

// loadNVD20 reads an NVD API 2.0 response (or feed) file.
func loadNVD20(tb testing.TB, path string) []firmward.Vulnerability {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var f nvdFile
	if err := json.Unmarshal(data, &f); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	out := make([]firmward.Vulnerability, 0, len(f.Vulnerabilities))
	for _, v := range f.Vulnerabilities {
		out = append(out, v.CVE.vulnerability())
	}
	return out
}

// loadExcerpt returns the testdata excerpt's record of one CVE.
func loadExcerpt(tb testing.TB, id string) *firmward.Vulnerability {
	tb.Helper()
	for _, v := range loadNVD20(tb, "testdata/nvd20-excerpt.json") {
		if v.ID == id {
			return &v
		}
	}
	tb.Fatalf("%s not in testdata/nvd20-excerpt.json", id)
	return nil
}

type cve5Affected struct {
	Vendor        string   `json:"vendor"`
	Product       string   `json:"product"`
	CPEs          []string `json:"cpes"`
	DefaultStatus string   `json:"defaultStatus"`
	Versions      []struct {
		Version         string `json:"version"`
		Status          string `json:"status"`
		VersionType     string `json:"versionType"`
		LessThan        string `json:"lessThan"`
		LessThanOrEqual string `json:"lessThanOrEqual"`
	} `json:"versions"`
}

type cve5Record struct {
	CVEMetadata struct {
		CVEID string `json:"cveId"`
	} `json:"cveMetadata"`
	Containers struct {
		CNA struct {
			Affected []cve5Affected `json:"affected"`
		} `json:"cna"`
		ADP []struct {
			ProviderMetadata struct {
				ShortName string `json:"shortName"`
			} `json:"providerMetadata"`
			Affected []cve5Affected `json:"affected"`
		} `json:"adp"`
	} `json:"containers"`
}

func (a cve5Affected) affected(source string) firmward.Affected {
	out := firmward.Affected{Source: source, Vendor: a.Vendor, Product: a.Product, CPEs: a.CPEs, Default: a.DefaultStatus}
	for _, v := range a.Versions {
		out.Versions = append(out.Versions, firmward.AffectedVersion{
			Version: v.Version, LessThan: v.LessThan, LessThanOrEqual: v.LessThanOrEqual,
			Status: v.Status, VersionType: v.VersionType,
		})
	}
	return out
}

// loadCVE5 reads a CVE JSON 5.x record into a Vulnerability without
// configurations, its affected[] data from the CNA and the ADPs.
func loadCVE5(tb testing.TB, path string) *firmward.Vulnerability {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var r cve5Record
	if err := json.Unmarshal(data, &r); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	v := &firmward.Vulnerability{ID: r.CVEMetadata.CVEID, Sources: []string{"cve5"}}
	for _, a := range r.Containers.CNA.Affected {
		v.Affected = append(v.Affected, a.affected("cve5:cna"))
	}
	for _, adp := range r.Containers.ADP {
		for _, a := range adp.Affected {
			v.Affected = append(v.Affected, a.affected("cve5:adp:"+adp.ProviderMetadata.ShortName))
		}
	}
	return v
}
