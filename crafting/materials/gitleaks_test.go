package materials

import (
	"testing"

	"github.com/custody-dev/custody/contract"
)

func TestCraftGitleaks(t *testing.T) {
	t.Parallel()
	tool := map[string]string{"tool": "gitleaks"}
	runDocCases(t, contract.KindGitleaksJSON, []docCase{
		{file: "gitleaks/aws-key.gitleaks.json", want: counted("gitleaks JSON report", [6]int{5: 2}, tool)},
		{file: "gitleaks/aws-key-redacted.gitleaks.json", want: counted("gitleaks JSON report", [6]int{5: 2}, tool)},
		{file: "gitleaks/clean.gitleaks.json", want: counted("gitleaks JSON report", [6]int{}, tool)},
		{file: "sarif/gosec.sarif", wantErr: []string{"not a gitleaks JSON report"}, notThisKind: true},
		{file: "other/custody-mod.cdx.xml", wantErr: []string{"not a gitleaks JSON report", "reads as XML"}, notThisKind: true},
	})
}

func TestCraftGitleaksShapes(t *testing.T) {
	t.Parallel()
	finding := `{"RuleID": "aws-access-token", "Secret": "REDACTED", "File": "a.toml", "StartLine": 2, "Fingerprint": "a.toml:aws-access-token:2"}`
	runShapeCases(t, contract.KindGitleaksJSON, "gitleaks.json", []shapeCase{
		{name: "one finding", doc: "[" + finding + "]",
			want: counted("gitleaks JSON report", [6]int{5: 1}, map[string]string{"tool": "gitleaks"})},
		{name: "second finding without Fingerprint", doc: `[` + finding + `, {"RuleID": "x", "Secret": "s", "File": "f", "StartLine": 1}]`,
			wantErr: []string{"findings[1] (x) has no Fingerprint"}},
		{name: "StartLine a string", doc: `[{"RuleID": "x", "Secret": "s", "File": "f", "StartLine": "1", "Fingerprint": "f:x:1"}]`,
			wantErr: []string{"findings[0]", "StartLine", "JSON string where int is expected"}},
		{name: "an element not an object", doc: "[" + finding + ", 7]", wantErr: []string{"findings[1] is not a JSON object"}},
		{name: "truncated", doc: "[" + finding, wantErr: []string{"read gitleaks report", "truncated"}},
		{name: "data after the array", doc: "[" + finding + "] []", wantErr: []string{"data after the end of the document"}},
		{name: "an object", doc: finding, wantErr: []string{"not a gitleaks JSON report", "(a JSON object, not an array)"}, notThisKind: true},
		{name: "array of other objects", doc: `[{"number": 1}]`, wantErr: []string{"not a gitleaks JSON report"}, notThisKind: true},
		{name: "not JSON", doc: "txt file", wantErr: []string{"not a gitleaks JSON report"}, notThisKind: true},
	})
}
