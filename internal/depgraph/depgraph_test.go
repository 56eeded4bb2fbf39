// Package depgraph holds the test that keeps the import rules of DESIGN.md true: the direction of
// imports between custody's packages, and no server code or database driver in the custody binary.
package depgraph

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/custody-dev/custody"

// allowed lists, for each package tree, the custody trees it may import. A package not listed may
// import anything of custody except what a rule below forbids.
var allowed = map[string][]string{
	"contract":           {},
	"runner":             {"contract"},
	"attestation":        {"contract"},
	"cas":                {"contract", "attestation"},
	"signing":            {"contract", "attestation", "cas"},
	"crafting/materials": {"contract", "attestation", "cas"},
	"crafting":           {"contract", "attestation", "attestation/satisfy", "cas", "signing", "runner", "crafting/materials", "client", "wire"},
	"client":             {"contract", "attestation", "cas", "wire"},
	"wire":               {},

	// the one rule of a statement satisfying its contract, which crafting and controlplane both call
	"attestation/satisfy": {"contract", "attestation", "cas"},
}

// forbidden lists trees a package tree must never import.
var forbidden = map[string][]string{
	"controlplane": {"cli", "crafting", "runner"},
}

// notInCLI are module paths (prefixes) that must stay out of the custody binary.
var notInCLI = []string{
	module + "/controlplane",
	module + "/cmd/custodyd",
	"modernc.org/sqlite",
	"github.com/jackc/pgx",
	"github.com/lib/pq",
}

// notInCLIExact are packages (not trees) that must stay out: database/sql itself (its driver
// interfaces are imported by uuid and semver libraries and link no database).
var notInCLIExact = []string{"database/sql"}

// tree returns the custody tree of a package path: the longest key of allowed/forbidden it is under.
func tree(pkg string, keys []string) string {
	rel := strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/")
	best := ""
	for _, k := range keys {
		if (rel == k || strings.HasPrefix(rel, k+"/")) && len(k) > len(best) {
			best = k
		}
	}
	return best
}

func goList(t *testing.T, args ...string) []string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
	if err != nil {
		t.Fatalf("go list %v: %v", args, err)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

func keys(m map[string][]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func TestImportDirection(t *testing.T) {
	treeKeys := append(keys(allowed), keys(forbidden)...)
	treeKeys = append(treeKeys, "cli", "crafting", "runner")
	for _, line := range goList(t, "-f", "{{.ImportPath}} {{join .Imports \" \"}}", module+"/...") {
		fields := strings.Fields(line)
		pkg, imports := fields[0], fields[1:]
		from := tree(pkg, treeKeys)
		for _, imp := range imports {
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			to := tree(imp, treeKeys)
			if to == from || strings.HasPrefix(imp, module+"/internal/") {
				continue
			}
			if ok, listed := allowed[from]; listed && !contains(ok, to) {
				t.Errorf("%s imports %s: %s may import only %v", pkg, imp, from, ok)
			}
			if contains(forbidden[from], to) {
				t.Errorf("%s imports %s: %s must not import %s", pkg, imp, from, to)
			}
		}
	}
}

func TestCLIBinaryHasNoServerCode(t *testing.T) {
	for _, dep := range goList(t, "-deps", module+"/cmd/custody") {
		for _, bad := range notInCLI {
			if dep == bad || strings.HasPrefix(dep, bad+"/") {
				t.Errorf("the custody binary links %s", dep)
			}
		}
		if contains(notInCLIExact, dep) {
			t.Errorf("the custody binary links %s", dep)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
