package sim

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/firmward/firmward"
)

// retryFirst is the wait before a request is repeated the first time.
const retryFirst = 250 * time.Millisecond

// installSteps is the number of progress steps a simulated install reports.
const installSteps = 3

// artifactRef is one file an action asks the device to fetch.
type artifactRef struct {
	url, sha256 string
	size        int64
}

// offer is an action as either protocol hands it to a device.
type offer struct {
	id           int64
	cancel       bool // the server asks the device to cancel it
	install      bool // the install may run now
	downloadOnly bool // fetch the files, then close
	version      string
	artifacts    []artifactRef
}

// protocol is how a device speaks to the server.
type protocol interface {
	auth(d *device) string
	poll(ctx context.Context, d *device) (*offer, error)
	feedback(ctx context.Context, d *device, o *offer, fb *firmward.ActionFeedback) error
}

func (s *Sim) protocol() protocol {
	if s.cfg.Protocol == ProtocolDDI {
		return &ddiProto{s: s}
	}
	return &nativeProto{s: s}
}

// errUnconfirmed is a closing report whose answer was lost: whether the
// server recorded it shows at the next poll.
var errUnconfirmed = errors.New("the closing report was not confirmed")

// runDevice polls until the device has closed its actions or ctx ends.
func (s *Sim) runDevice(ctx context.Context, d *device, first time.Duration) {
	p := s.protocol()
	next := first
	var (
		closed     int
		lastSeen   int64
		pendingID  int64 // an action closed without confirmation
		pendingOK  bool
		lastClosed int64
	)
	finish := func(id int64, ok bool) bool {
		if ok {
			s.ok.Add(1)
		} else {
			s.failed.Add(1)
		}
		lastClosed = id
		closed++
		if closed >= s.cfg.Actions {
			s.done.Add(1)
			return true
		}
		return false
	}
	for {
		if !wait(ctx, next) {
			return
		}
		next = s.cfg.Poll
		s.polls.Add(1)
		o, err := p.poll(ctx, d)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if transient(err) {
				// The next regular poll is the retry: a busy server is
				// not polled harder.
				s.retries.Add(1)
			} else {
				s.noteError(err)
			}
			continue
		}
		if pendingID != 0 && (o == nil || o.id != pendingID) {
			// The server recorded the closing report it did not confirm.
			if finish(pendingID, pendingOK) {
				return
			}
			pendingID = 0
		}
		if o == nil || o.id == lastClosed {
			continue
		}
		if o.cancel {
			if err := s.cancelAction(ctx, p, d, o); err != nil && ctx.Err() == nil {
				s.noteError(err)
			}
			continue
		}
		if o.id != lastSeen {
			s.actions.Add(1)
			lastSeen = o.id
		}
		ok, err := s.work(ctx, p, d, o)
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, errUnconfirmed):
			pendingID, pendingOK = o.id, ok
			next = s.backoff(0)
		case err != nil:
			s.noteError(err)
		case !o.install && !o.downloadOnly:
			// Outside the maintenance window: downloaded, install later.
		default:
			if ok {
				d.version = o.version
			}
			if finish(o.id, ok) {
				return
			}
		}
	}
}

