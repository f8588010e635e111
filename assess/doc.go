// Package assess matches devices against the vulnerability records
// firmward holds and turns each match into a rated finding with a
// recommended fix. It is pure logic over the root package's types and the
// pure packages vuln (naming and matching) and risk (decision, priority,
// due date): no I/O, no package-level mutable state; time comes from
// Assessor.Now.
//
// The pipeline, for one device (Assessor.Device):
//
//  1. Name the device: its own CPE when it has one (vuln.Propose returns
//     it, with the hardware name of the same model when the data has
//     it), else the firmware and hardware CPEs vuln.Propose suggests from
//     manufacturer and model, used only at or above a confidence
//     threshold (DefaultMinConfidence) and flagged as proposed in each
//     finding's evidence. A firmware CPE with version ANY gets the
//     device's firmware version.
//  2. Select candidates: an Index built once from all records maps each
//     normalised (vendor, product) named by a record's NVD criteria or
//     CVE 5.x / CSAF affected entries to the records naming it, so a
//     device is compared only with the CVEs that name its firmware or
//     hardware (a few dozen out of 143,000).
//  3. Match: vuln.MatchDevice with the device's own firmware and
//     hardware, NVD semantics (AND with the device's own hardware, NA
//     versions as "possible", all four range bounds, CVE 5.x / CSAF when
//     NVD has no configuration). One finding per CVE, with the most
//     specific evidence.
//  4. Rate: risk.Assess over risk.FactsFor (SSVC decision, explanation,
//     priority), risk.PickCVSS (the score shown), KEV and EPSS fields,
//     and a due date from the Policy (DueFrom, for the store's own
//     first-seen time).
//  5. Recommend: each finding's FixedIn (the end of the range holding the
//     device's version) and the device's Fix: the lowest version leaving
//     every open range, with the CVEs it closes and those still open.
//
// Run is the whole loop over the services: it reads every stored record
// into a new Index, assesses every device in batches with Devices and
// stores each device's findings with SyncDeviceFindings.
//
// An Index is built by one goroutine (Add), then read by any number
// (Candidates, Assessor.Device); assessing a fleet is a worker pool over
// one shared Assessor (see the benchmark).
package assess
