package lifecycle

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/firmward/firmward"
)

// TodoKind is the kind of a "do this now" item.
type TodoKind string

// Kinds of TodoItem.
const (
	TodoUpdateKEV  TodoKind = "update-kev"  // an open finding in CISA's KEV catalog
	TodoUpdate     TodoKind = "update"      // an open finding the SSVC table rates Immediate or Out-of-Cycle
	TodoAutoUpdate TodoKind = "auto-update" // automatic updates available but off
	TodoSegment    TodoKind = "segment"     // an IoT device on the main network
	TodoEndOfLife  TodoKind = "end-of-life" // an orphaned device (lifecycle assessment)
	TodoCheck      TodoKind = "check"       // health checks due
)

// Scores of the kinds; modifiers add at most 299, so that kinds never
// overtake each other except where stated (an orphan with a KEV ranks with
// the KEV updates).

const (
	scoreKEV        = 1000
	scoreOrphanKEV  = 950
	scoreUpdate     = 700
	scoreAutoUpdate = 500
	scoreSegment    = 400
	scoreEndOfLife  = 300
	scoreCheck      = 100
)

// TodoInput is what Todo ranks.
type TodoInput struct {
	Devices  []*firmward.Device
	Findings map[int64][]*firmward.Finding // by device, any status: open ones count
	// Orphans are the assessments of orphaned devices
	// (Fleet.Assessments(…, true)).
	Orphans []Assessment
	// Checks are the health-check statuses; due ones count.
	Checks []CheckStatus
	// Misplaced lists devices the network policy wants elsewhere: seen
	// at an address outside their segment (nac.Policy.Violations). Such a
	// device gets a segment item with that advice whatever its category.
	Misplaced map[int64]Move
}

// Move is where the network policy wants a misplaced device and why.
type Move struct {
	To     string // the segment: "guest", "iot", …
	Advice string // in words for a person
}

// TodoItem is one thing to do, in plain words.
type TodoItem struct {
	Kind     TodoKind `json:"kind"`
	DeviceID int64    `json:"device_id,omitempty"` // 0 for items about several devices
	Title    string   `json:"title"`               // what to do, imperative
	Why      string   `json:"why"`                 // why, from the data
	Href     string   `json:"href"`                // where to act
	Action   string   `json:"action"`              // the link's words
	Score    int      `json:"score"`               // larger first
}

// Todo ranks what to do now, most urgent first: install the fix of a
// vulnerability attackers exploit (KEV; internet-facing devices first),
// other urgent updates, turn on automatic updates where a device supports
// them, move IoT devices off the main network, deal with end-of-life
// devices, and do the due health checks (one item for all of them). Ties
// are broken by device name and ID, so that the order is stable.
func Todo(in TodoInput) []TodoItem {
	var out []TodoItem
	orphan := map[int64]*Assessment{}
	for i := range in.Orphans {
		orphan[in.Orphans[i].DeviceID] = &in.Orphans[i]
	}
	for _, d := range in.Devices {
		if it, ok := updateItem(d, in.Findings[d.ID], orphan[d.ID] != nil); ok {
			out = append(out, it)
		}
		if it, ok := autoUpdateItem(d); ok {
			out = append(out, it)
		}
		if a := orphan[d.ID]; a != nil {
			// Its end-of-life item says where it belongs, too.
			out = append(out, endOfLifeItem(d, a))
		} else if it, ok := segmentItem(d, in.Misplaced[d.ID]); ok {
			out = append(out, it)
		}
	}
	if it, ok := checkItem(in.Checks); ok {
		out = append(out, it)
	}
	names := map[int64]string{}
	for _, d := range in.Devices {
		names[d.ID] = strings.ToLower(d.Name)
	}
	slices.SortStableFunc(out, func(a, b TodoItem) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		if c := cmp.Compare(names[a.DeviceID], names[b.DeviceID]); c != 0 {
			return c
		}
		if c := cmp.Compare(a.DeviceID, b.DeviceID); c != 0 {
			return c
		}
		return cmp.Compare(a.Kind, b.Kind)
	})
	return out
}

