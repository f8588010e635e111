package lifecycle

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/firmward/firmward"
)

// Default cadences, in months.
const (
	MonthlyMonths   = 1
	QuarterlyMonths = 3
)

// monthlyCategories are checked monthly by default, as the practice asks
// for routers, locks and cameras.
var monthlyCategories = []firmward.Category{firmward.CategoryNetworkInfrastructure, firmward.CategoryLock, firmward.CategoryCamera}

// DefaultCadence is the built-in cadence of d: monthly for network
// infrastructure, locks, cameras and anything internet-facing, quarterly
// for the rest; the string says why.
func DefaultCadence(d *firmward.Device) (int, string) {
	switch {
	case slices.Contains(monthlyCategories, d.Category):
		return MonthlyMonths, fmt.Sprintf("monthly: default for %s devices", d.Category)
	case d.Exposure == firmward.ExposureInternetFacing:
		return MonthlyMonths, "monthly: default for internet-facing devices"
	}
	return QuarterlyMonths, "quarterly: default"
}

// Cadence returns the cadence of d under the rules: the rule for its site
// and category, else for its category (any site), else for its site (any
// category), else DefaultCadence. Sites compare case-insensitively.
func Cadence(rules []firmward.CheckCadence, d *firmward.Device) (int, string) {
	find := func(site string, cat firmward.Category) (firmward.CheckCadence, bool) {
		for _, r := range rules {
			if strings.EqualFold(r.Site, site) && r.Category == cat {
				return r, true
			}
		}
		return firmward.CheckCadence{}, false
	}
	if d.Site != "" {
		if r, ok := find(d.Site, d.Category); ok {
			return r.Months, fmt.Sprintf("%s: policy for %s devices at site %s", everyMonths(r.Months), d.Category, r.Site)
		}
	}
	if r, ok := find("", d.Category); ok {
		return r.Months, fmt.Sprintf("%s: policy for %s devices", everyMonths(r.Months), d.Category)
	}
	if d.Site != "" {
		if r, ok := find(d.Site, ""); ok {
			return r.Months, fmt.Sprintf("%s: policy for site %s", everyMonths(r.Months), r.Site)
		}
	}
	if r, ok := find("", ""); ok {
		return r.Months, fmt.Sprintf("%s: policy for every device", everyMonths(r.Months))
	}
	return DefaultCadence(d)
}

// everyMonths writes a cadence: "every month", "every 3 months".
func everyMonths(n int) string {
	if n == 1 {
		return "every month"
	}
	return fmt.Sprintf("every %d months", n)
}

// CheckStatus is where a device stands in its health-check schedule.
type CheckStatus struct {
	DeviceID     int64                 `json:"device_id"`
	Name         string                `json:"name"`
	Manufacturer string                `json:"manufacturer"`
	Model        string                `json:"model"`
	Category     firmward.Category     `json:"category"`
	Site         string                `json:"site"`
	Owner        string                `json:"owner"`
	Months       int                   `json:"months"`
	CadenceWhy   string                `json:"cadence_why"`
	Last         *firmward.HealthCheck `json:"last,omitempty"` // newest complete check
	DueDate      time.Time             `json:"due_date"`
	Due          bool                  `json:"due"`
	DaysOverdue  int                   `json:"days_overdue"`
}

// Status computes the check status of d at now: due from the last complete
// check plus the cadence, or since the device was added when it was never
// checked.
func Status(rules []firmward.CheckCadence, d *firmward.Device, last *firmward.HealthCheck, now time.Time) CheckStatus {
	months, why := Cadence(rules, d)
	s := CheckStatus{
		DeviceID: d.ID, Name: d.Name, Manufacturer: d.Manufacturer, Model: d.Model, Category: d.Category,
		Site: d.Site, Owner: d.Owner, Months: months, CadenceWhy: why, Last: last,
	}
	if last != nil {
		s.DueDate = last.Time.UTC().AddDate(0, months, 0)
	} else {
		s.DueDate = d.CreatedAt.UTC()
	}
	s.Due = !now.Before(s.DueDate)
	if s.Due {
		s.DaysOverdue = int(now.Sub(s.DueDate).Hours() / 24)
	}
	return s
}

// Statuses computes the status of every device, due ones first (most
// overdue first), then by due date.
func Statuses(rules []firmward.CheckCadence, devices []*firmward.Device, last map[int64]*firmward.HealthCheck, now time.Time) []CheckStatus {
	out := make([]CheckStatus, 0, len(devices))
	for _, d := range devices {
		out = append(out, Status(rules, d, last[d.ID], now))
	}
	slices.SortStableFunc(out, func(a, b CheckStatus) int {
		if c := a.DueDate.Compare(b.DueDate); c != 0 {
			return c
		}
		return int(a.DeviceID - b.DeviceID)
	})
	return out
}

// Hint says where a manufacturer's devices keep their settings.
type Hint struct {
	Manufacturer string `json:"manufacturer"`
	Admin        string `json:"admin"`       // where the admin page or app setting is
	AutoUpdate   string `json:"auto_update"` // how automatic updates are turned on
	Version      string `json:"version"`     // where the firmware version is shown
}

