package httpapi

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/assess"
	"github.com/firmward/firmward/lifecycle"
	"github.com/firmward/firmward/nac"
)

// renderOpenAPI builds the OpenAPI 3.1 document from the route table. The
// schemas are derived from the Go types by reflection over their JSON tags,
// so they cannot drift from what the handlers encode.
func (s *Server) renderOpenAPI() []byte {
	g := &schemaGen{schemas: map[string]any{}}
	for _, t := range []any{
		firmward.Device{},
		firmward.DeviceUpdate{},
		firmward.DeviceStats{},
		firmward.ImportResult{},
		firmward.Token{},
		firmward.AuditEvent{},
		firmward.AuditReport{},
		firmward.ErrorDetail{},
		DeviceList{},
		TokenList{},
		TokenRequest{},
		TokenCreated{},
		AuditList{},
		firmward.FeedImportResult{},
		firmward.VulnerabilityRecord{},
		VulnerabilityList{},
		firmward.Finding{},
		firmward.FindingUpdate{},
		FindingList{},
		assess.RunResult{},
		AssessRequest{},
		DeviceCPE{},
		CPERequest{},
		CPEResult{},
		firmward.FindingStats{},
		firmward.EOLEntry{},
		firmward.EOLImportResult{},
		firmward.OpenFirmwareModel{},
		firmward.OperationalValueAnswer{},
		firmward.CheckCadence{},
		firmward.HealthCheck{},
		EOLList{},
		OpenFirmwareList{},
		OrphanReport{},
		lifecycle.Assessment{},
		OperationalValueRequest{},
		CheckList{},
		CadenceList{},
		DeviceCheck{},
		VendorReport{},
		firmward.ScanRequest{},
		firmward.ScanRun{},
		firmward.ScanSchedule{},
		firmward.Conflict{},
		firmward.Alert{},
		ScanImport{},
		ScanRunList{},
		ScanDetail{},
		ConflictList{},
		ScheduleList{},
		AlertList{},
		firmward.NotifyChannel{},
		firmward.NotifyRecipient{},
		firmward.NotifyDelivery{},
		NotifyChannelList{},
		NotifyRecipientList{},
		NotifyDeliveryList{},
		NotifyDeliveryDetail{},
		NotifyTestRequest{},
		nac.Report{},
		NACActionRequest{},
		NACActionResult{},
		nac.Policy{},
		NASList{},
		NASRequest{},
		firmward.Release{},
		firmward.Action{},
		ReleaseList{},
		WithdrawRequest{},
		WithdrawResult{},
		DeployRequest{},
		ActionList{},
		ActionDetail{},
		DeviceTokenRequest{},
		DeviceTokenCreated{},
		EnrollRequest{},
		ArtifactSums{},
		firmward.Campaign{},
		firmward.Task{},
		CampaignRequest{},
		CampaignOpRequest{},
		CampaignList{},
		CampaignReport{},
		CampaignMemberList{},
		TaskList{},
		TaskAssignRequest{},
		TaskCloseRequest{},
	} {
		g.ref(reflect.TypeOf(t))
	}
	codes := []string{
		firmward.EINVALID, firmward.ENOTFOUND, firmward.ECONFLICT, firmward.EUNAUTHORIZED,
		firmward.EFORBIDDEN, firmward.ETOOLARGE, firmward.EINTERNAL, codeMethodNotAllowed,
	}
	g.schemas["Error"] = map[string]any{
		"type":        "object",
		"description": "Every error response. details lists individual problems (a field, a row of an import) when there are several.",
		"required":    []string{"error"},
		"properties": map[string]any{
			"error": map[string]any{
				"type":     "object",
				"required": []string{"code", "message"},
				"properties": map[string]any{
					"code":    map[string]any{"type": "string", "enum": codes},
					"message": map[string]any{"type": "string"},
					"details": map[string]any{"type": "array", "items": schemaRef("ErrorDetail")},
				},
			},
		},
	}
	g.schemas["OpenAPI"] = map[string]any{"type": "object", "description": "An OpenAPI 3.1 document."}

	paths := map[string]map[string]any{}
	for _, rt := range s.routes {
		if paths[rt.Pattern] == nil {
			paths[rt.Pattern] = map[string]any{}
		}
		paths[rt.Pattern][strings.ToLower(rt.Method)] = operation(rt)
	}
	doc := map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "firmward API",
			"version":     "v1",
			"description": "Management API of firmward, the IoT patch-management platform. Send an API token as \"Authorization: Bearer fwt_…\"; each operation names the weakest role allowed in x-firmward-role.",
		},
		"security": []any{map[string]any{"bearer": []string{}}},
		"paths":    paths,
		"components": map[string]any{
			"schemas": g.schemas,
			"securitySchemes": map[string]any{
				"bearer": map[string]any{"type": "http", "scheme": "bearer", "description": "An API token (fwt_…) from `firmward token create` or POST /api/v1/tokens."},
			},
		},
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		panic(fmt.Sprintf("httpapi: rendering the OpenAPI document: %v", err)) // only maps of plain values above
	}
	return append(b, '\n')
}

