package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/firmward/firmward"
)

// maxErrorBody bounds how much of an error response the Client reads; an
// import's per-row report can be long.
const maxErrorBody = 32 << 20

// Client talks to the API of a firmward server; the CLI uses it. Every
// method returns a *firmward.Error (with Code, Message and Details) when the
// server answers with an error, the context's error when ctx ends, and an
// error saying what to check when the server cannot be reached.
type Client struct {
	// HTTP sends the requests; set its Timeout or Transport as needed.
	HTTP *http.Client

	base  string
	token string
}

// NewClient returns a client for the server at baseURL (like
// http://127.0.0.1:8080) that sends token as its bearer token; an empty
// token sends none.
func NewClient(baseURL, token string) *Client {
	return &Client{HTTP: &http.Client{}, base: strings.TrimRight(baseURL, "/"), token: token}
}

// DeviceQuery selects devices for ListDevices; empty fields do not filter.
// Cursor is the next cursor of the previous page; Limit 0 is the server's
// default page size.
type DeviceQuery struct {
	Category        firmward.Category
	Criticality     firmward.Criticality
	Exposure        firmward.Exposure
	UpdateMechanism firmward.UpdateMechanism
	Manufacturer    string
	Site            string
	Tag             string
	Q               string
	Missing         string
	Cursor          string
	Limit           int
}

func (q DeviceQuery) values() url.Values {
	v := url.Values{}
	set(v, "category", string(q.Category))
	set(v, "criticality", string(q.Criticality))
	set(v, "exposure", string(q.Exposure))
	set(v, "update_mechanism", string(q.UpdateMechanism))
	set(v, "manufacturer", q.Manufacturer)
	set(v, "site", q.Site)
	set(v, "tag", q.Tag)
	set(v, "q", q.Q)
	set(v, "missing", q.Missing)
	set(v, "cursor", q.Cursor)
	if q.Limit != 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	return v
}

// AuditQuery selects audit events for ListAudit; empty fields do not
// filter. Newest lists the newest first.
type AuditQuery struct {
	ObjectType string
	ObjectID   string
	Action     string
	Actor      string
	Newest     bool
	Cursor     string
	Limit      int
}

func (q AuditQuery) values() url.Values {
	v := url.Values{}
	set(v, "object_type", q.ObjectType)
	set(v, "object_id", q.ObjectID)
	set(v, "action", q.Action)
	set(v, "actor", q.Actor)
	if q.Newest {
		v.Set("order", "newest")
	}
	set(v, "cursor", q.Cursor)
	if q.Limit != 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	return v
}

func set(v url.Values, name, value string) {
	if value != "" {
		v.Set(name, value)
	}
}

// Whoami returns the token the client uses.
func (c *Client) Whoami(ctx context.Context) (*firmward.Token, error) {
	var tok firmward.Token
	if err := c.call(ctx, http.MethodGet, "/api/v1/whoami", nil, nil, &tok); err != nil {
		return nil, err
	}
	return &tok, nil
}

// ListDevices returns one page of devices and the cursor of the next page
// ("" after the last).
func (c *Client) ListDevices(ctx context.Context, q DeviceQuery) ([]*firmward.Device, string, error) {
	var page DeviceList
	if err := c.call(ctx, http.MethodGet, "/api/v1/devices", q.values(), nil, &page); err != nil {
		return nil, "", err
	}
	return page.Devices, page.NextCursor, nil
}

