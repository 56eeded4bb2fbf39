package materials

import (
	"strings"
	"testing"

	"github.com/custody-dev/custody/contract"
)

func TestCraftBlackDuck(t *testing.T) {
	t.Parallel()
	tool := map[string]string{"tool": "Black Duck"}
	runDocCases(t, contract.KindBlackDuckSCAJSON, []docCase{
		{file: "blackduck/chainloop-blackduck_sca.json", want: counted("Black Duck SCA JSON report", [6]int{1: 1}, tool)},
		{file: "blackduck/chainloop-blackduck_sca_missing_fields.json", wantErr: []string{"the report has no detailedProjectVersionCustomFields"}},
		{file: "scorecard/scorecard-check1.json", wantErr: []string{"not a Black Duck SCA JSON report"}, notThisKind: true},
	})
	sections := `"detailedProjectVersionCustomFields": [], "detailedCodeLocations": [{"name": "x"}]`
	runShapeCases(t, contract.KindBlackDuckSCAJSON, "bd.json", []shapeCase{
		{name: "every severity", doc: `{` + sections + `, "aggregateBomViewEntries": [{"deep": [[{}]]}], "detailedVulnerabilities": [
			{"vulnerabilityId": "CVE-1", "severity": "CRITICAL"}, {"vulnerabilityId": "BDSA-2", "severity": "MEDIUM"},
			{"vulnerabilityId": "CVE-3", "severity": "LOW"}, {"vulnerabilityId": "CVE-4", "severity": "UNSPECIFIED"}]}`,
			want: counted("Black Duck SCA JSON report", [6]int{0: 1, 2: 1, 3: 1, 5: 1}, tool)},
		{name: "a vulnerability without severity", doc: `{` + sections + `, "detailedVulnerabilities": [{"vulnerabilityId": "CVE-1"}]}`,
			wantErr: []string{"detailedVulnerabilities[0] (CVE-1) has no severity"}},
		{name: "a vulnerability without id", doc: `{` + sections + `, "detailedVulnerabilities": [{"severity": "HIGH"}]}`,
			wantErr: []string{"detailedVulnerabilities[0] has no vulnerabilityId"}},
		{name: "code locations not an array", doc: `{"detailedVulnerabilities": [], "detailedProjectVersionCustomFields": [], "detailedCodeLocations": {}}`,
			wantErr: []string{"detailedCodeLocations is a JSON object, not a JSON array"}},
		{name: "vulnerabilities null", doc: `{` + sections + `, "detailedVulnerabilities": null}`,
			wantErr: []string{"detailedVulnerabilities is null, not a JSON array"}},
		{name: "truncated", doc: `{` + sections + `, "detailedVulnerabilities": [{"vulnerabilityId": "CVE-1", "sev`,
			wantErr: []string{"read Black Duck report", "truncated"}},
		{name: "an array", doc: `[{"detailedVulnerabilities": []}]`, wantErr: []string{"not a Black Duck SCA JSON report", "(a JSON array, not an object)"}, notThisKind: true},
		{name: "nested past the depth limit", doc: `{"detailedVulnerabilities": ` + strings.Repeat("[", maxJSONDepth+1),
			wantErr: []string{"JSON nests deeper than 10000 levels"}},
	})
}
