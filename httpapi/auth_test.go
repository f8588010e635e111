package httpapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/firmward/firmward"
)

// archRoles is the role table of docs/ARCHITECTURE.md, written out again
// here so that the route table cannot drift from the documentation.
var archRoles = map[string]firmward.Role{
	"GET /healthz":                               "",
	"GET /metrics":                               "",
	"GET /api/v1/openapi.json":                   "",
	"GET /api/v1/whoami":                         firmward.RoleViewer,
	"GET /api/v1/devices":                        firmward.RoleViewer,
	"POST /api/v1/devices":                       firmward.RoleOperator,
	"GET /api/v1/devices/{id}":                   firmward.RoleViewer,
	"PATCH /api/v1/devices/{id}":                 firmward.RoleOperator,
	"DELETE /api/v1/devices/{id}":                firmward.RoleOperator,
	"GET /api/v1/devices/{id}/cpe":               firmward.RoleViewer,
	"PUT /api/v1/devices/{id}/cpe":               firmward.RoleOperator,
	"DELETE /api/v1/devices/{id}/cpe":            firmward.RoleOperator,
	"POST /api/v1/devices/import":                firmward.RoleOperator,
	"GET /api/v1/devices/export":                 firmward.RoleViewer,
	"GET /api/v1/stats/devices":                  firmward.RoleViewer,
	"GET /api/v1/tokens":                         firmward.RoleAdmin,
	"POST /api/v1/tokens":                        firmward.RoleAdmin,
	"DELETE /api/v1/tokens/{id}":                 firmward.RoleAdmin,
	"POST /api/v1/feeds/import":                  firmward.RoleOperator,
	"GET /api/v1/vulnerabilities":                firmward.RoleViewer,
	"GET /api/v1/vulnerabilities/{id}":           firmward.RoleViewer,
	"GET /api/v1/findings":                       firmward.RoleViewer,
	"GET /api/v1/findings/stats":                 firmward.RoleViewer,
	"GET /api/v1/findings/{id}":                  firmward.RoleViewer,
	"PATCH /api/v1/findings/{id}":                firmward.RoleOperator,
	"POST /api/v1/findings/assess":               firmward.RoleOperator,
	"GET /api/v1/eol":                            firmward.RoleViewer,
	"POST /api/v1/eol":                           firmward.RoleOperator,
	"POST /api/v1/eol/import":                    firmward.RoleOperator,
	"DELETE /api/v1/eol/{id}":                    firmward.RoleOperator,
	"GET /api/v1/open-firmware":                  firmward.RoleViewer,
	"POST /api/v1/open-firmware":                 firmward.RoleOperator,
	"DELETE /api/v1/open-firmware/{id}":          firmward.RoleOperator,
	"GET /api/v1/lifecycle/orphans":              firmward.RoleViewer,
	"GET /api/v1/devices/{id}/lifecycle":         firmward.RoleViewer,
	"PUT /api/v1/devices/{id}/operational-value": firmward.RoleOperator,
	"GET /api/v1/checks":                         firmward.RoleViewer,
	"GET /api/v1/checks/cadences":                firmward.RoleViewer,
	"PUT /api/v1/checks/cadences":                firmward.RoleOperator,
	"DELETE /api/v1/checks/cadences":             firmward.RoleOperator,
	"GET /api/v1/devices/{id}/checks":            firmward.RoleViewer,
	"POST /api/v1/devices/{id}/checks":           firmward.RoleOperator,
	"GET /api/v1/vendors":                        firmward.RoleViewer,
	"GET /api/v1/reports/compliance":             firmward.RoleViewer,
	"GET /api/v1/audit":                          firmward.RoleViewer,
	"GET /api/v1/audit/verify":                   firmward.RoleViewer,
	"GET /api/v1/nac/status":                     firmward.RoleViewer,
	"POST /api/v1/nac/devices/{id}/quarantine":   firmward.RoleOperator,
	"POST /api/v1/nac/devices/{id}/release":      firmward.RoleOperator,
	"POST /api/v1/nac/devices/{id}/exempt":       firmward.RoleOperator,
	"POST /api/v1/nac/devices/{id}/approve":      firmward.RoleAdmin,
	"GET /api/v1/nac/nft":                        firmward.RoleViewer,
	"GET /api/v1/nac/nas":                        firmward.RoleAdmin,
	"PUT /api/v1/nac/nas/{nas}":                  firmward.RoleAdmin,
	"DELETE /api/v1/nac/nas/{nas}":               firmward.RoleAdmin,
	"GET /api/v1/sites/{site}/nac":               firmward.RoleViewer,
	"PUT /api/v1/sites/{site}/nac":               firmward.RoleAdmin,
	"POST /api/v1/artifacts":                     firmward.RoleOperator,
	"GET /api/v1/releases":                       firmward.RoleViewer,
	"POST /api/v1/releases":                      firmward.RoleOperator,
	"GET /api/v1/releases/{id}":                  firmward.RoleViewer,
	"POST /api/v1/releases/{id}/withdraw":        firmward.RoleOperator,
	"POST /api/v1/releases/{id}/deploy":          firmward.RoleOperator,
	"GET /api/v1/actions":                        firmward.RoleViewer,
	"GET /api/v1/actions/{id}":                   firmward.RoleViewer,
	"POST /api/v1/actions/{id}/cancel":           firmward.RoleOperator,
	"GET /api/v1/campaigns":                      firmward.RoleViewer,
	"POST /api/v1/campaigns":                     firmward.RoleOperator,
	"GET /api/v1/campaigns/{id}":                 firmward.RoleViewer,
	"GET /api/v1/campaigns/{id}/members":         firmward.RoleViewer,
	"POST /api/v1/campaigns/{id}/approve":        firmward.RoleAdmin,
	"POST /api/v1/campaigns/{id}/start":          firmward.RoleOperator,
	"POST /api/v1/campaigns/{id}/pause":          firmward.RoleOperator,
	"POST /api/v1/campaigns/{id}/resume":         firmward.RoleOperator,
	"POST /api/v1/campaigns/{id}/cancel":         firmward.RoleOperator,
	"POST /api/v1/campaigns/{id}/rollback":       firmward.RoleOperator,
	"GET /api/v1/tasks":                          firmward.RoleViewer,
	"POST /api/v1/tasks/{id}/assign":             firmward.RoleOperator,
	"POST /api/v1/tasks/{id}/close":              firmward.RoleOperator,
	"POST /api/v1/devices/{id}/token":            firmward.RoleOperator,
	"POST /api/v1/scans":                         firmward.RoleOperator,
	"POST /api/v1/scans/import":                  firmward.RoleOperator,
	"GET /api/v1/scans":                          firmward.RoleViewer,
	"GET /api/v1/scans/{id}":                     firmward.RoleViewer,
	"GET /api/v1/conflicts":                      firmward.RoleViewer,
	"POST /api/v1/conflicts/{id}/accept":         firmward.RoleOperator,
	"POST /api/v1/conflicts/{id}/reject":         firmward.RoleOperator,
	"GET /api/v1/scan-schedules":                 firmward.RoleOperator,
	"GET /api/v1/sites/{site}/scan-schedule":     firmward.RoleOperator,
	"PUT /api/v1/sites/{site}/scan-schedule":     firmward.RoleOperator,
	"DELETE /api/v1/sites/{site}/scan-schedule":  firmward.RoleOperator,
	"GET /api/v1/alerts":                         firmward.RoleViewer,
	"POST /api/v1/alerts/{id}/ack":               firmward.RoleOperator,
	"GET /api/v1/notify/channels":                firmward.RoleOperator,
	"POST /api/v1/notify/channels":               firmward.RoleAdmin,
	"GET /api/v1/notify/channels/{id}":           firmward.RoleOperator,
	"PUT /api/v1/notify/channels/{id}":           firmward.RoleAdmin,
	"DELETE /api/v1/notify/channels/{id}":        firmward.RoleAdmin,
	"GET /api/v1/notify/recipients":              firmward.RoleOperator,
	"POST /api/v1/notify/recipients":             firmward.RoleOperator,
	"PUT /api/v1/notify/recipients/{id}":         firmward.RoleOperator,
	"DELETE /api/v1/notify/recipients/{id}":      firmward.RoleOperator,
	"GET /api/v1/notify/deliveries":              firmward.RoleOperator,
	"GET /api/v1/notify/deliveries/{id}":         firmward.RoleOperator,
	"POST /api/v1/notify/test":                   firmward.RoleOperator,
	"POST /api/v1/enroll":                        "", // public route: the enrollment key is checked by the handler
}

