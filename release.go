package firmward

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Audit actions recorded by the release catalog and the delivery of
// releases to devices.
const (
	ActionReleaseCreate   = "release.create"
	ActionReleaseWithdraw = "release.withdraw"
	// ActionActionCreate: an operator (or a campaign) asked a device to
	// install a release: one event per device action.
	ActionActionCreate = "action.create"
	// ActionActionUpdate: an action changed status (a device reported it
	// running, finished, or confirmed a cancellation).
	ActionActionUpdate = "action.update"
	// ActionActionCancel: an action was canceled, or asked to cancel.
	ActionActionCancel = "action.cancel"
	// ActionDeviceTokenCreate: a device credential was issued (by an
	// operator, or by enrollment with the enrollment key).
	ActionDeviceTokenCreate = "device.token_create" //nolint:gosec // an audit action name, no secret
	// ActionDeviceConfigData: a device reported its attributes (DDI
	// configData).
	ActionDeviceConfigData = "device.config_data"
)

// Limits of the release catalog.
const (
	MaxReleaseArtifacts = 64
	MaxArtifactNameLen  = 255
	MaxReleaseNotesLen  = 64 << 10
	maxReleaseTextLen   = 200
)

// Release channels.
const (
	ChannelStable  = "stable"
	ChannelBeta    = "beta"
	ChannelTesting = "testing"
)

// ReleaseChannels lists the channels a release may be published on.
var ReleaseChannels = []string{ChannelStable, ChannelBeta, ChannelTesting}

// ReleaseArtifact is one file of a release: stored by firmward (SHA256
// names the blob in the artifact store; SHA1, MD5 and Size are filled by the
// store on upload) or kept by the vendor (URL, hashes optional).
type ReleaseArtifact struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256,omitempty"`
	SHA1   string `json:"sha1,omitempty"`
	MD5    string `json:"md5,omitempty"`
	Size   int64  `json:"size,omitempty"`
	URL    string `json:"url,omitempty"`
}

// ReleaseTargetName is the TUF target path under which a stored artifact
// of release id is signed: releases/ID/NAME.
func ReleaseTargetName(releaseID int64, name string) string {
	return "releases/" + strconv.FormatInt(releaseID, 10) + "/" + name
}

// Stored reports whether firmward serves the artifact itself.
func (a *ReleaseArtifact) Stored() bool { return a.URL == "" }

// Release is one firmware version published for a set of devices: its
// compatible models and hardware versions, the CVEs it fixes and its files.
// A withdrawn (recalled) release is kept for the record but no longer
// deployed.
type Release struct {
	ID               int64             `json:"id"`
	Manufacturer     string            `json:"manufacturer"`
	Models           []string          `json:"models"`
	HardwareVersions []string          `json:"hardware_versions"`
	Version          string            `json:"version"`
	ReleaseDate      string            `json:"release_date,omitempty"` // the vendor's, YYYY-MM-DD
	Channel          string            `json:"channel"`
	Notes            string            `json:"notes,omitempty"`
	FixesCVEs        []string          `json:"fixes_cves"`
	MinFromVersion   string            `json:"min_from_version,omitempty"`
	Artifacts        []ReleaseArtifact `json:"artifacts"`
	Withdrawn        bool              `json:"withdrawn"`
	WithdrawnAt      *time.Time        `json:"withdrawn_at,omitempty"`
	WithdrawReason   string            `json:"withdraw_reason,omitempty"`
	CreatedBy        string            `json:"created_by"`
	CreatedAt        time.Time         `json:"created_at"`
}

var (
	cveRe    = regexp.MustCompile(`^CVE-[0-9]{4}-[0-9]{4,}$`)
	sha256Re = regexp.MustCompile(`^[0-9a-f]{64}$`)
	sha1Re   = regexp.MustCompile(`^[0-9a-f]{40}$`)
	md5Re    = regexp.MustCompile(`^[0-9a-f]{32}$`)
)

