package materials

import (
	"strings"
	"testing"

	"github.com/custody-dev/custody/contract"
)

func TestCraftTrufflehog(t *testing.T) {
	t.Parallel()
	const format = "TruffleHog JSON Lines"
	extra := func(verified string) map[string]string {
		return map[string]string{"tool": "trufflehog", "verified": verified}
	}
	runDocCases(t, contract.KindTrufflehogJSON, []docCase{
		// trufflehog v3.97.0 (built from source) on a scratch repository and directory: one finding
		// (one line), two findings (JSON Lines), nothing found (an empty file).
		{file: "trufflehog/aws-key-git.trufflehog.jsonl", want: counted(format, [6]int{5: 1}, extra("0"))},
		{file: "trufflehog/secrets-filesystem.trufflehog.jsonl", want: counted(format, [6]int{5: 2}, extra("0"))},
		{file: "trufflehog/clean.trufflehog.jsonl", want: counted(format, [6]int{}, extra("0"))},
		{file: "trufflehog/chainloop-trufflehog-report.json", want: counted(format, [6]int{5: 2}, extra("1"))},
		{file: "gitleaks/aws-key.gitleaks.json", wantErr: []string{"not trufflehog JSON output"}, notThisKind: true},
		{file: "other/custody-mod.cdx.xml", wantErr: []string{"not trufflehog JSON output", "reads as XML"}, notThisKind: true},
	})
	line := `{"SourceMetadata": {"Data": {"Git": {"file": "a.env", "line": 1}}}, "SourceName": "trufflehog - git", "DetectorType": 2, "DetectorName": "AWS", "DecoderName": "PLAIN", "Verified": false, "Raw": "AKIA", "Redacted": "AKIA"}`
	runShapeCases(t, contract.KindTrufflehogJSON, "trufflehog.json", []shapeCase{
		// trufflehog writes nothing when it finds nothing.
		{name: "empty file: a clean scan", doc: "", want: counted(format, [6]int{}, extra("0"))},
		{name: "one line", doc: line + "\n", want: counted(format, [6]int{5: 1}, extra("0"))},
		{name: "a line without DetectorName", doc: line + "\n" + strings.Replace(line, `"DetectorName": "AWS", `, "", 1) + "\n",
			wantErr: []string{"finding 2 has no DetectorName"}},
		{name: "a line without Verified", doc: line + "\n" + strings.Replace(line, `"Verified": false, `, "", 1) + "\n",
			wantErr: []string{"finding 2 (AWS) has no Verified"}},
		{name: "Verified a string", doc: strings.Replace(line, `"Verified": false`, `"Verified": "no"`, 1),
			wantErr: []string{"finding 1", "JSON string where bool is expected"}},
		{name: "a line not an object", doc: line + "\n[1]\n", wantErr: []string{"finding 2 is not a JSON object"}},
		{name: "a broken line", doc: line + "\n{\"DetectorName\": \n", wantErr: []string{"read trufflehog output: finding 2", "truncated"}},
		{name: "white space only", doc: " \n", wantErr: []string{"not trufflehog JSON output"}, notThisKind: true},
		{name: "a JSON array", doc: "[" + line + "]", wantErr: []string{"not trufflehog JSON output"}, notThisKind: true},
	})
}
