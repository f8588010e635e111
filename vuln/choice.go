package vuln

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/firmward/firmward"
)

// A person's choice of a device's CPE name.
//
// Propose only proposes; a person confirms the proposed name, picks an
// alternative, types their own or clears the device's cpe (back to
// proposals). Choose says which of these a name is, against the proposal
// firmward made from the device's manufacturer and model, and
// CPEChoice.AuditEvent records it. The adapters (API, web UI) store the
// name through the device service and then record the event.

// Kinds of CPEChoice.Choice.
const (
	ChoiceConfirmed   = "confirmed"          // the proposed firmware CPE
	ChoiceHardware    = "confirmed-hardware" // the proposed hardware CPE
	ChoiceAlternative = "alternative"        // one of the proposal's alternatives
	ChoiceOverride    = "override"           // a name firmward did not propose
	ChoiceCleared     = "cleared"            // no cpe: firmward's proposals are used again
)

// MaxChoiceReason bounds the length of CPEChoice.Reason, in characters.
const MaxChoiceReason = 1000

// CPEChoice is a person's decision about a device's CPE name: the name
// chosen ("" when cleared), the one the device had before, how the choice
// relates to the proposal, the confidence firmward had in the chosen name
// (0 for an override or a clearing), the firmware candidate it proposed,
// and the person's reason.
type CPEChoice struct {
	DeviceID   int64     `json:"device_id"`
	Choice     string    `json:"choice"`
	CPE        string    `json:"cpe"`
	Previous   string    `json:"previous"`
	Confidence float64   `json:"confidence"`
	Proposed   Candidate `json:"proposed"`
	Reason     string    `json:"reason,omitempty"`
}

// CheckChoice trims cpe and reason and checks them: cpe must be empty (a
// clearing) or a valid CPE 2.3 name of part "o" or "h" (a device is
// firmware or hardware, not an application), and reason at most
// MaxChoiceReason characters of valid UTF-8. It returns the trimmed
// values, or an EINVALID *firmward.Error with one detail per bad field.
func CheckChoice(cpe, reason string) (string, string, error) {
	cpe, reason = strings.TrimSpace(cpe), strings.TrimSpace(reason)
	var details []firmward.ErrorDetail
	if cpe != "" {
		if err := firmward.ValidateCPE23(cpe); err != nil {
			details = append(details, firmward.ErrorDetail{Field: "cpe", Value: cpe, Reason: err.Error()})
		} else if n, err := ParseCPE(cpe); err != nil || !isPart(n.Part, "o") && !isPart(n.Part, "h") {
			details = append(details, firmward.ErrorDetail{
				Field: "cpe", Value: cpe,
				Reason: "must name firmware (part o, cpe:2.3:o:…) or hardware (part h, cpe:2.3:h:…)",
			})
		}
	}
	switch {
	case !utf8.ValidString(reason):
		details = append(details, firmward.ErrorDetail{Field: "reason", Reason: "is not valid UTF-8"})
	case utf8.RuneCountInString(reason) > MaxChoiceReason:
		details = append(details, firmward.ErrorDetail{
			Field:  "reason",
			Reason: "is longer than " + strconv.Itoa(MaxChoiceReason) + " characters",
		})
	}
	if len(details) > 0 {
		msg := "the CPE choice is not valid"
		if len(details) == 1 {
			msg = details[0].Field + " " + details[0].Reason
		}
		return "", "", &firmward.Error{Code: firmward.EINVALID, Message: msg, Details: details}
	}
	return cpe, reason, nil
}

// Choose classifies the name cpe that a person chose for device d against
// p, the proposal made from d's manufacturer and model (Propose of d
// without its cpe). Names compare without regard to case. previous is d's
// cpe before the choice.
func Choose(p Proposal, deviceID int64, previous, cpe, reason string) CPEChoice {
	c := CPEChoice{DeviceID: deviceID, CPE: cpe, Previous: previous, Proposed: p.Firmware, Reason: reason}
	switch {
	case cpe == "":
		c.Choice = ChoiceCleared
	case p.Firmware.CPE != "" && strings.EqualFold(cpe, p.Firmware.CPE):
		c.Choice, c.Confidence = ChoiceConfirmed, p.Firmware.Confidence
	case p.Hardware.CPE != "" && strings.EqualFold(cpe, p.Hardware.CPE):
		c.Choice, c.Confidence = ChoiceHardware, p.Hardware.Confidence
	default:
		c.Choice = ChoiceOverride
		for _, a := range p.Alternatives {
			if strings.EqualFold(cpe, a.CPE) {
				c.Choice, c.Confidence = ChoiceAlternative, a.Confidence
				break
			}
		}
	}
	return c
}

// AuditEvent returns the ActionDeviceCPEConfirm event of the choice, on
// the device: the cpe before and after, the kind of choice, the firmware
// CPE firmward proposed with its confidence, the confidence of the chosen
// name when firmward had proposed it, and the reason when given. Seq,
// time, actor and hashes are left to the audit service.
func (c *CPEChoice) AuditEvent() *firmward.AuditEvent {
	conf := func(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }
	changes := []firmward.FieldChange{
		{Field: "cpe", Old: c.Previous, New: c.CPE},
		{Field: "choice", New: c.Choice},
		{Field: "proposed", New: c.Proposed.CPE},
		{Field: "proposed_confidence", New: conf(c.Proposed.Confidence)},
	}
	if c.Choice != ChoiceOverride && c.Choice != ChoiceCleared {
		changes = append(changes, firmward.FieldChange{Field: "chosen_confidence", New: conf(c.Confidence)})
	}
	if c.Reason != "" {
		changes = append(changes, firmward.FieldChange{Field: "reason", New: c.Reason})
	}
	return &firmward.AuditEvent{
		Action:     firmward.ActionDeviceCPEConfirm,
		ObjectType: "device",
		ObjectID:   strconv.FormatInt(c.DeviceID, 10),
		Changes:    changes,
	}
}
