package lifecycle

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/firmward/firmward"
)

func TestTodo(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	router := &firmward.Device{
		ID: 1, Name: "Main router", Manufacturer: "TP-Link", Model: "Archer AX21",
		Category: firmward.CategoryNetworkInfrastructure, Criticality: firmward.CriticalityHigh,
		Exposure: firmward.ExposureInternetFacing, UpdateMechanism: firmward.UpdateWebAdmin, AutoUpdate: firmward.AutoUpdateNo,
		Tags: []string{"wifi", "gateway"},
	}
	doorbell := &firmward.Device{
		ID: 2, Name: "Doorbell", Manufacturer: "Ring", Model: "Video Doorbell",
		Category: firmward.CategoryCamera, Criticality: firmward.CriticalityMedium, Exposure: firmward.ExposureSegmented,
		UpdateMechanism: firmward.UpdateVendorCloud, AutoUpdate: firmward.AutoUpdateNo,
	}
	baby := &firmward.Device{
		ID: 3, Name: "Baby monitor", Manufacturer: "Nanit", Model: "Pro",
		Category: firmward.CategoryCamera, Criticality: firmward.CriticalityHigh, Exposure: firmward.ExposureInternal,
		UpdateMechanism: firmward.UpdateVendorCloud, AutoUpdate: firmward.AutoUpdateYes,
	}
	oldCam := &firmward.Device{
		ID: 4, Name: "Garage camera", Manufacturer: "D-Link", Model: "DCS-930L",
		Category: firmward.CategoryCamera, Criticality: firmward.CriticalityMedium, Exposure: firmward.ExposureSegmented,
		UpdateMechanism: firmward.UpdateWebAdmin, AutoUpdate: firmward.AutoUpdateNo,
	}
	guestCam := &firmward.Device{
		ID: 5, Name: "Porch camera", Category: firmward.CategoryCamera, Segment: "guest",
		Exposure: firmward.ExposureInternal, UpdateMechanism: firmward.UpdateVendorCloud, AutoUpdate: firmward.AutoUpdateYes,
	}
	nas := &firmward.Device{
		ID: 6, Name: "NAS", Category: firmward.CategoryOther, Exposure: firmward.ExposureInternal,
		UpdateMechanism: firmward.UpdateWebAdmin, AutoUpdate: firmward.AutoUpdateUnknown,
	}

	kev := &firmward.Finding{
		ID: 10, DeviceID: 1, CVE: "CVE-2023-1389", Status: firmward.FindingOpen, KEV: true,
		Decision: firmward.DecisionImmediate, Priority: 90, FixedIn: "1.1.4 Build 20230219",
	}
	kevFixed := &firmward.Finding{ID: 11, DeviceID: 1, CVE: "CVE-2022-0001", Status: firmward.FindingFixed, KEV: true}
	scheduled := &firmward.Finding{ID: 12, DeviceID: 6, CVE: "CVE-2024-0002", Status: firmward.FindingOpen, Decision: firmward.DecisionScheduled}
	urgentNAS := &firmward.Finding{ID: 13, DeviceID: 6, CVE: "CVE-2024-0003", Status: firmward.FindingOpen, Decision: firmward.DecisionOutOfCycle, Priority: 50}
	orphanKEV := &firmward.Finding{ID: 14, DeviceID: 4, CVE: "CVE-2019-10999", Status: firmward.FindingOpen, KEV: true}
	eol := Assessment{
		DeviceID: 4, Name: "Garage camera", Orphaned: true, EndOfSupport: "2019-12-31", OpenFindings: 1,
		Recommendation: Replace, Risk: Medium,
	}
	eolKEV := eol
	eolKEV.KEV = 1
	due := func(d *firmward.Device, days int, last bool) CheckStatus {
		c := CheckStatus{DeviceID: d.ID, Name: d.Name, DueDate: now.AddDate(0, 0, -days), Due: days >= 0}
		if last {
			c.Last = &firmward.HealthCheck{Time: c.DueDate.AddDate(0, -1, 0)}
		}
		return c
	}

	type want struct {
		kind  TodoKind
		id    int64
		title string // substring
	}
	tests := []struct {
		name string
		in   TodoInput
		want []want
	}{
		{name: "empty", in: TodoInput{}, want: nil},
		{
			name: "home in the order of the practice",
			in: TodoInput{
				Devices:  []*firmward.Device{nas, oldCam, baby, doorbell, router, guestCam},
				Findings: map[int64][]*firmward.Finding{1: {kevFixed, kev}, 6: {scheduled}},
				Orphans:  []Assessment{eol},
				Checks:   []CheckStatus{due(nas, 3, true), due(baby, -5, true), due(router, 40, true)},
			},
			want: []want{
				{TodoUpdateKEV, 1, "Update the router “Main router” (TP-Link Archer AX21) to firmware 1.1.4 Build 20230219 or newer"},
				{TodoAutoUpdate, 2, "Turn on automatic updates for the camera “Doorbell”"},
				{TodoSegment, 3, "Move the camera “Baby monitor” (Nanit Pro) to the guest Wi-Fi"},
				{TodoEndOfLife, 4, "Replace the end-of-life camera “Garage camera”"},
				{TodoCheck, 0, "Do the health check of 2 devices"},
			},
		},
		{
			name: "an orphan with a KEV and no fix ranks with the KEV updates",
			in: TodoInput{
				Devices:  []*firmward.Device{oldCam, doorbell, nas},
				Findings: map[int64][]*firmward.Finding{4: {orphanKEV}, 6: {urgentNAS}},
				Orphans:  []Assessment{eolKEV},
			},
			want: []want{
				{TodoEndOfLife, 4, "Replace the end-of-life camera “Garage camera” (D-Link DCS-930L)"},
				{TodoUpdate, 6, "Update the device “NAS” to the newest firmware"},
				{TodoAutoUpdate, 2, "Turn on automatic updates"},
			},
		},
		{
			name: "network policy advice moves any device, once",
			in: TodoInput{
				Devices:   []*firmward.Device{nas, baby},
				Misplaced: map[int64]Move{6: {To: "iot", Advice: "NAS (other) is at 10.0.0.5, outside every known segment"}, 3: {To: "guest", Advice: "Baby monitor is on the main network"}},
			},
			want: []want{
				{TodoSegment, 3, "Move the camera “Baby monitor” (Nanit Pro) to the guest Wi-Fi"},
				{TodoSegment, 6, "Move the device “NAS” to the iot network"},
			},
		},
		{
			name: "an orphan on the main network gets its end-of-life item only",
			in: TodoInput{
				Devices: []*firmward.Device{{ID: 7, Name: "Old cam", Category: firmward.CategoryCamera, Exposure: firmward.ExposureInternal}},
				Orphans: []Assessment{{DeviceID: 7, Orphaned: true, Recommendation: Isolate, IsolateHow: IsolateSegment, Risk: Low}},
			},
			want: []want{{TodoEndOfLife, 7, "Move the end-of-life camera “Old cam” to a separate network"}},
		},
		{
			name: "one due check links to that device",
			in:   TodoInput{Devices: []*firmward.Device{nas}, Checks: []CheckStatus{due(nas, 0, false)}},
			want: []want{{TodoCheck, 6, "Do the health check of “NAS”"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Todo(tc.in)
			if len(got) != len(tc.want) {
				for _, it := range got {
					t.Logf("%d %s %d %q", it.Score, it.Kind, it.DeviceID, it.Title)
				}
				t.Fatalf("got %d items, want %d", len(got), len(tc.want))
			}
			for i, w := range tc.want {
				it := got[i]
				if it.Kind != w.kind || it.DeviceID != w.id || !strings.Contains(it.Title, w.title) {
					t.Errorf("item %d = %s %d %q, want %s %d %q", i, it.Kind, it.DeviceID, it.Title, w.kind, w.id, w.title)
				}
				if it.Why == "" || it.Href == "" || it.Action == "" || !strings.HasPrefix(it.Href, "/") {
					t.Errorf("item %d lacks why, link or action: %+v", i, it)
				}
			}
			if !slices.IsSortedFunc(got, func(a, b TodoItem) int { return b.Score - a.Score }) {
				t.Error("items are not in score order")
			}
		})
	}
}

func TestTodoWhy(t *testing.T) {
	d := &firmward.Device{
		ID: 1, Name: "Main router", Category: firmward.CategoryNetworkInfrastructure, Tags: []string{"gateway"},
		Exposure: firmward.ExposureInternetFacing,
	}
	f := &firmward.Finding{CVE: "CVE-2023-1389", Status: firmward.FindingOpen, KEV: true, FixedIn: "1.1.4"}
	got := Todo(TodoInput{Devices: []*firmward.Device{d}, Findings: map[int64][]*firmward.Finding{1: {f}}})
	if len(got) != 1 {
		t.Fatalf("got %d items", len(got))
	}
	want := "CVE-2023-1389 on it is being exploited by attackers now (CISA KEV list); it faces the internet."
	if got[0].Why != want || got[0].Href != "/devices/1" {
		t.Errorf("why = %q href %q, want %q", got[0].Why, got[0].Href, want)
	}
}

func TestMakerModel(t *testing.T) {
	tests := []struct{ maker, model, want string }{
		{"Wyze", "Wyze Cam v3", "Wyze Cam v3"},
		{"TP-Link", "Archer AX21", "TP-Link Archer AX21"},
		{"", "Pro", "Pro"},
		{"Nanit", "", "Nanit"},
		{"Ring", "ring doorbell", "ring doorbell"},
		{"", "", ""},
		{"Longer maker", "Long", "Longer maker Long"},
	}
	for _, tc := range tests {
		t.Run(tc.maker+"/"+tc.model, func(t *testing.T) {
			if got := MakerModel(tc.maker, tc.model); got != tc.want {
				t.Errorf("MakerModel(%q, %q) = %q, want %q", tc.maker, tc.model, got, tc.want)
			}
		})
	}
}
