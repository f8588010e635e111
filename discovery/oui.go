package discovery

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// DefaultOUIPath is where Debian's ieee-data package installs the IEEE MA-L
// registry.
const DefaultOUIPath = "/usr/share/ieee-data/oui.csv"

// OUI maps MAC address prefixes to the organisation the IEEE assigned them
// to. It reads the registry's CSV files (oui.csv, mam.csv, oui36.csv:
// Registry,Assignment,Organization Name,Organization Address).
type OUI struct {
	// orgs by upper-case hex prefix of 6 (MA-L), 7 (MA-M) or 9 (MA-S) digits.
	orgs map[string]string
}

// LoadOUI reads an IEEE registry CSV file. It fails when the file is missing
// or holds no assignment.
func LoadOUI(path string) (*OUI, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading the IEEE OUI registry: %w (install Debian's ieee-data or pass --oui)", err)
	}
	defer func() { _ = f.Close() }()
	o, err := ReadOUI(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return o, nil
}

// ReadOUI reads an IEEE registry CSV from r (at most 64 MiB).
func ReadOUI(r io.Reader) (*OUI, error) {
	cr := csv.NewReader(io.LimitReader(r, 64<<20))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	o := &OUI{orgs: map[string]string{}}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("not an IEEE registry CSV: %w", err)
		}
		if len(rec) < 3 || rec[0] == "Registry" {
			continue
		}
		a := strings.ToUpper(strings.TrimSpace(rec[1]))
		if (len(a) == 6 || len(a) == 7 || len(a) == 9) && isHex(a) {
			o.orgs[a] = strings.TrimSpace(rec[2])
		}
	}
	if len(o.orgs) == 0 {
		return nil, errors.New("no assignments in the IEEE registry file")
	}
	return o, nil
}

// Lookup returns the organisation of mac ("3c:d9:2b:00:00:13" or any
// separator), the longest registered prefix first, or "".
func (o *OUI) Lookup(mac string) string {
	if o == nil {
		return ""
	}
	hex := strings.ToUpper(strings.NewReplacer(":", "", "-", "", ".", "").Replace(mac))
	for _, n := range []int{9, 7, 6} {
		if len(hex) >= n {
			if org, ok := o.orgs[hex[:n]]; ok {
				return org
			}
		}
	}
	return ""
}

// Len returns how many assignments are loaded.
func (o *OUI) Len() int { return len(o.orgs) }

func isHex(s string) bool {
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'A' || c > 'F') {
			return false
		}
	}
	return true
}
