package assess

import (
	"math"
	"slices"
	"strings"
	"unique"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/vuln"
)

// Index holds vulnerability records and finds, for a device, the few that
// could apply to it: those naming its firmware or hardware product.
//
// Records are stored once, as pointers in one slice; the index maps keys
// to sorted lists of int32 positions in that slice. A key is a normalised
// vendor and product pair (lower case, spaces and hyphens as underscores,
// a trailing "_firmware" removed, so that a firmware CPE, the hardware
// CPE of the same model and a CVE 5.x "TP-Link" / "Archer AX21" entry
// share one key); keys are map keys, each stored once. The CPE criteria
// strings and version bounds of the records are interned with the
// standard library's unique package, since the same hardware platform
// names recur across thousands of CVEs.
//
// Normalising is broader than vuln's own name comparison, never narrower:
// Candidates may return records that MatchDevice then rejects, never miss
// one it would accept. Criteria whose vendor or product is not a plain
// value (ANY, NA or with wildcards, rare in NVD data) are kept in a list
// that every lookup returns.
//
// The Index also feeds a vuln.Catalog from the same records, for CPE
// proposals (see Catalog).
//
// Add must not run concurrently with anything else; once built, an Index
// may be read by any number of goroutines at once.
type Index struct {
	records  []*firmward.VulnerabilityRecord
	byID     map[string]int32   // CVE → position in records
	byName   map[string][]int32 // key(vendor, product) → positions
	byVendor map[string][]int32 // normalised vendor → positions
	wild     []int32            // records with a criterion naming no plain vendor or product
	cat      *vuln.Catalog
	ownCat   bool // cat is this Index's own, fed by Add (not a sub-index's borrowed one)
}

// NewIndex returns an empty Index.
func NewIndex() *Index {
	return &Index{
		byID:     make(map[string]int32),
		byName:   make(map[string][]int32),
		byVendor: make(map[string][]int32),
		cat:      vuln.NewCatalog(),
		ownCat:   true,
	}
}

// newSubIndex returns an empty Index whose Catalog is x's, for matching a
// few records with proposals from all of them; its Add does not change
// the catalog.
func newSubIndex(x *Index) *Index {
	return &Index{
		byID:     make(map[string]int32),
		byName:   make(map[string][]int32),
		byVendor: make(map[string][]int32),
		cat:      x.cat,
	}
}

// Record returns the record of CVE id, nil when it was not added.
func (x *Index) Record(id string) *firmward.VulnerabilityRecord {
	pos, ok := x.byID[id]
	if !ok {
		return nil
	}
	return x.records[pos]
}

// Len returns the number of records added.
func (x *Index) Len() int { return len(x.records) }

// Keys returns the number of distinct vendor/product keys indexed.
func (x *Index) Keys() int { return len(x.byName) }

// Catalog returns the catalog of products built from the records, for
// vuln.Propose. It must not be changed.
func (x *Index) Catalog() *vuln.Catalog { return x.cat }

// Add keeps v and indexes it by the vendor and product of every CPE
// criterion of its configurations (vulnerable and platform entries,
// children included) and of every Affected entry (its vendor and product
// and its CPEs). Add takes ownership of v: it drops the description,
// references and CWEs (matching and rating do not read them), interns the
// criteria and version-bound strings in place, and v must not be changed
// afterwards.
// A record that names no product is kept but never returned by
// Candidates.
//
// A CVE is kept once: a record for a CVE already added replaces it unless
// its LastModified is older (the yearly feeds and the "modified" feed
// overlap). The replaced record's names stay indexed, which only costs a
// candidate that matching then rejects.
func (x *Index) Add(v *firmward.VulnerabilityRecord) {
	if v == nil {
		return
	}
	// Only what matching and rating read is kept: the prose is dropped,
	// which is about a third of a full NVD index.
	v.Description, v.References, v.CWEs = "", nil, nil
	for i := range v.Sources {
		v.Sources[i] = intern(v.Sources[i])
	}
	for i := range v.CVSS { // few distinct vectors across 143,000 CVEs
		c := &v.CVSS[i]
		c.Version, c.Vector, c.Severity, c.Source, c.Type = intern(c.Version), intern(c.Vector), intern(c.Severity), intern(c.Source), intern(c.Type)
	}
	pos, ok := x.byID[v.ID]
	if ok {
		if v.LastModified.Before(x.records[pos].LastModified) {
			return
		}
		x.records[pos] = v
	} else {
		if len(x.records) >= math.MaxInt32 {
			panic("assess: more than 2^31-1 records")
		}
		pos = int32(len(x.records)) //nolint:gosec // bounded above
		x.records = append(x.records, v)
		x.byID[intern(v.ID)] = pos
	}
	if x.ownCat {
		x.cat.AddVulnerability(&v.Vulnerability)
	}

	v.EachMatch(func(m *firmward.CPEMatch) {
		internMatch(m)
		x.addCPE(m.Criteria, pos)
	})
	for i := range v.Affected {
		a := &v.Affected[i]
		if a.Vendor != "" && a.Product != "" {
			x.addKey(vuln.NormalName(a.Vendor), vuln.NormalProduct(a.Product), pos)
		}
		for j, s := range a.CPEs {
			a.CPEs[j] = intern(s)
			x.addCPE(a.CPEs[j], pos)
		}
	}
}

