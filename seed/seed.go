// Package seed generates sample inventories: a home with about twenty
// gadgets (Home) and a hospital campus of any size (Enterprise). The
// devices carry real manufacturer and model names, plausible firmware
// versions, vendor MAC prefixes and CPE names, so that a new user sees the
// dashboard, filters and reports work on something that looks like their
// own network.
//
// Addresses are inventory data only: nothing in this package, or in the
// commands that import its output, ever contacts them.
//
// The package is pure: it imports the standard library and the domain only.
// Every device it returns passes firmward.Device.Normalize, and within one
// inventory every MAC address is unique.
package seed

import (
	"fmt"
	"math/rand/v2"
)

// macSet hands out unique MAC addresses under vendor prefixes.
type macSet struct {
	rnd  *rand.Rand
	seen map[string]bool
}

func newMACSet(rnd *rand.Rand) *macSet {
	return &macSet{rnd: rnd, seen: map[string]bool{}}
}

// next returns an unused MAC under the OUI oui ("00:40:8c"). An empty oui
// gives a locally administered unicast address (02:…), used for vendors
// whose IEEE assignment we do not know.
func (m *macSet) next(oui string) string {
	for {
		var mac string
		if oui == "" {
			mac = fmt.Sprintf("02:%02x:%02x:%02x:%02x:%02x",
				m.rnd.IntN(256), m.rnd.IntN(256), m.rnd.IntN(256), m.rnd.IntN(256), m.rnd.IntN(256))
		} else {
			mac = fmt.Sprintf("%s:%02x:%02x:%02x", oui, m.rnd.IntN(256), m.rnd.IntN(256), m.rnd.IntN(256))
		}
		if !m.seen[mac] {
			m.seen[mac] = true
			return mac
		}
	}
}
