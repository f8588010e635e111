package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/artifact"
)

const testEnrollmentKey = "enroll-key-for-tests"

// artifacts opens an artifact store in a temporary directory.
func (e *env) artifacts(t testing.TB) *artifact.Store {
	t.Helper()
	s, err := artifact.Open(filepath.Join(t.TempDir(), "artifacts"), artifact.Options{MaxSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func TestReleaseAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	op := e.client(firmward.RoleOperator)
	content := "swu image content"

	// A wrong declared hash stores nothing.
	before := e.state(t)
	_, err := op.UploadArtifact(ctx, strings.NewReader(content), sha256Hex("something else"))
	if firmward.ErrorCode(err) != firmward.EINVALID {
		t.Fatalf("wrong hash upload: %v", err)
	}
	sums, err := op.UploadArtifact(ctx, strings.NewReader(content), sha256Hex(content))
	if err != nil || sums.SHA256 != sha256Hex(content) || sums.Size != int64(len(content)) || sums.MD5 == "" {
		t.Fatalf("upload = %+v, %v", sums, err)
	}
	if r := e.do(t, "POST", "/api/v1/artifacts", firmward.RoleOperator, strings.Repeat("x", 1<<20+1)); r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized upload = %d", r.status)
	}

	rel := &firmward.Release{
		Manufacturer: "Acme", Models: []string{"Cam"}, Version: "1.2", FixesCVEs: []string{"CVE-2025-1111"},
		Artifacts: []firmward.ReleaseArtifact{{Name: "cam.swu", SHA256: sums.SHA256}},
	}
	bad := []struct {
		name  string
		edit  func(r *firmward.Release)
		field string
	}{
		{"wrong sha1", func(r *firmward.Release) { r.Artifacts[0].SHA1 = strings.Repeat("0", 40) }, "artifacts[0].sha1"},
		{"wrong md5", func(r *firmward.Release) { r.Artifacts[0].MD5 = strings.Repeat("0", 32) }, "artifacts[0].md5"},
		{"wrong size", func(r *firmward.Release) { r.Artifacts[0].Size = 3 }, "artifacts[0].size"},
		{"not uploaded", func(r *firmward.Release) { r.Artifacts[0].SHA256 = sha256Hex("never uploaded") }, "artifacts[0].sha256"},
		{"traversal", func(r *firmward.Release) { r.Artifacts[0].Name = "../../x" }, "artifacts[0].name"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			r := *rel
			r.Artifacts = []firmward.ReleaseArtifact{rel.Artifacts[0]}
			tc.edit(&r)
			_, err := op.CreateRelease(ctx, &r)
			if firmward.ErrorCode(err) != firmward.EINVALID {
				t.Fatalf("err = %v", err)
			}
			found := false
			for _, d := range firmward.ErrorDetails(err) {
				found = found || d.Field == tc.field
			}
			if !found {
				t.Fatalf("details %v do not name %s", firmward.ErrorDetails(err), tc.field)
			}
		})
	}
	if after := e.state(t); after != before {
		t.Fatalf("refused requests changed state: %+v → %+v", before, after)
	}
	if _, err := e.client(firmward.RoleViewer).CreateRelease(ctx, rel); firmward.ErrorCode(err) != firmward.EFORBIDDEN {
		t.Fatalf("viewer created a release: %v", err)
	}
	created, err := op.CreateRelease(ctx, rel)
	if err != nil || created.ID == 0 || created.Artifacts[0].SHA1 != sums.SHA1 || created.Artifacts[0].Size != sums.Size || created.CreatedBy != "token:2(test-operator)" {
		t.Fatalf("CreateRelease = %+v, %v", created, err)
	}
	list, _, err := e.client(firmward.RoleViewer).ListReleases(ctx, ReleaseQuery{Model: "Cam"})
	if err != nil || len(list) != 1 {
		t.Fatalf("ListReleases = %v, %v", list, err)
	}

	d := &firmward.Device{Name: "cam"}
	if err := e.devices.CreateDevice(ctx, d); err != nil {
		t.Fatal(err)
	}
	tok, err := op.CreateDeviceToken(ctx, d.ID, "cam-01")
	if err != nil || tok.Credential.ControllerID != "cam-01" || !strings.HasPrefix(tok.Secret, firmward.DeviceTokenPrefix) {
		t.Fatalf("CreateDeviceToken = %+v, %v", tok, err)
	}
	acts, err := op.DeployRelease(ctx, created.ID, DeployRequest{Devices: []int64{d.ID}, Type: firmward.ActionForced})
	if err != nil || len(acts) != 1 || acts[0].Status != firmward.ActionScheduled {
		t.Fatalf("DeployRelease = %v, %v", acts, err)
	}
	// A device the release does not fit is refused, named, and nothing
	// is created; force deploys anyway.
	other := &firmward.Device{Name: "doorbell", Manufacturer: "Other", Model: "Bell 2"}
	if err := e.devices.CreateDevice(ctx, other); err != nil {
		t.Fatal(err)
	}
	before = e.state(t)
	_, err = op.DeployRelease(ctx, created.ID, DeployRequest{Devices: []int64{d.ID, other.ID}})
	if ds := firmward.ErrorDetails(err); firmward.ErrorCode(err) != firmward.EINVALID || len(ds) != 1 || ds[0].Field != "devices[1]" || !strings.Contains(ds[0].Reason, "made by Other") {
		t.Fatalf("deploy to a device the release does not fit: %v %+v", err, ds)
	}
	if after := e.state(t); after != before {
		t.Fatalf("a refused deployment changed state: %+v → %+v", before, after)
	}
	if acts, err := op.DeployRelease(ctx, created.ID, DeployRequest{Devices: []int64{other.ID}, Force: true}); err != nil || len(acts) != 1 {
		t.Fatalf("forced deploy = %v, %v", acts, err)
	}
	if _, err := op.DeployRelease(ctx, created.ID, DeployRequest{Devices: []int64{d.ID + 50}}); firmward.ErrorCode(err) != firmward.ENOTFOUND {
		t.Fatalf("deploy to unknown device: %v", err)
	}
	r := e.do(t, "GET", "/api/v1/actions?device="+strconv.FormatInt(d.ID, 10)+"&status=scheduled", firmward.RoleViewer, "")
	var al ActionList
	if err := json.Unmarshal(r.body, &al); r.status != 200 || err != nil || len(al.Actions) != 1 {
		t.Fatalf("list actions = %d %s", r.status, r.body)
	}
	if r := e.do(t, "GET", "/api/v1/actions?status=done", firmward.RoleViewer, ""); r.status != 400 {
		t.Fatalf("bad status filter = %d", r.status)
	}
	wr, err := op.WithdrawRelease(ctx, created.ID, "recalled by vendor")
	if err != nil || wr.CanceledActions != 2 || !wr.Release.Withdrawn { // the two deployed above
		t.Fatalf("WithdrawRelease = %+v, %v", wr, err)
	}
	detail, err := op.GetAction(ctx, acts[0].ID)
	if err != nil || detail.Action.Status != firmward.ActionCanceled {
		t.Fatalf("action after withdraw = %+v, %v", detail, err)
	}
	events, _, err := e.audit.FindAuditEvents(ctx, firmward.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, ev := range events {
		seen[ev.Action] = true
	}
	for _, a := range []string{firmward.ActionReleaseCreate, firmward.ActionReleaseWithdraw, firmward.ActionActionCreate, firmward.ActionActionCancel, firmward.ActionDeviceTokenCreate} {
		if !seen[a] {
			t.Errorf("no %s audit event", a)
		}
	}
}

func TestEnroll(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	body := `{"controller_id":"sensor-7","name":"Sensor 7","manufacturer":"Acme","model":"S1","firmware_version":"1.0"}`
	before := e.state(t)
	for _, tc := range []struct{ name, auth string }{
		{"no key", ""},
		{"wrong key", "EnrollmentKey nope"},
		{"bearer", "Bearer " + testEnrollmentKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.auth != "" {
				hdr = []string{"Authorization", tc.auth}
			}
			if r := e.do(t, "POST", "/api/v1/enroll", "", body, hdr...); r.status != http.StatusUnauthorized {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
		})
	}
	if e.state(t) != before {
		t.Fatal("a refused enrollment changed state")
	}
	r := e.do(t, "POST", "/api/v1/enroll", "", body, "Authorization", "EnrollmentKey "+testEnrollmentKey)
	var got DeviceTokenCreated
	if err := json.Unmarshal(r.body, &got); r.status != 201 || err != nil || got.Credential.ControllerID != "sensor-7" || got.Secret == "" {
		t.Fatalf("enroll = %d %s", r.status, r.body)
	}
	d, err := e.devices.FindDeviceByID(context.Background(), got.Credential.DeviceID)
	if err != nil || d.Model != "S1" || d.FirmwareVersion != "1.0" || d.UpdateMechanism != firmward.UpdateAgent {
		t.Fatalf("enrolled device = %+v, %v; want update mechanism agent, so campaigns send it actions", d, err)
	}
	bad := `{"controller_id":"sensor-8","name":"Sensor 8","update_mechanism":"technician"}`
	if r := e.do(t, "POST", "/api/v1/enroll", "", bad, "Authorization", "EnrollmentKey "+testEnrollmentKey); r.status != http.StatusBadRequest {
		t.Fatalf("enroll as technician = %d %s, want 400", r.status, r.body)
	}
	ddi := `{"controller_id":"gw-1","name":"Gateway 1","update_mechanism":"ddi"}`
	r = e.do(t, "POST", "/api/v1/enroll", "", ddi, "Authorization", "EnrollmentKey "+testEnrollmentKey)
	if err := json.Unmarshal(r.body, &got); r.status != 201 || err != nil {
		t.Fatalf("enroll as ddi = %d %s", r.status, r.body)
	}
	if d, err := e.devices.FindDeviceByID(context.Background(), got.Credential.DeviceID); err != nil || d.UpdateMechanism != firmward.UpdateDDI {
		t.Fatalf("ddi-enrolled device = %+v, %v", d, err)
	}
	if r := e.do(t, "POST", "/api/v1/enroll", "", body, "Authorization", "EnrollmentKey "+testEnrollmentKey); r.status != http.StatusConflict {
		t.Fatalf("second enrollment = %d %s", r.status, r.body)
	}
}
