package web

import (
	"fmt"
	"net/http"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/lifecycle"
)

// The home dashboard (issue 7 requirement 6): when setup chose home, the
// dashboard leads with a "do this now" list ranked by lifecycle.Todo from
// the inventory, findings, end-of-life assessments, due checks and the
// network policy; while setup is open, admins are offered the wizard.

// homePanel is the home part of the dashboard.
type homePanel struct {
	Offer  bool // offer the setup wizard
	Home   bool // set up for a home: show the list
	TodoOn bool // the lifecycle services are configured
	Todo   []lifecycle.TodoItem
	Shown  []lifecycle.TodoItem // the first todoShown
	Hidden int                  // len(Todo) - len(Shown)
}

// todoShown is how many items the dashboard lists before "and N more".
const todoShown = 10

// homePanel computes the home part of the dashboard for s.
func (h *Handler) homePanel(r *http.Request, s *session) (homePanel, error) {
	var p homePanel
	if h.settings == nil {
		return p, nil
	}
	ctx := r.Context()
	if s.token.Role.Includes(firmward.RoleAdmin) {
		st, err := h.setupState(ctx)
		if err != nil {
			return p, err
		}
		p.Offer = st.open()
	}
	home, err := h.homeMode(ctx)
	if err != nil || !home {
		return p, err
	}
	p.Home = true
	p.TodoOn = h.eol != nil && h.checks != nil
	if !p.TodoOn {
		return p, nil
	}
	fl, err := h.loadFleet(r)
	if err != nil {
		return p, err
	}
	misplaced, err := h.misplaced(r, fl.Devices)
	if err != nil {
		return p, err
	}
	p.Todo = fl.Todo(h.lifecyclePolicy, h.now().UTC(), misplaced)
	p.Shown = p.Todo[:min(len(p.Todo), todoShown)]
	p.Hidden = len(p.Todo) - len(p.Shown)
	return p, nil
}

// misplaced checks the devices' addresses against every stored network
// policy (nothing when network access control is not configured).
func (h *Handler) misplaced(r *http.Request, devs []*firmward.Device) (map[int64]lifecycle.Move, error) {
	if h.nac == nil || h.nac.Store == nil {
		return nil, nil
	}
	pols, err := h.nac.Store.SitePolicies(r.Context())
	if err != nil {
		return nil, fmt.Errorf("reading network policies: %w", err)
	}
	out := map[int64]lifecycle.Move{}
	for i := range pols {
		for _, v := range pols[i].Violations(devs) {
			if _, seen := out[v.DeviceID]; !seen {
				out[v.DeviceID] = lifecycle.Move{To: v.Want, Advice: v.Advice}
			}
		}
	}
	return out, nil
}