// hints are the seed inventories' manufacturers. Menus move between
// firmware versions; the wording says where to look, not every click.
var hints = []Hint{
	{"TP-Link", "The Tether or Deco app, or the web page at http://tplinkwifi.net (Kasa plugs: the Kasa app).", "Web page: Advanced > System > Firmware Update, turn on Auto Update; Kasa: device settings > Firmware Update.", "Advanced > System > Firmware Update shows the version."},
	{"Netgear", "The Orbi or Nighthawk app, or the web page at http://orbilogin.com / http://routerlogin.net.", "Advanced > Administration > Firmware Update; the apps update automatically when 'automatic updates' is on.", "The web page's status or dashboard shows the firmware version."},
	{"Ring", "The Ring app: the device, then Device Health.", "Ring installs updates by itself while the device is online; nothing to turn on.", "Device Health shows the firmware ('Up to Date' or the version)."},
	{"Reolink", "The Reolink app or client, or the camera's web page (its IP address).", "Settings > System > Maintenance (or Firmware Upgrade): turn on automatic update where offered.", "Settings > System > Information shows the firmware version."},
	{"Wyze", "The Wyze app: the device, then Settings > Device Info.", "The Wyze app's account settings offer automatic firmware updates.", "Settings > Device Info shows the firmware version."},
	{"August", "The August app: the lock, then Settings.", "The app installs lock firmware updates; keep it open next to the lock when asked.", "Settings > Lock Settings shows the firmware version."},
	{"Google Nest", "The Google Home or Nest app: the device, then Settings > Device information.", "Nest devices update themselves; nothing to turn on.", "Device information shows the software version."},
	{"Philips Hue", "The Hue app: Settings > Software update.", "Turn on Automatic updates in Settings > Software update.", "Settings > Software update lists each light's and the bridge's version."},
	{"Amazon", "The Alexa app: Devices, then the device's settings > About.", "Echo devices update themselves; nothing to turn on.", "About shows the device software version."},
	{"Sonos", "The Sonos app: Settings > System.", "Settings > System > System Updates: turn on Update automatically.", "Settings > System > About My System shows the version."},
	{"Synology", "DSM in a browser: Control Panel > Update & Restore.", "Update & Restore > Update Settings: install important updates automatically.", "Control Panel > Info Center shows the DSM version."},
	{"Brother", "Web Based Management: the printer's IP address in a browser.", "Administrator > Firmware Update (some models: automatic firmware check).", "The General or Status page shows the firmware version."},
	{"Samsung", "The TV's Settings > Support > Software Update.", "Settings > Support > Software Update: turn on Auto Update.", "Settings > Support > About This TV shows the software version."},
	{"Roborock", "The Roborock app: the robot, then ... > Firmware update.", "Turn on automatic firmware updates in the same screen where offered.", "The firmware update screen shows the current version."},
	{"Gosund", "The Smart Life (Tuya) app: the device, then the edit (pen) icon > Check for firmware update.", "The same screen has an automatic update switch.", "The firmware screen shows the version."},
	{"Nanit", "The Nanit app: Settings > camera.", "Nanit updates the camera by itself; nothing to turn on.", "The camera's settings show the firmware version."},
	{"Axis Communications", "The camera's web page (its IP address), as administrator.", "Maintenance > Firmware upgrade; AXIS Device Manager can schedule upgrades.", "The web page's About or System shows the AXIS OS version."},
	{"Hikvision", "The camera's web page, or Hik-Connect / iVMS.", "Configuration > System > Maintenance > Upgrade; online upgrade where offered.", "Configuration > System > System Settings > Basic Information shows the firmware."},
	{"Cisco Meraki", "The Meraki Dashboard.", "Organization > Firmware upgrades: Meraki schedules upgrades; check the window.", "The device's page in the Dashboard shows the firmware."},
	{"Aruba", "Aruba Central, the Mobility Controller, or the Instant AP's web page.", "Maintenance > Firmware (Central: firmware compliance).", "The AP's overview shows the running version."},
	{"Cisco", "The switch's CLI (SSH) or web UI.", "No automatic update: schedule an IOS upgrade in a maintenance window.", "'show version' prints the IOS version."},
}

// HintFor returns the hint of d's manufacturer, or a generic one.
func HintFor(manufacturer string) Hint {
	for _, h := range hints {
		if SameManufacturer(h.Manufacturer, manufacturer) {
			return h
		}
	}
	return Hint{
		Manufacturer: manufacturer,
		Admin:        "The device's app, or its web page (its IP address in a browser); the manual names it.",
		AutoUpdate:   "Look for 'automatic updates' or 'auto upgrade' in the settings and turn it on.",
		Version:      "The settings' About, System or Status page usually shows the firmware version.",
	}
}

// ChecklistStep is one step of the guided health check.
type ChecklistStep struct {
	Field    string `json:"field"` // the HealthCheck answer it fills
	Question string `json:"question"`
	Help     string `json:"help"`
}

// Checklist returns the guided steps for d.
func Checklist(d *firmward.Device) []ChecklistStep {
	h := HintFor(d.Manufacturer)
	version := "Not recorded yet."
	if d.FirmwareVersion != "" {
		version = "firmward has " + d.FirmwareVersion + " on record."
	}
	return []ChecklistStep{
		{Field: "admin_found", Question: "Open the device's admin page or app setting. Did you find it?", Help: h.Admin},
		{Field: "auto_update", Question: "Turn automatic updates on. Are they on now?", Help: h.AutoUpdate},
		{Field: "default_password_changed", Question: "Is the default password changed (a long, unique one)?", Help: "If it still uses the password printed on the label or in the manual, change it now, and store it in a password manager."},
		{Field: "firmware_version", Question: "Which firmware version does the device show?", Help: h.Version + " " + version},
	}
}