// GetDevice returns one device.
func (c *Client) GetDevice(ctx context.Context, id int64) (*firmward.Device, error) {
	var d firmward.Device
	if err := c.call(ctx, http.MethodGet, devicePath(id), nil, nil, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// CreateDevice creates a device and returns it as stored (with its ID,
// normalised fields and timestamps). d is not changed.
func (c *Client) CreateDevice(ctx context.Context, d *firmward.Device) (*firmward.Device, error) {
	var out firmward.Device
	if err := c.call(ctx, http.MethodPost, "/api/v1/devices", nil, d, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateDevice changes the fields set in u and returns the device.
func (c *Client) UpdateDevice(ctx context.Context, id int64, u firmward.DeviceUpdate) (*firmward.Device, error) {
	var out firmward.Device
	if err := c.call(ctx, http.MethodPatch, devicePath(id), nil, u, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteDevice deletes a device.
func (c *Client) DeleteDevice(ctx context.Context, id int64) error {
	return c.call(ctx, http.MethodDelete, devicePath(id), nil, nil, nil)
}

// ImportDevices uploads a CSV or JSON inventory (format "csv" or "json").
// All rows are created or none; when rows are bad, the *firmward.Error's
// Details list every one with its line.
func (c *Client) ImportDevices(ctx context.Context, format string, body io.Reader, dryRun bool) (*firmward.ImportResult, error) {
	var contentType string
	switch format {
	case "csv":
		contentType = "text/csv"
	case "json":
		contentType = "application/json"
	default:
		return nil, firmward.Errorf(firmward.EINVALID, "import format %q is not csv or json", format)
	}
	q := url.Values{"format": {format}}
	if dryRun {
		q.Set("dry_run", "true")
	}
	resp, err := c.send(ctx, http.MethodPost, "/api/v1/devices/import", q, body, contentType)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	var res firmward.ImportResult
	if err := c.decode(resp, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// ExportDevices writes every device to w in format "csv" or "json". An
// export cut off midway is an error, never a short file that looks whole.
func (c *Client) ExportDevices(ctx context.Context, format string, w io.Writer) error {
	resp, err := c.send(ctx, http.MethodGet, "/api/v1/devices/export", url.Values{"format": {format}}, nil, "")
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return c.responseError(resp)
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("export from %s broke off: %w", c.base, err)
	}
	return nil
}

// DeviceStats returns the device counts.
func (c *Client) DeviceStats(ctx context.Context) (*firmward.DeviceStats, error) {
	var st firmward.DeviceStats
	if err := c.call(ctx, http.MethodGet, "/api/v1/stats/devices", nil, nil, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// CreateToken creates an API token and returns it with its secret, which
// the server shows only this once.
func (c *Client) CreateToken(ctx context.Context, name string, role firmward.Role) (*firmward.Token, string, error) {
	var out TokenCreated
	if err := c.call(ctx, http.MethodPost, "/api/v1/tokens", nil, TokenRequest{Name: name, Role: role}, &out); err != nil {
		return nil, "", err
	}
	return out.Token, out.Secret, nil
}

// ListTokens lists every token, revoked ones included.
func (c *Client) ListTokens(ctx context.Context) ([]*firmward.Token, error) {
	var out TokenList
	if err := c.call(ctx, http.MethodGet, "/api/v1/tokens", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Tokens, nil
}

// RevokeToken revokes a token.
func (c *Client) RevokeToken(ctx context.Context, id int64) error {
	return c.call(ctx, http.MethodDelete, "/api/v1/tokens/"+strconv.FormatInt(id, 10), nil, nil, nil)
}

// ListAudit returns one page of audit events and the cursor of the next
// page ("" after the last).
func (c *Client) ListAudit(ctx context.Context, q AuditQuery) ([]*firmward.AuditEvent, string, error) {
	var out AuditList
	if err := c.call(ctx, http.MethodGet, "/api/v1/audit", q.values(), nil, &out); err != nil {
		return nil, "", err
	}
	return out.Events, out.NextCursor, nil
}

// VerifyAudit verifies the audit hash chain.
func (c *Client) VerifyAudit(ctx context.Context) (*firmward.AuditReport, error) {
	var rep firmward.AuditReport
	if err := c.call(ctx, http.MethodGet, "/api/v1/audit/verify", nil, nil, &rep); err != nil {
		return nil, err
	}
	return &rep, nil
}

// OpenAPI returns the server's OpenAPI document.
func (c *Client) OpenAPI(ctx context.Context) (json.RawMessage, error) {
	var doc json.RawMessage
	if err := c.call(ctx, http.MethodGet, "/api/v1/openapi.json", nil, nil, &doc); err != nil {
		return nil, err
	}
	return doc, nil
}

// Health returns nil when the server answers /healthz with 200.
func (c *Client) Health(ctx context.Context) error {
	resp, err := c.send(ctx, http.MethodGet, "/healthz", nil, nil, "")
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<10))
	if resp.StatusCode != http.StatusOK {
		return firmward.Errorf(firmward.EINTERNAL, "the firmward server at %s is not ready (%s)", c.base, resp.Status)
	}
	return nil
}

func devicePath(id int64) string { return "/api/v1/devices/" + strconv.FormatInt(id, 10) }

// call sends in (if not nil) as JSON and decodes a 2xx answer into out (if
// not nil).
func (c *Client) call(ctx context.Context, method, path string, q url.Values, in, out any) error {
	var body io.Reader
	contentType := ""
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encoding the request to %s: %w", path, err)
		}
		body, contentType = bytes.NewReader(b), "application/json"
	}
	resp, err := c.send(ctx, method, path, q, body, contentType)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	return c.decode(resp, out)
}

// send makes one request. Transport failures become an error that says
// what to check.
func (c *Client) send(ctx context.Context, method, path string, q url.Values, body io.Reader, contentType string) (*http.Response, error) {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, firmward.Errorf(firmward.EINVALID, "the server address %q is not a URL like http://127.0.0.1:8080: %s", c.base, err.Error())
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "firmward-client")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("%s %s: %w", method, path, ctxErr)
		}
		return nil, fmt.Errorf("cannot reach the firmward server at %s (is `firmward serve` running at %s? check --server or FIRMWARD_SERVER): %w", c.base, c.base, err)
	}
	return resp, nil
}

// decode reads a 2xx answer into out, or turns any other into an error.
func (c *Client) decode(resp *http.Response, out any) error {
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return c.responseError(resp)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("reading the answer of %s %s: %w", resp.Request.Method, resp.Request.URL.Path, err)
	}
	return nil
}

// responseError turns an error answer into a *firmward.Error: the server's
// own when the body has our error shape, one built from the status when not
// (a proxy's error page, say).
func (c *Client) responseError(resp *http.Response) error {
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("reading the error answer (%s) of %s: %w", resp.Status, c.base, err)
	}
	var body errorBody
	if json.Unmarshal(b, &body) == nil && body.Error.Code != "" {
		e := &firmward.Error{Code: body.Error.Code, Message: body.Error.Message, Details: body.Error.Details}
		if resp.StatusCode == http.StatusUnauthorized && c.token == "" {
			e.Message += " (no token was sent: give one with --token or FIRMWARD_TOKEN)"
		}
		return e
	}
	snippet := strings.TrimSpace(string(b))
	if len(snippet) > 200 {
		snippet = snippet[:200] + "…"
	}
	msg := fmt.Sprintf("the server at %s answered %s", c.base, resp.Status)
	if snippet != "" {
		msg += ": " + snippet
	}
	return &firmward.Error{Code: statusCode(resp.StatusCode), Message: msg}
}

// ImportFeed uploads one vulnerability feed file (any format the server
// detects, plain or gzip); name is how the audit trail and the result call
// it. The server keeps every record of the file or none.
func (c *Client) ImportFeed(ctx context.Context, name string, body io.Reader) (*firmward.FeedImportResult, error) {
	resp, err := c.send(ctx, http.MethodPost, "/api/v1/feeds/import", url.Values{"name": {name}}, body, "application/octet-stream")
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	var res firmward.FeedImportResult
	if err := c.decode(resp, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// GetVulnerability returns one CVE, merged across its sources.
func (c *Client) GetVulnerability(ctx context.Context, id string) (*firmward.VulnerabilityRecord, error) {
	var v firmward.VulnerabilityRecord
	if err := c.call(ctx, http.MethodGet, "/api/v1/vulnerabilities/"+url.PathEscape(id), nil, nil, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// ListVulnerabilities returns one page of stored CVEs (only KEV ones when
// kev is set) and the cursor of the next page ("" at the end).
func (c *Client) ListVulnerabilities(ctx context.Context, kev bool, cursor string, limit int) (*VulnerabilityList, error) {
	q := url.Values{}
	if kev {
		q.Set("kev", "true")
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var list VulnerabilityList
	if err := c.call(ctx, http.MethodGet, "/api/v1/vulnerabilities", q, nil, &list); err != nil {
		return nil, err
	}
	return &list, nil
}
