package httpapi

import (
	"net/http"
	"slices"

	"github.com/firmward/firmward"
)

// apiPrefix is where the REST API lives.
const apiPrefix = "/api/v1"

// route is one row of the route table: the public Route plus what the
// handler and the OpenAPI document need.
type route struct {
	Route
	handler http.HandlerFunc

	query       []param // accepted query parameters
	requestBody string  // schema of the JSON request body; "" for none
	importBody  bool    // the body is a CSV or JSON upload of devices
	feedBody    bool    // the body is a vulnerability feed file
	status      int     // status of success
	response    string  // schema of the JSON success body; "" for none
	contentType string  // of the success body when not JSON
	errors      []int   // error statuses besides 401/403/500
}

// param is a query parameter.
type param struct {
	name   string
	desc   string
	schema map[string]any
}

func stringParam(name, desc string) param {
	return param{name: name, desc: desc, schema: map[string]any{"type": "string"}}
}

func enumParamDoc[T ~string](name, desc string, values []T) param {
	vals := make([]string, len(values))
	for i, v := range values {
		vals[i] = string(v)
	}
	return param{name: name, desc: desc, schema: map[string]any{"type": "string", "enum": vals}}
}

var (
	deviceFilterParams = []param{
		enumParamDoc("category", "Only devices of this category.", firmward.Categories),
		enumParamDoc("criticality", "Only devices of this criticality.", firmward.Criticalities),
		enumParamDoc("exposure", "Only devices of this exposure.", firmward.Exposures),
		enumParamDoc("update_mechanism", "Only devices updated this way (see missing=update_mechanism for unknown).", firmward.UpdateMechanisms),
		stringParam("manufacturer", "Manufacturer, exact, any case."),
		stringParam("site", "Site, exact, any case."),
		stringParam("tag", "Devices carrying this tag."),
		stringParam("q", "Case-insensitive substring of name, manufacturer, model, serial, location, owner, notes, MACs or IPs."),
		enumParamDoc("missing", "Only devices where this field is unknown.", []string{"firmware_version", "update_mechanism"}),
	}
	pageParams = []param{
		stringParam("cursor", "next_cursor of the previous page; opaque."),
		{name: "limit", desc: "Page size.", schema: map[string]any{"type": "integer", "minimum": 1, "maximum": firmward.MaxPageSize, "default": firmward.DefaultPageSize}},
	}
	formatParam       = enumParamDoc("format", "File format; without it, the Content-Type (text/csv or application/json) of an upload, or json for an export.", []string{"csv", "json"})
	dryRunParam       = param{name: "dry_run", desc: "Validate everything, store nothing.", schema: map[string]any{"type": "boolean", "default": false}}
	auditFilterParams = []param{
		stringParam("object_type", "Only events about this kind of object (device, token, …)."),
		stringParam("object_id", "Only events about this object."),
		stringParam("action", "Only this action (device.create, token.revoke, …)."),
		stringParam("actor", "Only events by this actor, as shown in events (token:3(alice))."),
		enumParamDoc("order", "oldest first (default) or newest first.", []string{"oldest", "newest"}),
	}

	// The parameters of each route that takes any; handlers accept exactly these.
	listDevicesParams = slices.Concat(deviceFilterParams, pageParams)
	exportParams      = slices.Concat([]param{formatParam}, deviceFilterParams)
	importParams      = []param{formatParam, dryRunParam}
	listAuditParams   = slices.Concat(auditFilterParams, pageParams)
)

