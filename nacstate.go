package firmward

import "time"

// Audit actions of network access control (issue 6). Every change of NAC
// state is one event with object type "device" (quarantine state) or
// "nac_site" / "nas" (settings).
const (
	ActionNACQuarantine    = "nac.quarantine"     // a person quarantined a device by hand
	ActionNACRelease       = "nac.release"        // a person released a device (manual quarantine and approval cleared)
	ActionNACApprove       = "nac.approve"        // a person approved the quarantine of a protected device
	ActionNACExempt        = "nac.exempt"         // a person exempted a device from the automatic rules until a time
	ActionNACReview        = "nac.review"         // a person reviewed a discovered device
	ActionNACTransition    = "nac.transition"     // the reconciler moved a device into or out of quarantine
	ActionNACCoA           = "nac.coa"            // a CoA or Disconnect request was sent, with its outcome
	ActionNACWebhook       = "nac.webhook"        // the quarantine webhook was called, with its outcome
	ActionNACPolicy        = "nac.policy"         // a site's NAC policy was set
	ActionNASSecret        = "nac.nas_secret"     //nolint:gosec // an audit action name: a NAS shared secret was set or removed
	ActionNACNeedsApproval = "nac.needs_approval" // a rule hit a protected device: a person must approve
)

// NACManual is a quarantine a person asked for.
type NACManual struct {
	Reason string    `json:"reason"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

// NACApproval is a person's approval of the automatic quarantine of a
// protected (safety-critical or protected-category) device.
type NACApproval struct {
	Reason string    `json:"reason"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

// NACExemption suspends the automatic quarantine rules for a device until
// Until, with a reason and an owner who answers for it.
type NACExemption struct {
	Reason string    `json:"reason"`
	Owner  string    `json:"owner"`
	Until  time.Time `json:"until"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

// NACState is what is known about one device's quarantine: what people
// decided (Manual, Approval, Reviewed, Exemption) and what firmward last
// acted on (Quarantined, Enforced, Reasons, ChangedAt), so that the
// reconciler can tell a transition from a steady state. The zero value
// (nothing decided, nothing enforced) is the state of a device without a
// stored row.
type NACState struct {
	DeviceID  int64         `json:"device_id"`
	Manual    *NACManual    `json:"manual,omitempty"`
	Approval  *NACApproval  `json:"approval,omitempty"`
	Reviewed  bool          `json:"reviewed"`
	Exemption *NACExemption `json:"exemption,omitempty"`
	// Quarantined is the last decision's Quarantine (in monitor mode: would
	// be); Enforced says the network was told to act on it.
	Quarantined bool `json:"quarantined"`
	Enforced    bool `json:"enforced"`
	// NeedsApproval is the last decision's NeedsApproval.
	NeedsApproval bool `json:"needs_approval"`
	// Reasons is the last decision's summary.
	Reasons   string     `json:"reasons"`
	ChangedAt *time.Time `json:"changed_at,omitempty"`
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
}

// NAC event kinds, the history of a device's quarantine.
const (
	NACEventQuarantine    = "quarantine"     // entered quarantine (Enforced) or would have (monitor)
	NACEventRelease       = "release"        // left quarantine
	NACEventNeedsApproval = "needs-approval" // a rule hit a protected device
	NACEventManual        = "manual"         // a person quarantined it
	NACEventManualRelease = "manual-release" // a person released it
	NACEventApprove       = "approve"
	NACEventExempt        = "exempt"
	NACEventReview        = "review"
	NACEventCoA           = "coa"     // a CoA/Disconnect was sent; Outcome ack, nak, timeout or error
	NACEventWebhook       = "webhook" // the webhook was called; Outcome ok or error
)

// NACEvent is one step of a device's quarantine history.
type NACEvent struct {
	ID       int64     `json:"id"`
	DeviceID int64     `json:"device_id"`
	Time     time.Time `json:"time"`
	Kind     string    `json:"kind"`
	Actor    string    `json:"actor"`
	// Enforced says the step acted on the network (false in monitor mode).
	Enforced bool   `json:"enforced"`
	Outcome  string `json:"outcome,omitempty"`
	Message  string `json:"message"`
}

// NASSession is where a MAC last authenticated or accounted (from RADIUS
// post-auth and accounting), so that a CoA or Disconnect request can reach
// the NAS that holds its session. Addresses are text ("" when unknown).
type NASSession struct {
	MAC            string    `json:"mac"`
	UserName       string    `json:"user_name,omitempty"`
	NASIP          string    `json:"nas_ip,omitempty"`
	NASIdentifier  string    `json:"nas_identifier,omitempty"`
	NASPort        string    `json:"nas_port,omitempty"`
	NASPortID      string    `json:"nas_port_id,omitempty"`
	CalledStation  string    `json:"called_station_id,omitempty"`
	CallingStation string    `json:"calling_station_id,omitempty"`
	AcctSessionID  string    `json:"acct_session_id,omitempty"`
	FramedIP       string    `json:"framed_ip,omitempty"`
	Event          string    `json:"event"`
	At             time.Time `json:"at"`
}

// NASSecret is the RFC 5176 shared secret of one NAS, keyed by its
// NAS-IP-Address (as text) or NAS-Identifier, with an optional host:port
// to send requests to (default: NAS-IP-Address, UDP 3799). The store keeps
// Secret encrypted; lists never carry it.
type NASSecret struct {
	NAS       string    `json:"nas"`
	Addr      string    `json:"addr,omitempty"`
	Secret    string    `json:"secret,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}