// label names a device for a person: "Main router (TP-Link Archer AX21)".
func label(d *firmward.Device) string {
	mm := MakerModel(d.Manufacturer, d.Model)
	if mm == "" || strings.EqualFold(mm, d.Name) {
		return "“" + d.Name + "”"
	}
	return "“" + d.Name + "” (" + mm + ")"
}

// MakerModel joins a manufacturer and a model for a person, without
// repeating a manufacturer the model already starts with ("Wyze Cam v3",
// not "Wyze Wyze Cam v3").
func MakerModel(manufacturer, model string) string {
	manufacturer, model = strings.TrimSpace(manufacturer), strings.TrimSpace(model)
	if manufacturer != "" && len(model) >= len(manufacturer) && strings.EqualFold(model[:len(manufacturer)], manufacturer) {
		return model
	}
	return strings.TrimSpace(manufacturer + " " + model)
}

// kind names the device's category in words: "router", "camera".
func kind(d *firmward.Device) string {
	switch d.Category {
	case firmward.CategoryNetworkInfrastructure:
		if strings.Contains(strings.ToLower(d.Name+" "+strings.Join(d.Tags, " ")), "router") ||
			strings.Contains(strings.ToLower(strings.Join(d.Tags, " ")), "gateway") {
			return "router"
		}
		return "network device"
	case firmward.CategoryCamera:
		return "camera"
	case firmward.CategoryLock:
		return "lock"
	case firmward.CategoryConsumerSmartHome:
		return "smart-home device"
	case firmward.CategorySensor:
		return "sensor"
	}
	return "device"
}

// critBonus weights a device's criticality and exposure within its kind.
func critBonus(d *firmward.Device) int {
	b := 0
	switch d.Criticality {
	case firmward.CriticalitySafetyCritical:
		b += 60
	case firmward.CriticalityHigh:
		b += 40
	case firmward.CriticalityMedium:
		b += 20
	}
	if d.Exposure == firmward.ExposureInternetFacing {
		b += 100
	}
	return b
}

// updateItem says to install the fix of the device's most urgent open
// finding that is in the KEV catalog or rated Immediate or Out-of-Cycle.
func updateItem(d *firmward.Device, fs []*firmward.Finding, orphaned bool) (TodoItem, bool) {
	var open []*firmward.Finding
	for _, f := range fs {
		if f.Status == firmward.FindingOpen && (f.KEV || f.Decision == firmward.DecisionImmediate || f.Decision == firmward.DecisionOutOfCycle) {
			open = append(open, f)
		}
	}
	if len(open) == 0 {
		return TodoItem{}, false
	}
	slices.SortStableFunc(open, func(a, b *firmward.Finding) int {
		if a.KEV != b.KEV {
			if a.KEV {
				return -1
			}
			return 1
		}
		if c := cmp.Compare(b.Priority, a.Priority); c != 0 {
			return c
		}
		return cmp.Compare(a.CVE, b.CVE)
	})
	top := open[0]
	fixed := top.FixedIn // the fix of the most urgent one
	if fixed == "" && orphaned {
		return TodoItem{}, false // no fix will come: the end-of-life item says what to do
	}
	it := TodoItem{DeviceID: d.ID, Href: fmt.Sprintf("/devices/%d", d.ID), Action: "See the vulnerabilities"}
	var why []string
	if top.KEV {
		it.Kind, it.Score = TodoUpdateKEV, scoreKEV
		why = append(why, top.CVE+" on it is being exploited by attackers now (CISA KEV list)")
	} else {
		it.Kind, it.Score = TodoUpdate, scoreUpdate
		why = append(why, fmt.Sprintf("%s on it needs attention %s", top.CVE, strings.ToLower(urgency(top.Decision))))
	}
	if d.Exposure == firmward.ExposureInternetFacing {
		why = append(why, "it faces the internet")
	}
	if n := len(open) - 1; n > 0 {
		why = append(why, fmt.Sprintf("%d more urgent %s", n, plural(n, "vulnerability", "vulnerabilities")))
	}
	it.Score += critBonus(d) + min(len(open), 9)
	switch {
	case fixed != "":
		it.Title = fmt.Sprintf("Update the %s %s to firmware %s or newer", kind(d), label(d), fixed)
	default:
		it.Title = fmt.Sprintf("Update the %s %s to the newest firmware", kind(d), label(d))
		why = append(why, "no fixed version is known to firmward yet: check the maker's support page")
	}
	it.Why = sentenceOf(why)
	return it, true
}

