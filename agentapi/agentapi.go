// Package agentapi is the native JSON device API that firmward-agent
// speaks, beside the hawkBit-compatible one in package ddi. Both work on the
// same actions (firmward.DeliveryService), so a campaign does not care which
// protocol a device uses.
//
// Routes, under /agent/v1/, each authenticated with the device's own token
// ("Authorization: Bearer fwd_…", see DeliveryService.CreateDeviceToken):
//
//	POST /agent/v1/poll                              inventory in, next action out
//	POST /agent/v1/actions/{id}/feedback             progress and result of an action
//	GET  /agent/v1/releases/{id}/artifacts/{name}    download (HTTP Range, HEAD)
//
// A device sees only its own actions and the artifacts of releases deployed
// to it; anything else is a 404. A request answered with a 4xx changes
// nothing. Errors have firmward's shape {"error":{"code","message","details"}}.
package agentapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/artifact"
)

// Prefix is where the handler expects to be mounted.
const Prefix = "/agent/v1/"

// Defaults and limits.
const (
	DefaultPollInterval = 5 * time.Minute
	MaxBodyBytes        = 256 << 10
)

// Config is what a Handler needs. Releases, Delivery and Artifacts are
// required; Devices, when set, receives the firmware and hardware versions
// a device reports (an observed change is a device.update by the device).
type Config struct {
	Releases     firmward.ReleaseService
	Delivery     firmward.DeliveryService
	Devices      firmward.DeviceService
	Artifacts    *artifact.Store
	PollInterval time.Duration
	Logger       *slog.Logger
	Now          func() time.Time
}

// Handler serves the native agent API.
type Handler struct {
	cfg Config
	mux *http.ServeMux
}

// New returns a Handler; it fails when cfg lacks a required service.
func New(cfg Config) (*Handler, error) {
	if cfg.Releases == nil || cfg.Delivery == nil || cfg.Artifacts == nil {
		return nil, errors.New("agentapi.New: Config needs Releases, Delivery and Artifacts")
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	h := &Handler{cfg: cfg, mux: http.NewServeMux()}
	h.mux.Handle("POST "+Prefix+"poll", h.auth(h.handlePoll))
	h.mux.Handle("POST "+Prefix+"actions/{id}/feedback", h.auth(h.handleFeedback))
	h.mux.Handle("GET "+Prefix+"releases/{id}/artifacts/{name}", h.auth(h.handleArtifact))
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, firmward.Errorf(firmward.ENOTFOUND, "no agent API resource at %s %s", r.Method, r.URL.Path))
	})
	return h, nil
}

// ServeHTTP serves one request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

type deviceHandler func(w http.ResponseWriter, r *http.Request, c *firmward.DeviceCredential)

func (h *Handler) auth(next deviceHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, secret, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
		secret = strings.TrimSpace(secret)
		if !strings.EqualFold(scheme, "Bearer") || !strings.HasPrefix(secret, firmward.DeviceTokenPrefix) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="firmward-agent"`)
			writeError(w, firmward.Errorf(firmward.EUNAUTHORIZED, "send Authorization: Bearer <device token (fwd_…)>"))
			return
		}
		cred, err := h.cfg.Delivery.AuthenticateDevice(r.Context(), secret)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		next(w, r.WithContext(firmward.WithActor(r.Context(), firmward.DeviceActor(cred))), cred)
	})
}

// PollRequest is what an agent reports on each poll.
type PollRequest struct {
	FirmwareVersion string            `json:"firmware_version,omitempty"`
	HardwareVersion string            `json:"hardware_version,omitempty"`
	UptimeSeconds   int64             `json:"uptime_seconds,omitempty"`
	Attributes      map[string]string `json:"attributes,omitempty"`
}

// Artifact is one file of the release to install, with where to get it.
type Artifact struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256,omitempty"`
	SHA1   string `json:"sha1,omitempty"`
	MD5    string `json:"md5,omitempty"`
	Size   int64  `json:"size,omitempty"`
	URL    string `json:"url"`
	// Vendor marks a file the vendor keeps at URL: fetch it without the
	// device token (it is firmward's only), and check its sha256 when given.
	Vendor bool `json:"vendor,omitempty"`
	// TUFTarget is the name to verify the file under with the server's
	// TUF metadata (/tuf/), for files firmward stores.
	TUFTarget string `json:"tuf_target,omitempty"`
}

// Action is the work the server hands an agent.
type Action struct {
	ID                int64                       `json:"id"`
	Type              firmward.ActionType         `json:"type"`
	Status            firmward.ActionStatus       `json:"status"`
	Cancel            bool                        `json:"cancel"`          // stop and report a canceled feedback
	InstallAllowed    bool                        `json:"install_allowed"` // inside the maintenance window (or none), and not download-only
	MaintenanceWindow *firmward.MaintenanceWindow `json:"maintenance_window,omitempty"`
	ReleaseID         int64                       `json:"release_id"`
	Version           string                      `json:"version"`
	Artifacts         []Artifact                  `json:"artifacts"`
}

