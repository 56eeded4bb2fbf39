package materials

import (
	"maps"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custody-dev/custody/contract"
)

// TestScannerSummariesFollowThePredicateSchema crafts a fixture of each scanner kind and checks the
// recorded material against docs/predicate.schema.json, whose block for the kind names its summary
// keys; a summary without one of them is refused by the schema.
func TestScannerSummariesFollowThePredicateSchema(t *testing.T) {
	t.Parallel()
	schema := materialSchema(t)
	for kind, file := range map[contract.Kind]string{
		contract.KindGitLabSecurityReport: "gitlab/chainloop-gl-container-scanning-report.json",
		contract.KindGHASCodeScan:         "ghas/github-code-scanning-alerts.json",
		contract.KindGHASSecretScan:       "ghas/github-secret-scanning-alerts.json",
		contract.KindGHASDependencyScan:   "ghas/github-dependabot-alerts.json",
		contract.KindGitleaksJSON:         "gitleaks/aws-key.gitleaks.json",
		contract.KindTrufflehogJSON:       "trufflehog/chainloop-trufflehog-report.json",
		contract.KindOSSFScorecardJSON:    "scorecard/chainloop-scorecard.json",
		contract.KindBlackDuckSCAJSON:     "blackduck/chainloop-blackduck_sca.json",
		contract.KindTwistcliScanJSON:     "twistcli/chainloop-twistcli_scan.json",
		contract.KindCheckmarxJSON:        "checkmarx/chainloop-checkmarx-clean.json",
	} {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			m, err := newDocCrafter(t).Craft(t.Context(), kind, filepath.Join("testdata", file))
			if err != nil {
				t.Fatal(err)
			}
			m.Name = "report"
			if err := schema.Validate(materialInstance(t, m)); err != nil {
				t.Fatalf("%v\nvalidated: %v", err, m.Validated)
			}
			for key := range m.Validated {
				// Optional: a tool's version, scorecard's repo, and the tool of a code scanning
				// export (none when it has no alerts).
				if key == "toolVersion" || key == "repo" || kind == contract.KindGHASCodeScan && key == "tool" {
					continue
				}
				short := *m
				short.Validated = maps.Clone(m.Validated)
				delete(short.Validated, key)
				if err := schema.Validate(materialInstance(t, &short)); err == nil || !strings.Contains(err.Error(), key) {
					t.Errorf("without %s: schema says %v, want it missing", key, err)
				}
			}
		})
	}
}
