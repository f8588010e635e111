package risk

import (
	"strings"

	"github.com/firmward/firmward"
)

// Exploitation is the SSVC "Exploitation" decision point (ssvc:E:1.1.0):
// the present state of exploitation of the vulnerability.
type Exploitation string

// Exploitation values, named as in the SSVC table.
const (
	ExploitationNone   Exploitation = "None"
	ExploitationPoC    Exploitation = "Public PoC"
	ExploitationActive Exploitation = "Active"
)

// SystemExposure is the SSVC "System Exposure" decision point
// (ssvc:EXP:1.0.1): the accessible attack surface of the affected system.
type SystemExposure string

// SystemExposure values, named as in the SSVC table.
const (
	ExposureSmall      SystemExposure = "Small"
	ExposureControlled SystemExposure = "Controlled"
	ExposureOpen       SystemExposure = "Open"
)

// Automatable is the SSVC "Automatable" decision point (ssvc:A:2.0.0): can
// an attacker reliably automate reconnaissance, weaponization, delivery and
// exploitation?
type Automatable string

// Automatable values, named as in the SSVC table.
const (
	AutomatableNo  Automatable = "No"
	AutomatableYes Automatable = "Yes"
)

// HumanImpact is the SSVC "Human Impact" decision point (ssvc:HI:2.0.2): the
// combination of safety and mission impact.
type HumanImpact string

// HumanImpact values, named as in the SSVC table.
const (
	HumanImpactLow      HumanImpact = "Low"
	HumanImpactMedium   HumanImpact = "Medium"
	HumanImpactHigh     HumanImpact = "High"
	HumanImpactVeryHigh HumanImpact = "Very High"
)

// Decision is the outcome of the SSVC deployer table (ssvc:DSOI:1.0.0).
type Decision string

// Decisions, least urgent first, named as in the SSVC table.
const (
	DecisionDefer      Decision = "Defer"
	DecisionScheduled  Decision = "Scheduled"
	DecisionOutOfCycle Decision = "Out-of-Cycle"
	DecisionImmediate  Decision = "Immediate"
)

// Decisions lists every decision, least urgent first.
func Decisions() []Decision {
	return []Decision{DecisionDefer, DecisionScheduled, DecisionOutOfCycle, DecisionImmediate}
}

// Rank returns 0 for Defer, 1 for Scheduled, 2 for Out-of-Cycle, 3 for
// Immediate, and -1 for anything else.
func (d Decision) Rank() int {
	return valueIndex(pointOutcome, string(d))
}

// Inputs are the four values the deployer table decides on.
type Inputs struct {
	Exploitation Exploitation   `json:"exploitation"`
	Exposure     SystemExposure `json:"exposure"`
	Automatable  Automatable    `json:"automatable"`
	HumanImpact  HumanImpact    `json:"human_impact"`
}

// Validate returns an EINVALID *firmward.Error with one detail per field that
// is not a value of its decision point, or nil.
func (in Inputs) Validate() error {
	var details []firmward.ErrorDetail
	check := func(field string, p decisionPoint, v string) {
		if valueIndex(p, v) < 0 {
			details = append(details, firmward.ErrorDetail{
				Field: field, Value: v, Reason: "want one of " + valueNames(p),
			})
		}
	}
	check("exploitation", pointExploitation, string(in.Exploitation))
	check("exposure", pointExposure, string(in.Exposure))
	check("automatable", pointAutomatable, string(in.Automatable))
	check("human_impact", pointHumanImpact, string(in.HumanImpact))
	if len(details) == 0 {
		return nil
	}
	return &firmward.Error{Code: firmward.EINVALID, Message: "invalid SSVC inputs", Details: details}
}

