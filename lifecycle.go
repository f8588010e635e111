package firmward

import (
	"context"
	"strings"
	"time"
)

// Audit actions of the lifecycle services (end of support, open firmware,
// operational value, health checks).
const (
	ActionEOLSet             = "eol.set"              // an end-of-support entry was created or changed (by hand or by import)
	ActionEOLDelete          = "eol.delete"           // an end-of-support entry was removed
	ActionOpenFirmwareSet    = "open_firmware.set"    // a model was added to the open-firmware list
	ActionOpenFirmwareDelete = "open_firmware.delete" // a model was removed from it
	ActionOperationalValue   = "device.operational_value"
	ActionCheckCadence       = "check.cadence"      // a health-check cadence was set or cleared
	ActionHealthCheck        = "check.record"       // a health check was recorded; one change per answer
	ActionOpenFirmwareSeed   = "open_firmware.seed" // the embedded open-firmware list was added once
)

// Limits of lifecycle text fields, in bytes.
const (
	MaxLifecycleNameLen = 200
	MaxLifecycleNoteLen = 2000
)

// EOLEntry is an end-of-support date a vendor declared for one model, or for
// every model of a manufacturer when Model is empty. Dates are "YYYY-MM-DD";
// ReleaseDate (when the model came out) is optional and feeds the vendor
// support record's support length. Manufacturer and Model match devices
// case-insensitively.
type EOLEntry struct {
	ID           int64     `json:"id"`
	Manufacturer string    `json:"manufacturer"`
	Model        string    `json:"model"`
	ReleaseDate  string    `json:"release_date"`
	EndOfSupport string    `json:"end_of_support"`
	Source       string    `json:"source"` // where the date comes from: a URL or a note
	UpdatedAt    time.Time `json:"updated_at"`
}

// Normalize trims and validates e: manufacturer and end_of_support are
// required, dates are YYYY-MM-DD, and a release date is not after the end
// of support. The error is EINVALID with one detail per bad field.
func (e *EOLEntry) Normalize() error {
	var v validator
	e.Manufacturer = v.text("manufacturer", e.Manufacturer, MaxLifecycleNameLen)
	e.Model = v.text("model", e.Model, MaxLifecycleNameLen)
	e.Source = v.text("source", e.Source, MaxLifecycleNoteLen)
	e.ReleaseDate = v.date("release_date", e.ReleaseDate)
	e.EndOfSupport = v.date("end_of_support", e.EndOfSupport)
	if e.Manufacturer == "" {
		v.add("manufacturer", "", "is required")
	}
	if e.EndOfSupport == "" && len(v.details) == 0 {
		v.add("end_of_support", "", "is required (YYYY-MM-DD)")
	}
	if len(v.details) == 0 && e.ReleaseDate != "" && e.ReleaseDate > e.EndOfSupport {
		v.add("release_date", e.ReleaseDate, "is after end_of_support "+e.EndOfSupport)
	}
	return v.err("end-of-support entry is not valid")
}

// EOLKey is the case-folded manufacturer and model that identify an entry.
func (e *EOLEntry) EOLKey() string {
	return strings.ToLower(e.Manufacturer) + "\x00" + strings.ToLower(e.Model)
}

// EOLRow is one entry of an import file with its line (CSV) or record
// number (JSON).
type EOLRow struct {
	Line  int      `json:"line"`
	Entry EOLEntry `json:"entry"`
}

// EOLImportResult says what an import changed.
type EOLImportResult struct {
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
}

// OpenFirmwareModel says that an open firmware (OpenWrt, …) supports a
// model. HardwareVersion, when set, limits it to that hardware revision
// ("v2"); a device matches when its own hardware version starts with it.
type OpenFirmwareModel struct {
	ID              int64     `json:"id"`
	Firmware        string    `json:"firmware"`
	Manufacturer    string    `json:"manufacturer"`
	Model           string    `json:"model"`
	HardwareVersion string    `json:"hardware_version"`
	URL             string    `json:"url"`
	UpdatedAt       time.Time `json:"updated_at"`
}

