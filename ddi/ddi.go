// Package ddi is firmward's hawkBit Direct Device Integration (DDI) API,
// so that devices running SWUpdate (suricatta), rauc-hawkbit-updater or a
// Zephyr hawkBit client install firmward releases unchanged.
//
// Routes live under /{tenant}/controller/v1/{controllerId}: the base poll
// (config.polling.sleep and _links to the open action), deploymentBase with
// its feedback, cancelAction with its feedback, installedBase, configData,
// confirmationBase, and artifact downloads (with HTTP Range and HEAD).
// A device authenticates with "Authorization: TargetToken SECRET" (its own
// token, see firmward.DeliveryService.CreateDeviceToken) or, where
// configured, "GatewayToken SECRET". A device sees only its own actions and
// the artifacts of releases deployed to it; anything else is a 404 that
// does not tell whether the object exists.
//
// Every request answered with a 4xx changes nothing.
package ddi

import (
	"context"
	"crypto/subtle"
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

// Defaults of Config.
const (
	DefaultTenant       = "default"
	DefaultPollInterval = 5 * time.Minute
	// MaxBodyBytes bounds a feedback or configData body.
	MaxBodyBytes = 1 << 20
)

// Config is what a Handler needs. Releases, Delivery and Artifacts are
// required.
type Config struct {
	Releases  firmward.ReleaseService
	Delivery  firmward.DeliveryService
	Artifacts *artifact.Store
	// Tenant is the one tenant served (case-insensitive); "" is "default".
	Tenant string
	// GatewayToken, when set, lets a gateway speak for any registered
	// controller ("Authorization: GatewayToken …").
	GatewayToken string
	// PollInterval is the config.polling.sleep devices are told; zero is
	// DefaultPollInterval. It is rounded to whole seconds.
	PollInterval time.Duration
	Logger       *slog.Logger     // nil discards
	Now          func() time.Time // nil is time.Now
}

// Handler serves the DDI API.
type Handler struct {
	cfg Config
	mux *http.ServeMux
	// idleBody is the base poll's answer when nothing is pending and
	// nothing is asked, rendered once: {"config":{"polling":{…}}}.
	idleBody []byte
}

// New returns a Handler; it fails when cfg lacks a service.
func New(cfg Config) (*Handler, error) {
	if cfg.Releases == nil || cfg.Delivery == nil || cfg.Artifacts == nil {
		return nil, errors.New("ddi.New: Config needs Releases, Delivery and Artifacts")
	}
	if cfg.Tenant == "" {
		cfg.Tenant = DefaultTenant
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
	idle, err := json.Marshal(map[string]any{
		"config": map[string]any{"polling": map[string]string{"sleep": pollSleep(cfg.PollInterval)}},
	})
	if err != nil {
		return nil, fmt.Errorf("ddi.New: rendering the idle poll: %w", err)
	}
	h.idleBody = append(idle, '\n')
	const base = "/{tenant}/controller/v1/{controller}"
	h.mux.Handle("GET "+base, h.auth(h.handleBase))
	h.mux.Handle("GET "+base+"/deploymentBase/{action}", h.auth(h.handleDeployment))
	h.mux.Handle("POST "+base+"/deploymentBase/{action}/feedback", h.auth(h.handleFeedback))
	h.mux.Handle("GET "+base+"/cancelAction/{action}", h.auth(h.handleCancel))
	h.mux.Handle("POST "+base+"/cancelAction/{action}/feedback", h.auth(h.handleCancelFeedback))
	h.mux.Handle("GET "+base+"/installedBase/{action}", h.auth(h.handleInstalled))
	h.mux.Handle("PUT "+base+"/configData", h.auth(h.handleConfigData))
	h.mux.Handle("GET "+base+"/confirmationBase", h.auth(h.handleConfirmation))
	h.mux.Handle("GET "+base+"/softwaremodules/{module}/artifacts/{file}", h.auth(h.handleArtifact))
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, firmward.Errorf(firmward.ENOTFOUND, "no DDI resource at %s %s", r.Method, r.URL.Path))
	})
	return h, nil
}

// ServeHTTP serves one DDI request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// device is the authenticated caller of one request.
type device struct {
	cred *firmward.DeviceCredential
	poll *firmward.DevicePoll // with a TargetToken: the poll state, read with the credential
	base string               // absolute URL of /{tenant}/controller/v1/{controllerId}
}

type deviceHandler func(w http.ResponseWriter, r *http.Request, d *device)

