package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
)

// The wire format of firmward's native agent API (package agentapi on the
// server; repeated here because the agent does not import server code).

// PollRequest is the inventory sent with each poll.
type PollRequest struct {
	FirmwareVersion string            `json:"firmware_version,omitempty"`
	HardwareVersion string            `json:"hardware_version,omitempty"`
	UptimeSeconds   int64             `json:"uptime_seconds,omitempty"`
	Attributes      map[string]string `json:"attributes,omitempty"`
}

// Artifact is one file of an action's release.
type Artifact struct {
	Name      string `json:"name"`
	SHA256    string `json:"sha256,omitempty"`
	Size      int64  `json:"size,omitempty"`
	URL       string `json:"url"`
	Vendor    bool   `json:"vendor,omitempty"`
	TUFTarget string `json:"tuf_target,omitempty"`
}

// Action is the work the server hands the agent.
type Action struct {
	ID             int64      `json:"id"`
	Type           string     `json:"type"`
	Status         string     `json:"status"`
	Cancel         bool       `json:"cancel"`
	InstallAllowed bool       `json:"install_allowed"`
	ReleaseID      int64      `json:"release_id"`
	Version        string     `json:"version"`
	Artifacts      []Artifact `json:"artifacts"`
}

// PollResponse is the server's answer to a poll.
type PollResponse struct {
	PollSeconds int     `json:"poll_seconds"`
	Action      *Action `json:"action,omitempty"`
}

// Feedback is a report on an action.
type Feedback struct {
	Execution string    `json:"execution"`
	Finished  string    `json:"finished,omitempty"`
	Progress  *Progress `json:"progress,omitempty"`
	Details   []string  `json:"details,omitempty"`
}

// Progress counts steps done of a total.
type Progress struct {
	Cnt int `json:"cnt"`
	Of  int `json:"of"`
}

// enrollRequest is POST /api/v1/enroll's body.
type enrollRequest struct {
	ControllerID    string `json:"controller_id"`
	Name            string `json:"name"`
	Manufacturer    string `json:"manufacturer,omitempty"`
	Model           string `json:"model,omitempty"`
	HardwareVersion string `json:"hardware_version,omitempty"`
	FirmwareVersion string `json:"firmware_version,omitempty"`
	Serial          string `json:"serial,omitempty"`
}

type enrollResponse struct {
	Credential struct {
		DeviceID     int64  `json:"device_id"`
		ControllerID string `json:"controller_id"`
	} `json:"credential"`
	Secret string `json:"secret"`
}

// maxResponseBytes bounds a JSON answer from the server.
const maxResponseBytes = 4 << 20

// serverError is a non-2xx answer, with firmward's error code when the
// body has one.
type serverError struct {
	Status  int
	Code    string
	Message string
	URL     string
}

func (e *serverError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	return fmt.Sprintf("%s: HTTP %d: %s", e.URL, e.Status, msg)
}

// statusOf returns the HTTP status of a serverError, or 0.
func statusOf(err error) int {
	var se *serverError
	if errors.As(err, &se) {
		return se.Status
	}
	return 0
}

// doJSON sends in (when not nil) as JSON and decodes a 2xx answer into out.
func (a *Agent) doJSON(ctx context.Context, method, path, auth string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encoding %s: %w", path, err)
		}
		body = bytes.NewReader(b)
	}
	u := strings.TrimRight(a.cfg.Server, "/") + path
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, u, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set("User-Agent", "firmward-agent")
	res, err := a.cfg.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, u, err)
	}
	defer func() { _ = res.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxResponseBytes+1))
	if err != nil {
		return fmt.Errorf("%s %s: reading the answer: %w", method, u, err)
	}
	if len(b) > maxResponseBytes {
		return fmt.Errorf("%s %s: the answer is larger than %d bytes", method, u, maxResponseBytes)
	}
	if res.StatusCode/100 != 2 {
		se := &serverError{Status: res.StatusCode, URL: u}
		var e struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(b, &e) == nil {
			se.Code, se.Message = e.Error.Code, e.Error.Message
		}
		return se
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: the answer is not the expected JSON: %w", method, u, err)
		}
	}
	return nil
}

