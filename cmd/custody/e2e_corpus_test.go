package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// materialsCorpus is the real-world evidence corpus: ../shared beside the clone (absolute: tests
// run in their package's directory). Its SOURCES.md says where each file comes from and why each
// verdict is expected.
var materialsCorpus, _ = filepath.Abs("../../../shared/corpus/materials")

// corpusEntry is one file of corpus.json. Tests are [contract material, chainloop's verdict, the
// format's verdict]; Auto is the kind auto-detection should record, or error(KIND).
type corpusEntry struct {
	Dir, Name string
	Auto      string
	Tests     [][3]string
}

// corpusAuto is where custody's auto-detected kind differs from corpus.json's expectation on
// purpose, with the reason docs/materials.md gives (section "Where custody differs").
var corpusAuto = map[string]string{
	// The files the corpus files under unsupported/ have kinds now (issue 9).
	"unsupported/chainloop-jacoco.xml":                      "JACOCO_XML",
	"unsupported/chainloop-cobertura.xml":                   "COBERTURA_XML",
	"unsupported/chainloop-gl-sast-report.json":             "GITLAB_SECURITY_REPORT",
	"unsupported/chainloop-ghas-code-scan.json":             "GHAS_CODE_SCAN",
	"unsupported/chainloop-gitleaks-report-violations.json": "GITLEAKS_JSON",
	"unsupported/chainloop-openapi-3.0.json":                "OPENAPI_SPEC",
	// A CSAF security advisory is its own kind now, beside CSAF_VEX (issue 9).
	"csaf/chainloop-csaf_security_advisory.json":                        "CSAF_SECURITY_ADVISORY",
	"unsupported/sigstore-go-statement-provenance-sigstorejs1.3.0.json": "SLSA_PROVENANCE",
	// An empty <testsuites> is valid JUnit (JUnit.xsd: testsuite minOccurs 0): accepted with zero
	// tests; what to require of a report is a policy's job.
	"junit/dorny-empty-jest-junit.xml": "JUNIT_XML",
}

// corpusExplicit is where custody's verdict on an explicit add differs from the format's verdict in
// corpus.json on purpose: "file material" -> custody's verdict, with the reason in docs/materials.md.
var corpusExplicit = map[string]string{
	// JUNIT_XML takes a zip or .tar.gz of JUnit reports when the kind is named (issue 9), as
	// chainloop's does; auto-detection leaves archives to ARTIFACT.
	"junit/chainloop-tests.zip junit":    "accept",
	"junit/chainloop-tests.tar.gz junit": "accept",
}

// addedKind reads the kind an add recorded from its status line.
var addedKind = regexp.MustCompile(`material \S+ \(([A-Z_]+)\) added to attestation`)

// TestMaterialsCorpus adds every file of the real-world corpus through the CLI, auto-detected and as
// each contract material corpus.json names, and holds custody to the verdicts: no crash, the
// auto-detected kind expected, every explicit verdict the format's, and a refused add leaves the
// state file as it was.
func TestMaterialsCorpus(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join(materialsCorpus, "corpus.json"))
	if err != nil {
		t.Skipf("the materials corpus is not here (%v): it is ../shared/corpus/materials beside the clone", err)
	}
	var corpus struct{ Entries []corpusEntry }
	if err := json.Unmarshal(raw, &corpus); err != nil {
		t.Fatalf("corpus.json: %v", err)
	}
	if len(corpus.Entries) < 80 {
		t.Fatalf("corpus.json lists %d entries, want the 87 of the corpus", len(corpus.Entries))
	}
	contract := filepath.Join(materialsCorpus, "contract.yaml")
	for _, e := range corpus.Entries {
		rel := e.Dir + "/" + e.Name
		t.Run(rel, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(materialsCorpus, e.Dir, e.Name)
			want := e.Auto
			if w, ok := corpusAuto[rel]; ok {
				want = w
			}
			add := func(args ...string) (result, string) {
				w := newWorkspace(t)
				w.ok("attestation", "init", "--workflow", "w", "--project", "p", "--contract", contract, "--dry-run")
				before := w.stateBytes()
				r := w.custody(append([]string{"attestation", "add", "--value", path}, args...)...)
				if strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, "panic:") || r.code != 0 && r.code != 3 {
					t.Fatalf("add %s %v crashed or failed unexpectedly: exit %d\n%s", rel, args, r.code, r.stderr)
				}
				if r.code != 0 && !bytes.Equal(before, w.stateBytes()) {
					t.Errorf("add %s %v was refused but changed the state file", rel, args)
				}
				kind := ""
				if m := addedKind.FindStringSubmatch(r.stderr); m != nil {
					kind = m[1]
				}
				return r, kind
			}

			r, kind := add()
			if errKind, ok := strings.CutPrefix(want, "error("); ok {
				errKind = strings.TrimSuffix(errKind, ")")
				if r.code != 3 || !strings.Contains(r.stderr, errKind) {
					t.Errorf("auto-detected: exit %d, kind %q, stderr %q; want refused as %s", r.code, kind, r.stderr, errKind)
				}
			} else if r.code != 0 || kind != want {
				t.Errorf("auto-detected: exit %d, kind %q, stderr %q; want %s", r.code, kind, r.stderr, want)
			}

			for _, tc := range e.Tests {
				material, format := tc[0], strings.Fields(tc[2])[0]
				if w, ok := corpusExplicit[rel+" "+material]; ok {
					format = w
				}
				if format != "accept" && format != "reject" {
					t.Fatalf("corpus.json: the format's verdict %q for %s as %s is neither accept nor reject", tc[2], rel, material)
				}
				r, _ := add("--name", material)
				got := map[bool]string{true: "accept", false: "reject"}[r.code == 0]
				if got != format {
					t.Errorf("as %s: %s (exit %d: %s), want %s (the format: %s)", material, got, r.code, strings.TrimSpace(r.stderr), format, tc[2])
				}
			}
		})
	}
}