// work downloads, installs (in simulated steps) and reports one action;
// it returns whether the install succeeded. An install not allowed yet
// stops after the download.
func (s *Sim) work(ctx context.Context, p protocol, d *device, o *offer) (bool, error) {
	report := func(fb *firmward.ActionFeedback) error {
		return s.retry(ctx, true, func() error { return p.feedback(ctx, d, o, fb) })
	}
	of := installSteps
	if err := report(&firmward.ActionFeedback{Execution: firmward.ExecProceeding, Finished: "none", ProgressCnt: 0, ProgressOf: of, Details: []string{"downloading"}}); err != nil {
		return false, err
	}
	ok := !s.WillFail(d.index)
	why := "simulated install failure"
	for _, a := range o.artifacts {
		if err := s.download(ctx, a.url, p.auth(d), a.sha256, a.size); err != nil {
			var ve *verifyError
			if !errors.As(err, &ve) {
				return false, err
			}
			ok, why = false, err.Error()
			break
		}
	}
	if err := report(&firmward.ActionFeedback{Execution: firmward.ExecProceeding, Finished: "none", ProgressCnt: 1, ProgressOf: of, Details: []string{"downloaded"}}); err != nil {
		return false, err
	}
	final := &firmward.ActionFeedback{Execution: firmward.ExecClosed, Finished: firmward.ResultSuccess, ProgressCnt: of, ProgressOf: of}
	switch {
	case o.downloadOnly:
		final.Details = []string{"download only: files kept"}
		if why != "simulated install failure" {
			final.Finished, final.Details = firmward.ResultFailure, []string{why}
			ok = false
		} else {
			ok = true
		}
	case !o.install:
		return ok, nil
	default:
		if err := report(&firmward.ActionFeedback{Execution: firmward.ExecProceeding, Finished: "none", ProgressCnt: 2, ProgressOf: of, Details: []string{"installing " + o.version}}); err != nil {
			return false, err
		}
		if ok {
			final.Details = []string{"installed " + o.version}
		} else {
			final.Finished, final.Details = firmward.ResultFailure, []string{why}
		}
	}
	// A lost answer followed by a refusal means the first attempt was
	// recorded: the next poll tells.
	lost := false
	err := s.retry(ctx, true, func() error {
		err := p.feedback(ctx, d, o, final)
		if transient(err) {
			lost = true
		}
		return err
	})
	if err != nil && lost && !transient(err) && ctx.Err() == nil {
		return ok, errUnconfirmed
	}
	return ok, err
}

// cancelAction answers the server's request to cancel an action.
func (s *Sim) cancelAction(ctx context.Context, p protocol, d *device, o *offer) error {
	fb := &firmward.ActionFeedback{Execution: firmward.ExecCanceled, Finished: "none", Details: []string{"canceled"}}
	return s.retry(ctx, true, func() error { return p.feedback(ctx, d, o, fb) })
}

// nativeProto is firmward's agent API.
type nativeProto struct{ s *Sim }

func (n *nativeProto) auth(d *device) string { return "Bearer " + d.secret }

func (n *nativeProto) poll(ctx context.Context, d *device) (*offer, error) {
	var out struct {
		Action *struct {
			ID             int64  `json:"id"`
			Type           string `json:"type"`
			Cancel         bool   `json:"cancel"`
			InstallAllowed bool   `json:"install_allowed"`
			Version        string `json:"version"`
			Artifacts      []struct {
				SHA256 string `json:"sha256"`
				Size   int64  `json:"size"`
				URL    string `json:"url"`
				Vendor bool   `json:"vendor"`
			} `json:"artifacts"`
		} `json:"action"`
	}
	in := map[string]any{"firmware_version": d.version, "uptime_seconds": 60}
	if err := n.s.doJSON(ctx, http.MethodPost, n.s.cfg.Server+"/agent/v1/poll", n.auth(d), in, &out); err != nil {
		return nil, err
	}
	a := out.Action
	if a == nil {
		return nil, nil //nolint:nilnil // no action is not an error
	}
	o := &offer{
		id: a.ID, cancel: a.Cancel, install: a.InstallAllowed, version: a.Version,
		downloadOnly: a.Type == string(firmward.ActionDownloadOnly),
	}
	for _, art := range a.Artifacts {
		if !art.Vendor {
			o.artifacts = append(o.artifacts, artifactRef{url: art.URL, sha256: art.SHA256, size: art.Size})
		}
	}
	return o, nil
}

func (n *nativeProto) feedback(ctx context.Context, d *device, o *offer, fb *firmward.ActionFeedback) error {
	in := map[string]any{"execution": fb.Execution, "finished": fb.Finished, "details": fb.Details}
	if fb.ProgressOf > 0 {
		in["progress"] = map[string]int{"cnt": fb.ProgressCnt, "of": fb.ProgressOf}
	}
	u := n.s.cfg.Server + "/agent/v1/actions/" + strconv.FormatInt(o.id, 10) + "/feedback"
	return n.s.doJSON(ctx, http.MethodPost, u, n.auth(d), in, nil)
}

// ddiProto is the hawkBit DDI API.
type ddiProto struct{ s *Sim }

func (p *ddiProto) auth(d *device) string { return "TargetToken " + d.secret }

func (p *ddiProto) base(d *device) string {
	return p.s.cfg.Server + "/" + url.PathEscape(p.s.cfg.Tenant) + "/controller/v1/" + url.PathEscape(d.name)
}

