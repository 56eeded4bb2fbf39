package materials

import (
	"strings"
	"testing"

	"github.com/custody-dev/custody/contract"
)

func TestCraftScorecard(t *testing.T) {
	t.Parallel()
	want := func(version, repo, score, checks string) map[string]string {
		return map[string]string{"format": "OpenSSF Scorecard JSON", "tool": "scorecard", "toolVersion": version,
			"repo": repo, "score": score, "checks": checks}
	}
	runDocCases(t, contract.KindOSSFScorecardJSON, []docCase{
		// scorecard's own expected JSON output (pkg/scorecard/testdata).
		{file: "scorecard/scorecard-check1.json", want: want("1.2.3", "org/name", "5.0", "1")},
		{file: "scorecard/scorecard-check3.json", want: want("1.2.3", "org/name", "0.0", "3")},
		// A real run without --show-details: details and metadata are null.
		{file: "scorecard/chainloop-scorecard.json", want: want("v5.5.0", "github.com/chainloop-dev/chainloop", "8.2", "3")},
		{file: "ghas/github-code-scanning-alerts.json", wantErr: []string{"not an OpenSSF Scorecard JSON result", "(a JSON array, not an object)"}, notThisKind: true},
		{file: "sarif/gosec.sarif", wantErr: []string{"not an OpenSSF Scorecard JSON result"}, notThisKind: true},
	})
}

func TestCraftScorecardShapes(t *testing.T) {
	t.Parallel()
	check := `{"details": null, "score": 10, "reason": "r", "name": "License", "documentation": {"url": "u", "short": "s"}}`
	doc := func(score, checks string) string {
		return `{"date": "2026-01-02", "repo": {"name": "github.com/o/r", "commit": "c"}, "scorecard": {"version": "v5.5.0", "commit": "c"},
			"score": ` + score + `, "checks": [` + checks + `], "metadata": null}`
	}
	runShapeCases(t, contract.KindOSSFScorecardJSON, "scorecard.json", []shapeCase{
		{name: "no checks", doc: doc("-1", ""), want: map[string]string{"format": "OpenSSF Scorecard JSON", "tool": "scorecard",
			"toolVersion": "v5.5.0", "repo": "github.com/o/r", "score": "-1.0", "checks": "0"}},
		{name: "score a string", doc: doc(`"7.5"`, check), wantErr: []string{"score: got string, want number"}},
		{name: "a check without its reason", doc: doc("7.5", strings.Replace(check, `"reason": "r", `, "", 1)),
			wantErr: []string{"checks[0]: missing property 'reason'"}},
		{name: "a check's score not an integer", doc: doc("7.5", strings.Replace(check, `"score": 10`, `"score": 9.5`, 1)),
			wantErr: []string{"checks[0].score: got number, want integer"}},
		{name: "no date", doc: strings.Replace(doc("7.5", check), `"date": "2026-01-02", `, "", 1),
			wantErr: []string{"the document: missing property 'date'"}},
		{name: "empty scorecard version", doc: strings.Replace(doc("7.5", check), `"version": "v5.5.0"`, `"version": ""`, 1),
			wantErr: []string{"scorecard.version is empty"}},
		{name: "larger than a scorecard result is", doc: doc("7.5", check) + strings.Repeat(" ", maxScorecardSize),
			wantErr: []string{"an OpenSSF Scorecard result is at most 8 MiB here"}},
	})
}
