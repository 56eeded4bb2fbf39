package materials

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/custody-dev/custody/contract"
)

// corpusDir is the real-world corpus beside the clone (../shared/corpus/materials): files nobody here
// wrote, with the verdicts SOURCES.md explains. It is read in place, never copied into the project.
var corpusDir, _ = filepath.Abs("../../../shared/corpus/materials")

// TestCorpusNewKinds checks the corpus files of the coverage, SLSA and JUnit archive kinds: the kind
// auto-detection gives, and the verdict of each kind named explicitly. Where custody differs from
// the corpus's format verdict on purpose (JUnit archives), docs/materials.md says why.
func TestCorpusNewKinds(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skipf("the real-world corpus is not here (%v): it is ../shared/corpus/materials beside the clone", err)
	}
	for _, tc := range []struct {
		file     string
		auto     contract.Kind
		accepts  []contract.Kind
		refuses  []contract.Kind
		validate map[string]string // some of what the accepting kinds record
	}{
		{file: "unsupported/chainloop-jacoco.xml", auto: contract.KindJaCoCoXML,
			accepts: []contract.Kind{contract.KindJaCoCoXML}, refuses: []contract.Kind{contract.KindJUnitXML, contract.KindCoberturaXML},
			validate: map[string]string{"linesCovered": "3", "linesValid": "13", "lineCoverage": "23.08", "branchesCovered": "1", "branchesValid": "4"}},
		{file: "unsupported/chainloop-cobertura.xml", auto: contract.KindCoberturaXML,
			accepts: []contract.Kind{contract.KindCoberturaXML}, refuses: []contract.Kind{contract.KindJUnitXML, contract.KindJaCoCoXML},
			validate: map[string]string{"lineCoverage": "66.67", "branchCoverage": "50.00"}},
		{file: "unsupported/sigstore-go-statement-provenance-sigstorejs1.3.0.json", auto: contract.KindSLSAProvenance,
			accepts: []contract.Kind{contract.KindSLSAProvenance}, refuses: []contract.Kind{contract.KindAttestation},
			validate: map[string]string{"predicateType": slsaProvenanceV02, "signed": "false"}},
		{file: "attestation/chainloop-slsa_provenance.sigstore.json", auto: contract.KindAttestation,
			accepts: []contract.Kind{contract.KindAttestation, contract.KindSLSAProvenance}},
		{file: "attestation/sigstore-go-bundle-provenance.json", auto: contract.KindAttestation,
			accepts: []contract.Kind{contract.KindAttestation, contract.KindSLSAProvenance}},
		{file: "attestation/slsa-verifier-gha_go-v1.9.0.intoto.jsonl", auto: contract.KindAttestation,
			accepts:  []contract.Kind{contract.KindAttestation, contract.KindSLSAProvenance},
			validate: map[string]string{"predicateType": slsaProvenanceV02}},
		{file: "attestation/chainloop-attestation-dsse.json", auto: contract.KindAttestation,
			accepts: []contract.Kind{contract.KindAttestation}, refuses: []contract.Kind{contract.KindSLSAProvenance}},
		// Deliberately unlike the corpus's format verdict: JUNIT_XML takes archives of reports.
		{file: "junit/chainloop-tests.zip", auto: contract.KindArtifact,
			accepts: []contract.Kind{contract.KindJUnitXML}, refuses: []contract.Kind{contract.KindZAPDASTZip},
			validate: map[string]string{"archive": "zip", "reports": "13"}},
		{file: "junit/chainloop-tests.tar.gz", auto: contract.KindArtifact,
			accepts: []contract.Kind{contract.KindJUnitXML}, validate: map[string]string{"archive": "tar.gz", "reports": "13"}},
		{file: "unsupported/chainloop-random.json", auto: contract.KindArtifact,
			refuses: []contract.Kind{contract.KindSLSAProvenance, contract.KindJaCoCoXML, contract.KindZAPDASTZip}},
		{file: "unsupported/chainloop-empty.txt", auto: contract.KindArtifact,
			refuses: []contract.Kind{contract.KindSLSAProvenance, contract.KindJaCoCoXML, contract.KindCoberturaXML, contract.KindZAPDASTZip, contract.KindJUnitXML}},
		{file: "unsupported/chainloop-simple.txt", auto: contract.KindArtifact,
			refuses: []contract.Kind{contract.KindSLSAProvenance, contract.KindJaCoCoXML, contract.KindCoberturaXML, contract.KindZAPDASTZip}},
		{file: "unsupported/dorny-dotnet-nunit.xml", auto: contract.KindArtifact,
			refuses: []contract.Kind{contract.KindJaCoCoXML, contract.KindCoberturaXML}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join(corpusDir, tc.file)
			c := newDocCrafter(t)
			if m, err := c.Detect(t.Context(), path); err != nil || m.Kind != tc.auto {
				t.Errorf("Detect = %v, %v; want %s", m, err, tc.auto)
			}
			for _, k := range tc.accepts {
				m, err := c.Craft(t.Context(), k, path)
				if err != nil {
					t.Errorf("Craft(%s): %v", k, err)
					continue
				}
				for key, want := range tc.validate {
					if got, ok := m.Validated[key]; ok && got != want || !ok && k != contract.KindAttestation {
						t.Errorf("Craft(%s) recorded %s = %q, want %q (%v)", k, key, got, want, m.Validated)
					}
				}
			}
			for _, k := range tc.refuses {
				_, err := c.Craft(t.Context(), k, path)
				var kerr *Error
				if !errors.As(err, &kerr) || kerr.Kind != k {
					t.Errorf("Craft(%s) = %v, want it refused with an *Error of the kind", k, err)
				}
			}
		})
	}
}