// auth checks the tenant and the credentials and hands the device on.
func (h *Handler) auth(next deviceHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tenant, controller := r.PathValue("tenant"), r.PathValue("controller")
		if !strings.EqualFold(tenant, h.cfg.Tenant) {
			writeError(w, firmward.Errorf(firmward.ENOTFOUND, "unknown tenant %q", clip(tenant)))
			return
		}
		scheme, secret, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
		secret = strings.TrimSpace(secret)
		var cred *firmward.DeviceCredential
		var poll *firmward.DevicePoll
		var err error
		switch {
		case strings.EqualFold(scheme, "TargetToken") && secret != "":
			poll, err = h.cfg.Delivery.PollDevice(r.Context(), secret)
			if err == nil {
				cred = poll.Credential
			}
			if err == nil && cred.ControllerID != controller {
				err = firmward.Errorf(firmward.EFORBIDDEN, "this target token belongs to another controller")
			}
		case strings.EqualFold(scheme, "GatewayToken") && secret != "" && h.cfg.GatewayToken != "":
			if subtle.ConstantTimeCompare([]byte(secret), []byte(h.cfg.GatewayToken)) != 1 {
				err = firmward.Errorf(firmward.EUNAUTHORIZED, "invalid gateway token")
				break
			}
			cred, err = h.cfg.Delivery.FindDeviceCredential(r.Context(), controller)
		default:
			w.Header().Set("WWW-Authenticate", `TargetToken realm="firmward"`)
			err = firmward.Errorf(firmward.EUNAUTHORIZED, "send Authorization: TargetToken <device token>")
		}
		if err != nil {
			h.logIfInternal(r, err)
			writeError(w, err)
			return
		}
		ctx := firmward.WithActor(r.Context(), firmward.DeviceActor(cred))
		scheme = "http"
		if r.TLS != nil {
			scheme = "https"
		}
		d := &device{cred: cred, poll: poll, base: scheme + "://" + r.Host + "/" + tenant + "/controller/v1/" + controller}
		next(w, r.WithContext(ctx), d)
	})
}

func (h *Handler) logIfInternal(r *http.Request, err error) {
	if firmward.ErrorCode(err) == firmward.EINTERNAL {
		h.cfg.Logger.Error("ddi request failed", slog.String("path", r.URL.Path), slog.Any("err", err))
	}
}

type link struct {
	Href string `json:"href"`
}

// pollSleep formats d as DDI's HH:MM:SS.
func pollSleep(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	return fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60)
}

func (h *Handler) handleBase(w http.ResponseWriter, r *http.Request, d *device) {
	poll := d.poll
	if poll == nil { // a gateway: read what the target token's query gives
		next, err := h.cfg.Delivery.NextAction(r.Context(), d.cred.DeviceID)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		attrs, err := h.cfg.Delivery.DeviceAttributes(r.Context(), d.cred.DeviceID)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		poll = &firmward.DevicePoll{Credential: d.cred, Next: next, HasAttributes: len(attrs) > 0}
	}
	hd := w.Header()
	hd["Content-Type"] = jsonContentType
	hd["Cache-Control"] = noStore
	a := poll.Next
	if a == nil && poll.HasAttributes {
		// The fleet at rest: nothing to do, nothing to ask; the body was
		// rendered once by New.
		_, _ = w.Write(h.idleBody)
		return
	}
	// The keys in the order encoding/json writes a map's: sorted.
	b := make([]byte, 0, 256+2*len(d.base))
	b = append(b, `{"_links":{`...)
	sep := false
	addLink := func(name, href string) {
		if sep {
			b = append(b, ',')
		}
		sep = true
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, `":{"href":`...)
		b = appendJSONString(b, href)
		b = append(b, '}')
	}
	if a != nil && a.Status == firmward.ActionCanceling {
		addLink("cancelAction", d.base+"/cancelAction/"+strconv.FormatInt(a.ID, 10))
	}
	if !poll.HasAttributes {
		addLink("configData", d.base+"/configData")
	}
	if a != nil && a.Status != firmward.ActionCanceling {
		// c changes with the action's state, so that clients caching by
		// URL fetch it again.
		c := "?c=" + strconv.FormatInt(a.UpdatedAt.UnixMicro(), 36)
		addLink("deploymentBase", d.base+"/deploymentBase/"+strconv.FormatInt(a.ID, 10)+c)
	}
	b = append(b, "},"...)
	b = append(b, h.idleBody[1:]...) // "config":{…}}\n
	_, _ = w.Write(b)
}

// Header values shared by every JSON answer (net/http only reads them).
var (
	jsonContentType = []string{"application/json"}
	noStore         = []string{"no-store"}
)

// appendJSONString appends s as a JSON string, escaped as encoding/json
// escapes it (HTML-safe).
func appendJSONString(b []byte, s string) []byte {
	q, err := json.Marshal(s)
	if err != nil { // a string always encodes; keep the document valid anyway
		return append(b, `""`...)
	}
	return append(b, q...)
}

