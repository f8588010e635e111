// Package vuln decides which vulnerabilities apply to which devices. It is
// pure logic over the firmward domain types: no I/O, no clock, no
// package-level state, and only the standard library and the root package.
//
// It has five parts:
//
//   - CPE 2.3 names (ParseCPE, CPE.String, CompareAttr, MatchCPE): the
//     formatted-string binding unbound into a well-formed name with its
//     escapes removed, ANY and NA, wildcards at the ends of values, and
//     name matching as NISTIR 7696 defines it, without regard to case.
//
//   - Firmware versions (CompareVersions): a total order over the version
//     strings vendors actually write ("1.1.4 Build 20230219 rel.60034",
//     "R7000-V1.0.11.116_10.2.100", "3.0.0.4.388_24198", "7.1.1-42962").
//
//   - Version ranges (InRange): the four bounds of an NVD cpeMatch, and the
//     difference between "affected" and "possibly affected" when the
//     advisory names no versions.
//
//   - Applicability (MatchDevice): NVD configuration trees evaluated for one
//     device with its own hardware, falling back to CVE 5.x / CSAF
//     affected[] data when NVD has no configuration; each Match explains
//     itself.
//
//   - Propose suggests a device's firmware and hardware CPEs from its
//     manufacturer and model, through a vendor alias table and a Catalog of
//     the products present in the imported data, with a confidence and
//     alternatives; an explicit CPE on the device always wins.
package vuln