// ValidArtifactName reports why name cannot name a release artifact, or
// "" when it can: a plain file name (no directory, no "." or "..", no
// control characters), at most MaxArtifactNameLen bytes of UTF-8.
func ValidArtifactName(name string) string {
	switch {
	case name == "":
		return "is required"
	case len(name) > MaxArtifactNameLen:
		return fmt.Sprintf("is longer than %d bytes", MaxArtifactNameLen)
	case !utf8.ValidString(name):
		return "must be UTF-8 text"
	case name == "." || name == "..":
		return "must be a file name"
	case strings.ContainsAny(name, `/\`):
		return "must be a file name without a directory"
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "must not contain control characters"
	}
	return ""
}

// cleanList trims, drops empty and duplicate entries, keeping order.
func cleanList(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// Normalize trims and canonicalises r (CVE ids upper-cased, hashes
// lower-cased, channel defaulting to stable) and validates it: EINVALID
// with one ErrorDetail per bad field.
func (r *Release) Normalize() error {
	var details []ErrorDetail
	bad := func(field, value, reason string) {
		details = append(details, ErrorDetail{Field: field, Value: value, Reason: reason})
	}
	text := func(field string, p *string, required bool) {
		*p = strings.TrimSpace(*p)
		switch {
		case *p == "" && required:
			bad(field, "", "is required")
		case !utf8.ValidString(*p) || strings.IndexFunc(*p, unicode.IsControl) >= 0:
			bad(field, "", "must be text on one line")
		case utf8.RuneCountInString(*p) > maxReleaseTextLen:
			bad(field, "", fmt.Sprintf("is longer than %d characters", maxReleaseTextLen))
		}
	}
	text("manufacturer", &r.Manufacturer, true)
	text("version", &r.Version, true)
	text("min_from_version", &r.MinFromVersion, false)
	r.Models = cleanList(r.Models)
	if len(r.Models) == 0 {
		bad("models", "", "needs at least one model")
	}
	for i := range r.Models {
		text("models", &r.Models[i], true)
	}
	r.HardwareVersions = cleanList(r.HardwareVersions)
	for i := range r.HardwareVersions {
		text("hardware_versions", &r.HardwareVersions[i], true)
	}
	r.Channel = strings.ToLower(strings.TrimSpace(r.Channel))
	if r.Channel == "" {
		r.Channel = ChannelStable
	}
	if !slices.Contains(ReleaseChannels, r.Channel) {
		bad("channel", r.Channel, "must be one of "+strings.Join(ReleaseChannels, ", "))
	}
	r.ReleaseDate = strings.TrimSpace(r.ReleaseDate)
	if r.ReleaseDate != "" {
		if _, err := time.Parse(time.DateOnly, r.ReleaseDate); err != nil {
			bad("release_date", r.ReleaseDate, "must be a date YYYY-MM-DD")
		}
	}
	if !utf8.ValidString(r.Notes) || strings.ContainsRune(r.Notes, 0) {
		bad("notes", "", "must be text")
	} else if len(r.Notes) > MaxReleaseNotesLen {
		bad("notes", "", fmt.Sprintf("is longer than %d bytes", MaxReleaseNotesLen))
	}
	for i, c := range r.FixesCVEs {
		r.FixesCVEs[i] = strings.ToUpper(strings.TrimSpace(c))
	}
	r.FixesCVEs = cleanList(r.FixesCVEs)
	for _, c := range r.FixesCVEs {
		if !cveRe.MatchString(c) {
			bad("fixes_cves", c, "must be a CVE id like CVE-2024-12345")
		}
	}
	switch {
	case len(r.Artifacts) == 0:
		bad("artifacts", "", "needs at least one artifact (a file or a vendor URL)")
	case len(r.Artifacts) > MaxReleaseArtifacts:
		bad("artifacts", "", fmt.Sprintf("has more than %d artifacts", MaxReleaseArtifacts))
	}
	seen := map[string]bool{}
	for i := range r.Artifacts {
		a := &r.Artifacts[i]
		field := fmt.Sprintf("artifacts[%d]", i)
		a.Name = strings.TrimSpace(a.Name)
		if why := ValidArtifactName(a.Name); why != "" {
			bad(field+".name", a.Name, why)
		} else if seen[a.Name] {
			bad(field+".name", a.Name, "is used by another artifact of this release")
		}
		seen[a.Name] = true
		a.SHA256, a.SHA1, a.MD5 = strings.ToLower(strings.TrimSpace(a.SHA256)), strings.ToLower(strings.TrimSpace(a.SHA1)), strings.ToLower(strings.TrimSpace(a.MD5))
		a.URL = strings.TrimSpace(a.URL)
		if a.URL != "" {
			u, err := url.Parse(a.URL)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				bad(field+".url", a.URL, "must be an http or https URL")
			}
		} else if a.SHA256 == "" {
			bad(field+".sha256", "", "is required for a stored artifact (or give a vendor url)")
		}
		if a.SHA256 != "" && !sha256Re.MatchString(a.SHA256) {
			bad(field+".sha256", a.SHA256, "must be 64 lowercase hex digits")
		}
		if a.SHA1 != "" && !sha1Re.MatchString(a.SHA1) {
			bad(field+".sha1", a.SHA1, "must be 40 hex digits")
		}
		if a.MD5 != "" && !md5Re.MatchString(a.MD5) {
			bad(field+".md5", a.MD5, "must be 32 hex digits")
		}
		if a.Size < 0 {
			bad(field+".size", fmt.Sprint(a.Size), "must not be negative")
		}
	}
	if len(details) > 0 {
		return &Error{Code: EINVALID, Message: "release is not valid", Details: details}
	}
	return nil
}

// ReleaseFilter selects releases, ordered by id; After is a cursor (the
// last id of the previous page).
type ReleaseFilter struct {
	Manufacturer     string // exact, any case
	Model            string // releases listing this model
	IncludeWithdrawn bool
	After            int64
	Limit            int
}

// ReleaseService keeps the release catalog. Every change is audited.
type ReleaseService interface {
	// CreateRelease validates r (Normalize), stores it and sets ID,
	// CreatedBy and CreatedAt. A release with the same manufacturer and
	// version is ECONFLICT. The caller checks that stored artifacts are in
	// the artifact store and fills their hashes.
	CreateRelease(ctx context.Context, r *Release) error
	// FindReleaseByID returns a release or ENOTFOUND.
	FindReleaseByID(ctx context.Context, id int64) (*Release, error)
	// FindReleases returns one page of releases and the next cursor (0 at
	// the end).
	FindReleases(ctx context.Context, f ReleaseFilter) ([]*Release, int64, error)
	// WithdrawRelease recalls a release: it is no longer deployed, its
	// scheduled actions are canceled and running ones asked to cancel.
	// It returns the release and how many actions it canceled; ENOTFOUND,
	// or ECONFLICT when withdrawn already.
	WithdrawRelease(ctx context.Context, id int64, reason string) (*Release, int, error)
}
