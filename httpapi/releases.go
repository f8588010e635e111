package httpapi

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/artifact"
	"github.com/firmward/firmward/rollout"
)

// ReleaseList answers GET /api/v1/releases.
type ReleaseList struct {
	Releases   []*firmward.Release `json:"releases"`
	NextCursor string              `json:"next_cursor"`
}

// WithdrawRequest is the body of POST /api/v1/releases/{id}/withdraw.
type WithdrawRequest struct {
	Reason string `json:"reason"`
}

// WithdrawResult answers POST /api/v1/releases/{id}/withdraw.
type WithdrawResult struct {
	Release         *firmward.Release `json:"release"`
	CanceledActions int               `json:"canceled_actions"`
}

// DeployRequest is the body of POST /api/v1/releases/{id}/deploy. A
// device the release does not fit (another manufacturer or model, a known
// hardware version it does not list, a known firmware version below its
// minimum from-version or newer than it) is refused, naming each, unless
// Force is set.
type DeployRequest struct {
	Devices           []int64                     `json:"devices"`
	Type              firmward.ActionType         `json:"type,omitempty"`
	MaintenanceWindow *firmward.MaintenanceWindow `json:"maintenance_window,omitempty"`
	Force             bool                        `json:"force,omitempty"`
}

// ActionList answers GET /api/v1/actions and POST /api/v1/releases/{id}/deploy.
type ActionList struct {
	Actions    []*firmward.Action `json:"actions"`
	NextCursor string             `json:"next_cursor,omitempty"`
}

// ActionDetail answers GET /api/v1/actions/{id}: the action and its
// feedback log, oldest first.
type ActionDetail struct {
	Action   *firmward.Action           `json:"action"`
	Feedback []*firmward.ActionFeedback `json:"feedback"`
}

// DeviceTokenRequest is the optional body of POST /api/v1/devices/{id}/token.
type DeviceTokenRequest struct {
	ControllerID string `json:"controller_id,omitempty"`
}

// DeviceTokenCreated answers POST /api/v1/devices/{id}/token and POST
// /api/v1/enroll: Secret is shown this once.
type DeviceTokenCreated struct {
	Credential *firmward.DeviceCredential `json:"credential"`
	Secret     string                     `json:"secret"`
}

// EnrollRequest is the body of POST /api/v1/enroll: the device describes
// itself and names the controller id it will use.
type EnrollRequest struct {
	ControllerID    string `json:"controller_id"`
	Name            string `json:"name"`
	Manufacturer    string `json:"manufacturer,omitempty"`
	Model           string `json:"model,omitempty"`
	HardwareVersion string `json:"hardware_version,omitempty"`
	FirmwareVersion string `json:"firmware_version,omitempty"`
	Serial          string `json:"serial,omitempty"`
	// UpdateMechanism is how the device takes updates: "agent" (the
	// default: firmward-agent enrolls) or "ddi" (a hawkBit client), so
	// that campaigns send it actions rather than manual tasks.
	UpdateMechanism firmward.UpdateMechanism `json:"update_mechanism,omitempty"`
}

// ArtifactSums answers POST /api/v1/artifacts.
type ArtifactSums = artifact.Sums

// Cursor kinds of the delivery listings.
const (
	cursorReleases = 'r'
	cursorActions  = 'x'
)

var (
	listReleaseParams = append([]param{
		stringParam("manufacturer", "Manufacturer, exact, any case."),
		stringParam("model", "Releases listing this model."),
		{name: "withdrawn", desc: "Include withdrawn releases.", schema: map[string]any{"type": "boolean", "default": false}},
	}, pageParams...)
	listActionParams = append([]param{
		{name: "device", desc: "Only actions of this device.", schema: map[string]any{"type": "integer"}},
		{name: "release", desc: "Only actions of this release.", schema: map[string]any{"type": "integer"}},
		enumParamDoc("status", "Only actions in this status.", firmward.ActionStatuses),
	}, pageParams...)
	uploadParams = []param{stringParam("sha256", "The SHA-256 the upload must have (64 hex digits); a mismatch is a 400 and stores nothing.")}
)

// deliveryReady reports whether the delivery services are configured.
func (s *Server) deliveryReady(w http.ResponseWriter, r *http.Request) bool {
	if s.releases == nil || s.delivery == nil || s.artifacts == nil {
		s.writeError(w, r, errors.New("release delivery is not configured on this server"))
		return false
	}
	return true
}

