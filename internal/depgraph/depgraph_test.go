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
	// commands parse flags and render results: the work is crafting's, attestation's and signing's
	"cli": {"contract", "attestation", "attestation/satisfy", "signing", "crafting", "crafting/materials", "client", "wire", "runner"},

	// the one rule of a statement satisfying its contract, which crafting and controlplane both call
	"attestation/satisfy": {"contract", "attestation", "cas"},
}

// forbidden lists trees a package tree must never import.
var forbidden = map[string][]string{
	"controlplane": {"cli", "crafting", "runner"},
}

// notInCLI are module paths (prefixes) that must stay out of the custody binary: server code,
// database drivers, and the cosign library, which brings Rekor's REST client, go-openapi, a router, a
// logger and a LevelDB into every command's start-up (custody reads cosign's key format with
// sigstore/sigstore and go-securesystemslib instead, signing/cosignkey.go).
var notInCLI = []string{
	module + "/controlplane",
	module + "/cmd/custodyd",
	"modernc.org/sqlite",
	"github.com/jackc/pgx",
	"github.com/lib/pq",
	"github.com/sigstore/cosign",
	"github.com/go-chi/chi",
	"go.uber.org/zap",
	"github.com/syndtr/goleveldb",
	"github.com/letsencrypt/boulder",
}

// onlyThroughSigstoreGo are trees the custody binary links only because sigstore-go (bundles,
// verification) imports them: Rekor's types and REST client, go-openapi, govalidator, gRPC, the
// certificate-transparency library. Nothing else in the binary may reach them: each costs start-up
// time in every command (docs/benchmarks.md).
var onlyThroughSigstoreGo = []string{
	"github.com/sigstore/rekor",
	"github.com/sigstore/rekor-tiles",
	"github.com/go-openapi",
	"github.com/asaskevich/govalidator",
	"google.golang.org/grpc",
	"github.com/google/certificate-transparency-go",
	"go.opentelemetry.io",
}

const sigstoreGo = "github.com/sigstore/sigstore-go"

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
	g := importGraph(t, module+"/cmd/custody")
	linked := g.bfs(module+"/cmd/custody", nil)
	for _, tr := range notInCLI {
		reportLinked(t, linked, tr, "")
	}
	for _, pkg := range notInCLIExact {
		if _, ok := linked[pkg]; ok {
			t.Errorf("the custody binary links %s: %s", pkg, chain(linked, pkg))
		}
	}
}

func TestCLIBinaryHeavyOnlyThroughSigstoreGo(t *testing.T) {
	g := importGraph(t, module+"/cmd/custody")
	linked := g.bfs(module+"/cmd/custody", func(pkg string) bool { return !under(pkg, []string{sigstoreGo}) })
	for _, tr := range onlyThroughSigstoreGo {
		reportLinked(t, linked, tr, ", and not through sigstore-go")
	}
}

// reportLinked fails the test if linked holds a package of tree, with the shortest import chain to
// the first one.
func reportLinked(t *testing.T, linked map[string]string, tree, why string) {
	t.Helper()
	n, first := 0, ""
	for pkg := range linked {
		if !under(pkg, []string{tree}) {
			continue
		}
		n++
		if d, best := len(chainOf(linked, pkg)), len(chainOf(linked, first)); first == "" || d < best || d == best && pkg < first {
			first = pkg
		}
	}
	if n > 0 {
		t.Errorf("the custody binary links %d package(s) of %s%s: %s", n, tree, why, chain(linked, first))
	}
}

// graph maps each package of a binary to its imports.
type graph map[string][]string

func importGraph(t *testing.T, main string) graph {
	t.Helper()
	g := graph{}
	for _, line := range goList(t, "-deps", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", main) {
		fields := strings.Fields(line)
		g[fields[0]] = fields[1:]
	}
	return g
}

// bfs walks the imports from start, breadth first, expanding only packages expand accepts (nil:
// all). It returns every reached package with the package that first imported it.
func (g graph) bfs(start string, expand func(string) bool) map[string]string {
	from := map[string]string{start: ""}
	queue := []string{start}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if expand != nil && !expand(p) {
			continue
		}
		for _, imp := range g[p] {
			if _, seen := from[imp]; !seen {
				from[imp] = p
				queue = append(queue, imp)
			}
		}
	}
	return from
}

// chainOf is the import chain bfs found to pkg, from the start.
func chainOf(from map[string]string, pkg string) []string {
	path := []string{pkg}
	for p := from[pkg]; p != ""; p = from[p] {
		path = append([]string{p}, path...)
	}
	return path
}

func chain(from map[string]string, pkg string) string {
	return strings.Join(chainOf(from, pkg), " → ")
}

// under reports whether pkg is one of trees or inside one.
func under(pkg string, trees []string) bool {
	for _, tr := range trees {
		if pkg == tr || strings.HasPrefix(pkg, tr+"/") {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
