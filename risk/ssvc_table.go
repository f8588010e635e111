package risk

// This file is a derived excerpt of the CERT/CC SSVC data: the decision
// points and the mapping of the decision table
//
//	data/json/decision_tables/ssvc/deployer_patch_application_priority_1_0_0.json
//	(namespace "ssvc", key "DT_DP", version 1.0.0, "Deployer Patch Application Priority")
//
// from https://github.com/CERTCC/SSVC, re-encoded as Go values. Only the
// keys and names needed to decide are kept; the definitions are not copied.
// TestTableMatchesSSVCJSON compares it row by row with the JSON file.
//
// SSVC data: Copyright 2026 Carnegie Mellon University. Licensed under a MIT
// (SEI)-style license: permission is hereby granted, free of charge, to any
// person obtaining a copy of this software and associated documentation files
// (the "Software"), to deal in the Software without restriction, including
// without limitation the rights to use, copy, modify, merge, publish,
// distribute, sublicense, and/or sell copies of the Software, and to permit
// persons to whom the Software is furnished to do so, subject to the
// condition that the above copyright notice and this permission notice shall
// be included in all copies or substantial portions of the Software.
// NO WARRANTY: the material is furnished on an "as-is" basis. [DISTRIBUTION
// STATEMENT A] Approved for public release and unlimited distribution.
// DM24-0278.

// Identity of the source table.
const (
	tableNamespace = "ssvc"
	tableKey       = "DT_DP"
	tableVersion   = "1.0.0"
	tableName      = "Deployer Patch Application Priority"
)

// pointValue is one value of a decision point: its one- or two-letter key
// in the table and its name.
type pointValue struct {
	key  string
	name string
}

// decisionPoint is one SSVC decision point (or the outcome group) of the
// table: id is namespace:key:version as the JSON mapping names it.
type decisionPoint struct {
	id     string
	name   string
	values []pointValue
}

// Decision points of the table, inputs first, then the outcome, in the
// order of the JSON file. Never mutated.
var (
	pointExploitation = decisionPoint{"ssvc:E:1.1.0", "Exploitation", []pointValue{
		{"N", string(ExploitationNone)}, {"P", string(ExploitationPoC)}, {"A", string(ExploitationActive)},
	}}
	pointExposure = decisionPoint{"ssvc:EXP:1.0.1", "System Exposure", []pointValue{
		{"S", string(ExposureSmall)}, {"C", string(ExposureControlled)}, {"O", string(ExposureOpen)},
	}}
	pointAutomatable = decisionPoint{"ssvc:A:2.0.0", "Automatable", []pointValue{
		{"N", string(AutomatableNo)}, {"Y", string(AutomatableYes)},
	}}
	pointHumanImpact = decisionPoint{"ssvc:HI:2.0.2", "Human Impact", []pointValue{
		{"L", string(HumanImpactLow)},
		{"M", string(HumanImpactMedium)},
		{"H", string(HumanImpactHigh)},
		{"VH", string(HumanImpactVeryHigh)},
	}}
	pointOutcome = decisionPoint{"ssvc:DSOI:1.0.0", "Defer, Scheduled, Out-of-Cycle, Immediate", []pointValue{
		{"D", string(DecisionDefer)},
		{"S", string(DecisionScheduled)},
		{"O", string(DecisionOutOfCycle)},
		{"I", string(DecisionImmediate)},
	}}
)

// tableRow is one row of the mapping.
type tableRow struct {
	exploitation Exploitation
	exposure     SystemExposure
	automatable  Automatable
	humanImpact  HumanImpact
	decision     Decision
}

