package materials

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/custody-dev/custody/contract"
)

// TestCorpusCSAFAndAPIKinds checks the corpus files of the CSAF and API description kinds: the kind
// auto-detection gives (or the kind whose error stops it), and each named kind's verdict.
func TestCorpusCSAFAndAPIKinds(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skipf("the real-world corpus is not here (%v): it is ../shared/corpus/materials beside the clone", err)
	}
	csafKinds := []contract.Kind{contract.KindCSAFVEX, contract.KindCSAFSecurityAdvisory, contract.KindCSAFInformationalAdvisory, contract.KindCSAFSecurityIncidentResponse}
	for _, tc := range []struct {
		file    string
		auto    contract.Kind // the kind detected, or whose error stops detection when autoErr is set
		autoErr string
		accepts []contract.Kind
		refuses []contract.Kind
		want    map[string]string
	}{
		{file: "csaf/chainloop-csaf_security_advisory.json", auto: contract.KindCSAFSecurityAdvisory,
			accepts: []contract.Kind{contract.KindCSAFSecurityAdvisory},
			refuses: []contract.Kind{contract.KindCSAFVEX, contract.KindCSAFInformationalAdvisory, contract.KindOpenAPISpec},
			want:    map[string]string{"trackingId": "RHSA-2021:5186", "vulnerabilityCount": "2"}},
		{file: "csaf/chainloop-csaf_vex_v0.2.1.json", auto: contract.KindCSAFVEX,
			autoErr: "CSAF 2.1 does not match the schema: at /document: missing property 'distribution'", refuses: csafKinds},
		{file: "csaf/chainloop-csaf_security_incident_response_wrong_category.json", auto: contract.KindCSAFVEX,
			autoErr: `document.category is "random", want "csaf_vex"`, refuses: csafKinds},
		{file: "csaf/chainloop-csaf_vex_v0.2.0.json", auto: contract.KindCSAFVEX, accepts: []contract.Kind{contract.KindCSAFVEX},
			refuses: []contract.Kind{contract.KindCSAFSecurityAdvisory}},
		{file: "csaf/oasis-2022-evd-uc-01-na-001.json", auto: contract.KindCSAFVEX, accepts: []contract.Kind{contract.KindCSAFVEX}},
		{file: "csaf/oasis-2022-evd-uc-08-001.json", auto: contract.KindCSAFVEX, accepts: []contract.Kind{contract.KindCSAFVEX}},
		{file: "csaf/oasis-tc-6-1-27-09-14-impact-statement-valid.json", auto: contract.KindCSAFVEX, accepts: []contract.Kind{contract.KindCSAFVEX}},
		{file: "csaf/oasis-tc-6-1-27-07-01-vex-product-status.json", auto: contract.KindCSAFVEX, autoErr: "neither cve nor ids", refuses: csafKinds[:1]},
		{file: "csaf/oasis-tc-6-1-27-09-01-impact-statement.json", auto: contract.KindCSAFVEX, autoErr: "has no impact statement", refuses: csafKinds[:1]},
		{file: "csaf/oasis-tc-6-1-27-10-01-action-statement.json", auto: contract.KindCSAFVEX, autoErr: "notes is empty", refuses: csafKinds[:1]},
		{file: "unsupported/chainloop-openapi-3.0.json", auto: contract.KindOpenAPISpec,
			accepts: []contract.Kind{contract.KindOpenAPISpec}, refuses: []contract.Kind{contract.KindAsyncAPISpec, contract.KindCSAFVEX},
			want: map[string]string{"openapiVersion": "3.0.3", "title": "Petstore API", "pathCount": "1"}},
		{file: "unsupported/chainloop-random.json", auto: contract.KindArtifact,
			refuses: append([]contract.Kind{contract.KindOpenAPISpec, contract.KindAsyncAPISpec}, csafKinds...)},
		{file: "unsupported/chainloop-empty.txt", auto: contract.KindArtifact,
			refuses: append([]contract.Kind{contract.KindOpenAPISpec, contract.KindAsyncAPISpec}, csafKinds...)},
		{file: "unsupported/chainloop-simple.txt", auto: contract.KindArtifact,
			refuses: append([]contract.Kind{contract.KindOpenAPISpec, contract.KindAsyncAPISpec}, csafKinds...)},
	} {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join(corpusDir, tc.file)
			c := newDocCrafter(t)
			m, err := c.Detect(t.Context(), path)
			switch {
			case tc.autoErr != "":
				checkDocError(t, err, tc.auto, path, []string{tc.autoErr}, false)
			case err != nil || m.Kind != tc.auto:
				t.Errorf("Detect = %v, %v; want %s", m, err, tc.auto)
			}
			for _, k := range tc.accepts {
				m, err := c.Craft(t.Context(), k, path)
				if err != nil {
					t.Errorf("Craft(%s): %v", k, err)
					continue
				}
				for key, want := range tc.want {
					if m.Validated[key] != want {
						t.Errorf("Craft(%s) recorded %s = %q, want %q", k, key, m.Validated[key], want)
					}
				}
			}
			for _, k := range tc.refuses {
				if m, err := c.Craft(t.Context(), k, path); err == nil {
					t.Errorf("Craft(%s) accepted it: %v", k, m.Validated)
				}
			}
		})
	}
}