// routeTable is the single list of routes. Registration, Routes, the OpenAPI
// document and the tests all read it.
func (s *Server) routeTable() []route {
	viewer, operator, admin := firmward.RoleViewer, firmward.RoleOperator, firmward.RoleAdmin
	return []route{
		{
			Route:   Route{"GET", "/healthz", "", "Readiness: 200 ok when the server can serve, 503 otherwise."},
			handler: s.handleHealthz, status: 200, contentType: "text/plain", errors: []int{503},
		},
		{
			Route:   Route{"GET", "/metrics", "", "Prometheus metrics, text format."},
			handler: s.handleMetrics, status: 200, contentType: "text/plain",
		},
		{
			Route:   Route{"GET", apiPrefix + "/openapi.json", "", "This OpenAPI document."},
			handler: s.handleOpenAPI, status: 200, response: "OpenAPI",
		},
		{
			Route:   Route{"GET", apiPrefix + "/whoami", viewer, "The token making the request (without its secret)."},
			handler: s.handleWhoami, status: 200, response: "Token",
		},

		{
			Route:   Route{"GET", apiPrefix + "/devices", viewer, "List devices, one page at a time, ordered by id."},
			handler: s.handleListDevices, query: listDevicesParams,
			status: 200, response: "DeviceList", errors: []int{400},
		},
		{
			Route:   Route{"POST", apiPrefix + "/devices", operator, "Create a device; answers 201 with the device and its Location."},
			handler: s.handleCreateDevice, requestBody: "Device", status: 201, response: "Device", errors: []int{400, 409, 413},
		},
		{
			Route:   Route{"GET", apiPrefix + "/devices/{id}", viewer, "One device."},
			handler: s.handleGetDevice, status: 200, response: "Device", errors: []int{404},
		},
		{
			Route:   Route{"PATCH", apiPrefix + "/devices/{id}", operator, "Change the fields given; the others stay as they are."},
			handler: s.handleUpdateDevice, requestBody: "DeviceUpdate", status: 200, response: "Device", errors: []int{400, 404, 409, 413},
		},
		{
			Route:   Route{"DELETE", apiPrefix + "/devices/{id}", operator, "Delete a device."},
			handler: s.handleDeleteDevice, status: 204, errors: []int{404},
		},
		{
			Route:   Route{"GET", apiPrefix + "/devices/{id}/cpe", viewer, "The device's CPE name and what firmward proposes from its manufacturer and model: firmware and hardware names with a confidence, alternatives and an explanation."},
			handler: s.handleGetDeviceCPE, status: 200, response: "DeviceCPE", errors: []int{404},
		},
		{
			Route:   Route{"PUT", apiPrefix + "/devices/{id}/cpe", operator, "Confirm the proposed CPE name, pick an alternative or set another; the device change and the choice (with the confidence proposed) are audited."},
			handler: s.handleSetDeviceCPE, requestBody: "CPERequest", status: 200, response: "CPEResult", errors: []int{400, 404, 409, 413},
		},
		{
			Route:   Route{"DELETE", apiPrefix + "/devices/{id}/cpe", operator, "Clear the device's CPE name, so that matching uses firmward's proposal again; audited."},
			handler: s.handleClearDeviceCPE, query: []param{reasonParam}, status: 200, response: "CPEResult", errors: []int{400, 404},
		},
		{
			Route:   Route{"POST", apiPrefix + "/devices/import", operator, "Import devices from CSV or JSON: all rows or none; a 400 lists every bad row."},
			handler: s.handleImportDevices, query: importParams, importBody: true,
			status: 200, response: "ImportResult", errors: []int{400, 409, 413},
		},
		{
			Route:   Route{"GET", apiPrefix + "/devices/export", viewer, "Export every device (or those matching the filters) as a CSV or JSON attachment."},
			handler: s.handleExportDevices, query: exportParams,
			status: 200, contentType: "text/csv", errors: []int{400},
		},
		{
			Route:   Route{"GET", apiPrefix + "/stats/devices", viewer, "Device counts for the dashboard."},
			handler: s.handleDeviceStats, status: 200, response: "DeviceStats",
		},

		{
			Route:   Route{"GET", apiPrefix + "/tokens", admin, "List API tokens, revoked ones included."},
			handler: s.handleListTokens, status: 200, response: "TokenList",
		},
		{
			Route:   Route{"POST", apiPrefix + "/tokens", admin, "Create an API token; its secret is in this answer only."},
			handler: s.handleCreateToken, requestBody: "TokenRequest", status: 201, response: "TokenCreated", errors: []int{400, 413},
		},
		{
			Route:   Route{"DELETE", apiPrefix + "/tokens/{id}", admin, "Revoke an API token."},
			handler: s.handleRevokeToken, status: 204, errors: []int{404, 409},
		},

		{
			Route:   Route{"POST", apiPrefix + "/feeds/import", operator, "Import one vulnerability feed file (NVD 1.1 or 2.0, CISA KEV, FIRST EPSS, CVE 5.x, CSAF 2.0; plain or gzip) sent as the body: every record or none."},
			handler: s.handleImportFeed, query: feedImportParams, feedBody: true,
			status: 200, response: "FeedImportResult", errors: []int{400, 413},
		},
		{
			Route:   Route{"GET", apiPrefix + "/vulnerabilities", viewer, "List stored CVEs (merged across sources), one page at a time, ordered by id."},
			handler: s.handleListVulnerabilities, query: listVulnParams,
			status: 200, response: "VulnerabilityList", errors: []int{400},
		},
		{
			Route:   Route{"GET", apiPrefix + "/vulnerabilities/{id}", viewer, "One CVE: its records merged across sources, with its KEV entry and EPSS score."},
			handler: s.handleGetVulnerability, status: 200, response: "VulnerabilityRecord", errors: []int{400, 404},
		},

		{
			Route:   Route{"GET", apiPrefix + "/findings", viewer, "List findings (open ones unless status says otherwise), most urgent first, with filters."},
			handler: s.handleListFindings, query: listFindingParams,
			status: 200, response: "FindingList", errors: []int{400},
		},
		{
			Route:   Route{"GET", apiPrefix + "/findings/stats", viewer, "Fleet-wide counts of open findings (by decision, top vendors, KEV, overdue) and the number overdue at the end of each of the last days."},
			handler: s.handleFindingStats, query: findingStatsParams, status: 200, response: "FindingStats", errors: []int{400},
		},
		{
			Route:   Route{"GET", apiPrefix + "/findings/{id}", viewer, "One finding, with the evidence of the match and what decides its urgency."},
			handler: s.handleGetFinding, status: 200, response: "Finding", errors: []int{404},
		},
		{
			Route:   Route{"PATCH", apiPrefix + "/findings/{id}", operator, "Set a finding's status: open, mitigated (with a note), risk-accepted (until a date) or not-affected (with a VEX justification); audited."},
			handler: s.handleUpdateFinding, requestBody: "FindingUpdate", status: 200, response: "Finding", errors: []int{400, 404, 409, 413},
		},
		{
			Route:   Route{"POST", apiPrefix + "/findings/assess", operator, "Re-match now and store the findings: everything, or only the devices and CVEs the optional body names; answers when done. Changes are also re-matched by themselves in the background."},
			handler: s.handleRunAssessment, requestBody: "AssessRequest", status: 200, response: "RunResult", errors: []int{400, 413},
		},

		{
			Route:   Route{"GET", apiPrefix + "/audit", viewer, "Audit events, oldest first unless order=newest."},
			handler: s.handleListAudit, query: listAuditParams,
			status: 200, response: "AuditList", errors: []int{400},
		},
		{
			Route:   Route{"GET", apiPrefix + "/audit/verify", viewer, "Verify the audit hash chain."},
			handler: s.handleVerifyAudit, status: 200, response: "AuditReport",
		},
	}
}

// paramNames lists the names of params.
func paramNames(params []param) []string {
	out := make([]string, len(params))
	for i, p := range params {
		out[i] = p.name
	}
	return out
}