// deployerTable is the mapping of the table, in the order of the JSON file
// (which enumerates the inputs in the order of their values, last point
// fastest). Decide relies on that order and checks it. Never mutated.
var deployerTable = [...]tableRow{
	{ExploitationNone, ExposureSmall, AutomatableNo, HumanImpactLow, DecisionDefer},
	{ExploitationNone, ExposureSmall, AutomatableNo, HumanImpactMedium, DecisionDefer},
	{ExploitationNone, ExposureSmall, AutomatableNo, HumanImpactHigh, DecisionScheduled},
	{ExploitationNone, ExposureSmall, AutomatableNo, HumanImpactVeryHigh, DecisionScheduled},
	{ExploitationNone, ExposureSmall, AutomatableYes, HumanImpactLow, DecisionDefer},
	{ExploitationNone, ExposureSmall, AutomatableYes, HumanImpactMedium, DecisionScheduled},
	{ExploitationNone, ExposureSmall, AutomatableYes, HumanImpactHigh, DecisionScheduled},
	{ExploitationNone, ExposureSmall, AutomatableYes, HumanImpactVeryHigh, DecisionScheduled},
	{ExploitationNone, ExposureControlled, AutomatableNo, HumanImpactLow, DecisionDefer},
	{ExploitationNone, ExposureControlled, AutomatableNo, HumanImpactMedium, DecisionScheduled},
	{ExploitationNone, ExposureControlled, AutomatableNo, HumanImpactHigh, DecisionScheduled},
	{ExploitationNone, ExposureControlled, AutomatableNo, HumanImpactVeryHigh, DecisionScheduled},
	{ExploitationNone, ExposureControlled, AutomatableYes, HumanImpactLow, DecisionScheduled},
	{ExploitationNone, ExposureControlled, AutomatableYes, HumanImpactMedium, DecisionScheduled},
	{ExploitationNone, ExposureControlled, AutomatableYes, HumanImpactHigh, DecisionScheduled},
	{ExploitationNone, ExposureControlled, AutomatableYes, HumanImpactVeryHigh, DecisionScheduled},
	{ExploitationNone, ExposureOpen, AutomatableNo, HumanImpactLow, DecisionDefer},
	{ExploitationNone, ExposureOpen, AutomatableNo, HumanImpactMedium, DecisionScheduled},
	{ExploitationNone, ExposureOpen, AutomatableNo, HumanImpactHigh, DecisionScheduled},
	{ExploitationNone, ExposureOpen, AutomatableNo, HumanImpactVeryHigh, DecisionScheduled},
	{ExploitationNone, ExposureOpen, AutomatableYes, HumanImpactLow, DecisionScheduled},
	{ExploitationNone, ExposureOpen, AutomatableYes, HumanImpactMedium, DecisionScheduled},
	{ExploitationNone, ExposureOpen, AutomatableYes, HumanImpactHigh, DecisionScheduled},
	{ExploitationNone, ExposureOpen, AutomatableYes, HumanImpactVeryHigh, DecisionOutOfCycle},
	{ExploitationPoC, ExposureSmall, AutomatableNo, HumanImpactLow, DecisionDefer},
	{ExploitationPoC, ExposureSmall, AutomatableNo, HumanImpactMedium, DecisionScheduled},
	{ExploitationPoC, ExposureSmall, AutomatableNo, HumanImpactHigh, DecisionScheduled},
	{ExploitationPoC, ExposureSmall, AutomatableNo, HumanImpactVeryHigh, DecisionScheduled},
	{ExploitationPoC, ExposureSmall, AutomatableYes, HumanImpactLow, DecisionScheduled},
	{ExploitationPoC, ExposureSmall, AutomatableYes, HumanImpactMedium, DecisionScheduled},
	{ExploitationPoC, ExposureSmall, AutomatableYes, HumanImpactHigh, DecisionScheduled},
	{ExploitationPoC, ExposureSmall, AutomatableYes, HumanImpactVeryHigh, DecisionScheduled},
	{ExploitationPoC, ExposureControlled, AutomatableNo, HumanImpactLow, DecisionDefer},
	{ExploitationPoC, ExposureControlled, AutomatableNo, HumanImpactMedium, DecisionScheduled},
	{ExploitationPoC, ExposureControlled, AutomatableNo, HumanImpactHigh, DecisionScheduled},
	{ExploitationPoC, ExposureControlled, AutomatableNo, HumanImpactVeryHigh, DecisionScheduled},
	{ExploitationPoC, ExposureControlled, AutomatableYes, HumanImpactLow, DecisionScheduled},
	{ExploitationPoC, ExposureControlled, AutomatableYes, HumanImpactMedium, DecisionScheduled},
	{ExploitationPoC, ExposureControlled, AutomatableYes, HumanImpactHigh, DecisionScheduled},
	{ExploitationPoC, ExposureControlled, AutomatableYes, HumanImpactVeryHigh, DecisionOutOfCycle},
	{ExploitationPoC, ExposureOpen, AutomatableNo, HumanImpactLow, DecisionScheduled},
	{ExploitationPoC, ExposureOpen, AutomatableNo, HumanImpactMedium, DecisionScheduled},
	{ExploitationPoC, ExposureOpen, AutomatableNo, HumanImpactHigh, DecisionScheduled},
	{ExploitationPoC, ExposureOpen, AutomatableNo, HumanImpactVeryHigh, DecisionOutOfCycle},
	{ExploitationPoC, ExposureOpen, AutomatableYes, HumanImpactLow, DecisionScheduled},
	{ExploitationPoC, ExposureOpen, AutomatableYes, HumanImpactMedium, DecisionScheduled},
	{ExploitationPoC, ExposureOpen, AutomatableYes, HumanImpactHigh, DecisionOutOfCycle},
	{ExploitationPoC, ExposureOpen, AutomatableYes, HumanImpactVeryHigh, DecisionOutOfCycle},
	{ExploitationActive, ExposureSmall, AutomatableNo, HumanImpactLow, DecisionScheduled},
	{ExploitationActive, ExposureSmall, AutomatableNo, HumanImpactMedium, DecisionScheduled},
	{ExploitationActive, ExposureSmall, AutomatableNo, HumanImpactHigh, DecisionOutOfCycle},
	{ExploitationActive, ExposureSmall, AutomatableNo, HumanImpactVeryHigh, DecisionOutOfCycle},
	{ExploitationActive, ExposureSmall, AutomatableYes, HumanImpactLow, DecisionScheduled},
	{ExploitationActive, ExposureSmall, AutomatableYes, HumanImpactMedium, DecisionOutOfCycle},
	{ExploitationActive, ExposureSmall, AutomatableYes, HumanImpactHigh, DecisionOutOfCycle},
	{ExploitationActive, ExposureSmall, AutomatableYes, HumanImpactVeryHigh, DecisionOutOfCycle},
	{ExploitationActive, ExposureControlled, AutomatableNo, HumanImpactLow, DecisionScheduled},
	{ExploitationActive, ExposureControlled, AutomatableNo, HumanImpactMedium, DecisionScheduled},
	{ExploitationActive, ExposureControlled, AutomatableNo, HumanImpactHigh, DecisionOutOfCycle},
	{ExploitationActive, ExposureControlled, AutomatableNo, HumanImpactVeryHigh, DecisionOutOfCycle},
	{ExploitationActive, ExposureControlled, AutomatableYes, HumanImpactLow, DecisionOutOfCycle},
	{ExploitationActive, ExposureControlled, AutomatableYes, HumanImpactMedium, DecisionOutOfCycle},
	{ExploitationActive, ExposureControlled, AutomatableYes, HumanImpactHigh, DecisionOutOfCycle},
	{ExploitationActive, ExposureControlled, AutomatableYes, HumanImpactVeryHigh, DecisionOutOfCycle},
	{ExploitationActive, ExposureOpen, AutomatableNo, HumanImpactLow, DecisionScheduled},
	{ExploitationActive, ExposureOpen, AutomatableNo, HumanImpactMedium, DecisionOutOfCycle},
	{ExploitationActive, ExposureOpen, AutomatableNo, HumanImpactHigh, DecisionOutOfCycle},
	{ExploitationActive, ExposureOpen, AutomatableNo, HumanImpactVeryHigh, DecisionImmediate},
	{ExploitationActive, ExposureOpen, AutomatableYes, HumanImpactLow, DecisionOutOfCycle},
	{ExploitationActive, ExposureOpen, AutomatableYes, HumanImpactMedium, DecisionOutOfCycle},
	{ExploitationActive, ExposureOpen, AutomatableYes, HumanImpactHigh, DecisionImmediate},
	{ExploitationActive, ExposureOpen, AutomatableYes, HumanImpactVeryHigh, DecisionImmediate},
}
