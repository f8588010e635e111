package radius

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	firmward "github.com/firmward/firmward"
	"github.com/firmward/firmward/nac"
)

// FuzzParseBody feeds arbitrary bodies to the rlm_rest parser and to the
// whole handler: no panic, an EINVALID error or a request, and the handler
// answers one of the documented statuses.
func FuzzParseBody(f *testing.F) {
	seeds := []string{
		freeradiusBody,
		`{}`,
		`{"User-Name":{"type":"string","value":["3cd9.2b00.0013"]}}`,
		`{"User-Name":{"type":"string","value":"3C-D9-2B-00-00-13"},"NAS-Identifier":{"type":"string","value":["sw1"]},"Acct-Status-Type":{"type":"integer","value":["Start"]}}`,
		`{"User-Name":{"type":"integer","value":[1e400]}}`,
		`{"NAS-IP-Address":{"type":"ipaddr","value":["::1"]},"User-Name":{"type":"string","value":["001122334455"]}}`,
		`{"A":{"type":"x","value":[true,1,"\u0000"]}}`,
		`[`, `{"A":`, `{"A":{"type":"s","value":[{}]}}`, "\xff\xfe",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	dir := dirFunc(func(mac string) (nac.Decision, error) {
		if strings.HasSuffix(mac, "13") {
			return nac.Decision{VLAN: "30"}, nil
		}
		return nac.Decision{}, firmward.Errorf(firmward.ENOTFOUND, "unknown")
	})
	h, err := NewHandler(Config{Secret: "fuzzing-secret-0123", Directory: dir, Sessions: NewSessions(0), Now: func() time.Time { return time.Unix(0, 0) }})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body string) {
		req, err := ParseBody([]byte(body))
		if err != nil {
			if firmward.ErrorCode(err) != firmward.EINVALID {
				t.Fatalf("error code %q: %v", firmward.ErrorCode(err), err)
			}
		} else if mac, err := req.MAC(); err == nil {
			if _, err := firmward.NormalizeMAC(mac); err != nil {
				t.Fatalf("MAC %q is not normal: %v", mac, err)
			}
		}
		for _, path := range []string{PathAuthorize, PathPostAuth, PathAccounting} {
			r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
			r.Header.Set(SecretHeader, "fuzzing-secret-0123")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			switch rec.Code {
			case 200, 204, 400, 401, 413:
			default:
				t.Fatalf("%s: status %d: %s", path, rec.Code, rec.Body)
			}
		}
	})
}

type dirFunc func(mac string) (nac.Decision, error)

func (f dirFunc) Decide(_ context.Context, mac string) (nac.Decision, error) { return f(mac) }
