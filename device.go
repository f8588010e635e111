package firmward

import (
	"context"
	"time"
)

// Category says what kind of device something is; it drives check cadence,
// segmentation advice and default policies.
type Category string

// Categories, spelled as in DESIGN.md.
const (
	CategoryConsumerSmartHome     Category = "consumer-smart-home"
	CategoryNetworkInfrastructure Category = "network-infrastructure"
	CategoryCamera                Category = "camera"
	CategoryLock                  Category = "lock"
	CategoryMedical               Category = "medical"
	CategoryIndustrial            Category = "industrial"
	CategorySensor                Category = "sensor"
	CategoryLegacyOT              Category = "legacy-ot"
	CategoryOther                 Category = "other"
)

// Categories lists every valid category in display order.
var Categories = []Category{
	CategoryConsumerSmartHome, CategoryNetworkInfrastructure, CategoryCamera, CategoryLock,
	CategoryMedical, CategoryIndustrial, CategorySensor, CategoryLegacyOT, CategoryOther,
}

// Criticality is how much harm a compromise or outage of the device does.
type Criticality string

// Criticalities, lowest first.
const (
	CriticalityLow            Criticality = "low"
	CriticalityMedium         Criticality = "medium"
	CriticalityHigh           Criticality = "high"
	CriticalitySafetyCritical Criticality = "safety-critical"
)

// Criticalities lists every valid criticality, lowest first.
var Criticalities = []Criticality{CriticalityLow, CriticalityMedium, CriticalityHigh, CriticalitySafetyCritical}

// Exposure is how reachable the device is from attackers.
type Exposure string

// Exposures, least exposed first.
const (
	ExposureInternal       Exposure = "internal"
	ExposureSegmented      Exposure = "segmented"
	ExposureInternetFacing Exposure = "internet-facing"
)

// Exposures lists every valid exposure, least exposed first.
var Exposures = []Exposure{ExposureInternal, ExposureSegmented, ExposureInternetFacing}

// UpdateMechanism is how new firmware reaches the device. The empty value
// means "unknown", which the dashboard shows as unprotected.
type UpdateMechanism string

// Update mechanisms.
const (
	UpdateUnknown     UpdateMechanism = ""
	UpdateAgent       UpdateMechanism = "agent"        // firmward-agent
	UpdateDDI         UpdateMechanism = "ddi"          // hawkBit-compatible client
	UpdateVendorCloud UpdateMechanism = "vendor-cloud" // the vendor's app pushes updates
	UpdateWebAdmin    UpdateMechanism = "web-admin"    // someone logs in and uploads
	UpdateTechnician  UpdateMechanism = "technician"   // on site
	UpdateNone        UpdateMechanism = "none"
)

// UpdateMechanisms lists every known (non-empty) update mechanism.
var UpdateMechanisms = []UpdateMechanism{UpdateAgent, UpdateDDI, UpdateVendorCloud, UpdateWebAdmin, UpdateTechnician, UpdateNone}

// AutoUpdate says whether the device installs updates by itself.
type AutoUpdate string

// AutoUpdate values; the zero value normalises to AutoUpdateUnknown.
const (
	AutoUpdateYes     AutoUpdate = "yes"
	AutoUpdateNo      AutoUpdate = "no"
	AutoUpdateUnknown AutoUpdate = "unknown"
)

// AutoUpdates lists every valid AutoUpdate value.
var AutoUpdates = []AutoUpdate{AutoUpdateYes, AutoUpdateNo, AutoUpdateUnknown}

// Source says how a device entered the inventory.
type Source string

// Sources.
const (
	SourceManual Source = "manual"
	SourceImport Source = "import"
	SourceScan   Source = "scan"
	SourceAgent  Source = "agent"
)

// Sources lists every valid source.
var Sources = []Source{SourceManual, SourceImport, SourceScan, SourceAgent}

