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
	blobBody    bool    // the body is a release artifact (any bytes)
	eolBody     bool    // the body is a CSV or JSON end-of-support file
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
			Route:   Route{"POST", apiPrefix + "/artifacts", operator, "Upload a release artifact (the body, any bytes) into the content-addressed store; answers its sha256, sha1, md5 and size. With ?sha256= a different body is refused and nothing is stored."},
			handler: s.handleUploadArtifact, query: uploadParams, blobBody: true, status: 201, response: "Sums", errors: []int{400, 413},
		},
		{
			Route:   Route{"GET", apiPrefix + "/releases", viewer, "List releases (withdrawn ones with withdrawn=true), one page at a time, ordered by id."},
			handler: s.handleListReleases, query: listReleaseParams, status: 200, response: "ReleaseList", errors: []int{400},
		},
		{
			Route:   Route{"POST", apiPrefix + "/releases", operator, "Add a release: its stored artifacts must be uploaded first and match the hashes declared; vendor artifacts give a url. Audited."},
			handler: s.handleCreateRelease, requestBody: "Release", status: 201, response: "Release", errors: []int{400, 409, 413},
		},
		{
			Route:   Route{"GET", apiPrefix + "/releases/{id}", viewer, "One release with its artifacts."},
			handler: s.handleGetRelease, status: 200, response: "Release", errors: []int{404},
		},
		{
			Route:   Route{"POST", apiPrefix + "/releases/{id}/withdraw", operator, "Withdraw (recall) a release: it is no longer deployed; scheduled actions are canceled, running ones asked to cancel. Audited."},
			handler: s.handleWithdrawRelease, requestBody: "WithdrawRequest", status: 200, response: "WithdrawResult", errors: []int{400, 404, 409, 413},
		},
		{
			Route:   Route{"POST", apiPrefix + "/releases/{id}/deploy", operator, "Deploy a release: one action per device (type forced, attempt, skip or downloadonly; optional maintenance window). Audited."},
			handler: s.handleDeployRelease, requestBody: "DeployRequest", status: 201, response: "ActionList", errors: []int{400, 404, 409, 413},
		},
		{
			Route:   Route{"GET", apiPrefix + "/actions", viewer, "List device actions, with filters, ordered by id."},
			handler: s.handleListActions, query: listActionParams, status: 200, response: "ActionList", errors: []int{400},
		},
		{
			Route:   Route{"GET", apiPrefix + "/actions/{id}", viewer, "One action with the feedback log its device sent."},
			handler: s.handleGetAction, status: 200, response: "ActionDetail", errors: []int{404},
		},
		{
			Route:   Route{"POST", apiPrefix + "/actions/{id}/cancel", operator, "Cancel an action: at once when scheduled, else the device is asked to cancel. Audited."},
			handler: s.handleCancelAction, status: 200, response: "Action", errors: []int{404, 409},
		},
		{
			Route:   Route{"GET", apiPrefix + "/campaigns", viewer, "List campaigns, with filters, ordered by id."},
			handler: s.handleListCampaigns, query: listCampaignParams, status: 200, response: "CampaignList", errors: []int{400},
		},
		{
			Route:   Route{"POST", apiPrefix + "/campaigns", operator, "Create a draft campaign: a release, a target (filter or device list), waves after the staging ring with success and error thresholds, action timeout, maintenance window (cron, duration, time zone), mode, approval. Audited."},
			handler: s.handleCreateCampaign, requestBody: "CampaignRequest", status: 201, response: "Campaign", errors: []int{400, 404, 409, 413},
		},
		{
			Route:   Route{"GET", apiPrefix + "/campaigns/{id}", viewer, "A campaign's status: per-wave counts, soak period, and with members=true every device's action or task."},
			handler: s.handleGetCampaign, query: campaignReportParams, status: 200, response: "CampaignReport", errors: []int{400, 404},
		},
		{
			Route:   Route{"GET", apiPrefix + "/campaigns/{id}/members", viewer, "One page of a campaign's members with their action, task and device, by device id; state=failed lists the failures."},
			handler: s.handleCampaignMembers, query: campaignMemberParams, status: 200, response: "CampaignMemberList", errors: []int{400, 404},
		},
		{
			Route:   Route{"POST", apiPrefix + "/campaigns/{id}/approve", admin, "Approve a campaign: the approver must be another token than its creator; both are recorded. Audited."},
			handler: s.handleApproveCampaign, status: 200, response: "Campaign", errors: []int{404, 409},
		},
		{
			Route:   Route{"POST", apiPrefix + "/campaigns/{id}/start", operator, "Start a draft campaign (approved first when it needs it). Audited."},
			handler: s.campaignOp(firmward.OpStart), requestBody: "CampaignOpRequest", status: 200, response: "Campaign", errors: []int{400, 404, 409, 413},
		},
		{
			Route:   Route{"POST", apiPrefix + "/campaigns/{id}/pause", operator, "Pause a running campaign: no new wave or action starts. Audited."},
			handler: s.campaignOp(firmward.OpPause), requestBody: "CampaignOpRequest", status: 200, response: "Campaign", errors: []int{400, 404, 409, 413},
		},
		{
			Route:   Route{"POST", apiPrefix + "/campaigns/{id}/resume", operator, "Resume a paused campaign, accepting the failures of its current wave. Audited."},
			handler: s.campaignOp(firmward.OpResume), requestBody: "CampaignOpRequest", status: 200, response: "Campaign", errors: []int{400, 404, 409, 413},
		},
		{
			Route:   Route{"POST", apiPrefix + "/campaigns/{id}/cancel", operator, "Cancel a campaign: open actions are canceled, open tasks closed as canceled. Audited."},
			handler: s.campaignOp(firmward.OpCancel), requestBody: "CampaignOpRequest", status: 200, response: "Campaign", errors: []int{400, 404, 409, 413},
		},
		{
			Route:   Route{"POST", apiPrefix + "/campaigns/{id}/rollback", operator, "Roll a campaign back in one step: cancel it and start a campaign taking its updated devices to the previous release. Audited."},
			handler: s.handleRollbackCampaign, status: 201, response: "Campaign", errors: []int{404, 409},
		},
		{
			Route:   Route{"GET", apiPrefix + "/tasks", viewer, "List the manual tasks of campaigns, with filters, ordered by id."},
			handler: s.handleListTasks, query: listTaskParams, status: 200, response: "TaskList", errors: []int{400},
		},
		{
			Route:   Route{"POST", apiPrefix + "/tasks/{id}/assign", operator, "Assign a task (and optionally move its due date). Audited."},
			handler: s.handleAssignTask, requestBody: "TaskAssignRequest", status: 200, response: "Task", errors: []int{400, 404, 409, 413},
		},
		{
			Route:   Route{"POST", apiPrefix + "/tasks/{id}/close", operator, "Close a task: an update task only once the device's firmware version reached the target; an isolate task with a note. Audited."},
			handler: s.handleCloseTask, requestBody: "TaskCloseRequest", status: 200, response: "Task", errors: []int{400, 404, 409, 413},
		},
		{
			Route:   Route{"POST", apiPrefix + "/devices/{id}/token", operator, "Issue a device token (pre-registration) bound to a controller id (default: the device id), replacing any earlier one; the secret is in this answer only. Audited."},
			handler: s.handleCreateDeviceToken, requestBody: "DeviceTokenRequest", status: 201, response: "DeviceTokenCreated", errors: []int{400, 404, 409, 413},
		},
		{
			Route:   Route{"POST", apiPrefix + "/enroll", "", "A device enrolls itself with the pre-shared enrollment key (Authorization: EnrollmentKey KEY): creates the device and its token. Audited."},
			handler: s.handleEnroll, requestBody: "EnrollRequest", status: 201, response: "DeviceTokenCreated", errors: []int{400, 401, 403, 409, 413},
		},

		{
			Route:   Route{"GET", apiPrefix + "/nac/status", viewer, "Network access control: devices quarantined (or that would be in monitor mode), waiting for approval or exempt, with reasons; site policies; segment violations; latest history."},
			handler: s.handleNACStatus, query: nacStatusParams, status: 200, response: "Report", errors: []int{400, 404},
		},
		{
			Route:   Route{"POST", apiPrefix + "/nac/devices/{id}/quarantine", operator, "Quarantine a device by hand, with a reason (applies even to protected devices: a person decided); audited, then CoA and webhook."},
			handler: s.handleNACQuarantine, requestBody: "NACActionRequest", status: 200, response: "NACActionResult", errors: []int{400, 404, 413},
		},
		{
			Route:   Route{"POST", apiPrefix + "/nac/devices/{id}/release", operator, "Release a manual quarantine or an approval; an automatic rule that still holds keeps the device quarantined (the answer warns)."},
			handler: s.handleNACRelease, requestBody: "NACActionRequest", status: 200, response: "NACActionResult", errors: []int{400, 404, 409, 413},
		},
		{
			Route:   Route{"POST", apiPrefix + "/nac/devices/{id}/exempt", operator, "Exempt a device from the automatic rules until a time, with a reason and an owner (a zero until removes the exemption)."},
			handler: s.handleNACExempt, requestBody: "NACActionRequest", status: 200, response: "NACActionResult", errors: []int{400, 404, 409, 413},
		},
		{
			Route:   Route{"POST", apiPrefix + "/nac/devices/{id}/approve", admin, "Approve the automatic quarantine of a safety-critical or protected device."},
			handler: s.handleNACApprove, requestBody: "NACActionRequest", status: 200, response: "NACActionResult", errors: []int{400, 404, 413},
		},
		{
			Route:   Route{"GET", apiPrefix + "/nac/nft", viewer, "The enforced quarantine as an nftables ruleset (sets of type ether_addr and ipv4_addr) for `nft -f`, or OpenWrt firewall4 sections (format=uci)."},
			handler: s.handleNFT, query: nftParams, status: 200, contentType: "text/plain", errors: []int{400, 404},
		},
		{
			Route:   Route{"GET", apiPrefix + "/nac/nas", admin, "The NASes (switches, access points) with a stored RFC 5176 CoA secret; the secrets are never returned."},
			handler: s.handleListNAS, status: 200, response: "NASList", errors: []int{404},
		},
		{
			Route:   Route{"PUT", apiPrefix + "/nac/nas/{nas}", admin, "Store a NAS's CoA secret (keyed by NAS-IP-Address or NAS-Identifier; sealed with the server's key) and optional host:port; audited without the secret."},
			handler: s.handlePutNAS, requestBody: "NASRequest", status: 204, errors: []int{400, 404, 413},
		},
		{
			Route:   Route{"DELETE", apiPrefix + "/nac/nas/{nas}", admin, "Remove a NAS's CoA secret; audited."},
			handler: s.handleDeleteNAS, status: 204, errors: []int{404},
		},
		{
			Route:   Route{"GET", apiPrefix + "/sites/{site}/nac", viewer, "A site's NAC policy (the monitor-mode default when none is stored)."},
			handler: s.handleGetSiteNAC, status: 200, response: "Policy", errors: []int{404},
		},
		{
			Route:   Route{"PUT", apiPrefix + "/sites/{site}/nac", admin, "Set a site's NAC policy: mode, rules, quarantine VLAN, segments, VLANs, subnets, unknown-MAC answer, protected categories; audited."},
			handler: s.handlePutSiteNAC, requestBody: "Policy", status: 200, response: "Policy", errors: []int{400, 404, 413},
		},

		{
			Route:   Route{"POST", apiPrefix + "/scans", operator, "Start a scan of an IPv4 network (no wider than /16) from the server, in the background; answers 202 with the run. Hosts found are matched to devices or created (source scan, a device.new alert); a person's values are never overwritten but proposed as conflicts."},
			handler: s.handleStartScan, requestBody: "ScanRequest", status: 202, response: "ScanRun", errors: []int{400, 409, 413},
		},
		{
			Route:   Route{"POST", apiPrefix + "/scans/import", operator, "Ingest the report of a scan made elsewhere (`firmward scan --import`) into the inventory, as a run of the site given; answers when done."},
			handler: s.handleImportScan, requestBody: "ScanImport", status: 201, response: "ScanRun", errors: []int{400, 413},
		},
		{
			Route:   Route{"GET", apiPrefix + "/scans", viewer, "List scan runs, newest first."},
			handler: s.handleListScans, query: listScanParams, status: 200, response: "ScanRunList", errors: []int{400},
		},
		{
			Route:   Route{"GET", apiPrefix + "/scans/{id}", viewer, "One scan run with what it saw of each host (observed fields with confidence and evidence, what ingesting did), newest first, one page at a time."},
			handler: s.handleGetScan, query: pageParams, status: 200, response: "ScanDetail", errors: []int{400, 404},
		},
		{
			Route:   Route{"GET", apiPrefix + "/conflicts", viewer, "List conflicts between a scan's proposed value and a person's (open ones unless status says otherwise), newest first."},
			handler: s.handleListConflicts, query: listConflictParams, status: 200, response: "ConflictList", errors: []int{400},
		},
		{
			Route:   Route{"POST", apiPrefix + "/conflicts/{id}/accept", operator, "Accept a conflict: the proposed value is written into the device (audited, re-matched)."},
			handler: s.handleAcceptConflict, status: 200, response: "Conflict", errors: []int{400, 404, 409},
		},
		{
			Route:   Route{"POST", apiPrefix + "/conflicts/{id}/reject", operator, "Reject a conflict: the person's value stays and scans stop proposing this value (audited)."},
			handler: s.handleRejectConflict, status: 200, response: "Conflict", errors: []int{404, 409},
		},
		{
			Route:   Route{"GET", apiPrefix + "/scan-schedules", operator, "Every site's scheduled scan (subnets, interval, SNMP communities, last run)."},
			handler: s.handleListSchedules, status: 200, response: "ScheduleList",
		},
		{
			Route:   Route{"GET", apiPrefix + "/sites/{site}/scan-schedule", operator, "One site's scheduled scan."},
			handler: s.handleGetSchedule, status: 200, response: "ScanSchedule", errors: []int{404},
		},
		{
			Route:   Route{"PUT", apiPrefix + "/sites/{site}/scan-schedule", operator, "Set a site's scheduled scan: subnets (IPv4, no wider than /16), interval (at least 300 s), SNMP communities, enabled. The server scans each subnet when due. Audited (communities by number only)."},
			handler: s.handlePutSchedule, requestBody: "ScanSchedule", status: 200, response: "ScanSchedule", errors: []int{400, 413},
		},
		{
			Route:   Route{"DELETE", apiPrefix + "/sites/{site}/scan-schedule", operator, "Remove a site's scheduled scan (audited)."},
			handler: s.handleDeleteSchedule, status: 204, errors: []int{404},
		},
		{
			Route:   Route{"GET", apiPrefix + "/alerts", viewer, "List alerts (new devices seen, …), newest first, with filters."},
			handler: s.handleListAlerts, query: listAlertParams, status: 200, response: "AlertList", errors: []int{400},
		},
		{
			Route:   Route{"POST", apiPrefix + "/alerts/{id}/ack", operator, "Acknowledge an alert (audited); acknowledging again keeps the first acknowledgement."},
			handler: s.handleAckAlert, status: 200, response: "Alert", errors: []int{404},
		},
		// Notifications (notify.go): channels (admin: they hold secrets,
		// which are write-only), recipients, deliveries, test messages.
		{
			Route:   Route{"GET", apiPrefix + "/notify/channels", operator, "Notification channels (e-mail, webhook, ntfy), by name; secrets are never returned (has_secret)."},
			handler: s.handleListChannels, status: 200, response: "NotifyChannelList", errors: []int{404},
		},
		{
			Route:   Route{"POST", apiPrefix + "/notify/channels", admin, "Add a notification channel; its secret (SMTP password, webhook HMAC key, ntfy token) is stored sealed and never returned. Audited."},
			handler: s.handleCreateChannel, requestBody: "NotifyChannel", status: 201, response: "NotifyChannel", errors: []int{400, 404, 409, 413},
		},
		{
			Route:   Route{"GET", apiPrefix + "/notify/channels/{id}", operator, "One notification channel, without its secret."},
			handler: s.handleGetChannel, status: 200, response: "NotifyChannel", errors: []int{404},
		},
		{
			Route:   Route{"PUT", apiPrefix + "/notify/channels/{id}", admin, "Replace a channel's settings; an empty secret keeps the stored one, clear_secret removes it. Audited (the secret only as set/unset)."},
			handler: s.handleUpdateChannel, requestBody: "NotifyChannel", status: 200, response: "NotifyChannel", errors: []int{400, 404, 409, 413},
		},
		{
			Route:   Route{"DELETE", apiPrefix + "/notify/channels/{id}", admin, "Remove a channel and its recipients; deliveries stay in the log. Audited."},
			handler: s.handleDeleteChannel, status: 204, errors: []int{404},
		},
		{
			Route:   Route{"GET", apiPrefix + "/notify/recipients", operator, "Recipients and their preferences: kinds, minimum severity, immediate or daily digest, quiet hours, time zone."},
			handler: s.handleListRecipients, status: 200, response: "NotifyRecipientList", errors: []int{404},
		},
		{
			Route:   Route{"POST", apiPrefix + "/notify/recipients", operator, "Add a recipient to a channel (an e-mail address for e-mail channels). Audited."},
			handler: s.handleCreateRecipient, requestBody: "NotifyRecipient", status: 201, response: "NotifyRecipient", errors: []int{400, 404, 413},
		},
		{
			Route:   Route{"PUT", apiPrefix + "/notify/recipients/{id}", operator, "Replace a recipient's preferences. Audited."},
			handler: s.handleUpdateRecipient, requestBody: "NotifyRecipient", status: 200, response: "NotifyRecipient", errors: []int{400, 404, 413},
		},
		{
			Route:   Route{"DELETE", apiPrefix + "/notify/recipients/{id}", operator, "Remove a recipient. Audited."},
			handler: s.handleDeleteRecipient, status: 204, errors: []int{404},
		},
		{
			Route:   Route{"GET", apiPrefix + "/notify/deliveries", operator, "The delivery log, newest first: every message queued, its state, attempts and last error."},
			handler: s.handleListDeliveries, query: listDeliveryParams, status: 200, response: "NotifyDeliveryList", errors: []int{400, 404},
		},
		{
			Route:   Route{"GET", apiPrefix + "/notify/deliveries/{id}", operator, "One delivery and every attempt (time, channel, recipient, outcome, error)."},
			handler: s.handleGetDelivery, status: 200, response: "NotifyDeliveryDetail", errors: []int{404},
		},
		{
			Route:   Route{"POST", apiPrefix + "/notify/test", operator, "Send a test message through a channel now and return the recorded delivery (sent, or failed with the error)."},
			handler: s.handleNotifyTest, requestBody: "NotifyTestRequest", status: 200, response: "NotifyDelivery", errors: []int{400, 404, 413},
		},

		// Lifecycle (issue 7): end of support, orphaned devices, health
		// checks, vendor support record (eol.go, checks.go, vendors.go).
		{
			Route:   Route{"GET", apiPrefix + "/eol", viewer, "The end-of-support table: dates per manufacturer and model (model empty: every model)."},
			handler: s.handleListEOL, status: 200, response: "EOLList", errors: []int{404},
		},
		{
			Route:   Route{"POST", apiPrefix + "/eol", operator, "Set the end-of-support date of a manufacturer and model (created or changed); audited."},
			handler: s.handleSetEOL, requestBody: "EOLEntry", status: 200, response: "EOLEntry", errors: []int{400, 404, 413},
		},
		{
			Route:   Route{"POST", apiPrefix + "/eol/import", operator, "Import end-of-support dates from CSV or JSON: every row or none; a 400 lists every bad row by line and field."},
			handler: s.handleImportEOL, query: eolImportParams, eolBody: true, status: 200, response: "EOLImportResult", errors: []int{400, 404, 413},
		},
		{
			Route:   Route{"DELETE", apiPrefix + "/eol/{id}", operator, "Remove an end-of-support entry; audited."},
			handler: s.handleDeleteEOL, status: 204, errors: []int{404},
		},
		{
			Route:   Route{"GET", apiPrefix + "/open-firmware", viewer, "Models known to run a maintained open firmware (OpenWrt, …): the third-party-firmware option of the orphan assessment."},
			handler: s.handleListOpenFirmware, status: 200, response: "OpenFirmwareList", errors: []int{404},
		},
		{
			Route:   Route{"POST", apiPrefix + "/open-firmware", operator, "Add a model to the open-firmware list (or change its URL); audited."},
			handler: s.handleSetOpenFirmware, requestBody: "OpenFirmwareModel", status: 200, response: "OpenFirmwareModel", errors: []int{400, 404, 413},
		},
		{
			Route:   Route{"DELETE", apiPrefix + "/open-firmware/{id}", operator, "Remove a model from the open-firmware list; audited."},
			handler: s.handleDeleteOpenFirmware, status: 204, errors: []int{404},
		},
		{
			Route:   Route{"GET", apiPrefix + "/lifecycle/orphans", viewer, "Orphaned devices (vendor end of support passed, or open findings and no firmware newer than stale_months known) and those whose support ends soon, each with its risk assessment: operational value, likelihood, impact, recommendation (isolate, third-party-firmware, replace, disconnect) with reasoning, and cost of ownership."},
			handler: s.handleOrphans, query: orphanParams, status: 200, response: "OrphanReport", errors: []int{400, 404},
		},
		{
			Route:   Route{"GET", apiPrefix + "/devices/{id}/lifecycle", viewer, "The lifecycle risk assessment of one device, orphaned or not."},
			handler: s.handleDeviceLifecycle, status: 200, response: "Assessment", errors: []int{404},
		},
		{
			Route:   Route{"PUT", apiPrefix + "/devices/{id}/operational-value", operator, "The owner's operational value of a device (low, medium, high), with a note; audited."},
			handler: s.handleSetOperationalValue, requestBody: "OperationalValueRequest", status: 200, response: "OperationalValueAnswer", errors: []int{400, 404, 413},
		},
		{
			Route:   Route{"GET", apiPrefix + "/checks", viewer, "Every device's health-check status: cadence (and why), last complete check, due date; due ones first."},
			handler: s.handleListChecks, query: listChecksParams, status: 200, response: "CheckList", errors: []int{400, 404},
		},
		{
			Route:   Route{"GET", apiPrefix + "/checks/cadences", viewer, "The health-check cadence rules per site and category, and the defaults."},
			handler: s.handleListCadences, status: 200, response: "CadenceList", errors: []int{404},
		},
		{
			Route:   Route{"PUT", apiPrefix + "/checks/cadences", operator, "Set the cadence (months) of a site and category (either may be empty: every); audited."},
			handler: s.handleSetCadence, requestBody: "CheckCadence", status: 200, response: "CadenceList", errors: []int{400, 404, 413},
		},
		{
			Route:   Route{"DELETE", apiPrefix + "/checks/cadences", operator, "Remove the cadence rule of a site and category; audited."},
			handler: s.handleDeleteCadence, query: deleteCadenceParams, status: 204, errors: []int{400, 404},
		},
		{
			Route:   Route{"GET", apiPrefix + "/devices/{id}/checks", viewer, "A device's check status, the guided checklist (with where its manufacturer keeps the settings) and the checks recorded."},
			handler: s.handleGetDeviceCheck, status: 200, response: "DeviceCheck", errors: []int{404},
		},
		{
			Route:   Route{"POST", apiPrefix + "/devices/{id}/checks", operator, "Record a health check: the checklist's answers (each audited); a confirmed firmware version or automatic-update setting also updates the device."},
			handler: s.handleRecordCheck, requestBody: "HealthCheck", status: 201, response: "DeviceCheck", errors: []int{400, 404, 409, 413},
		},
		{
			Route:   Route{"GET", apiPrefix + "/vendors", viewer, "The vendor support record per manufacturer (share of CVEs with a fix, KEV count, median days to a fix, median support length, automatic updates), each figure with its number of data points; ranked, optionally for one category."},
			handler: s.handleVendors, query: vendorParams, status: 200, response: "VendorReport", errors: []int{400, 404},
		},

		{
			Route:   Route{"GET", apiPrefix + "/reports/compliance", viewer, "The compliance report of a site or the fleet over a period (findings fixed within SLA, devices without overdue findings, overdue findings by decision, risk acceptances and NAC exemptions, quarantine events, campaigns, audit chain) as HTML, PDF (application/pdf) or CSV (text/csv), as a download."},
			handler: s.handleComplianceReport, query: reportParams, status: 200, contentType: "text/html", errors: []int{400},
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
