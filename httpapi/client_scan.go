package httpapi

import (
	"context"
	"net/url"
	"strconv"

	"github.com/firmward/firmward"
)

func scanPath(id int64) string { return apiPrefix + "/scans/" + strconv.FormatInt(id, 10) }

func schedulePath(site string) string {
	return apiPrefix + "/sites/" + url.PathEscape(site) + "/scan-schedule"
}

// StartScan asks the server to scan a network in the background and
// returns the run (status running).
func (c *Client) StartScan(ctx context.Context, req firmward.ScanRequest) (*firmward.ScanRun, error) {
	var out firmward.ScanRun
	if err := c.call(ctx, "POST", apiPrefix+"/scans", nil, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ImportScan sends the report of a scan made here to be ingested into the
// server's inventory as a run of site; it returns the finished run.
func (c *Client) ImportScan(ctx context.Context, site string, rep *firmward.ScanReport) (*firmward.ScanRun, error) {
	var out firmward.ScanRun
	if err := c.call(ctx, "POST", apiPrefix+"/scans/import", nil, ScanImport{Site: site, Report: rep}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListScans returns one page of scan runs, newest first.
func (c *Client) ListScans(ctx context.Context, site, status, cursor string, limit int) (*ScanRunList, error) {
	q := url.Values{}
	set(q, "site", site)
	set(q, "status", status)
	set(q, "cursor", cursor)
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out ScanRunList
	if err := c.call(ctx, "GET", apiPrefix+"/scans", q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetScan returns a scan run with one page of what it saw of each host.
func (c *Client) GetScan(ctx context.Context, id int64, cursor string) (*ScanDetail, error) {
	q := url.Values{}
	set(q, "cursor", cursor)
	var out ScanDetail
	if err := c.call(ctx, "GET", scanPath(id), q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListConflicts returns one page of conflicts (open ones when status is
// empty), newest first.
func (c *Client) ListConflicts(ctx context.Context, status string, deviceID int64, cursor string) (*ConflictList, error) {
	q := url.Values{}
	set(q, "status", status)
	if deviceID > 0 {
		q.Set("device", strconv.FormatInt(deviceID, 10))
	}
	set(q, "cursor", cursor)
	var out ConflictList
	if err := c.call(ctx, "GET", apiPrefix+"/conflicts", q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ResolveConflict accepts (the proposed value is written) or rejects a
// conflict.
func (c *Client) ResolveConflict(ctx context.Context, id int64, accept bool) (*firmward.Conflict, error) {
	verb := "reject"
	if accept {
		verb = "accept"
	}
	var out firmward.Conflict
	if err := c.call(ctx, "POST", apiPrefix+"/conflicts/"+strconv.FormatInt(id, 10)+"/"+verb, nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListScanSchedules returns every site's scheduled scan.
func (c *Client) ListScanSchedules(ctx context.Context) ([]*firmward.ScanSchedule, error) {
	var out ScheduleList
	if err := c.call(ctx, "GET", apiPrefix+"/scan-schedules", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Schedules, nil
}

// PutScanSchedule sets a site's scheduled scan.
func (c *Client) PutScanSchedule(ctx context.Context, sc *firmward.ScanSchedule) (*firmward.ScanSchedule, error) {
	var out firmward.ScanSchedule
	if err := c.call(ctx, "PUT", schedulePath(sc.Site), nil, sc, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteScanSchedule removes a site's scheduled scan.
func (c *Client) DeleteScanSchedule(ctx context.Context, site string) error {
	return c.call(ctx, "DELETE", schedulePath(site), nil, nil, nil)
}

// AlertQuery filters ListAlerts.
type AlertQuery struct {
	Kind     string
	Severity string
	DeviceID int64
	Site     string
	Unacked  bool
	Cursor   string
	Limit    int
}

// ListAlerts returns one page of alerts, newest first.
func (c *Client) ListAlerts(ctx context.Context, aq AlertQuery) (*AlertList, error) {
	q := url.Values{}
	set(q, "kind", aq.Kind)
	set(q, "severity", aq.Severity)
	set(q, "site", aq.Site)
	set(q, "cursor", aq.Cursor)
	if aq.DeviceID > 0 {
		q.Set("device", strconv.FormatInt(aq.DeviceID, 10))
	}
	if aq.Unacked {
		q.Set("unacked", "true")
	}
	if aq.Limit > 0 {
		q.Set("limit", strconv.Itoa(aq.Limit))
	}
	var out AlertList
	if err := c.call(ctx, "GET", apiPrefix+"/alerts", q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// AcknowledgeAlert marks an alert as seen.
func (c *Client) AcknowledgeAlert(ctx context.Context, id int64) (*firmward.Alert, error) {
	var out firmward.Alert
	if err := c.call(ctx, "POST", apiPrefix+"/alerts/"+strconv.FormatInt(id, 10)+"/ack", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
