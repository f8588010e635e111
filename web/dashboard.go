package web

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/firmward/firmward"
)

// unknownListLen is how many devices each "unknown = unprotected" list
// shows before linking to the filtered device list.
const unknownListLen = 8

// dashboardView is the data of the dashboard.
type dashboardView struct {
	Stats          *firmward.DeviceStats
	Charts         []chart
	InternetFacing int64
	SafetyCritical int64
	NoFirmware     unknownList
	NoMechanism    unknownList
	Home           homePanel // setup offer and "do this now" list (home.go)
}

// unknownList is one list of the "unknown = unprotected" panel.
type unknownList struct {
	Title   string
	Count   int64
	Devices []*firmward.Device
	More    bool   // Count > len(Devices)
	Href    string // the whole list
}

func (h *Handler) dashboard(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	st, err := h.devices.DeviceStats(ctx)
	if err != nil {
		h.serverError(w, r, s, fmt.Errorf("device stats: %w", err))
		return
	}
	v := dashboardView{
		Stats:          st,
		InternetFacing: st.ByExposure[string(firmward.ExposureInternetFacing)],
		SafetyCritical: st.ByCriticality[string(firmward.CriticalitySafetyCritical)],
		Charts: []chart{
			newChart("chart-category", "Devices by category", "c-cat-", chartRows(st.ByCategory, firmward.Categories)),
			newChart("chart-mechanism", "Devices by update mechanism", "c-mech-",
				chartRows(st.ByUpdateMechanism, append(slices.Clone(firmward.UpdateMechanisms), "unknown"))),
			newChart("chart-criticality", "Devices by criticality", "c-", chartRows(st.ByCriticality, firmward.Criticalities)),
			newChart("chart-exposure", "Devices by exposure", "c-", chartRows(st.ByExposure, firmward.Exposures)),
		},
	}
	if v.NoFirmware, err = h.unknownList(r, "No firmware version", "firmware_version", st.MissingFirmware); err != nil {
		h.serverError(w, r, s, err)
		return
	}
	if v.NoMechanism, err = h.unknownList(r, "No update mechanism", "update_mechanism", st.MissingMechanism); err != nil {
		h.serverError(w, r, s, err)
		return
	}
	if v.Home, err = h.homePanel(r, s); err != nil {
		h.serverError(w, r, s, err)
		return
	}
	h.render(w, r, s, http.StatusOK, "dashboard", view{Title: "Dashboard", Nav: "dashboard", Page: v})
}

// unknownList finds the first devices missing field.
func (h *Handler) unknownList(r *http.Request, title, field string, count int64) (unknownList, error) {
	l := unknownList{Title: title, Count: count, Href: "/devices?missing=" + field}
	if count == 0 {
		return l, nil
	}
	devs, next, err := h.devices.FindDevices(r.Context(), firmward.DeviceFilter{Missing: field, Limit: unknownListLen})
	if err != nil {
		return l, fmt.Errorf("finding devices missing %s: %w", field, err)
	}
	l.Devices = devs
	l.More = next != 0 || count > int64(len(devs))
	return l, nil
}
