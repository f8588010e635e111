package httpapi

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
)

// ReportQuery selects a compliance report: Site ("" for the fleet), From
// and To (YYYY-MM-DD, both empty for the previous month) and Format (html,
// pdf or csv).
type ReportQuery struct {
	Site, From, To, Format string
}

// ComplianceReport downloads a compliance report into w and returns the
// file name the server suggests.
func (c *Client) ComplianceReport(ctx context.Context, q ReportQuery, w io.Writer) (string, error) {
	v := url.Values{}
	for k, s := range map[string]string{"site": q.Site, "from": q.From, "to": q.To, "format": q.Format} {
		if s != "" {
			v.Set(k, s)
		}
	}
	resp, err := c.send(ctx, http.MethodGet, "/api/v1/reports/compliance", v, nil, "")
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return "", c.responseError(resp)
	}
	var name string
	if _, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition")); err == nil {
		name = params["filename"]
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		return "", fmt.Errorf("report download from %s broke off: %w", c.base, err)
	}
	return name, nil
}