// download completes dest+".part" from art.URL, resuming with an HTTP
// Range request, and renames it to dest. It never takes more than
// art.Size bytes when the size is known. The caller verifies dest.
func (a *Agent) download(ctx context.Context, art Artifact, dest string) error {
	part := dest + ".part"
	f, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o600) //nolint:gosec // the agent's own download path
	if err != nil {
		return fmt.Errorf("download of %s: %w", art.Name, err)
	}
	defer func() { _ = f.Close() }()
	have, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("download of %s: %w", art.Name, err)
	}
	if art.Size > 0 && have > art.Size {
		if err := f.Truncate(0); err != nil {
			return fmt.Errorf("download of %s: %w", art.Name, err)
		}
		have = 0
	}
	if art.Size <= 0 || have < art.Size {
		if err := a.fetch(ctx, art, f, have); err != nil {
			return err
		}
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("download of %s: %w", art.Name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("download of %s: %w", art.Name, err)
	}
	if err := os.Rename(part, dest); err != nil {
		return fmt.Errorf("download of %s: %w", art.Name, err)
	}
	return nil
}

func (a *Agent) fetch(ctx context.Context, art Artifact, f *os.File, have int64) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, art.URL, nil)
	if err != nil {
		return fmt.Errorf("download of %s: %w", art.Name, err)
	}
	if !art.Vendor {
		// The device token goes only to the server it belongs to.
		srv, err := url.Parse(a.cfg.Server)
		if err != nil || srv.Scheme != req.URL.Scheme || srv.Host != req.URL.Host {
			return &refusedError{fmt.Errorf("artifact %s: URL %s is not on the server %s", art.Name, clip(art.URL), a.cfg.Server)}
		}
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	req.Header.Set("User-Agent", "firmward-agent")
	if have > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(have, 10)+"-")
	}
	res, err := a.cfg.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("download of %s: %w", art.Name, err)
	}
	defer func() { _ = res.Body.Close() }()
	switch {
	case res.StatusCode == http.StatusPartialContent && have > 0 &&
		strings.HasPrefix(res.Header.Get("Content-Range"), "bytes "+strconv.FormatInt(have, 10)+"-"):
		a.cfg.Logger.Info("resuming a download", "artifact", art.Name, "from_byte", have)
	case res.StatusCode == http.StatusOK:
		if err := f.Truncate(0); err != nil {
			return fmt.Errorf("download of %s: %w", art.Name, err)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("download of %s: %w", art.Name, err)
		}
		have = 0
	case res.StatusCode == http.StatusRequestedRangeNotSatisfiable:
		_ = f.Truncate(0)
		return fmt.Errorf("download of %s: the server refused to resume (HTTP %d); the next attempt starts over", art.Name, res.StatusCode)
	default:
		return &serverError{Status: res.StatusCode, URL: art.URL, Message: "download of " + art.Name + " failed"}
	}
	src := io.Reader(res.Body)
	if art.Size > 0 {
		src = io.LimitReader(res.Body, art.Size-have+1)
	}
	if _, err := io.Copy(f, src); err != nil {
		return fmt.Errorf("download of %s: %w", art.Name, err)
	}
	return nil
}

// feedback sends one report on action id.
func (a *Agent) feedback(ctx context.Context, id int64, fb Feedback) error {
	return a.doJSON(ctx, http.MethodPost, "/agent/v1/actions/"+strconv.FormatInt(id, 10)+"/feedback", "Bearer "+a.token, fb, nil)
}

// isClosed reports whether a feedback error means the server will never
// take feedback on the action again (closed, canceled or gone).
func isClosed(err error) bool {
	s := statusOf(err)
	return s == http.StatusConflict || s == http.StatusNotFound
}