// operation describes one route.
func operation(rt route) map[string]any {
	op := map[string]any{
		"operationId": operationID(rt.Route),
		"summary":     rt.Summary,
	}
	if rt.Role == "" {
		op["security"] = []any{} // public
	} else {
		op["x-firmward-role"] = string(rt.Role)
	}

	var params []any
	for _, name := range pathParams(rt.Pattern) {
		schema := map[string]any{"type": "integer", "format": "int64", "minimum": 1}
		if name != "id" { // {site}, {tenant}: names
			schema = map[string]any{"type": "string", "minLength": 1}
		}
		params = append(params, map[string]any{"name": name, "in": "path", "required": true, "schema": schema})
	}
	for _, p := range rt.query {
		params = append(params, map[string]any{"name": p.name, "in": "query", "description": p.desc, "schema": p.schema})
	}
	if len(params) > 0 {
		op["parameters"] = params
	}

	switch {
	case rt.requestBody != "":
		op["requestBody"] = map[string]any{
			"required": true,
			"content":  map[string]any{"application/json": map[string]any{"schema": schemaRef(rt.requestBody)}},
		}
	case rt.feedBody:
		op["requestBody"] = map[string]any{
			"required":    true,
			"description": "One feed file as it was downloaded: NVD JSON 1.1 or CVE API 2.0, CISA KEV JSON, FIRST EPSS CSV, CVE JSON 5.x or CSAF 2.0; plain or gzip. The format is detected from the content.",
			"content":     map[string]any{"application/octet-stream": map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}},
		}
	case rt.blobBody:
		op["requestBody"] = map[string]any{
			"required":    true,
			"description": "The artifact file, as is.",
			"content":     map[string]any{"application/octet-stream": map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}},
		}
	case rt.eolBody:
		op["requestBody"] = map[string]any{
			"required":    true,
			"description": "CSV with a header row (manufacturer, model, release_date, end_of_support, source; manufacturer and end_of_support required), or a JSON array of entries.",
			"content": map[string]any{
				"text/csv":         map[string]any{"schema": map[string]any{"type": "string"}},
				"application/json": map[string]any{"schema": map[string]any{"type": "array", "items": schemaRef("EOLEntry")}},
			},
		}
	case rt.importBody:
		op["requestBody"] = map[string]any{
			"required":    true,
			"description": "CSV with a header row (columns as in GET /api/v1/devices/export?format=csv), or a JSON array of devices.",
			"content": map[string]any{
				"text/csv":         map[string]any{"schema": map[string]any{"type": "string"}},
				"application/json": map[string]any{"schema": map[string]any{"type": "array", "items": schemaRef("Device")}},
			},
		}
	}

	responses := map[string]any{}
	ok := map[string]any{"description": http.StatusText(rt.status)}
	switch {
	case rt.response != "":
		ok["content"] = map[string]any{"application/json": map[string]any{"schema": schemaRef(rt.response)}}
	case rt.contentType == "text/csv":
		ok["content"] = map[string]any{
			"text/csv":         map[string]any{"schema": map[string]any{"type": "string"}},
			"application/json": map[string]any{"schema": map[string]any{"type": "array", "items": schemaRef("Device")}},
		}
	case rt.contentType != "":
		ok["content"] = map[string]any{rt.contentType: map[string]any{"schema": map[string]any{"type": "string"}}}
	}
	responses[strconv.Itoa(rt.status)] = ok

	errs := append([]int{}, rt.errors...)
	if rt.Role != "" {
		errs = append(errs, http.StatusUnauthorized, http.StatusForbidden)
	}
	if strings.HasPrefix(rt.Pattern, apiPrefix+"/") {
		errs = append(errs, http.StatusInternalServerError)
	}
	for _, code := range errs {
		resp := map[string]any{"description": http.StatusText(code)}
		if rt.contentType == "text/plain" {
			resp["content"] = map[string]any{"text/plain": map[string]any{"schema": map[string]any{"type": "string"}}}
		} else {
			resp["content"] = map[string]any{"application/json": map[string]any{"schema": schemaRef("Error")}}
		}
		responses[strconv.Itoa(code)] = resp
	}
	op["responses"] = responses
	return op
}