// concretePath fills the wildcards of a pattern with an id that names
// nothing, so that no request of the table changes anything that matters.
func concretePath(pattern string) string {
	return strings.ReplaceAll(pattern, "{id}", "999999")
}

func TestRoutesMatchRegistrationAndDocs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	routes := e.srv.Routes()

	inTable := map[string]bool{}
	for _, rt := range routes {
		key := rt.Method + " " + rt.Pattern
		if inTable[key] {
			t.Errorf("route %s is in the table twice", key)
		}
		inTable[key] = true
		want, ok := archRoles[key]
		switch {
		case !ok:
			t.Errorf("route %s is not in docs/ARCHITECTURE.md", key)
		case want != rt.Role:
			t.Errorf("route %s needs role %q, docs/ARCHITECTURE.md says %q", key, rt.Role, want)
		}
		if rt.Summary == "" {
			t.Errorf("route %s has no summary", key)
		}
		// The mux sends a request for the route to the route.
		_, got := e.srv.mux.Handler(httptest.NewRequest(rt.Method, concretePath(rt.Pattern), nil))
		if got != key {
			t.Errorf("%s %s reaches pattern %q, want %q", rt.Method, concretePath(rt.Pattern), got, key)
		}
	}
	for key := range archRoles {
		if !inTable[key] {
			t.Errorf("docs/ARCHITECTURE.md route %s is missing from Routes()", key)
		}
	}
	// Every pattern handed to the mux is a route of the table, except the
	// API's 404/405 fallback and what was mounted.
	e.srv.Mount("/", http.NotFoundHandler())
	for _, p := range e.srv.mux.patterns {
		if p != apiPrefix+"/" && !slices.Contains(e.srv.mounts, p) && !inTable[p] {
			t.Errorf("pattern %q is registered but missing from Routes()", p)
		}
	}
}