// ownAction returns the device's action named in the path, or ENOTFOUND
// (also for another device's action).
func (h *Handler) ownAction(r *http.Request, d *device) (*firmward.Action, error) {
	raw := r.PathValue("action")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return nil, firmward.Errorf(firmward.EINVALID, "action id %q is not a positive whole number", clip(raw))
	}
	a, err := h.cfg.Delivery.FindActionByID(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if a.DeviceID != d.cred.DeviceID {
		return nil, firmward.Errorf(firmward.ENOTFOUND, "action %d not found", id)
	}
	return a, nil
}

type artifactDoc struct {
	Filename string            `json:"filename"`
	Hashes   map[string]string `json:"hashes"`
	Size     int64             `json:"size"`
	Links    map[string]link   `json:"_links"`
}

type chunkDoc struct {
	Part      string        `json:"part"`
	Version   string        `json:"version"`
	Name      string        `json:"name"`
	Artifacts []artifactDoc `json:"artifacts"`
}

type deploymentDoc struct {
	Download          string     `json:"download"`
	Update            string     `json:"update"`
	MaintenanceWindow string     `json:"maintenanceWindow,omitempty"`
	Chunks            []chunkDoc `json:"chunks"`
}

// deployment renders an action as DDI's deploymentBase.
func (h *Handler) deployment(ctx context.Context, d *device, a *firmward.Action) (map[string]any, error) {
	rel, err := h.cfg.Releases.FindReleaseByID(ctx, a.ReleaseID)
	if err != nil {
		return nil, err
	}
	dep := deploymentDoc{Download: "forced", Update: "forced"}
	switch a.Type {
	case firmward.ActionAttempt:
		dep.Download, dep.Update = "attempt", "attempt"
	case firmward.ActionSkip:
		dep.Download, dep.Update = "attempt", "skip"
	case firmward.ActionDownloadOnly:
		dep.Download, dep.Update = "forced", "skip"
	}
	if a.Window != nil {
		if a.Window.Contains(h.cfg.Now()) {
			dep.MaintenanceWindow = "available"
		} else {
			dep.MaintenanceWindow = "unavailable"
			dep.Update = "skip"
		}
	}
	chunk := chunkDoc{Part: "os", Version: rel.Version, Name: rel.Manufacturer + " " + strings.Join(rel.Models, ", "), Artifacts: []artifactDoc{}}
	module := d.base + "/softwaremodules/" + strconv.FormatInt(rel.ID, 10) + "/artifacts/"
	for _, art := range rel.Artifacts {
		if !art.Stored() {
			// DDI clients send their target token with every download:
			// only files firmward serves itself are offered, never a
			// vendor's URL.
			continue
		}
		href := module + url.PathEscape(art.Name)
		chunk.Artifacts = append(chunk.Artifacts, artifactDoc{
			Filename: art.Name, Size: art.Size,
			Hashes: map[string]string{"sha1": art.SHA1, "md5": art.MD5, "sha256": art.SHA256},
			Links:  map[string]link{"download-http": {href}, "download": {href}, "md5sum-http": {href + ".MD5SUM"}},
		})
	}
	dep.Chunks = []chunkDoc{chunk}
	return map[string]any{
		"id":            strconv.FormatInt(a.ID, 10),
		"deployment":    dep,
		"actionHistory": map[string]any{"status": string(a.Status), "messages": []string{}},
	}, nil
}

func (h *Handler) handleDeployment(w http.ResponseWriter, r *http.Request, d *device) {
	a, err := h.ownAction(r, d)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !a.Status.Open() {
		h.fail(w, r, firmward.Errorf(firmward.ENOTFOUND, "action %d is %s; nothing to deploy", a.ID, a.Status))
		return
	}
	doc, err := h.deployment(r.Context(), d, a)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, doc)
}

func (h *Handler) handleInstalled(w http.ResponseWriter, r *http.Request, d *device) {
	a, err := h.ownAction(r, d)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if a.Status != firmward.ActionFinished || a.Result != firmward.ResultSuccess {
		h.fail(w, r, firmward.Errorf(firmward.ENOTFOUND, "action %d was not installed", a.ID))
		return
	}
	doc, err := h.deployment(r.Context(), d, a)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, doc)
}

func (h *Handler) handleCancel(w http.ResponseWriter, r *http.Request, d *device) {
	a, err := h.ownAction(r, d)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if a.Status != firmward.ActionCanceling {
		h.fail(w, r, firmward.Errorf(firmward.ENOTFOUND, "action %d is not being canceled", a.ID))
		return
	}
	id := strconv.FormatInt(a.ID, 10)
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "cancelAction": map[string]string{"stopId": id}})
}

func (h *Handler) handleFeedback(w http.ResponseWriter, r *http.Request, d *device) {
	h.feedback(w, r, d, false)
}