// operationID derives a stable id: "GET /api/v1/devices/{id}" is
// getDevicesById.
func operationID(r Route) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(r.Method))
	for _, seg := range strings.FieldsFunc(strings.TrimPrefix(r.Pattern, apiPrefix), func(c rune) bool { return c == '/' || c == '.' }) {
		if name, ok := strings.CutPrefix(seg, "{"); ok {
			seg = "by_" + strings.TrimSuffix(name, "}")
		}
		for _, word := range strings.Split(seg, "_") {
			if word != "" {
				b.WriteString(strings.ToUpper(word[:1]) + word[1:])
			}
		}
	}
	return b.String()
}

// pathParams lists the {names} in a pattern.
func pathParams(pattern string) []string {
	var names []string
	for rest := pattern; ; {
		_, after, ok := strings.Cut(rest, "{")
		if !ok {
			return names
		}
		name, tail, _ := strings.Cut(after, "}")
		names = append(names, strings.TrimSuffix(name, "..."))
		rest = tail
	}
}

func schemaRef(name string) map[string]any {
	return map[string]any{"$ref": "#/components/schemas/" + name}
}

// enumValues lists the values of the domain's enum types.
var enumValues = map[reflect.Type][]string{
	reflect.TypeFor[firmward.Category]():        names(firmward.Categories),
	reflect.TypeFor[firmward.Criticality]():     names(firmward.Criticalities),
	reflect.TypeFor[firmward.Exposure]():        names(firmward.Exposures),
	reflect.TypeFor[firmward.UpdateMechanism](): append([]string{""}, names(firmward.UpdateMechanisms)...),
	reflect.TypeFor[firmward.AutoUpdate]():      names(firmward.AutoUpdates),
	reflect.TypeFor[firmward.Source]():          names(firmward.Sources),
	reflect.TypeFor[firmward.Role]():            names(firmward.Roles),
	reflect.TypeFor[firmward.FindingStatus]():   names(firmward.FindingStatuses),
}

func names[T ~string](values []T) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}

// schemaGen derives JSON Schemas from Go types; named structs become
// components.
type schemaGen struct {
	schemas map[string]any
}

var timeType = reflect.TypeFor[time.Time]()

// ref returns the schema of t, registering named structs as components.
func (g *schemaGen) ref(t reflect.Type) map[string]any {
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t.Kind() == reflect.Pointer:
		return nullable(g.ref(t.Elem()))
	case enumValues[t] != nil:
		return map[string]any{"type": "string", "enum": enumValues[t]}
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int32:
		return map[string]any{"type": "integer"}
	case reflect.Int64:
		return map[string]any{"type": "integer", "format": "int64"}
	case reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice:
		return nullable(map[string]any{"type": "array", "items": g.ref(t.Elem())})
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.ref(t.Elem())}
	case reflect.Struct:
		if _, done := g.schemas[t.Name()]; !done {
			g.schemas[t.Name()] = nil // placeholder: recursion stops here
			g.schemas[t.Name()] = g.object(t)
		}
		return schemaRef(t.Name())
	}
	panic("httpapi: no JSON schema for " + t.String())
}

// object describes a struct by its JSON fields.
func (g *schemaGen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	g.fields(t, props, &required)
	out := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 && t != reflect.TypeFor[firmward.Device]() {
		// A Device's fields are all present in answers, but only name is
		// needed to create one.
		out["required"] = required
	}
	return out
}

// fields adds the JSON properties of struct t to props; the fields of an
// embedded struct without a JSON name are flattened, as encoding/json does.
func (g *schemaGen) fields(t reflect.Type, props map[string]any, required *[]string) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			g.fields(f.Type, props, required)
			continue
		}
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		props[name] = g.ref(f.Type)
		if !strings.Contains(opts, "omitempty") && f.Type.Kind() != reflect.Pointer {
			*required = append(*required, name)
		}
	}
}

// nullable lets s also be null.
func nullable(s map[string]any) map[string]any {
	if ref, ok := s["$ref"]; ok {
		return map[string]any{"oneOf": []any{map[string]any{"$ref": ref}, map[string]any{"type": "null"}}}
	}
	out := maps.Clone(s)
	if typ, ok := s["type"].(string); ok {
		out["type"] = []string{typ, "null"}
	}
	if enum, ok := s["enum"].([]string); ok {
		out["enum"] = append(append([]any{}, anySlice(enum)...), nil)
	}
	return out
}

func anySlice(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