func TestAuthTable(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	revoked, revokedSecret, err := e.tokens.CreateToken(ctx, "revoked", firmward.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.tokens.RevokeToken(ctx, revoked.ID); err != nil {
		t.Fatal(err)
	}

	callers := []struct {
		name          string
		authorization string        // the header; "" sends none
		role          firmward.Role // "" when the caller is not authenticated
	}{
		{"no token", "", ""},
		{"bad token", "Bearer fwt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", ""},
		{"wrong scheme", "Basic " + e.secret[firmward.RoleAdmin], ""},
		{"empty bearer", "Bearer ", ""},
		{"revoked admin", "Bearer " + revokedSecret, ""},
		{"viewer", "Bearer " + e.secret[firmward.RoleViewer], firmward.RoleViewer},
		{"operator", "Bearer " + e.secret[firmward.RoleOperator], firmward.RoleOperator},
		{"admin", "bearer " + e.secret[firmward.RoleAdmin], firmward.RoleAdmin}, // scheme is case-insensitive
	}
	for _, rt := range e.srv.Routes() {
		for _, c := range callers {
			t.Run(rt.Method+" "+rt.Pattern+"/"+c.name, func(t *testing.T) {
				var header []string
				if c.authorization != "" {
					header = append(header, "Authorization", c.authorization)
				}
				body := ""
				switch {
				case rt.Pattern == apiPrefix+"/devices/import":
					header = append(header, "Content-Type", "text/csv")
					body = "name\n"
				case rt.Method == http.MethodPost || rt.Method == http.MethodPatch:
					body = "{}"
				}
				r := e.doSecret(t, rt.Method, concretePath(rt.Pattern), "", strings.NewReader(body), header...)
				if r.status >= 500 {
					t.Fatalf("status %d: %s", r.status, r.body)
				}
				switch {
				case rt.Pattern == apiPrefix+"/enroll":
					// Public, but the handler wants the enrollment key,
					// which no caller of this table sends.
					if r.status != http.StatusUnauthorized {
						t.Fatalf("status %d, want 401 without the enrollment key: %s", r.status, r.body)
					}
				case rt.Role == "" || (c.role != "" && c.role.Includes(rt.Role)):
					if r.status == http.StatusUnauthorized || r.status == http.StatusForbidden {
						t.Fatalf("status %d, want the request allowed: %s", r.status, r.body)
					}
				case c.role == "":
					if r.status != http.StatusUnauthorized {
						t.Fatalf("status %d, want 401: %s", r.status, r.body)
					}
					if got := r.apiError(t).Code; got != firmward.EUNAUTHORIZED {
						t.Errorf("code %q, want unauthorized", got)
					}
					if got := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
						t.Errorf("WWW-Authenticate = %q, want Bearer", got)
					}
				default:
					if r.status != http.StatusForbidden {
						t.Fatalf("status %d, want 403: %s", r.status, r.body)
					}
					apiErr := r.apiError(t)
					if apiErr.Code != firmward.EFORBIDDEN || !strings.Contains(apiErr.Message, string(rt.Role)) {
						t.Errorf("error %+v, want forbidden naming the %s role", apiErr, rt.Role)
					}
				}
			})
		}
	}
}
