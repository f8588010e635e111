package risk

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/firmward/firmward"
)

const ssvcTablePath = "../../shared/data/ssvc/data/json/decision_tables/ssvc/deployer_patch_application_priority_1_0_0.json"

type ssvcJSON struct {
	Namespace      string `json:"namespace"`
	Key            string `json:"key"`
	Version        string `json:"version"`
	Name           string `json:"name"`
	Outcome        string `json:"outcome"`
	DecisionPoints map[string]struct {
		Namespace string `json:"namespace"`
		Key       string `json:"key"`
		Version   string `json:"version"`
		Name      string `json:"name"`
		Values    []struct {
			Key  string `json:"key"`
			Name string `json:"name"`
		} `json:"values"`
	} `json:"decision_points"`
	Mapping []map[string]string `json:"mapping"`
}

// TestTableMatchesSSVCJSON checks ssvc_table.go against CERT/CC's JSON file:
// the decision points, their values, and every mapping row in order.
func TestTableMatchesSSVCJSON(t *testing.T) {
	raw, err := os.ReadFile(filepath.FromSlash(ssvcTablePath))
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("SSVC data not found at %s (the shared data set is not in the repository)", ssvcTablePath)
	}
	if err != nil {
		t.Fatal(err)
	}
	var tbl ssvcJSON
	if err := json.Unmarshal(raw, &tbl); err != nil {
		t.Fatal(err)
	}
	if tbl.Namespace != tableNamespace || tbl.Key != tableKey || tbl.Version != tableVersion || tbl.Name != tableName {
		t.Errorf("table identity = %s/%s/%s %q, want %s/%s/%s %q", tbl.Namespace, tbl.Key, tbl.Version, tbl.Name,
			tableNamespace, tableKey, tableVersion, tableName)
	}
	if tbl.Outcome != pointOutcome.id {
		t.Errorf("outcome = %s, want %s", tbl.Outcome, pointOutcome.id)
	}
	points := []decisionPoint{pointExploitation, pointExposure, pointAutomatable, pointHumanImpact, pointOutcome}
	if len(tbl.DecisionPoints) != len(points) {
		t.Errorf("JSON has %d decision points, Go %d", len(tbl.DecisionPoints), len(points))
	}
	// names[point id][value key] = value name, from the JSON.
	names := map[string]map[string]string{}
	for _, p := range points {
		jp, ok := tbl.DecisionPoints[p.id]
		if !ok {
			t.Errorf("decision point %s not in the JSON", p.id)
			continue
		}
		if id := jp.Namespace + ":" + jp.Key + ":" + jp.Version; id != p.id || jp.Name != p.name {
			t.Errorf("decision point %s %q, want %s %q", id, jp.Name, p.id, p.name)
		}
		names[p.id] = map[string]string{}
		if len(jp.Values) != len(p.values) {
			t.Errorf("%s: JSON has %d values, Go %d", p.id, len(jp.Values), len(p.values))
		}
		for i, v := range jp.Values {
			names[p.id][v.Key] = v.Name
			if i < len(p.values) && (p.values[i].key != v.Key || p.values[i].name != v.Name) {
				t.Errorf("%s value %d = %s %q, want %s %q", p.id, i, p.values[i].key, p.values[i].name, v.Key, v.Name)
			}
		}
	}
	if len(tbl.Mapping) != len(deployerTable) {
		t.Errorf("JSON has %d rows, Go %d", len(tbl.Mapping), len(deployerTable))
	}
	for i, row := range tbl.Mapping {
		if i >= len(deployerTable) {
			break
		}
		if len(row) != len(points) {
			t.Errorf("JSON row %d has %d columns, want %d", i, len(row), len(points))
		}
		name := func(p decisionPoint) string { return names[p.id][row[p.id]] }
		want := tableRow{
			exploitation: Exploitation(name(pointExploitation)),
			exposure:     SystemExposure(name(pointExposure)),
			automatable:  Automatable(name(pointAutomatable)),
			humanImpact:  HumanImpact(name(pointHumanImpact)),
			decision:     Decision(name(pointOutcome)),
		}
		if got := deployerTable[i]; got != want {
			t.Errorf("row %d: Go %+v, JSON %+v", i, got, want)
		}
		in := Inputs{want.exploitation, want.exposure, want.automatable, want.humanImpact}
		if got := Decide(in); got != want.decision {
			t.Errorf("Decide(%+v) = %s, JSON says %s", in, got, want.decision)
		}
	}
}