// Device is one connected thing in the inventory.
//
// Dates without a time of day (EOLDate, PurchaseDate) are "YYYY-MM-DD"
// strings, empty when unknown. MACs are normalised to lower-case
// colon-separated form and belong to at most one device. ReplacementCost is
// in the site's currency; zero means unknown.
type Device struct {
	ID              int64           `json:"id"`
	Name            string          `json:"name"`
	Manufacturer    string          `json:"manufacturer"`
	Model           string          `json:"model"`
	HardwareVersion string          `json:"hardware_version"`
	FirmwareVersion string          `json:"firmware_version"`
	Serial          string          `json:"serial"`
	Category        Category        `json:"category"`
	Criticality     Criticality     `json:"criticality"`
	Exposure        Exposure        `json:"exposure"`
	UpdateMechanism UpdateMechanism `json:"update_mechanism"`
	AutoUpdate      AutoUpdate      `json:"auto_update"`
	MACs            []string        `json:"macs"`
	IPs             []string        `json:"ips"`
	Site            string          `json:"site"`
	Location        string          `json:"location"`
	Owner           string          `json:"owner"`
	Segment         string          `json:"segment"`
	CPE             string          `json:"cpe"`
	EOLDate         string          `json:"eol_date"`
	PurchaseDate    string          `json:"purchase_date"`
	ReplacementCost float64         `json:"replacement_cost"`
	Notes           string          `json:"notes"`
	Tags            []string        `json:"tags"`
	Source          Source          `json:"source"`
	FirstSeen       *time.Time      `json:"first_seen"`
	LastSeen        *time.Time      `json:"last_seen"`
	CreatedAt       time.Time       `json:"created_at"`
	UpdatedAt       time.Time       `json:"updated_at"`
}

// DeviceUpdate is a partial update: nil fields are left as they are. The
// slice fields replace the whole list when set.
type DeviceUpdate struct {
	Name            *string          `json:"name,omitempty"`
	Manufacturer    *string          `json:"manufacturer,omitempty"`
	Model           *string          `json:"model,omitempty"`
	HardwareVersion *string          `json:"hardware_version,omitempty"`
	FirmwareVersion *string          `json:"firmware_version,omitempty"`
	Serial          *string          `json:"serial,omitempty"`
	Category        *Category        `json:"category,omitempty"`
	Criticality     *Criticality     `json:"criticality,omitempty"`
	Exposure        *Exposure        `json:"exposure,omitempty"`
	UpdateMechanism *UpdateMechanism `json:"update_mechanism,omitempty"`
	AutoUpdate      *AutoUpdate      `json:"auto_update,omitempty"`
	MACs            *[]string        `json:"macs,omitempty"`
	IPs             *[]string        `json:"ips,omitempty"`
	Site            *string          `json:"site,omitempty"`
	Location        *string          `json:"location,omitempty"`
	Owner           *string          `json:"owner,omitempty"`
	Segment         *string          `json:"segment,omitempty"`
	CPE             *string          `json:"cpe,omitempty"`
	EOLDate         *string          `json:"eol_date,omitempty"`
	PurchaseDate    *string          `json:"purchase_date,omitempty"`
	ReplacementCost *float64         `json:"replacement_cost,omitempty"`
	Notes           *string          `json:"notes,omitempty"`
	Tags            *[]string        `json:"tags,omitempty"`
	FirstSeen       *time.Time       `json:"first_seen,omitempty"`
	LastSeen        *time.Time       `json:"last_seen,omitempty"`
}

// Apply copies the set fields of u onto d. It does not validate: call
// d.Normalize afterwards.
func (u DeviceUpdate) Apply(d *Device) {
	setString := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	setString(&d.Name, u.Name)
	setString(&d.Manufacturer, u.Manufacturer)
	setString(&d.Model, u.Model)
	setString(&d.HardwareVersion, u.HardwareVersion)
	setString(&d.FirmwareVersion, u.FirmwareVersion)
	setString(&d.Serial, u.Serial)
	setString(&d.Site, u.Site)
	setString(&d.Location, u.Location)
	setString(&d.Owner, u.Owner)
	setString(&d.Segment, u.Segment)
	setString(&d.CPE, u.CPE)
	setString(&d.EOLDate, u.EOLDate)
	setString(&d.PurchaseDate, u.PurchaseDate)
	setString(&d.Notes, u.Notes)
	if u.Category != nil {
		d.Category = *u.Category
	}
	if u.Criticality != nil {
		d.Criticality = *u.Criticality
	}
	if u.Exposure != nil {
		d.Exposure = *u.Exposure
	}
	if u.UpdateMechanism != nil {
		d.UpdateMechanism = *u.UpdateMechanism
	}
	if u.AutoUpdate != nil {
		d.AutoUpdate = *u.AutoUpdate
	}
	if u.MACs != nil {
		d.MACs = append([]string(nil), (*u.MACs)...)
	}
	if u.IPs != nil {
		d.IPs = append([]string(nil), (*u.IPs)...)
	}
	if u.Tags != nil {
		d.Tags = append([]string(nil), (*u.Tags)...)
	}
	if u.ReplacementCost != nil {
		d.ReplacementCost = *u.ReplacementCost
	}
	if u.FirstSeen != nil {
		t := *u.FirstSeen
		d.FirstSeen = &t
	}
	if u.LastSeen != nil {
		t := *u.LastSeen
		d.LastSeen = &t
	}
}