func urgency(decision string) string {
	if decision == firmward.DecisionImmediate {
		return "Immediately"
	}
	return "Before the next regular update"
}

// supportsAutoUpdate reports whether the device's update path can update
// by itself (the vendor's cloud, firmward's agent or a DDI client).
func supportsAutoUpdate(m firmward.UpdateMechanism) bool {
	return m == firmward.UpdateVendorCloud || m == firmward.UpdateAgent || m == firmward.UpdateDDI
}

func autoUpdateItem(d *firmward.Device) (TodoItem, bool) {
	if d.AutoUpdate != firmward.AutoUpdateNo || !supportsAutoUpdate(d.UpdateMechanism) {
		return TodoItem{}, false
	}
	where := "in its settings"
	if d.UpdateMechanism == firmward.UpdateVendorCloud {
		where = "in the " + strings.TrimSpace(d.Manufacturer+" app")
		if d.Manufacturer == "" {
			where = "in its app"
		}
	}
	return TodoItem{
		Kind: TodoAutoUpdate, DeviceID: d.ID, Score: scoreAutoUpdate + critBonus(d),
		Title:  fmt.Sprintf("Turn on automatic updates for the %s %s", kind(d), label(d)),
		Why:    fmt.Sprintf("It can update itself, but automatic updates are off: switch them on %s, so that fixes arrive without you.", where),
		Href:   fmt.Sprintf("/checks/%d", d.ID),
		Action: "Walk through its check",
	}, true
}

// iotCategories are the categories that belong off the main network.
var iotCategories = []firmward.Category{firmward.CategoryCamera, firmward.CategoryConsumerSmartHome, firmward.CategorySensor, firmward.CategoryLock}

// separated are segment names that are already off the main network.
var separated = []string{"guest", "iot", "isolated", "quarantine", "camera", "cameras"}

func segmentItem(d *firmward.Device, mv Move) (TodoItem, bool) {
	it := TodoItem{
		Kind: TodoSegment, DeviceID: d.ID, Score: scoreSegment + critBonus(d),
		Title:  fmt.Sprintf("Move the %s %s to the guest Wi-Fi", kind(d), label(d)),
		Href:   fmt.Sprintf("/devices/%d/edit", d.ID),
		Action: "Record its network",
	}
	if mv.Advice != "" {
		if mv.To != "" && mv.To != "guest" {
			it.Title = fmt.Sprintf("Move the %s %s to the %s network", kind(d), label(d), mv.To)
		}
		it.Why = mv.Advice
		return it, true
	}
	if !slices.Contains(iotCategories, d.Category) || d.Exposure == firmward.ExposureSegmented ||
		slices.Contains(separated, strings.ToLower(strings.TrimSpace(d.Segment))) {
		return TodoItem{}, false
	}
	it.Why = "It is on your main network, next to your computers and phones: if it is hacked, the attacker can reach them. " +
		"Connect it to the guest (or IoT) Wi-Fi instead, then record its segment as guest."
	return it, true
}

