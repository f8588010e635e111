package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/firmward/firmward"
)

// FuzzCreateDevice sends arbitrary bodies to POST /api/v1/devices: the
// server must never panic (a panic would be a 500) nor answer 5xx, and every
// refusal must be in the error shape.
func FuzzCreateDevice(f *testing.F) {
	for _, seed := range []string{
		`{"name":"cam","category":"camera","macs":["AA-BB-CC-DD-EE-FF"],"ips":["10.0.0.1"]}`,
		`{"name":"x","cpe":"cpe:2.3:o:avm:fritz\\!os:7.57:*:*:*:*:*:*:*","eol_date":"2030-01-01"}`,
		`{"name":"x","first_seen":"2025-01-01T00:00:00Z","last_seen":"2024-01-01T00:00:00Z"}`,
		`{"name":"x","replacement_cost":-1}`,
		`{"name":"x","replacement_cost":1e308,"tags":["A","a","b/c"]}`,
		`{"name":"\u0000"}`,
		`{"name":"x","source":"scan","auto_update":"YES","update_mechanism":"vendor_cloud"}`,
		`{"name":"x","macs":null,"tags":null,"first_seen":null}`,
		`{"name":1}`,
		`{"name":"x"}garbage`,
		`[]`,
		`null`,
		`"name"`,
		`{"name":"x","id":-1,"created_at":"9999-12-31T23:59:59Z"}`,
		`{"name":"x","first_seen":"0001-01-01T00:00:00Z"}`,
		"{\"name\":\"\xff\xfe\"}",
		``,
	} {
		f.Add(seed)
	}
	e := newEnv(f)
	h := e.srv.Handler()
	secret := e.secret[firmward.RoleOperator]
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/devices", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+secret)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		res := response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
		switch {
		case res.status >= 500:
			t.Fatalf("status %d for %q: %s", res.status, body, res.body)
		case res.status != http.StatusCreated:
			res.apiError(t)
		}
	})
}