// DeviceFilter selects devices. Empty fields do not filter. Manufacturer
// and Site match case-insensitively and exactly; Query is a case-insensitive
// substring search over name, manufacturer, model, serial, location, owner,
// notes, MACs and IPs. Missing is "firmware_version" or "update_mechanism" to
// list devices where that field is unknown.
//
// Results are ordered by ID; After is the cursor (the last ID of the previous
// page) and Limit the page size (default DefaultPageSize, at most
// MaxPageSize).
type DeviceFilter struct {
	Category        Category
	Criticality     Criticality
	Exposure        Exposure
	UpdateMechanism UpdateMechanism
	Manufacturer    string
	Site            string
	Tag             string
	Query           string
	Missing         string
	// UpdatedSince, when set, keeps the devices created or changed at or
	// after it (not settable through the API).
	UpdatedSince time.Time
	After        int64
	Limit        int
}

// Page sizes for list calls.
const (
	DefaultPageSize = 50
	MaxPageSize     = 1000
)

// DeviceStats are the counts the dashboard draws.
type DeviceStats struct {
	Total             int64            `json:"total"`
	ByCategory        map[string]int64 `json:"by_category"`
	ByCriticality     map[string]int64 `json:"by_criticality"`
	ByExposure        map[string]int64 `json:"by_exposure"`
	ByUpdateMechanism map[string]int64 `json:"by_update_mechanism"` // "" counted under "unknown"
	MissingFirmware   int64            `json:"missing_firmware"`
	MissingMechanism  int64            `json:"missing_mechanism"`
}

// ImportRow is one device of an import together with where it came from:
// Line is the line of a CSV file or the 1-based record number of a JSON
// import, used in error details.
type ImportRow struct {
	Line   int
	Device Device
}

// ImportOptions change how ImportDevices works.
type ImportOptions struct {
	DryRun bool // validate everything, store nothing
}

// ImportResult says what an import did (or, on a dry run, would do).
type ImportResult struct {
	Created int     `json:"created"`
	DryRun  bool    `json:"dry_run"`
	IDs     []int64 `json:"ids,omitempty"`
}

// DeviceService is the inventory.
//
// Every change is recorded in the audit trail in the same transaction, with
// the Actor from the context (see WithActor). Methods return *Error values
// with EINVALID (validation, with one detail per bad field or row),
// ENOTFOUND, or ECONFLICT (a MAC owned by another device).
type DeviceService interface {
	// FindDeviceByID returns one device or ENOTFOUND.
	FindDeviceByID(ctx context.Context, id int64) (*Device, error)
	// FindDevices returns one page of devices matching f, ordered by ID,
	// and the cursor of the next page (0 at the end).
	FindDevices(ctx context.Context, f DeviceFilter) ([]*Device, int64, error)
	// CreateDevice normalises and validates d, stores it and sets its ID,
	// Source (SourceManual when empty) and timestamps.
	CreateDevice(ctx context.Context, d *Device) error
	// UpdateDevice applies u to the device, validates and stores the result.
	UpdateDevice(ctx context.Context, id int64, u DeviceUpdate) (*Device, error)
	// DeleteDevice removes a device.
	DeleteDevice(ctx context.Context, id int64) error
	// ImportDevices creates all rows or none. Every row is normalised and
	// validated, MACs are checked against each other and the database, and
	// the error lists every bad row. Rows get Source SourceImport unless set.
	ImportDevices(ctx context.Context, rows []ImportRow, opts ImportOptions) (*ImportResult, error)
	// DeviceStats counts devices for the dashboard.
	DeviceStats(ctx context.Context) (*DeviceStats, error)
}

// NewDeviceStats returns DeviceStats with every known category,
// criticality, exposure and update mechanism (and "unknown") counted as
// zero, so that charts show empty bars rather than missing ones.
func NewDeviceStats() *DeviceStats {
	st := &DeviceStats{
		ByCategory:        map[string]int64{},
		ByCriticality:     map[string]int64{},
		ByExposure:        map[string]int64{},
		ByUpdateMechanism: map[string]int64{"unknown": 0},
	}
	for _, c := range Categories {
		st.ByCategory[string(c)] = 0
	}
	for _, c := range Criticalities {
		st.ByCriticality[string(c)] = 0
	}
	for _, e := range Exposures {
		st.ByExposure[string(e)] = 0
	}
	for _, m := range UpdateMechanisms {
		st.ByUpdateMechanism[string(m)] = 0
	}
	return st
}
