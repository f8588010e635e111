package httpapi

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/firmward/firmward/nac"
)

// NACStatus returns the NAC status, of one site when site is not empty.
func (c *Client) NACStatus(ctx context.Context, site string) (*nac.Report, error) {
	q := url.Values{}
	if site != "" {
		q.Set("site", site)
	}
	var out nac.Report
	if err := c.call(ctx, http.MethodGet, apiPrefix+"/nac/status", q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// NACAction runs quarantine, release, exempt or approve on a device.
func (c *Client) NACAction(ctx context.Context, action string, id int64, req NACActionRequest) (*NACActionResult, error) {
	switch action {
	case "quarantine", "release", "exempt", "approve":
	default:
		return nil, fmt.Errorf("unknown NAC action %q: want quarantine, release, exempt or approve", action)
	}
	var out NACActionResult
	path := apiPrefix + "/nac/devices/" + strconv.FormatInt(id, 10) + "/" + action
	if err := c.call(ctx, http.MethodPost, path, nil, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SiteNAC returns a site's NAC policy.
func (c *Client) SiteNAC(ctx context.Context, site string) (*nac.Policy, error) {
	var out nac.Policy
	if err := c.call(ctx, http.MethodGet, apiPrefix+"/sites/"+url.PathEscape(site)+"/nac", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SetSiteNAC stores a site's NAC policy.
func (c *Client) SetSiteNAC(ctx context.Context, p nac.Policy) (*nac.Policy, error) {
	var out nac.Policy
	if err := c.call(ctx, http.MethodPut, apiPrefix+"/sites/"+url.PathEscape(p.Site)+"/nac", nil, p, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// NFT writes the firewall rules (format "nft" or "uci") to w.
func (c *Client) NFT(ctx context.Context, format, table string, allow []string, w io.Writer) error {
	q := url.Values{}
	if format != "" {
		q.Set("format", format)
	}
	if table != "" {
		q.Set("table", table)
	}
	for _, a := range allow {
		q.Add("allow", a)
	}
	resp, err := c.send(ctx, http.MethodGet, apiPrefix+"/nac/nft", q, nil, "")
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return c.responseError(resp)
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("reading the firewall rules: %w", err)
	}
	return nil
}

// NASList lists the NASes with a stored CoA secret.
func (c *Client) NASList(ctx context.Context) (*NASList, error) {
	var out NASList
	if err := c.call(ctx, http.MethodGet, apiPrefix+"/nac/nas", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SetNAS stores a NAS's CoA secret.
func (c *Client) SetNAS(ctx context.Context, nas string, req NASRequest) error {
	return c.call(ctx, http.MethodPut, apiPrefix+"/nac/nas/"+url.PathEscape(nas), nil, req, nil)
}

// DeleteNAS removes a NAS's CoA secret.
func (c *Client) DeleteNAS(ctx context.Context, nas string) error {
	return c.call(ctx, http.MethodDelete, apiPrefix+"/nac/nas/"+url.PathEscape(nas), nil, nil, nil)
}
