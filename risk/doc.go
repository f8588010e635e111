// Package risk turns what firmward knows about a finding (a device affected
// by a CVE) into a decision, a priority and a due date. It is pure logic over
// the root package's types: no I/O, no clock (time is passed in), no
// package-level mutable state.
//
// # SSVC deployer decision
//
// Decide looks four values up in CERT/CC's SSVC "Deployer Patch Application
// Priority" table 1.0.0 (encoded in ssvc_table.go, checked against the JSON
// by a test) and returns Defer, Scheduled, Out-of-Cycle or Immediate. Assess
// chooses the four values from firmward's fields and says why:
//
//   - Exploitation (None / Public PoC / Active): the strongest of three
//     kinds of evidence. A CISA KEV entry gives Active. CISA's ADP SSVC
//     "exploitation" value (none/poc/active, any spelling) gives itself. An
//     EPSS probability at or above EPSSThreshold (0.1, about the 95th
//     percentile) gives Public PoC: EPSS predicts exploitation, it does not
//     observe it, so it never gives Active. The strongest wins, because ADP
//     values are written once while KEV and EPSS move. Otherwise None.
//   - System Exposure (Small / Controlled / Open): internet-facing → Open
//     (SSVC: "Internet or another widely accessible network"); internal →
//     Controlled (a networked service behind the site's perimeter, reachable
//     by anything on the LAN: "some access restrictions"); segmented → Small
//     (SSVC: "highly controlled network"; a segment the user LAN can reach
//     should be recorded as internal). Unknown reads as internal, firmward's
//     default.
//   - Automatable (No / Yes): CISA's ADP value when present; else the CVSS
//     vector of the preferred score (see PickCVSS): Yes when it is a network
//     attack of low complexity needing no privileges and no user interaction
//     (v3: AV:N/AC:L/PR:N/UI:N; v4 also AT:N; v2: AV:N/AC:L/Au:N); else No.
//   - Human Impact (Low / Medium / High / Very High): the device's
//     criticality (low → Low, medium → Medium, high → High, safety-critical
//     → Very High; unknown reads as medium), one step lower (never below
//     Low) when the technical impact is partial. Technical impact is CISA's
//     ADP value when present, else total when the CVSS vector rates any of
//     C, I, A (v4: VC, VI, VA) High (v2: Complete) and partial otherwise,
//     and total when nothing is known.
//
// # Priority
//
// Assessment.Priority sorts findings, 0 to MaxPriority (998), higher first:
//
//	250 × decision rank (Defer 0, Scheduled 1, Out-of-Cycle 2, Immediate 3)
//	+ 125 if the finding is certain (not "possible")
//	+  62 if the CVE is in KEV
//	+ round(30 × e + 2.2 × CVSS base score + 3 × criticality step)
//
// where e = clamp((log10(EPSS) + 4) / 4, 0, 1) maps EPSS 0.0001 → 0, 0.01
// → 0.5, 1 → 1 (EPSS spans orders of magnitude), the base score is
// PickCVSS's (0 when none), and the criticality step is 0 (low) to 3
// (safety-critical). The last term is at most 61, so the decision band,
// then certainty, then KEV are strict sort keys; EPSS, CVSS and
// criticality are blended below them, in that order of weight.
//
// # SLA
//
// Policy gives the time allowed per decision (DefaultPolicy: Immediate 7
// days, Out-of-Cycle 30, Scheduled 90, Defer none); ParsePolicy reads
// "immediate=7d,out-of-cycle=30d,scheduled=90d". Policy.Deadline and
// DueDate add it to the time a finding was first seen and take the KEV due
// date instead when that is sooner.
//
// # CVSS
//
// PickCVSS chooses the score to rank by (v4.0 over v3.1 over v3.0 over
// v2.0, then Primary over Secondary); ParseVector reads the base metrics
// of v2, v3.x and v4.0 vectors.
package risk
