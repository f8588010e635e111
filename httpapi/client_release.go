package httpapi

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/artifact"
)

// ReleaseQuery selects releases for ListReleases.
type ReleaseQuery struct {
	Manufacturer string
	Model        string
	Withdrawn    bool
	Cursor       string
	Limit        int
}

func releasePath(id int64) string { return "/api/v1/releases/" + strconv.FormatInt(id, 10) }

// UploadArtifact streams an artifact file to the server's artifact store.
// With sha256 set, the server refuses (EINVALID) a body of another hash and
// stores nothing.
func (c *Client) UploadArtifact(ctx context.Context, body io.Reader, sha256 string) (*artifact.Sums, error) {
	q := url.Values{}
	if sha256 != "" {
		q.Set("sha256", sha256)
	}
	resp, err := c.send(ctx, http.MethodPost, "/api/v1/artifacts", q, body, "application/octet-stream")
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	var out artifact.Sums
	if err := c.decode(resp, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CreateRelease adds a release whose stored artifacts were uploaded.
func (c *Client) CreateRelease(ctx context.Context, r *firmward.Release) (*firmward.Release, error) {
	var out firmward.Release
	if err := c.call(ctx, http.MethodPost, "/api/v1/releases", nil, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListReleases returns one page of releases and the next cursor.
func (c *Client) ListReleases(ctx context.Context, q ReleaseQuery) ([]*firmward.Release, string, error) {
	v := url.Values{}
	set(v, "manufacturer", q.Manufacturer)
	set(v, "model", q.Model)
	set(v, "cursor", q.Cursor)
	if q.Withdrawn {
		v.Set("withdrawn", "true")
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	var out ReleaseList
	if err := c.call(ctx, http.MethodGet, "/api/v1/releases", v, nil, &out); err != nil {
		return nil, "", err
	}
	return out.Releases, out.NextCursor, nil
}

// GetRelease returns one release.
func (c *Client) GetRelease(ctx context.Context, id int64) (*firmward.Release, error) {
	var out firmward.Release
	if err := c.call(ctx, http.MethodGet, releasePath(id), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// WithdrawRelease recalls a release and cancels its open actions.
func (c *Client) WithdrawRelease(ctx context.Context, id int64, reason string) (*WithdrawResult, error) {
	var out WithdrawResult
	if err := c.call(ctx, http.MethodPost, releasePath(id)+"/withdraw", nil, WithdrawRequest{Reason: reason}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeployRelease creates one action per device.
func (c *Client) DeployRelease(ctx context.Context, id int64, req DeployRequest) ([]*firmward.Action, error) {
	var out ActionList
	if err := c.call(ctx, http.MethodPost, releasePath(id)+"/deploy", nil, req, &out); err != nil {
		return nil, err
	}
	return out.Actions, nil
}

// GetAction returns an action with its feedback log.
func (c *Client) GetAction(ctx context.Context, id int64) (*ActionDetail, error) {
	var out ActionDetail
	if err := c.call(ctx, http.MethodGet, "/api/v1/actions/"+strconv.FormatInt(id, 10), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CreateDeviceToken issues a device token bound to controllerID ("" for
// the device id).
func (c *Client) CreateDeviceToken(ctx context.Context, deviceID int64, controllerID string) (*DeviceTokenCreated, error) {
	var out DeviceTokenCreated
	if err := c.call(ctx, http.MethodPost, devicePath(deviceID)+"/token", nil, DeviceTokenRequest{ControllerID: controllerID}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
