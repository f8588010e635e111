package firmward

import "context"

// Names and values of the settings the first-run wizard keeps (issue 7,
// requirement 6).
const (
	// SettingSetupMode is how firmward is used: SetupModeHome or
	// SetupModeOrganisation. Set by the first step of the wizard.
	SettingSetupMode = "setup.mode"
	// SettingSetupDone holds the time (RFC 3339) the wizard was finished
	// or skipped; while it is unset, the wizard may be offered.
	SettingSetupDone = "setup.done"

	SetupModeHome         = "home"
	SetupModeOrganisation = "organisation"
)

// ActionSettingSet is the audit action of a changed setting.
const ActionSettingSet = "setting.set"

// SettingsService keeps small named settings of the installation.
type SettingsService interface {
	// Setting returns the value of name, or an ENOTFOUND error when it
	// was never set.
	Setting(ctx context.Context, name string) (string, error)
	// SetSetting stores value under name (at most 100 and 1000 bytes),
	// audited with the actor of ctx.
	SetSetting(ctx context.Context, name, value string) error
}

// ValidSetting checks a setting's name and value.
func ValidSetting(name, value string) error {
	var details []ErrorDetail
	if name == "" || len(name) > 100 {
		details = append(details, ErrorDetail{Field: "name", Value: name, Reason: "must be 1 to 100 bytes"})
	}
	if len(value) > 1000 {
		details = append(details, ErrorDetail{Field: "value", Reason: "must be at most 1000 bytes"})
	}
	if details != nil {
		return &Error{Code: EINVALID, Message: "invalid setting", Details: details}
	}
	return nil
}