func (h *Handler) handleCancelFeedback(w http.ResponseWriter, r *http.Request, d *device) {
	h.feedback(w, r, d, true)
}

func (h *Handler) feedback(w http.ResponseWriter, r *http.Request, d *device, cancel bool) {
	a, err := h.ownAction(r, d)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	fb, err := parseFeedback(body, a.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	fb.Cancel = cancel
	if cancel && a.Status != firmward.ActionCanceling {
		h.fail(w, r, firmward.Errorf(firmward.ECONFLICT, "action %d is not being canceled", a.ID))
		return
	}
	got, err := h.cfg.Delivery.AddFeedback(r.Context(), d.cred.DeviceID, a.ID, fb)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.cfg.Logger.Info("ddi feedback", slog.Int64("device", d.cred.DeviceID), slog.Int64("action", a.ID),
		slog.String("execution", fb.Execution), slog.String("finished", fb.Finished), slog.String("status", string(got.Status)))
	w.WriteHeader(http.StatusOK)
}

func (h *Handler) handleConfigData(w http.ResponseWriter, r *http.Request, d *device) {
	body, err := readBody(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	c, err := parseConfigData(body)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.cfg.Delivery.SetDeviceAttributes(r.Context(), d.cred.DeviceID, c.Mode, c.Data); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// handleConfirmation answers that actions need no confirmation on the
// device: firmward's approval happens on the server side.
func (h *Handler) handleConfirmation(w http.ResponseWriter, _ *http.Request, _ *device) {
	writeJSON(w, http.StatusOK, map[string]any{
		"autoConfirm": map[string]any{"active": true},
		"_links":      map[string]link{},
	})
}

func (h *Handler) handleArtifact(w http.ResponseWriter, r *http.Request, d *device) {
	rawModule, file := r.PathValue("module"), r.PathValue("file")
	module, err := strconv.ParseInt(rawModule, 10, 64)
	if err != nil || module <= 0 {
		h.fail(w, r, firmward.Errorf(firmward.EINVALID, "software module %q is not a positive whole number", clip(rawModule)))
		return
	}
	name, md5sum := strings.CutSuffix(file, ".MD5SUM")
	if why := firmward.ValidArtifactName(name); why != "" {
		h.fail(w, r, firmward.Errorf(firmward.EINVALID, "artifact name %q %s", clip(name), why))
		return
	}
	// The device must have an action for this release: it sees only what
	// was deployed to it.
	acts, _, err := h.cfg.Delivery.FindActions(r.Context(), firmward.ActionFilter{DeviceID: d.cred.DeviceID, ReleaseID: module, Limit: 1})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if len(acts) == 0 {
		h.fail(w, r, firmward.Errorf(firmward.ENOTFOUND, "no artifact %q in software module %d", clip(name), module))
		return
	}
	rel, err := h.cfg.Releases.FindReleaseByID(r.Context(), module)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	i := slices.IndexFunc(rel.Artifacts, func(a firmward.ReleaseArtifact) bool { return a.Name == name && a.Stored() })
	if i < 0 {
		h.fail(w, r, firmward.Errorf(firmward.ENOTFOUND, "no artifact %q in software module %d", clip(name), module))
		return
	}
	art := rel.Artifacts[i]
	if md5sum {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, art.MD5+"  "+art.Name+"\n")
		return
	}
	f, _, err := h.cfg.Artifacts.Open(r.Context(), art.SHA256)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer func() { _ = f.Close() }()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="`+url.PathEscape(art.Name)+`"`)
	w.Header().Set("ETag", `"`+art.SHA256+`"`)
	http.ServeContent(w, r, "", rel.CreatedAt, f)
}

// readBody reads a request body of at most MaxBodyBytes.
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
	h.logIfInternal(r, err)
	writeError(w, err)
}

// status maps an error code to its HTTP status.
func status(code string) int {
	switch code {
	case firmward.EINVALID:
		return http.StatusBadRequest
	case firmward.ENOTFOUND:
		return http.StatusNotFound
	case firmward.ECONFLICT:
		return http.StatusConflict
	case firmward.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case firmward.EFORBIDDEN:
		return http.StatusForbidden
	case firmward.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusInternalServerError
}

// writeError answers with the error in hawkBit's shape (errorCode,
// message) plus firmward's (error.code, error.message, error.details).
func writeError(w http.ResponseWriter, err error) {
	code := firmward.ErrorCode(err)
	msg := firmward.ErrorMessage(err)
	writeJSON(w, status(code), map[string]any{
		"errorCode": "firmward." + code,
		"message":   msg,
		"error":     map[string]any{"code": code, "message": msg, "details": firmward.ErrorDetails(err)},
	})
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

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}