// Normalize trims and validates m: firmware, manufacturer and model are
// required; the URL, when set, is http(s). EINVALID with details.
func (m *OpenFirmwareModel) Normalize() error {
	var v validator
	m.Firmware = v.text("firmware", m.Firmware, MaxLifecycleNameLen)
	m.Manufacturer = v.text("manufacturer", m.Manufacturer, MaxLifecycleNameLen)
	m.Model = v.text("model", m.Model, MaxLifecycleNameLen)
	m.HardwareVersion = v.text("hardware_version", m.HardwareVersion, MaxLifecycleNameLen)
	m.URL = v.text("url", m.URL, MaxLifecycleNoteLen)
	for _, f := range []struct{ name, val string }{{"firmware", m.Firmware}, {"manufacturer", m.Manufacturer}, {"model", m.Model}} {
		if f.val == "" {
			v.add(f.name, "", "is required")
		}
	}
	if m.URL != "" && !strings.HasPrefix(m.URL, "https://") && !strings.HasPrefix(m.URL, "http://") {
		v.add("url", m.URL, "must start with https:// or http://")
	}
	return v.err("open-firmware entry is not valid")
}

// OperationalValue is how much the owner needs a device: what losing it
// would cost them. The empty value means nobody said yet.
type OperationalValue string

// Operational values, lowest first.
const (
	ValueUnknown OperationalValue = ""
	ValueLow     OperationalValue = "low"
	ValueMedium  OperationalValue = "medium"
	ValueHigh    OperationalValue = "high"
)

// OperationalValues lists the values an owner may give, lowest first.
var OperationalValues = []OperationalValue{ValueLow, ValueMedium, ValueHigh}

// ParseOperationalValue returns the value named by s (any case) or an
// EINVALID error naming the field.
func ParseOperationalValue(s string) (OperationalValue, error) {
	var v validator
	ov := enum(&v, "operational_value", OperationalValue(s), OperationalValues, ValueUnknown)
	if err := v.err("operational value is not valid"); err != nil {
		return "", err
	}
	if ov == ValueUnknown {
		return "", &Error{Code: EINVALID, Message: "operational value is not valid", Details: []ErrorDetail{{Field: "operational_value", Reason: "is required: low, medium or high"}}}
	}
	return ov, nil
}

// OperationalValueAnswer is the owner's answer for one device.
type OperationalValueAnswer struct {
	DeviceID  int64            `json:"device_id"`
	Value     OperationalValue `json:"value"`
	Note      string           `json:"note"`
	UpdatedBy string           `json:"updated_by"`
	UpdatedAt time.Time        `json:"updated_at"`
}

// EOLService stores end-of-support dates, the open-firmware list and
// owners' operational values. Every change is audited.
type EOLService interface {
	// FindEOL lists every entry, by manufacturer then model.
	FindEOL(ctx context.Context) ([]*EOLEntry, error)
	// SetEOL creates the entry of e's manufacturer and model, or changes
	// it; e is normalised first and gets its ID and UpdatedAt.
	SetEOL(ctx context.Context, e *EOLEntry) error
	// ImportEOL sets every row or none: a bad row, or two rows for the
	// same manufacturer and model, is EINVALID with every problem listed
	// by line and field.
	ImportEOL(ctx context.Context, rows []EOLRow) (*EOLImportResult, error)
	// DeleteEOL removes an entry or answers ENOTFOUND.
	DeleteEOL(ctx context.Context, id int64) error

	// FindOpenFirmware lists the models known to run an open firmware.
	FindOpenFirmware(ctx context.Context) ([]*OpenFirmwareModel, error)
	// SetOpenFirmware adds m (or changes the entry of the same firmware,
	// manufacturer, model and hardware version).
	SetOpenFirmware(ctx context.Context, m *OpenFirmwareModel) error
	// DeleteOpenFirmware removes an entry or answers ENOTFOUND.
	DeleteOpenFirmware(ctx context.Context, id int64) error
	// SeedOpenFirmware adds list the first time it is called on a
	// database and does nothing afterwards, so that entries a person
	// removed stay removed. It says how many entries it added.
	SeedOpenFirmware(ctx context.Context, list []OpenFirmwareModel) (int, error)

	// FindOperationalValues returns every owner's answer by device ID.
	FindOperationalValues(ctx context.Context) (map[int64]*OperationalValueAnswer, error)
	// SetOperationalValue stores the owner's answer for a device
	// (ENOTFOUND for an unknown device).
	SetOperationalValue(ctx context.Context, deviceID int64, v OperationalValue, note string) (*OperationalValueAnswer, error)
}
