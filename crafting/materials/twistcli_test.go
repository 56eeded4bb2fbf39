package materials

import (
	"testing"

	"github.com/custody-dev/custody/contract"
)

func TestCraftTwistcli(t *testing.T) {
	t.Parallel()
	const format = "twistcli scan JSON report"
	tool := map[string]string{"tool": "twistcli"}
	runDocCases(t, contract.KindTwistcliScanJSON, []docCase{
		{file: "twistcli/chainloop-twistcli_scan.json", want: counted(format, [6]int{}, tool)},
		{file: "checkmarx/chainloop-checkmarx.json", wantErr: []string{"not a twistcli scan report"}, notThisKind: true},
	})
	result := func(vulns string) string {
		return `{"id": "sha256:1", "name": "nginx:1.27", "vulnerabilities": [` + vulns + `], "vulnerabilityScanPassed": false}`
	}
	runShapeCases(t, contract.KindTwistcliScanJSON, "twistcli.json", []shapeCase{
		{name: "vulnerabilities of two images", doc: `{"results": [` +
			result(`{"id": "CVE-1", "severity": "critical"}, {"id": "CVE-2", "severity": "important"}, {"id": "CVE-3", "severity": "moderate"}`) + `, ` +
			result(`{"id": "CVE-4", "severity": "low"}, {"id": "CVE-5", "severity": "negligible"}`) + `, {"id": "sha256:3"}], "consoleURL": "https://console.example.com"}`,
			want: counted(format, [6]int{0: 1, 1: 1, 2: 1, 3: 1, 5: 1}, tool)},
		{name: "a vulnerability without severity", doc: `{"consoleURL": "u", "results": [` + result(`{"id": "CVE-1"}`) + `]}`,
			wantErr: []string{"results[0].vulnerabilities[0] (CVE-1) has no severity"}},
		{name: "a vulnerability not an object", doc: `{"consoleURL": "u", "results": [` + result(`"CVE-1"`) + `]}`,
			wantErr: []string{"results[0].vulnerabilities[0] is not a JSON object"}},
		{name: "empty console URL", doc: `{"consoleURL": "", "results": []}`, wantErr: []string{"the report's consoleURL is empty"}},
		{name: "results not an array", doc: `{"consoleURL": "u", "results": {}}`, wantErr: []string{"results is a JSON object, not a JSON array"}},
		{name: "data after the report", doc: `{"consoleURL": "u", "results": []} {}`, wantErr: []string{"data after the end of the document"}},
		{name: "results without a console URL", doc: `{"results": []}`, wantErr: []string{"not a twistcli scan report"}, notThisKind: true},
	})
}
