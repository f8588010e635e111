package firmward

import "time"

// Limits of FindingStatsFilter.
const (
	// DefaultStatsDays is the length of the overdue history when
	// FindingStatsFilter.Days is zero.
	DefaultStatsDays = 30
	// MaxStatsDays bounds FindingStatsFilter.Days.
	MaxStatsDays = 366
	// DefaultStatsVendors is how many vendors FindingStats ranks when
	// FindingStatsFilter.Vendors is zero.
	DefaultStatsVendors = 10
	// MaxStatsVendors bounds FindingStatsFilter.Vendors.
	MaxStatsVendors = 100
)

// FindingStatsFilter says what FindingStats counts: Days of overdue
// history ending today (0 means DefaultStatsDays), the Vendors with the
// most open findings (0 means DefaultStatsVendors), and Now, the time the
// counts are taken at (the zero time means the store's clock). Days and
// Vendors out of range are EINVALID.
type FindingStatsFilter struct {
	Days    int
	Vendors int
	Now     time.Time
}

// NamedCount is a number of open findings under a name: an SSVC decision
// ("" for findings without one) or a manufacturer ("" when the device has
// none).
type NamedCount struct {
	Name  string `json:"name"`
	Count int64  `json:"count"`
}

// DayCount is the number of open findings that were overdue at the end of
// one day (UTC), or at Now for today.
type DayCount struct {
	Day   string `json:"day"` // YYYY-MM-DD
	Count int64  `json:"count"`
}

// FindingStats are fleet-wide counts of open findings, over every finding
// (not a page). ByDecision lists the four SSVC decisions, most urgent
// first and zero counts included, then "" when some findings have no
// decision. Vendors lists the manufacturers with the most open findings,
// most first; OtherVendors counts the open findings of the others.
// OverdueByDay is the history of Overdue, oldest day first, its last entry
// being today: a finding counts on a day when, at the end of that day, it
// was open and its due date had passed.
type FindingStats struct {
	Now          time.Time    `json:"now"`
	Open         int64        `json:"open"`
	KEV          int64        `json:"kev"`
	Overdue      int64        `json:"overdue"`
	ByDecision   []NamedCount `json:"by_decision"`
	Vendors      []NamedCount `json:"vendors"`
	OtherVendors int64        `json:"other_vendors"`
	OverdueByDay []DayCount   `json:"overdue_by_day"`
}
