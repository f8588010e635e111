// Package lifecycle is the pure logic of issue 7 (lifecycle and home):
//
//   - end-of-support files (ReadEOLCSV, ReadEOLJSON: all or nothing, errors
//     by line and field) and the matching of entries to devices;
//   - orphaned devices: a vendor-declared end of support that has passed, or
//     open findings while no firmware newer than Policy.StaleMonths is known;
//     for each, the risk assessment of the practice (operational value asked
//     of the owner, likelihood from findings, KEV, EPSS and exposure, impact
//     from criticality) and a recommendation among isolate, third-party
//     firmware, replace and disconnect, with its reasoning and the total
//     cost of ownership over the device's life;
//   - health-check cadences (monthly for network infrastructure, locks,
//     cameras and anything internet-facing, quarterly for the rest, unless a
//     rule per site and category says otherwise), due checks, and the
//     guided checklist with per-manufacturer hints;
//   - the vendor support record and the procurement ranking;
//   - the home dashboard's "do this now" list (Todo): what to do first, in
//     plain words, ranked from the findings, update settings, network
//     placement, end-of-life assessments and due checks.
//
// Everything here is computed from values passed in (and the root service
// interfaces, in Load); the clock is always a parameter.
package lifecycle
