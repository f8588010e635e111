package risk

import "testing"

// BenchmarkAssess measures one assessment of a real finding with a CVSS 4.0
// and a 3.1 score and an EPSS score (CVE-2024-7029).
func BenchmarkAssess(b *testing.B) {
	b.ReportAllocs()
	var a Assessment
	for b.Loop() {
		a = Assess(avtech)
	}
	if a.Decision == "" {
		b.Fatal("no decision")
	}
}