func endOfLifeItem(d *firmward.Device, a *Assessment) TodoItem {
	it := TodoItem{Kind: TodoEndOfLife, DeviceID: d.ID, Href: "/lifecycle", Action: "See the end-of-life plan"}
	it.Score = scoreEndOfLife + critBonus(d) + 20*a.Risk.rank()
	if a.KEV > 0 {
		it.Score = scoreOrphanKEV + critBonus(d)
	}
	switch a.Recommendation {
	case Replace:
		it.Title = fmt.Sprintf("Replace the end-of-life %s %s", kind(d), label(d))
	case Disconnect:
		it.Title = fmt.Sprintf("Unplug the end-of-life %s %s", kind(d), label(d))
	case ThirdPartyFW:
		it.Title = fmt.Sprintf("Install open firmware on the end-of-life %s %s", kind(d), label(d))
	default:
		it.Title = fmt.Sprintf("Move the end-of-life %s %s to a separate network", kind(d), label(d))
	}
	var why []string
	if a.EndOfSupport != "" {
		why = append(why, "its maker stopped supporting it on "+a.EndOfSupport)
	} else {
		why = append(why, "no new firmware has appeared for it in a long time")
	}
	if a.KEV > 0 {
		why = append(why, "attackers are exploiting a vulnerability on it now (CISA KEV list)")
	}
	if a.OpenFindings > 0 {
		why = append(why, fmt.Sprintf("%d known %s will never be fixed", a.OpenFindings, plural(a.OpenFindings, "vulnerability", "vulnerabilities")))
	}
	if a.Cost.Known && a.Recommendation == Replace {
		why = append(why, fmt.Sprintf("a replacement costs about %.0f", a.Cost.ReplacementCost))
	}
	it.Why = sentenceOf(why)
	return it
}

// checkItem groups the due health checks in one item.
func checkItem(checks []CheckStatus) (TodoItem, bool) {
	var due []CheckStatus
	for _, c := range checks {
		if c.Due {
			due = append(due, c)
		}
	}
	if len(due) == 0 {
		return TodoItem{}, false
	}
	slices.SortStableFunc(due, func(a, b CheckStatus) int { return a.DueDate.Compare(b.DueDate) })
	never := 0
	for _, c := range due {
		if c.Last == nil {
			never++
		}
	}
	it := TodoItem{Kind: TodoCheck, Score: scoreCheck + min(len(due), 99), Href: "/checks", Action: "Start the checks"}
	if len(due) == 1 {
		it.DeviceID, it.Href = due[0].DeviceID, fmt.Sprintf("/checks/%d", due[0].DeviceID)
		it.Title = "Do the health check of “" + due[0].Name + "”"
	} else {
		it.Title = fmt.Sprintf("Do the health check of %d devices", len(due))
	}
	var names []string
	for i, c := range due {
		if i == 3 {
			names = append(names, fmt.Sprintf("%d more", len(due)-3))
			break
		}
		names = append(names, c.Name)
	}
	why := "Confirm each one's firmware version and that automatic updates are on, a few minutes each: " + strings.Join(names, ", ") + "."
	if never == len(due) {
		why = "They have never been checked. " + why
	} else if oldest := due[0]; oldest.Last != nil {
		why = fmt.Sprintf("The oldest was due on %s. ", oldest.DueDate.Format(time.DateOnly)) + why
	}
	it.Why = why
	return it, true
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// sentenceOf joins reasons into one sentence, capitalised, with a full stop.
func sentenceOf(parts []string) string {
	s := strings.Join(parts, "; ")
	if s == "" {
		return ""
	}
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

// Todo computes the "do this now" list of the fleet at now.
func (fl *Fleet) Todo(p Policy, now time.Time, misplaced map[int64]Move) []TodoItem {
	return Todo(TodoInput{
		Devices: fl.Devices, Findings: fl.Findings, Orphans: fl.Assessments(p, now, true),
		Checks: fl.CheckStatuses(now), Misplaced: misplaced,
	})
}
