package materials

import (
	"testing"

	"github.com/custody-dev/custody/contract"
)

func TestCraftCheckmarx(t *testing.T) {
	t.Parallel()
	const format = "Checkmarx One JSON report"
	extra := func(scanID, engines string) map[string]string {
		return map[string]string{"tool": "Checkmarx One", "scanId": scanID, "engines": engines}
	}
	runDocCases(t, contract.KindCheckmarxJSON, []docCase{
		{file: "checkmarx/chainloop-checkmarx.json", want: counted(format, [6]int{1: 4}, extra("dc2b7f5c-625d-4236-891d-90869454aaf7", "kics,sast,sca"))},
		{file: "checkmarx/chainloop-checkmarx-clean.json", want: counted(format, [6]int{}, extra("dc2b7f5c-625d-4236-891d-90869454aaf7", ""))},
		{file: "checkmarx/chainloop-checkmarx-null-results.json", want: counted(format, [6]int{}, extra("dc2b7f5c-625d-4236-891d-90869454aaf7", ""))},
		{file: "checkmarx/chainloop-checkmarx-extra-engines.json", want: counted(format, [6]int{5: 3}, extra("b7d3a1e0-1f2c-4a5b-8c9d-0e1f2a3b4c5d", "containers,future-engine,sscs"))},
		{file: "twistcli/chainloop-twistcli_scan.json", wantErr: []string{"not a Checkmarx One JSON report"}, notThisKind: true},
		{file: "sarif/gosec.sarif", wantErr: []string{"not a Checkmarx One JSON report"}, notThisKind: true},
	})
	head := `"scanID": "s-1", "totalCount": 1, `
	runShapeCases(t, contract.KindCheckmarxJSON, "cx.json", []shapeCase{
		{name: "every severity", doc: `{` + head + `"results": [{"type": "sast", "severity": "CRITICAL", "data": {}}, {"type": "sca", "severity": "INFO", "data": {}}, {"type": "kics", "severity": "LOW", "data": {}}]}`,
			want: counted(format, [6]int{0: 1, 3: 1, 4: 1}, extra("s-1", "kics,sast,sca"))},
		{name: "a result without type", doc: `{` + head + `"results": [{"severity": "HIGH", "data": {}}]}`, wantErr: []string{"results[0] has no type"}},
		{name: "a result without data", doc: `{` + head + `"results": [{"type": "sast", "data": "x"}]}`, wantErr: []string{"results[0] (sast) has no data object"}},
		{name: "empty scanID", doc: `{"scanID": "", "totalCount": 0, "results": []}`, wantErr: []string{"the report has no scanID"}},
		{name: "totalCount negative", doc: `{"scanID": "s", "totalCount": -1, "results": []}`, wantErr: []string{"totalCount", "JSON number -1 where uint is expected"}},
		{name: "no totalCount", doc: `{"scanID": "s", "results": []}`, wantErr: []string{"not a Checkmarx One JSON report"}, notThisKind: true},
	})
}