type ddiLink struct {
	Href string `json:"href"`
}

func (p *ddiProto) poll(ctx context.Context, d *device) (*offer, error) {
	var base struct {
		Links map[string]ddiLink `json:"_links"`
	}
	if err := p.s.doJSON(ctx, http.MethodGet, p.base(d), p.auth(d), nil, &base); err != nil {
		return nil, err
	}
	if l, ok := base.Links["configData"]; ok && !d.configured && p.own(l.Href) {
		in := map[string]any{"mode": "merge", "data": map[string]string{"simulated": "true", "firmware_version": d.version}}
		if err := p.s.doJSON(ctx, http.MethodPut, l.Href, p.auth(d), in, nil); err == nil {
			d.configured = true
		}
	}
	if l, ok := base.Links["cancelAction"]; ok && p.own(l.Href) {
		var c struct {
			CancelAction struct {
				StopID string `json:"stopId"`
			} `json:"cancelAction"`
		}
		if err := p.s.doJSON(ctx, http.MethodGet, l.Href, p.auth(d), nil, &c); err != nil {
			return nil, err
		}
		id, err := strconv.ParseInt(c.CancelAction.StopID, 10, 64)
		if err != nil {
			return nil, &httpError{Method: http.MethodGet, URL: l.Href, Status: http.StatusOK, Message: "stopId is not a number"}
		}
		return &offer{id: id, cancel: true}, nil
	}
	l, ok := base.Links["deploymentBase"]
	if !ok || !p.own(l.Href) {
		return nil, nil //nolint:nilnil // no action is not an error
	}
	var dep struct {
		ID         string `json:"id"`
		Deployment struct {
			Download string `json:"download"`
			Update   string `json:"update"`
			Chunks   []struct {
				Version   string `json:"version"`
				Artifacts []struct {
					Hashes map[string]string  `json:"hashes"`
					Size   int64              `json:"size"`
					Links  map[string]ddiLink `json:"_links"`
				} `json:"artifacts"`
			} `json:"chunks"`
		} `json:"deployment"`
	}
	if err := p.s.doJSON(ctx, http.MethodGet, l.Href, p.auth(d), nil, &dep); err != nil {
		return nil, err
	}
	id, err := strconv.ParseInt(dep.ID, 10, 64)
	if err != nil || id <= 0 {
		return nil, &httpError{Method: http.MethodGet, URL: l.Href, Status: http.StatusOK, Message: "deployment id " + strconv.Quote(dep.ID) + " is not a number"}
	}
	o := &offer{id: id, install: dep.Deployment.Update != "skip", downloadOnly: dep.Deployment.Update == "skip" && dep.Deployment.Download == "forced"}
	for _, c := range dep.Deployment.Chunks {
		o.version = c.Version
		for _, a := range c.Artifacts {
			href := a.Links["download-http"].Href
			if href == "" {
				href = a.Links["download"].Href
			}
			o.artifacts = append(o.artifacts, artifactRef{url: href, sha256: a.Hashes["sha256"], size: a.Size})
		}
	}
	return o, nil
}

// own reports whether href points at the server under test.
func (p *ddiProto) own(href string) bool { return strings.HasPrefix(href, p.s.cfg.Server+"/") }

func (p *ddiProto) feedback(ctx context.Context, d *device, o *offer, fb *firmward.ActionFeedback) error {
	result := map[string]any{"finished": fb.Finished}
	if fb.ProgressOf > 0 {
		result["progress"] = map[string]int{"cnt": fb.ProgressCnt, "of": fb.ProgressOf}
	}
	id := strconv.FormatInt(o.id, 10)
	in := map[string]any{"id": id, "status": map[string]any{"execution": fb.Execution, "result": result, "details": fb.Details}}
	path := "/deploymentBase/"
	if o.cancel {
		path = "/cancelAction/"
		// hawkBit clients confirm a cancellation with closed/success.
		in["status"] = map[string]any{"execution": firmward.ExecClosed, "result": map[string]any{"finished": firmward.ResultSuccess}, "details": fb.Details}
	}
	return p.s.doJSON(ctx, http.MethodPost, p.base(d)+path+id+"/feedback", p.auth(d), in, nil)
}
