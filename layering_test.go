package firmward_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/firmward/firmward"

// purePackages hold logic over the domain types only: the standard library,
// the root package and each other. Every other package outside cmd/ and e2e
// is an adapter for one outside thing.
var purePackages = []string{"inventory", "seed", "vuln", "feeds", "risk", "assess", "artifact", "recog", "nac", "lifecycle", "ingest", "rollout", "agent/agentconf", "agent/install", "report"}

type listedPackage struct {
	ImportPath string
	Standard   bool
	Imports    []string
}

// checkLayering returns one line per broken rule of DESIGN.md:
//   - the root package imports the standard library only;
//   - pure packages import the standard library, the root and pure packages;
//   - adapters never import another adapter;
//   - nothing but cmd/ imports cmd/.
func checkLayering(pkgs []listedPackage) []string {
	std := map[string]bool{}
	for _, p := range pkgs {
		if p.Standard {
			std[p.ImportPath] = true
		}
	}
	kind := func(path string) string {
		rel, ok := strings.CutPrefix(path, module)
		switch {
		case !ok:
			if std[path] || !strings.Contains(strings.SplitN(path, "/", 2)[0], ".") {
				return "std"
			}
			return "external"
		case rel == "":
			return "root"
		case strings.HasPrefix(rel, "/cmd/"):
			return "cmd"
		case rel == "/e2e" || strings.HasPrefix(rel, "/e2e/") || rel == "/bench" || rel == "/accuracy":
			return "e2e" // test-only packages that drive the built binary
		case slices.Contains(purePackages, strings.TrimPrefix(rel, "/")):
			return "pure"
		}
		return "adapter"
	}
	var problems []string
	for _, p := range pkgs {
		k := kind(p.ImportPath)
		for _, imp := range p.Imports {
			ik := kind(imp)
			var bad bool
			switch k {
			case "root":
				bad = ik != "std"
			case "pure":
				bad = ik != "std" && ik != "root" && ik != "pure"
			case "adapter":
				bad = ik == "adapter" || ik == "cmd" || ik == "e2e"
			case "e2e":
				bad = ik == "cmd"
			}
			if bad {
				problems = append(problems, p.ImportPath+" ("+k+") imports "+imp+" ("+ik+")")
			}
		}
	}
	return problems
}

func TestLayering(t *testing.T) {
	t.Parallel()
	cmd := exec.Command("go", "list", "-deps", "-json", "./...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	var own int
	for _, p := range pkgs {
		if strings.HasPrefix(p.ImportPath, module) {
			own++
		}
	}
	if own < 3 {
		t.Fatalf("go list found only %d firmward packages; is the test run from the module?", own)
	}
	for _, p := range checkLayering(pkgs) {
		t.Error(p)
	}
}

func TestCheckLayeringCatchesViolations(t *testing.T) {
	t.Parallel()
	pkgs := []listedPackage{
		{ImportPath: "fmt", Standard: true},
		{ImportPath: module, Imports: []string{"fmt", "github.com/jackc/pgx/v5"}},
		{ImportPath: module + "/inventory", Imports: []string{module, module + "/sqlstore"}},
		{ImportPath: module + "/httpapi", Imports: []string{module, module + "/inventory", module + "/sqlstore"}},
		{ImportPath: module + "/sqlstore", Imports: []string{module, "modernc.org/sqlite"}},
		{ImportPath: module + "/cmd/firmward", Imports: []string{module + "/httpapi", module + "/sqlstore"}},
	}
	got := checkLayering(pkgs)
	want := []string{
		module + " (root) imports github.com/jackc/pgx/v5 (external)",
		module + "/inventory (pure) imports " + module + "/sqlstore (adapter)",
		module + "/httpapi (adapter) imports " + module + "/sqlstore (adapter)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