// addCPE indexes the record at pos under the vendor and product of the
// CPE name s; names that do not parse are skipped, names without a plain
// vendor or product go to the wild list.
func (x *Index) addCPE(s string, pos int32) {
	vendor, product, ok := names(s)
	switch {
	case ok:
		x.addKey(vendor, product, pos)
	case vendor != "":
		x.byVendor[vendor] = appendPos(x.byVendor[vendor], pos)
	default:
		if _, err := vuln.ParseCPE(s); err == nil {
			x.wild = appendPos(x.wild, pos)
		}
	}
}

func (x *Index) addKey(vendor, product string, pos int32) {
	k := key(vendor, product)
	x.byName[k] = appendPos(x.byName[k], pos)
}

// appendPos appends pos unless it is already last: positions are mostly
// added in increasing order, so lists stay nearly sorted and nearly free of
// duplicates (a replaced record breaks both; Candidates sorts and
// compacts).
func appendPos(list []int32, pos int32) []int32 {
	if n := len(list); n > 0 && list[n-1] == pos {
		return list
	}
	return append(list, pos)
}

// Candidates returns the records that could apply to a device with the
// firmware and hardware CPE names fw and hw (either may be empty): those
// indexed under the vendor and product of either name, in the order they
// were added, each once. A name whose product is not a plain value (ANY
// or with wildcards) selects every record of its vendor's products
// indexed by vendor only, which is then a superset to filter with
// vuln.MatchDevice; a name that does not parse selects nothing.
func (x *Index) Candidates(fw, hw string) []*firmward.VulnerabilityRecord {
	var lists [][]int32
	seen := ""
	for _, s := range []string{fw, hw} {
		if s == "" {
			continue
		}
		c, err := vuln.ParseCPE(s)
		if err != nil {
			continue
		}
		vendor, product, ok := wfnNames(c)
		switch {
		case ok:
			k := key(vendor, product)
			if k == seen {
				continue // firmware and hardware of one model share a key
			}
			seen = k
			lists = append(lists, x.byName[k], x.byVendor[vendor])
		case vendor != "":
			lists = append(lists, x.byVendor[vendor], x.vendorProducts(vendor))
		}
	}
	if len(lists) == 0 {
		return nil
	}
	lists = append(lists, x.wild)
	pos := mergeSorted(lists)
	out := make([]*firmward.VulnerabilityRecord, len(pos))
	for i, p := range pos {
		out[i] = x.records[p]
	}
	return out
}

// vendorProducts returns the positions indexed under any product of
// vendor; it scans the keys and serves only device names without a plain
// product, which the inventory rarely holds.
func (x *Index) vendorProducts(vendor string) []int32 {
	prefix := vendor + "\x00"
	var lists [][]int32
	for k, l := range x.byName {
		if strings.HasPrefix(k, prefix) {
			lists = append(lists, l)
		}
	}
	return mergeSorted(lists)
}

// mergeSorted returns the union of sorted lists, sorted and without
// duplicates.
func mergeSorted(lists [][]int32) []int32 {
	n := 0
	for _, l := range lists {
		n += len(l)
	}
	out := make([]int32, 0, n)
	for _, l := range lists {
		out = append(out, l...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// names returns the normalised vendor and product of CPE name s, ok false
// when either is not a plain value (vendor is still returned when it is
// one). The common case of a name without escapes is read without a full
// parse.
func names(s string) (vendor, product string, ok bool) {
	const prefix = "cpe:2.3:"
	if len(s) > len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		rest := s[len(prefix):]
		parts := strings.SplitN(rest, ":", 4)
		if len(parts) == 4 && plain(parts[1]) && plain(parts[2]) {
			return vuln.NormalName(parts[1]), vuln.NormalProduct(parts[2]), true
		}
	}
	c, err := vuln.ParseCPE(s)
	if err != nil {
		return "", "", false
	}
	return wfnNames(c)
}

// plain reports whether a formatted-string component is a literal value
// without escapes or wildcards.
func plain(s string) bool {
	return s != "" && s != "*" && s != "-" && !strings.ContainsAny(s, `\*?`)
}

// wfnNames returns the normalised vendor and product of a parsed name.
func wfnNames(c vuln.CPE) (vendor, product string, ok bool) {
	if !c.Vendor.IsConcrete() {
		return "", "", false
	}
	vendor = vuln.NormalName(c.Vendor.Text)
	if !c.Product.IsConcrete() {
		return vendor, "", false
	}
	return vendor, vuln.NormalProduct(c.Product.Text), true
}

// key joins a normalised vendor and product.
func key(vendor, product string) string { return vendor + "\x00" + product }

// intern returns the canonical copy of s.
func intern(s string) string {
	if s == "" {
		return ""
	}
	return unique.Make(s).Value()
}

func internMatch(m *firmward.CPEMatch) {
	m.Criteria = intern(m.Criteria)
	m.VersionStartIncluding = intern(m.VersionStartIncluding)
	m.VersionStartExcluding = intern(m.VersionStartExcluding)
	m.VersionEndIncluding = intern(m.VersionEndIncluding)
	m.VersionEndExcluding = intern(m.VersionEndExcluding)
}
