package nac

import (
	"context"
	"time"

	firmward "github.com/firmward/firmward"
)

// DefaultSite is the site of devices whose Site field is empty.
const DefaultSite = "default"

// SiteOf returns the site whose policy applies to d: its Site, or
// DefaultSite.
func SiteOf(d *firmward.Device) string {
	if d.Site == "" {
		return DefaultSite
	}
	return d.Site
}

// StateOf turns a persisted state into what Evaluate reads at now. An
// expired exemption is dropped.
func StateOf(s *firmward.NACState, now time.Time) State {
	var st State
	if s == nil {
		return st
	}
	if s.Manual != nil {
		st.Manual = &Manual{Reason: s.Manual.Reason, By: s.Manual.By, At: s.Manual.At}
	}
	st.Approved = s.Approval != nil
	st.Reviewed = s.Reviewed
	if s.Exemption != nil && now.Before(s.Exemption.Until) {
		st.Exemption = &Exemption{Reason: s.Exemption.Reason, Owner: s.Exemption.Owner, Until: s.Exemption.Until}
	}
	return st
}

// Evaluation is one device evaluated now: the device, its persisted state
// and the decision of its site's policy.
type Evaluation struct {
	Device   *firmward.Device    `json:"device"`
	State    firmward.NACState   `json:"state"`
	Decision Decision            `json:"decision"`
	Findings []*firmward.Finding `json:"-"`
}

// StateFilter selects stored device states for a status list.
type StateFilter struct {
	// Active lists only devices quarantined (or that would be), waiting
	// for approval, quarantined by hand, approved or exempt.
	Active bool
	Limit  int
}

// Store keeps NAC policies and quarantine state; package sqlstore
// implements it over SQLite and PostgreSQL. Every change is audited with
// the Actor in the context, in the same transaction. Errors are
// *firmward.Error values: EINVALID (with details), ENOTFOUND for a device
// or NAS that does not exist.
type Store interface {
	// SitePolicy returns the stored policy of a site, or
	// EnterprisePolicy(site) (monitor mode) when none is stored.
	SitePolicy(ctx context.Context, site string) (Policy, error)
	// SetSitePolicy validates and stores a site's policy.
	SetSitePolicy(ctx context.Context, p Policy) error
	// SitePolicies lists the stored policies, by site.
	SitePolicies(ctx context.Context) ([]Policy, error)

	// Evaluate reads a device, its open findings, its state and its
	// site's policy and decides at the store's now.
	Evaluate(ctx context.Context, deviceID int64) (Evaluation, error)
	// Decide is Evaluate for the device that owns mac (an indexed lookup;
	// radius.Directory): ENOTFOUND for a MAC no device has.
	Decide(ctx context.Context, mac string) (Decision, error)

	// NACState returns a device's state (the zero state when nothing was
	// stored) or ENOTFOUND when the device does not exist.
	NACState(ctx context.Context, deviceID int64) (*firmward.NACState, error)
	// NACStates lists stored states, by device id.
	NACStates(ctx context.Context, f StateFilter) ([]*firmward.NACState, error)
	// Quarantine records a manual quarantine with a reason (required).
	Quarantine(ctx context.Context, deviceID int64, reason string) (*firmward.NACState, error)
	// Release clears a manual quarantine and an approval, with a reason.
	Release(ctx context.Context, deviceID int64, reason string) (*firmward.NACState, error)
	// Approve records a person's approval of the automatic quarantine of
	// a protected device.
	Approve(ctx context.Context, deviceID int64, reason string) (*firmward.NACState, error)
	// Exempt suspends the automatic rules until e.Until (in the future;
	// reason and owner required); a zero Until removes the exemption.
	Exempt(ctx context.Context, deviceID int64, e firmward.NACExemption) (*firmward.NACState, error)
	// Review marks a discovered device as reviewed by a person.
	Review(ctx context.Context, deviceID int64) (*firmward.NACState, error)
	// RecordDecision stores a decision as the device's current state. When
	// it differs from the stored one (Quarantined, Enforced or
	// NeedsApproval changed) it appends a history event, audits it and
	// returns the previous state with changed set.
	RecordDecision(ctx context.Context, d Decision) (prev firmward.NACState, changed bool, err error)
	// RecordNACEvent appends a history event (CoA or webhook outcome)
	// and audits it.
	RecordNACEvent(ctx context.Context, e firmward.NACEvent) error
	// NACCandidates pages through the ids of the devices a rule could
	// quarantine or that have a stored state: devices with open (or
	// risk-accepted) findings, with a stored state, or found by a scan.
	// Every other device is compliant whatever the policy, so a periodic
	// pass skips it. Ids are above after, ascending; next is 0 at the end.
	NACCandidates(ctx context.Context, after int64, limit int) (ids []int64, next int64, err error)
	// NACEvents returns a device's history, newest first (all devices
	// when deviceID is 0).
	NACEvents(ctx context.Context, deviceID int64, limit int) ([]firmward.NACEvent, error)

	// RecordNASSession keeps s as the last session of s.MAC.
	RecordNASSession(ctx context.Context, s firmward.NASSession) error
	// LastNASSession returns the last session of a MAC or ENOTFOUND.
	LastNASSession(ctx context.Context, mac string) (firmward.NASSession, error)
	// SetNASSecret stores (replaces) a NAS's CoA secret, encrypted.
	SetNASSecret(ctx context.Context, s firmward.NASSecret) error
	// DeleteNASSecret removes one; ENOTFOUND when there is none.
	DeleteNASSecret(ctx context.Context, nas string) error
	// NASSecrets lists the NASes; with reveal the secrets are decrypted
	// (for the CoA client), without it Secret is empty.
	NASSecrets(ctx context.Context, reveal bool) ([]firmward.NASSecret, error)
}