// PollResponse answers a poll: when to poll again and the open action.
type PollResponse struct {
	PollSeconds int     `json:"poll_seconds"`
	Action      *Action `json:"action,omitempty"`
}

// Feedback is an agent's report on an action.
type Feedback struct {
	Execution string    `json:"execution"`
	Finished  string    `json:"finished,omitempty"`
	Progress  *Progress `json:"progress,omitempty"`
	Code      *int      `json:"code,omitempty"`
	Details   []string  `json:"details,omitempty"`
}

// Progress counts steps done of a total.
type Progress struct {
	Cnt int `json:"cnt"`
	Of  int `json:"of"`
}

func (h *Handler) handlePoll(w http.ResponseWriter, r *http.Request, c *firmward.DeviceCredential) {
	body, err := readBody(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var req PollRequest
	if len(bytes.TrimSpace(body)) > 0 {
		if err := decodeStrict(body, &req); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	if err := h.recordInventory(r, c, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	out := PollResponse{PollSeconds: int(h.cfg.PollInterval / time.Second)}
	a, err := h.cfg.Delivery.NextAction(r.Context(), c.DeviceID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if a != nil {
		rel, err := h.cfg.Releases.FindReleaseByID(r.Context(), a.ReleaseID)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		out.Action = h.action(r, a, rel)
	}
	writeJSON(w, http.StatusOK, out)
}

// recordInventory stores what the agent reports: attributes always (merge),
// firmware and hardware versions on the device when they changed.
func (h *Handler) recordInventory(r *http.Request, c *firmward.DeviceCredential, req *PollRequest) error {
	attrs := map[string]string{}
	for k, v := range req.Attributes {
		attrs[k] = v
	}
	if req.FirmwareVersion != "" {
		attrs["firmware_version"] = req.FirmwareVersion
	}
	if req.HardwareVersion != "" {
		attrs["hardware_version"] = req.HardwareVersion
	}
	if req.UptimeSeconds < 0 {
		return firmward.Errorf(firmward.EINVALID, "uptime_seconds must not be negative")
	}
	if req.UptimeSeconds > 0 {
		// Boot time rather than uptime: it changes only on a reboot, so
		// that polls do not rewrite (and audit) it every time.
		boot := h.cfg.Now().Add(-time.Duration(req.UptimeSeconds) * time.Second).UTC().Truncate(time.Minute)
		attrs["booted_at"] = boot.Format(time.RFC3339)
	}
	if len(attrs) > 0 {
		if err := h.cfg.Delivery.SetDeviceAttributes(r.Context(), c.DeviceID, "merge", attrs); err != nil {
			return err
		}
	}
	if h.cfg.Devices == nil || (req.FirmwareVersion == "" && req.HardwareVersion == "") {
		return nil
	}
	d, err := h.cfg.Devices.FindDeviceByID(r.Context(), c.DeviceID)
	if err != nil {
		return err
	}
	var u firmward.DeviceUpdate
	if req.FirmwareVersion != "" && req.FirmwareVersion != d.FirmwareVersion {
		u.FirmwareVersion = &req.FirmwareVersion
	}
	if req.HardwareVersion != "" && req.HardwareVersion != d.HardwareVersion {
		u.HardwareVersion = &req.HardwareVersion
	}
	if u.FirmwareVersion == nil && u.HardwareVersion == nil {
		return nil
	}
	_, err = h.cfg.Devices.UpdateDevice(r.Context(), c.DeviceID, u)
	return err
}

func (h *Handler) action(r *http.Request, a *firmward.Action, rel *firmward.Release) *Action {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	base := scheme + "://" + r.Host + Prefix + "releases/" + strconv.FormatInt(rel.ID, 10) + "/artifacts/"
	out := &Action{
		ID: a.ID, Type: a.Type, Status: a.Status, Cancel: a.Status == firmward.ActionCanceling,
		InstallAllowed:    a.Type != firmward.ActionDownloadOnly && a.Type != firmward.ActionSkip && a.Window.Contains(h.cfg.Now()),
		MaintenanceWindow: a.Window, ReleaseID: rel.ID, Version: rel.Version, Artifacts: []Artifact{},
	}
	for _, art := range rel.Artifacts {
		doc := Artifact{Name: art.Name, SHA256: art.SHA256, SHA1: art.SHA1, MD5: art.MD5, Size: art.Size, URL: art.URL, Vendor: !art.Stored()}
		if art.Stored() {
			doc.URL = base + url.PathEscape(art.Name)
			doc.TUFTarget = firmward.ReleaseTargetName(rel.ID, art.Name)
		}
		out.Artifacts = append(out.Artifacts, doc)
	}
	return out
}

// parseFeedback decodes and checks an agent's feedback: unknown fields,
// bad values and trailing data are EINVALID.
func parseFeedback(body []byte) (*firmward.ActionFeedback, error) {
	var f Feedback
	if err := decodeStrict(body, &f); err != nil {
		return nil, err
	}
	fb := &firmward.ActionFeedback{Execution: f.Execution, Finished: f.Finished, Code: f.Code, Details: f.Details}
	if fb.Finished == "" {
		fb.Finished = "none"
	}
	if f.Progress != nil {
		fb.ProgressCnt, fb.ProgressOf = f.Progress.Cnt, f.Progress.Of
	}
	if err := fb.Validate(); err != nil {
		return nil, err
	}
	return fb, nil
}

func (h *Handler) handleFeedback(w http.ResponseWriter, r *http.Request, c *firmward.DeviceCredential) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.fail(w, r, firmward.Errorf(firmward.ENOTFOUND, "action %q not found", clip(r.PathValue("id"))))
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	fb, err := parseFeedback(body)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	a, err := h.cfg.Delivery.FindActionByID(r.Context(), id)
	if err != nil || a.DeviceID != c.DeviceID {
		if err == nil || firmward.ErrorCode(err) == firmward.ENOTFOUND {
			err = firmward.Errorf(firmward.ENOTFOUND, "action %d not found", id)
		}
		h.fail(w, r, err)
		return
	}
	// While canceling, a canceled or closed report answers the cancellation.
	fb.Cancel = a.Status == firmward.ActionCanceling && (fb.Execution == firmward.ExecCanceled || fb.Execution == firmward.ExecClosed)
	got, err := h.cfg.Delivery.AddFeedback(r.Context(), c.DeviceID, id, fb)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, got)
}

func (h *Handler) handleArtifact(w http.ResponseWriter, r *http.Request, c *firmward.DeviceCredential) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.fail(w, r, firmward.Errorf(firmward.ENOTFOUND, "release %q not found", clip(r.PathValue("id"))))
		return
	}
	name := r.PathValue("name")
	if why := firmward.ValidArtifactName(name); why != "" {
		h.fail(w, r, firmward.Errorf(firmward.EINVALID, "artifact name %q %s", clip(name), why))
		return
	}
	acts, _, err := h.cfg.Delivery.FindActions(r.Context(), firmward.ActionFilter{DeviceID: c.DeviceID, ReleaseID: id, Limit: 1})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	notFound := firmward.Errorf(firmward.ENOTFOUND, "no artifact %q in release %d for this device", clip(name), id)
	if len(acts) == 0 {
		h.fail(w, r, notFound)
		return
	}
	rel, err := h.cfg.Releases.FindReleaseByID(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	i := slices.IndexFunc(rel.Artifacts, func(a firmward.ReleaseArtifact) bool { return a.Name == name && a.Stored() })
	if i < 0 {
		h.fail(w, r, notFound)
		return
	}
	f, _, err := h.cfg.Artifacts.Open(r.Context(), rel.Artifacts[i].SHA256)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer func() { _ = f.Close() }()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("ETag", `"`+rel.Artifacts[i].SHA256+`"`)
	http.ServeContent(w, r, "", rel.CreatedAt, f)
}

// decodeStrict decodes one JSON object, refusing unknown fields and
// trailing data.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return firmward.Errorf(firmward.EINVALID, "request body is empty; send a JSON object")
		case errors.As(err, &syntax):
			return firmward.Errorf(firmward.EINVALID, "request body is not valid JSON at offset %d", syntax.Offset)
		case errors.As(err, &typ):
			return &firmward.Error{
				Code: firmward.EINVALID, Message: fmt.Sprintf("field %q has the wrong type", typ.Field),
				Details: []firmward.ErrorDetail{{Field: typ.Field, Reason: "must not be " + typ.Value}},
			}
		}
		return firmward.Errorf(firmward.EINVALID, "request body is not valid: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return firmward.Errorf(firmward.EINVALID, "request body has data after the JSON object")
	}
	return nil
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, firmward.Errorf(firmward.ETOOLARGE, "request body is larger than %d bytes", MaxBodyBytes)
		}
		return nil, firmward.Errorf(firmward.EINVALID, "reading the request body: %v", err)
	}
	return b, nil
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	if firmward.ErrorCode(err) == firmward.EINTERNAL {
		h.cfg.Logger.Error("agent API request failed", slog.String("path", r.URL.Path), slog.Any("err", err))
	}
	writeError(w, err)
}

func writeError(w http.ResponseWriter, err error) {
	code := firmward.ErrorCode(err)
	status := http.StatusInternalServerError
	switch code {
	case firmward.EINVALID:
		status = http.StatusBadRequest
	case firmward.ENOTFOUND:
		status = http.StatusNotFound
	case firmward.ECONFLICT:
		status = http.StatusConflict
	case firmward.EUNAUTHORIZED:
		status = http.StatusUnauthorized
	case firmward.EFORBIDDEN:
		status = http.StatusForbidden
	case firmward.ETOOLARGE:
		status = http.StatusRequestEntityTooLarge
	}
	writeJSON(w, status, map[string]any{"error": map[string]any{
		"code": code, "message": firmward.ErrorMessage(err), "details": firmward.ErrorDetails(err),
	}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding the response failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func clip(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}
