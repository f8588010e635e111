package httpapi

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/lifecycle"
)

// ListEOL returns the end-of-support table.
func (c *Client) ListEOL(ctx context.Context) ([]*firmward.EOLEntry, error) {
	var out EOLList
	if err := c.call(ctx, http.MethodGet, "/api/v1/eol", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Entries, nil
}

// SetEOL creates or changes the end-of-support entry of e's manufacturer
// and model and returns it as stored.
func (c *Client) SetEOL(ctx context.Context, e *firmward.EOLEntry) (*firmward.EOLEntry, error) {
	var out firmward.EOLEntry
	if err := c.call(ctx, http.MethodPost, "/api/v1/eol", nil, e, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ImportEOL uploads an end-of-support file (format "csv" or "json"): every
// row or none; on bad rows the *firmward.Error's Details list each with its
// line and field.
func (c *Client) ImportEOL(ctx context.Context, format string, body io.Reader) (*firmward.EOLImportResult, error) {
	var contentType string
	switch format {
	case "csv":
		contentType = "text/csv"
	case "json":
		contentType = "application/json"
	default:
		return nil, firmward.Errorf(firmward.EINVALID, "import format %q is not csv or json", format)
	}
	resp, err := c.send(ctx, http.MethodPost, "/api/v1/eol/import", url.Values{"format": {format}}, body, contentType)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	var res firmward.EOLImportResult
	if err := c.decode(resp, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// DeleteEOL removes an end-of-support entry.
func (c *Client) DeleteEOL(ctx context.Context, id int64) error {
	return c.call(ctx, http.MethodDelete, "/api/v1/eol/"+strconv.FormatInt(id, 10), nil, nil, nil)
}

// ListOpenFirmware returns the open-firmware list.
func (c *Client) ListOpenFirmware(ctx context.Context) ([]*firmward.OpenFirmwareModel, error) {
	var out OpenFirmwareList
	if err := c.call(ctx, http.MethodGet, "/api/v1/open-firmware", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Models, nil
}

// SetOpenFirmware adds a model to the open-firmware list.
func (c *Client) SetOpenFirmware(ctx context.Context, m *firmward.OpenFirmwareModel) (*firmward.OpenFirmwareModel, error) {
	var out firmward.OpenFirmwareModel
	if err := c.call(ctx, http.MethodPost, "/api/v1/open-firmware", nil, m, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteOpenFirmware removes a model from the open-firmware list.
func (c *Client) DeleteOpenFirmware(ctx context.Context, id int64) error {
	return c.call(ctx, http.MethodDelete, "/api/v1/open-firmware/"+strconv.FormatInt(id, 10), nil, nil, nil)
}

// Orphans returns the risk assessment of orphaned devices (every device
// with all); staleMonths 0 uses the server's rule.
func (c *Client) Orphans(ctx context.Context, all bool, staleMonths int) (*OrphanReport, error) {
	q := url.Values{}
	if all {
		q.Set("all", "true")
	}
	if staleMonths != 0 {
		q.Set("stale_months", strconv.Itoa(staleMonths))
	}
	var out OrphanReport
	if err := c.call(ctx, http.MethodGet, "/api/v1/lifecycle/orphans", q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeviceLifecycle returns the lifecycle assessment of one device.
func (c *Client) DeviceLifecycle(ctx context.Context, id int64) (*lifecycle.Assessment, error) {
	var out lifecycle.Assessment
	if err := c.call(ctx, http.MethodGet, devicePath(id)+"/lifecycle", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SetOperationalValue records the owner's operational value of a device.
func (c *Client) SetOperationalValue(ctx context.Context, id int64, v firmward.OperationalValue, note string) (*firmward.OperationalValueAnswer, error) {
	var out firmward.OperationalValueAnswer
	if err := c.call(ctx, http.MethodPut, devicePath(id)+"/operational-value", nil, OperationalValueRequest{Value: v, Note: note}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CheckQuery selects health-check statuses.
type CheckQuery struct {
	Due      bool
	Site     string
	Category firmward.Category
}

// ListChecks returns the health-check status of every device q selects.
func (c *Client) ListChecks(ctx context.Context, q CheckQuery) (*CheckList, error) {
	v := url.Values{}
	if q.Due {
		v.Set("due", "true")
	}
	if q.Site != "" {
		v.Set("site", q.Site)
	}
	if q.Category != "" {
		v.Set("category", string(q.Category))
	}
	var out CheckList
	if err := c.call(ctx, http.MethodGet, "/api/v1/checks", v, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeviceCheck returns a device's check status, checklist and history.
func (c *Client) DeviceCheck(ctx context.Context, id int64) (*DeviceCheck, error) {
	var out DeviceCheck
	if err := c.call(ctx, http.MethodGet, devicePath(id)+"/checks", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RecordCheck records a health check of device id.
func (c *Client) RecordCheck(ctx context.Context, id int64, hc *firmward.HealthCheck) (*DeviceCheck, error) {
	var out DeviceCheck
	if err := c.call(ctx, http.MethodPost, devicePath(id)+"/checks", nil, hc, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListCadences returns the cadence rules.
func (c *Client) ListCadences(ctx context.Context) (*CadenceList, error) {
	var out CadenceList
	if err := c.call(ctx, http.MethodGet, "/api/v1/checks/cadences", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SetCadence sets the cadence of a site and category.
func (c *Client) SetCadence(ctx context.Context, cad firmward.CheckCadence) (*CadenceList, error) {
	var out CadenceList
	if err := c.call(ctx, http.MethodPut, "/api/v1/checks/cadences", nil, cad, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteCadence removes the cadence rule of a site and category.
func (c *Client) DeleteCadence(ctx context.Context, site string, cat firmward.Category) error {
	q := url.Values{}
	if site != "" {
		q.Set("site", site)
	}
	if cat != "" {
		q.Set("category", string(cat))
	}
	return c.call(ctx, http.MethodDelete, "/api/v1/checks/cadences", q, nil, nil)
}

// Vendors returns the vendor support record, ranked; category "" for
// every manufacturer.
func (c *Client) Vendors(ctx context.Context, category firmward.Category) (*VendorReport, error) {
	q := url.Values{}
	if category != "" {
		q.Set("category", string(category))
	}
	var out VendorReport
	if err := c.call(ctx, http.MethodGet, "/api/v1/vendors", q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