// TestDecideEveryRow runs Decide on every row of the Go table (the JSON test
// above ties the table to the source), so the lookup is tested even where
// the shared data is absent.
func TestDecideEveryRow(t *testing.T) {
	t.Parallel()
	if len(deployerTable) != 72 {
		t.Fatalf("table has %d rows, want 3×3×2×4 = 72", len(deployerTable))
	}
	seen := map[Inputs]bool{}
	for _, r := range deployerTable {
		in := Inputs{r.exploitation, r.exposure, r.automatable, r.humanImpact}
		t.Run(string(in.Exploitation)+"/"+string(in.Exposure)+"/"+string(in.Automatable)+"/"+string(in.HumanImpact), func(t *testing.T) {
			if seen[in] {
				t.Fatalf("duplicate row %+v", in)
			}
			seen[in] = true
			if err := in.Validate(); err != nil {
				t.Fatal(err)
			}
			if got := Decide(in); got != r.decision {
				t.Errorf("Decide = %s, want %s", got, r.decision)
			}
		})
	}
}

func TestDecideCases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   Inputs
		want Decision
	}{
		{"KEV internet router automatable high", Inputs{ExploitationActive, ExposureOpen, AutomatableYes, HumanImpactHigh}, DecisionImmediate},
		{"active open not automatable low", Inputs{ExploitationActive, ExposureOpen, AutomatableNo, HumanImpactLow}, DecisionScheduled},
		{"poc controlled automatable very high", Inputs{ExploitationPoC, ExposureControlled, AutomatableYes, HumanImpactVeryHigh}, DecisionOutOfCycle},
		{"nothing known small low", Inputs{ExploitationNone, ExposureSmall, AutomatableNo, HumanImpactLow}, DecisionDefer},
		{"none open automatable very high", Inputs{ExploitationNone, ExposureOpen, AutomatableYes, HumanImpactVeryHigh}, DecisionOutOfCycle},
		{"zero inputs read as most urgent", Inputs{}, DecisionImmediate},
		{"unknown human impact read as very high", Inputs{ExploitationActive, ExposureOpen, AutomatableNo, "huge"}, DecisionImmediate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Decide(tt.in); got != tt.want {
				t.Errorf("Decide(%+v) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestInputsValidate(t *testing.T) {
	t.Parallel()
	err := Inputs{Exploitation: "poc", Exposure: ExposureOpen, Automatable: "maybe", HumanImpact: HumanImpactLow}.Validate()
	if firmward.ErrorCode(err) != firmward.EINVALID {
		t.Fatalf("Validate = %v, want EINVALID", err)
	}
	if d := firmward.ErrorDetails(err); len(d) != 2 || d[0].Field != "exploitation" || d[1].Field != "automatable" {
		t.Errorf("details = %+v, want exploitation and automatable", d)
	}
}

func TestParseValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		parse func(string) (string, error)
		in    string
		want  string // "" = error
	}{
		{"exploitation adp poc", wrap(ParseExploitation), "poc", "Public PoC"},
		{"exploitation adp PoC", wrap(ParseExploitation), "PoC", "Public PoC"},
		{"exploitation name", wrap(ParseExploitation), "public poc", "Public PoC"},
		{"exploitation None", wrap(ParseExploitation), "None", "None"},
		{"exploitation key A", wrap(ParseExploitation), "A", "Active"},
		{"exploitation bad", wrap(ParseExploitation), "exploited", ""},
		{"automatable yes", wrap(ParseAutomatable), "yes", "Yes"},
		{"automatable bad", wrap(ParseAutomatable), "sometimes", ""},
		{"exposure open", wrap(ParseSystemExposure), "OPEN", "Open"},
		{"human impact very-high", wrap(ParseHumanImpact), "very-high", "Very High"},
		{"human impact VH", wrap(ParseHumanImpact), "VH", "Very High"},
		{"decision out-of-cycle", wrap(ParseDecision), "out-of-cycle", "Out-of-Cycle"},
		{"decision outofcycle", wrap(ParseDecision), "outofcycle", "Out-of-Cycle"},
		{"decision empty", wrap(ParseDecision), "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.parse(tt.in)
			if tt.want == "" {
				if firmward.ErrorCode(err) != firmward.EINVALID {
					t.Errorf("parse(%q) = %q, %v; want EINVALID", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("parse(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func wrap[T ~string](f func(string) (T, error)) func(string) (string, error) {
	return func(s string) (string, error) {
		v, err := f(s)
		return string(v), err
	}
}

func TestDecisionRank(t *testing.T) {
	t.Parallel()
	for i, d := range Decisions() {
		if d.Rank() != i {
			t.Errorf("%s.Rank() = %d, want %d", d, d.Rank(), i)
		}
	}
	if Decision("Later").Rank() != -1 {
		t.Error("unknown decision should rank -1")
	}
}
