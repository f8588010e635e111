// Package feeds holds streaming parsers of the vulnerability feeds firmward
// imports: NVD JSON 1.1 yearly feeds, NVD CVE API 2.0 response pages and
// single records, the CISA Known Exploited Vulnerabilities catalog, FIRST
// EPSS score files, CVE JSON 5.x records and CSAF 2.0 advisories.
//
// Every parser reads an io.Reader, plain or gzip-compressed (detected by
// its magic bytes), and calls a callback once per record, so memory stays
// bounded by the largest record, not by the file. Records are mapped into
// the root package's types (firmward.Vulnerability, firmward.KEVEntry,
// firmward.EPSSScore).
//
// A parser stops at the first bad record and returns an EINVALID
// *firmward.Error whose message names the record (its 1-based number and,
// when known, its CVE id) and whose detail names the field, for example
//
//	record 17 (CVE-2023-1389): configurations[0].nodes[0].cpeMatch[2].criteria: is not a CPE 2.3 name …
//
// Malformed or truncated input gives an EINVALID error with the byte
// offset. An error returned by the callback stops the parse and comes back
// wrapped (errors.Is and errors.As see it). Records delivered before an
// error are not taken back: a caller that wants all-or-nothing imports runs
// them in one transaction and rolls it back on error.
//
// The package is pure logic: it imports the standard library and the root
// package only, and holds no package-level mutable state.
package feeds