// Decide looks the inputs up in the SSVC deployer table
// (deployer_patch_application_priority 1.0.0) and returns its decision.
//
// A value that is not one of its decision point's (an empty field, say) is
// read as the most urgent value of that point, so that missing knowledge
// never lowers a decision; call Inputs.Validate to refuse such inputs
// instead.
func Decide(in Inputs) Decision {
	e := conservativeIndex(pointExploitation, string(in.Exploitation))
	x := conservativeIndex(pointExposure, string(in.Exposure))
	a := conservativeIndex(pointAutomatable, string(in.Automatable))
	h := conservativeIndex(pointHumanImpact, string(in.HumanImpact))
	want := tableRow{
		exploitation: Exploitation(pointExploitation.values[e].name),
		exposure:     SystemExposure(pointExposure.values[x].name),
		automatable:  Automatable(pointAutomatable.values[a].name),
		humanImpact:  HumanImpact(pointHumanImpact.values[h].name),
	}
	// The table enumerates the inputs in order, last point fastest, so the
	// row is found by arithmetic; the scan below only runs if someone
	// reorders the table.
	i := ((e*len(pointExposure.values)+x)*len(pointAutomatable.values)+a)*len(pointHumanImpact.values) + h
	if i < len(deployerTable) && sameInputs(deployerTable[i], want) {
		return deployerTable[i].decision
	}
	for _, r := range deployerTable {
		if sameInputs(r, want) {
			return r.decision
		}
	}
	return DecisionImmediate // unreachable while the table is complete
}

func sameInputs(r, w tableRow) bool {
	return r.exploitation == w.exploitation && r.exposure == w.exposure &&
		r.automatable == w.automatable && r.humanImpact == w.humanImpact
}

// valueIndex returns the position of a value name in p, or -1.
func valueIndex(p decisionPoint, name string) int {
	for i, v := range p.values {
		if v.name == name {
			return i
		}
	}
	return -1
}

// conservativeIndex is valueIndex with unknown values read as the last
// (most urgent) value.
func conservativeIndex(p decisionPoint, name string) int {
	if i := valueIndex(p, name); i >= 0 {
		return i
	}
	return len(p.values) - 1
}

func valueNames(p decisionPoint) string {
	names := make([]string, len(p.values))
	for i, v := range p.values {
		names[i] = `"` + v.name + `"`
	}
	return strings.Join(names, ", ")
}

// parseValue finds s among p's value names and keys, ignoring case, spaces,
// hyphens and underscores, and then among aliases (already folded).
func parseValue(p decisionPoint, field, s string, aliases map[string]string) (string, error) {
	f := fold(s)
	for _, v := range p.values {
		if f == fold(v.name) || f == fold(v.key) {
			return v.name, nil
		}
	}
	if name, ok := aliases[f]; ok {
		return name, nil
	}
	return "", &firmward.Error{Code: firmward.EINVALID, Message: "invalid " + p.name, Details: []firmward.ErrorDetail{{
		Field: field, Value: s, Reason: "want one of " + valueNames(p),
	}}}
}

func fold(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '_', '\t':
			return -1
		}
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// ParseExploitation reads an Exploitation value: its SSVC name or key, or
// CISA's ADP spelling ("none", "poc", "active"), in any case. The error is
// EINVALID.
func ParseExploitation(s string) (Exploitation, error) {
	v, err := parseValue(pointExploitation, "exploitation", s, map[string]string{"poc": string(ExploitationPoC)})
	return Exploitation(v), err
}

// ParseSystemExposure reads a SystemExposure value (name or key, any case).
// The error is EINVALID.
func ParseSystemExposure(s string) (SystemExposure, error) {
	v, err := parseValue(pointExposure, "exposure", s, nil)
	return SystemExposure(v), err
}

// ParseAutomatable reads an Automatable value (name or key, any case). The
// error is EINVALID.
func ParseAutomatable(s string) (Automatable, error) {
	v, err := parseValue(pointAutomatable, "automatable", s, nil)
	return Automatable(v), err
}

// ParseHumanImpact reads a HumanImpact value (name or key, any case;
// "very-high" and "veryhigh" too). The error is EINVALID.
func ParseHumanImpact(s string) (HumanImpact, error) {
	v, err := parseValue(pointHumanImpact, "human_impact", s, nil)
	return HumanImpact(v), err
}

// ParseDecision reads a Decision (name or key, any case, so "out-of-cycle"
// and "outofcycle" work). The error is EINVALID.
func ParseDecision(s string) (Decision, error) {
	v, err := parseValue(pointOutcome, "decision", s, nil)
	return Decision(v), err
}
