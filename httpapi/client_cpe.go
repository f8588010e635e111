package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/firmward/firmward"
)

func deviceCPEPath(id int64) string { return devicePath(id) + "/cpe" }

// DeviceCPE returns a device's cpe and what firmward proposes for it.
func (c *Client) DeviceCPE(ctx context.Context, id int64) (*DeviceCPE, error) {
	var out DeviceCPE
	if err := c.call(ctx, http.MethodGet, deviceCPEPath(id), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SetDeviceCPE sets a device's cpe to a CPE 2.3 name (the proposed one, an
// alternative or a person's own) with an optional reason; both the change
// and the choice are audited.
func (c *Client) SetDeviceCPE(ctx context.Context, id int64, cpe, reason string) (*CPEResult, error) {
	var out CPEResult
	if err := c.call(ctx, http.MethodPut, deviceCPEPath(id), nil, CPERequest{CPE: cpe, Reason: reason}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ClearDeviceCPE removes a device's cpe, so that matching uses firmward's
// proposal again; audited.
func (c *Client) ClearDeviceCPE(ctx context.Context, id int64, reason string) (*CPEResult, error) {
	var q url.Values
	if reason != "" {
		q = url.Values{"reason": {reason}}
	}
	var out CPEResult
	if err := c.call(ctx, http.MethodDelete, deviceCPEPath(id), q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// FindingStats returns fleet-wide counts of open findings and the overdue
// history of the last days (0: the server's default); vendors (0: the
// default) is how many vendors to rank.
func (c *Client) FindingStats(ctx context.Context, days, vendors int) (*firmward.FindingStats, error) {
	q := url.Values{}
	if days != 0 {
		q.Set("days", strconv.Itoa(days))
	}
	if vendors != 0 {
		q.Set("vendors", strconv.Itoa(vendors))
	}
	var out firmward.FindingStats
	if err := c.call(ctx, http.MethodGet, "/api/v1/findings/stats", q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