func (s *Server) handleListReleases(w http.ResponseWriter, r *http.Request) {
	if !s.deliveryReady(w, r) {
		return
	}
	q, err := parseQuery(r.URL.RawQuery, paramNames(listReleaseParams))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	f := firmward.ReleaseFilter{Manufacturer: q.get("manufacturer"), Model: q.get("model")}
	if f.IncludeWithdrawn, err = boolParam(q, "withdrawn"); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.Limit, err = limitParam(q); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.After, err = cursorParam(q, cursorReleases); err != nil {
		s.writeError(w, r, err)
		return
	}
	list, next, err := s.releases.FindReleases(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := ReleaseList{Releases: list}
	if out.Releases == nil {
		out.Releases = []*firmward.Release{}
	}
	if next != 0 {
		out.NextCursor = encodeCursor(cursorReleases, next)
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

func (s *Server) handleGetRelease(w http.ResponseWriter, r *http.Request) {
	if !s.deliveryReady(w, r) {
		return
	}
	id, err := idParam(r.PathValue("id"), "release")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rel, err := s.releases.FindReleaseByID(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, rel)
}

// handleUploadArtifact streams the body into the artifact store. With
// ?sha256= a body of another hash is refused and nothing is stored.
func (s *Server) handleUploadArtifact(w http.ResponseWriter, r *http.Request) {
	if !s.deliveryReady(w, r) {
		return
	}
	q, err := parseQuery(r.URL.RawQuery, paramNames(uploadParams))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	sums, err := s.artifacts.Put(r.Context(), r.Body, strings.ToLower(q.get("sha256")))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusCreated, sums)
}

// handleCreateRelease stores a release after checking that every stored
// artifact is in the artifact store with the hashes and size declared
// (those left out are filled in).
func (s *Server) handleCreateRelease(w http.ResponseWriter, r *http.Request) {
	if !s.deliveryReady(w, r) {
		return
	}
	var rel firmward.Release
	if err := decodeJSON(w, r, &rel); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := rel.Normalize(); err != nil {
		s.writeError(w, r, err)
		return
	}
	var details []firmward.ErrorDetail
	for i := range rel.Artifacts {
		a := &rel.Artifacts[i]
		if !a.Stored() {
			continue
		}
		field := "artifacts[" + strconv.Itoa(i) + "]"
		sums, err := s.artifacts.Sums(r.Context(), a.SHA256)
		if firmward.ErrorCode(err) == firmward.ENOTFOUND {
			details = append(details, firmward.ErrorDetail{Field: field + ".sha256", Value: a.SHA256, Reason: "is not in the artifact store; upload the file first (POST /api/v1/artifacts)"})
			continue
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		check := func(name, declared, actual string) {
			if declared != "" && declared != actual {
				details = append(details, firmward.ErrorDetail{Field: field + "." + name, Value: declared, Reason: "does not match the stored file (" + actual + ")"})
			}
		}
		check("sha1", a.SHA1, sums.SHA1)
		check("md5", a.MD5, sums.MD5)
		if a.Size != 0 && a.Size != sums.Size {
			check("size", strconv.FormatInt(a.Size, 10), strconv.FormatInt(sums.Size, 10))
		}
		a.SHA1, a.MD5, a.Size = sums.SHA1, sums.MD5, sums.Size
	}
	if len(details) > 0 {
		s.writeError(w, r, &firmward.Error{Code: firmward.EINVALID, Message: "release artifacts do not match the stored files", Details: details})
		return
	}
	if err := s.releases.CreateRelease(r.Context(), &rel); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", apiPrefix+"/releases/"+strconv.FormatInt(rel.ID, 10))
	s.writeJSON(w, r, http.StatusCreated, &rel)
}

func (s *Server) handleWithdrawRelease(w http.ResponseWriter, r *http.Request) {
	if !s.deliveryReady(w, r) {
		return
	}
	id, err := idParam(r.PathValue("id"), "release")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req WithdrawRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	rel, n, err := s.releases.WithdrawRelease(r.Context(), id, req.Reason)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, WithdrawResult{Release: rel, CanceledActions: n})
}

func (s *Server) handleDeployRelease(w http.ResponseWriter, r *http.Request) {
	if !s.deliveryReady(w, r) {
		return
	}
	id, err := idParam(r.PathValue("id"), "release")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req DeployRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if !req.Force && len(req.Devices) <= firmward.MaxDeployDevices {
		if err := s.checkFit(r.Context(), id, req.Devices); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	acts, err := s.delivery.CreateActions(r.Context(), firmward.DeployRequest{
		ReleaseID: id, DeviceIDs: req.Devices, Type: req.Type, Window: req.MaintenanceWindow,
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusCreated, ActionList{Actions: acts})
}

// checkFit refuses a deployment of release id to devices it does not fit
// (rollout.Misfit), naming each; unknown ids are left to CreateActions.
func (s *Server) checkFit(ctx context.Context, id int64, devices []int64) error {
	rel, err := s.releases.FindReleaseByID(ctx, id)
	if err != nil {
		return err
	}
	var details []firmward.ErrorDetail
	for i, did := range devices {
		d, err := s.devices.FindDeviceByID(ctx, did)
		if firmward.ErrorCode(err) == firmward.ENOTFOUND {
			continue
		}
		if err != nil {
			return err
		}
		if why := rollout.Misfit(rel, d); why != "" {
			details = append(details, firmward.ErrorDetail{Field: fmt.Sprintf("devices[%d]", i), Value: strconv.FormatInt(did, 10), Reason: why})
		}
	}
	if len(details) > 0 {
		return &firmward.Error{Code: firmward.EINVALID, Message: fmt.Sprintf("release %d does not fit %d of the devices; set force to deploy anyway", id, len(details)), Details: details}
	}
	return nil
}

func (s *Server) handleListActions(w http.ResponseWriter, r *http.Request) {
	if !s.deliveryReady(w, r) {
		return
	}
	q, err := parseQuery(r.URL.RawQuery, paramNames(listActionParams))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var f firmward.ActionFilter
	for name, dst := range map[string]*int64{"device": &f.DeviceID, "release": &f.ReleaseID} {
		if v := q.get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1 {
				s.writeError(w, r, paramError(name, v, "must be a positive whole number"))
				return
			}
			*dst = n
		}
	}
	if f.Status, err = enumParam(q, "status", firmward.ActionStatuses); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.Limit, err = limitParam(q); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.After, err = cursorParam(q, cursorActions); err != nil {
		s.writeError(w, r, err)
		return
	}
	acts, next, err := s.delivery.FindActions(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := ActionList{Actions: acts}
	if out.Actions == nil {
		out.Actions = []*firmward.Action{}
	}
	if next != 0 {
		out.NextCursor = encodeCursor(cursorActions, next)
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

func (s *Server) handleGetAction(w http.ResponseWriter, r *http.Request) {
	if !s.deliveryReady(w, r) {
		return
	}
	id, err := idParam(r.PathValue("id"), "action")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	a, err := s.delivery.FindActionByID(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	fb, err := s.delivery.ActionFeedback(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, ActionDetail{Action: a, Feedback: fb})
}

func (s *Server) handleCancelAction(w http.ResponseWriter, r *http.Request) {
	if !s.deliveryReady(w, r) {
		return
	}
	id, err := idParam(r.PathValue("id"), "action")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	a, err := s.delivery.CancelAction(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, a)
}

func (s *Server) handleCreateDeviceToken(w http.ResponseWriter, r *http.Request) {
	if !s.deliveryReady(w, r) {
		return
	}
	id, err := idParam(r.PathValue("id"), "device")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req DeviceTokenRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, &req); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	cred, secret, err := s.delivery.CreateDeviceToken(r.Context(), id, req.ControllerID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusCreated, DeviceTokenCreated{Credential: cred, Secret: secret})
}

// handleEnroll lets a device register itself with the pre-shared
// enrollment key ("Authorization: EnrollmentKey KEY"). Without a key
// configured on the server, enrollment is off (403).
func (s *Server) handleEnroll(w http.ResponseWriter, r *http.Request) {
	if !s.deliveryReady(w, r) {
		return
	}
	if s.enrollKey == "" {
		s.writeError(w, r, firmward.Errorf(firmward.EFORBIDDEN, "enrollment is off on this server (serve --enrollment-key)"))
		return
	}
	scheme, key, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !strings.EqualFold(scheme, "EnrollmentKey") || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(key)), []byte(s.enrollKey)) != 1 {
		s.writeError(w, r, firmward.Errorf(firmward.EUNAUTHORIZED, "send Authorization: EnrollmentKey <the server's enrollment key>"))
		return
	}
	var req EnrollRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	switch req.UpdateMechanism {
	case "":
		req.UpdateMechanism = firmward.UpdateAgent
	case firmward.UpdateAgent, firmward.UpdateDDI:
	default:
		s.writeError(w, r, &firmward.Error{Code: firmward.EINVALID, Message: "the enrollment request is not valid", Details: []firmward.ErrorDetail{{
			Field: "update_mechanism", Value: string(req.UpdateMechanism), Reason: "a device that enrolls itself takes updates as agent or ddi",
		}}})
		return
	}
	d := &firmward.Device{
		Name: req.Name, Manufacturer: req.Manufacturer, Model: req.Model, HardwareVersion: req.HardwareVersion,
		FirmwareVersion: req.FirmwareVersion, Serial: req.Serial, UpdateMechanism: req.UpdateMechanism,
	}
	ctx := firmward.WithActor(r.Context(), firmward.Actor{Kind: "system", Name: "enrollment"})
	cred, secret, err := s.delivery.EnrollDevice(ctx, d, req.ControllerID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusCreated, DeviceTokenCreated{Credential: cred, Secret: secret})
}
