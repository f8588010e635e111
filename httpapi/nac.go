package httpapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/nac"
)

// NACConfig gives the server the network access control routes
// (/api/v1/nac/…, /api/v1/sites/{site}/nac). Without it they answer 404.
type NACConfig struct {
	Store nac.Store
	// Reconcile re-evaluates devices now and acts on their transitions
	// (CoA, webhook); the server passes its reconciler's. Nil only
	// stores: the change takes effect at the next periodic pass.
	Reconcile func(ctx context.Context, ids ...int64) error
	// PolicyChanged asks for every device to be re-evaluated soon, in
	// the background, after a site policy changed; nil waits for the
	// next periodic pass.
	PolicyChanged func()
}

// NACActionRequest is the body of the quarantine, release, exempt and
// approve routes. Owner and Until are for exempt (a zero Until removes the
// exemption).
type NACActionRequest struct {
	Reason string    `json:"reason"`
	Owner  string    `json:"owner,omitempty"`
	Until  time.Time `json:"until,omitzero"`
}

// NACActionResult is the device's state after an action and what the
// policy decides now.
type NACActionResult struct {
	State    firmward.NACState `json:"state"`
	Decision nac.Decision      `json:"decision"`
	Warning  string            `json:"warning,omitempty"`
}

var (
	nacStatusParams = []param{stringParam("site", "Only devices of this site (default: every site).")}
	nftParams       = []param{
		enumParamDoc("format", "nft (default): a ruleset for `nft -f`; uci: OpenWrt firewall4 sections.", []string{"nft", "uci"}),
		stringParam("allow", "An IPv4 address or prefix quarantined devices may still reach (firmward, DNS); repeat for more."),
		stringParam("table", "nftables table name (default firmward)."),
	}
)

func (s *Server) nacStore() (nac.Store, error) {
	if s.nac == nil || s.nac.Store == nil {
		return nil, firmward.Errorf(firmward.ENOTFOUND, "network access control is not enabled on this server")
	}
	return s.nac.Store, nil
}

