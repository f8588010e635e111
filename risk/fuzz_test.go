package risk

import (
	"testing"

	"github.com/firmward/firmward"
)

func FuzzParseVector(f *testing.F) {
	for _, s := range []string{
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", avtech.CVSS[0].Vector,
		"AV:N/AC:L/Au:N/C:P/I:P/A:P", "(AV:N/AC:L/Au:N/C:P/I:P/A:P)", "CVSS:3.0/", "", "CVSS:", "::/", "CVSS:2.0/AV:N",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseVector(s)
		if err != nil {
			if firmward.ErrorCode(err) != firmward.EINVALID {
				t.Fatalf("error %v is not EINVALID", err)
			}
			return
		}
		if v.Version == "" || v.AV == "" || v.AC == "" || v.C == "" || v.I == "" || v.A == "" {
			t.Fatalf("accepted %q with a missing metric: %+v", s, v)
		}
		_, _ = v.Automatable(), v.HighImpact()
	})
}

func FuzzParsePolicy(f *testing.F) {
	for _, s := range []string{
		"", "immediate=7d,out-of-cycle=30d,scheduled=90d", "defer=none", "immediate=36h0m0s", "scheduled=3650d",
		"x", "=,=", "immediate=9223372036854775807d", "immediate=1ns",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePolicy(s)
		if err != nil {
			if firmward.ErrorCode(err) != firmward.EINVALID {
				t.Fatalf("error %v is not EINVALID", err)
			}
			return
		}
		again, err := ParsePolicy(p.String())
		if err != nil || again != p {
			t.Fatalf("%q → %+v → %q → %+v, %v", s, p, p.String(), again, err)
		}
	})
}