func (s *Server) handleNACStatus(w http.ResponseWriter, r *http.Request) {
	store, err := s.nacStore()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q, err := parseQuery(r.URL.RawQuery, paramNames(nacStatusParams))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	st, err := nac.BuildReport(r.Context(), store, s.devices, q.get("site"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, st)
}

// nacAction runs one person's action on a device, then reconciles it so
// that the network learns at once.
func (s *Server) nacAction(w http.ResponseWriter, r *http.Request, act func(ctx context.Context, store nac.Store, id int64, req NACActionRequest) (*firmward.NACState, error)) {
	store, err := s.nacStore()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	id, err := idParam(r.PathValue("id"), "device")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req NACActionRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if _, err := act(r.Context(), store, id, req); err != nil {
		s.writeError(w, r, err)
		return
	}
	var res NACActionResult
	if s.nac.Reconcile != nil {
		if err := s.nac.Reconcile(r.Context(), id); err != nil {
			// The change is stored; the next pass retries the network side.
			res.Warning = "stored, but acting on the network failed: " + firmward.ErrorMessage(err)
		}
	}
	ev, err := store.Evaluate(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	res.State, res.Decision = ev.State, ev.Decision
	if res.Warning == "" && ev.Decision.Quarantine && ev.State.Manual == nil && strings.HasSuffix(r.URL.Path, "/release") {
		res.Warning = "an automatic rule still holds, so the device stays quarantined: fix the findings, or exempt it"
	}
	s.writeJSON(w, r, http.StatusOK, res)
}

func (s *Server) handleNACQuarantine(w http.ResponseWriter, r *http.Request) {
	s.nacAction(w, r, func(ctx context.Context, st nac.Store, id int64, req NACActionRequest) (*firmward.NACState, error) {
		return st.Quarantine(ctx, id, req.Reason)
	})
}

func (s *Server) handleNACRelease(w http.ResponseWriter, r *http.Request) {
	s.nacAction(w, r, func(ctx context.Context, st nac.Store, id int64, req NACActionRequest) (*firmward.NACState, error) {
		return st.Release(ctx, id, req.Reason)
	})
}

func (s *Server) handleNACApprove(w http.ResponseWriter, r *http.Request) {
	s.nacAction(w, r, func(ctx context.Context, st nac.Store, id int64, req NACActionRequest) (*firmward.NACState, error) {
		return st.Approve(ctx, id, req.Reason)
	})
}

func (s *Server) handleNACExempt(w http.ResponseWriter, r *http.Request) {
	s.nacAction(w, r, func(ctx context.Context, st nac.Store, id int64, req NACActionRequest) (*firmward.NACState, error) {
		return st.Exempt(ctx, id, firmward.NACExemption{Reason: req.Reason, Owner: req.Owner, Until: req.Until})
	})
}

func (s *Server) handleGetSiteNAC(w http.ResponseWriter, r *http.Request) {
	store, err := s.nacStore()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p, err := store.SitePolicy(r.Context(), r.PathValue("site"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, p)
}

func (s *Server) handlePutSiteNAC(w http.ResponseWriter, r *http.Request) {
	store, err := s.nacStore()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var p nac.Policy
	if err := decodeJSON(w, r, &p); err != nil {
		s.writeError(w, r, err)
		return
	}
	site := r.PathValue("site")
	if p.Site != "" && p.Site != site {
		s.writeError(w, r, firmward.Errorf(firmward.EINVALID, "the body names site %q but the path names %q", p.Site, site))
		return
	}
	p.Site = site
	if err := store.SetSitePolicy(r.Context(), p); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.logger.InfoContext(r.Context(), "nac: site policy changed", "site", site, "mode", p.Mode)
	if s.nac.PolicyChanged != nil {
		// Mode or rules may have changed for many devices: re-evaluated
		// in the background; the answer does not wait for a whole site.
		s.nac.PolicyChanged()
	}
	s.writeJSON(w, r, http.StatusOK, p)
}

func (s *Server) handleNFT(w http.ResponseWriter, r *http.Request) {
	store, err := s.nacStore()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q, err := parseQuery(r.URL.RawQuery, paramNames(nftParams))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	format, err := enumParam(q, "format", []string{"nft", "uci"})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	text, err := nac.FirewallRules(r.Context(), store, s.devices, format, nac.FirewallOptions{Table: q.get("table"), Allow: q.values["allow"]})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(text)) //nolint:gosec // text/plain with nosniff: an nftables ruleset, not HTML
}

// NASList is GET /api/v1/nac/nas: the NASes with a stored CoA secret
// (never the secrets).
type NASList struct {
	NAS []firmward.NASSecret `json:"nas"`
}

// NASRequest is the body of PUT /api/v1/nac/nas/{nas}.
type NASRequest struct {
	Addr   string `json:"addr,omitempty"` // host:port; default NAS-IP-Address, UDP 3799
	Secret string `json:"secret"`
}

func (s *Server) handleListNAS(w http.ResponseWriter, r *http.Request) {
	store, err := s.nacStore()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	list, err := store.NASSecrets(r.Context(), false)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if list == nil {
		list = []firmward.NASSecret{}
	}
	s.writeJSON(w, r, http.StatusOK, NASList{NAS: list})
}

func (s *Server) handlePutNAS(w http.ResponseWriter, r *http.Request) {
	store, err := s.nacStore()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req NASRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	ns := firmward.NASSecret{NAS: r.PathValue("nas"), Addr: req.Addr, Secret: req.Secret}
	if err := store.SetNASSecret(r.Context(), ns); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleDeleteNAS(w http.ResponseWriter, r *http.Request) {
	store, err := s.nacStore()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := store.DeleteNASSecret(r.Context(), r.PathValue("nas")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
