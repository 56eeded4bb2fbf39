package materials

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/custody-dev/custody/contract"
)

func TestCraftGHASCodeScan(t *testing.T) {
	t.Parallel()
	const format = "GitHub code scanning alerts"
	runDocCases(t, contract.KindGHASCodeScan, []docCase{
		// GitHub's example response: a security rule (error) still open and one fixed.
		{file: "ghas/github-code-scanning-alerts.json", want: counted(format, [6]int{1: 2},
			map[string]string{"tool": "CodeQL", "toolVersion": "2.4.0", "open": "1"})},
		// chainloop's fixture: ESLint warnings, without the dismissed_* fields GitHub also sends.
		{file: "ghas/chainloop-ghas-code-scan.json", want: counted(format, [6]int{2: 2},
			map[string]string{"tool": "ESLint", "toolVersion": "8.56.0", "open": "2"})},
		{file: "ghas/github-secret-scanning-alerts.json", wantErr: []string{"not an export of GitHub code scanning alerts"}, notThisKind: true},
		{file: "gitleaks/aws-key.gitleaks.json", wantErr: []string{"not an export of GitHub code scanning alerts"}, notThisKind: true},
		{file: "sarif/gosec.sarif", wantErr: []string{"not an export of GitHub code scanning alerts"}, notThisKind: true},
	})
}

func TestCraftGHASCodeScanShapes(t *testing.T) {
	t.Parallel()
	const format = "GitHub code scanning alerts"
	alert := func(number, state, rule, tool string) string {
		return `{"number": ` + number + `, "state": "` + state + `", "rule": ` + rule + `, "tool": ` + tool +
			`, "most_recent_instance": {"ref": "refs/heads/main"}, "created_at": "2026-01-02T03:04:05Z"}`
	}
	codeql := `{"name": "CodeQL", "version": "2.20.0"}`
	runShapeCases(t, contract.KindGHASCodeScan, "alerts.json", []shapeCase{
		{name: "no alerts", doc: "[]", want: counted(format, [6]int{}, map[string]string{"open": "0"})},
		{name: "security severity level wins over the rule's severity", doc: "[" +
			alert("1", "open", `{"id": "go/sql-injection", "severity": "error", "security_severity_level": "critical"}`, codeql) + "," +
			alert("2", "dismissed", `{"id": "go/unused", "severity": "note", "security_severity_level": null}`, codeql) + "," +
			alert("3", "open", `{"id": "go/x", "severity": "none"}`, `{"name": "golangci-lint", "version": null}`) + "]",
			want: counted(format, [6]int{0: 1, 3: 1, 4: 1}, map[string]string{"tool": "CodeQL,golangci-lint", "open": "2"})},
		{name: "a state GitHub does not know", doc: "[" + alert("1", "closed", `{"id": "x"}`, codeql) + "]",
			wantErr: []string{"alerts[0].state: value must be one of"}},
		{name: "a severity GitHub does not know", doc: "[" + alert("1", "open", `{"id": "x", "severity": "fatal"}`, codeql) + "]",
			wantErr: []string{"alerts[0].rule.severity: value must be one of"}},
		{name: "no rule id", doc: "[" + alert("7", "open", `{"severity": "error"}`, codeql) + "]",
			wantErr: []string{"alerts[0] (number 7) has no rule.id"}},
		{name: "second alert without a tool", doc: "[" + alert("1", "open", `{"id": "x"}`, codeql) + `, {"number": 2, "state": "open", "rule": {"id": "x"}, "most_recent_instance": {}}]`,
			wantErr: []string{"alerts[1] (number 2) has no tool.name"}},
		{name: "number a string", doc: "[" + alert(`"1"`, "open", `{"id": "x"}`, codeql) + "]",
			wantErr: []string{"alerts[0].number: got string, want integer"}},
		{name: "an object, not an array", doc: alert("1", "open", `{"id": "x"}`, codeql),
			wantErr: []string{"not an export of GitHub code scanning alerts"}, notThisKind: true},
	})
}

func TestCraftGHASSecretScan(t *testing.T) {
	t.Parallel()
	const format = "GitHub secret scanning alerts"
	tool := "GitHub secret scanning"
	runDocCases(t, contract.KindGHASSecretScan, []docCase{
		{file: "ghas/github-secret-scanning-alerts.json", want: counted(format, [6]int{5: 1}, map[string]string{"tool": tool, "open": "0"})},
		{file: "ghas/chainloop-ghas-secret-scan.json", want: counted(format, [6]int{5: 2}, map[string]string{"tool": tool, "open": "2"})},
		{file: "ghas/github-code-scanning-alerts.json", wantErr: []string{"not an export of GitHub secret scanning alerts"}, notThisKind: true},
	})
	runShapeCases(t, contract.KindGHASSecretScan, "secrets.json", []shapeCase{
		{name: "empty secret_type", doc: `[{"number": 3, "state": "open", "secret_type": ""}]`,
			wantErr: []string{"alerts[0] (number 3) has no secret_type"}},
		{name: "second alert without a state", doc: `[{"number": 3, "state": "open", "secret_type": "x"}, {"number": 4, "secret_type": "x"}]`,
			wantErr: []string{"alerts[1] (number 4) has no state"}},
		{name: "a resolution GitHub does not know", doc: `[{"number": 3, "state": "resolved", "secret_type": "x", "resolution": "ignored"}]`,
			wantErr: []string{"alerts[0].resolution"}},
	})
}

func TestCraftGHASDependencyScan(t *testing.T) {
	t.Parallel()
	const format = "GitHub Dependabot alerts"
	runDocCases(t, contract.KindGHASDependencyScan, []docCase{
		{file: "ghas/github-dependabot-alerts.json", want: counted(format, [6]int{1: 1, 2: 1}, map[string]string{"tool": "Dependabot", "open": "1"})},
		// GitHub's example as published writes the EPSS percentile as a string; its schema (and
		// the live API) a number.
		{file: "ghas/github-dependabot-alerts-as-published.json", wantErr: []string{"alerts[0].security_advisory.epss.percentile: got string, want number"}},
		// Inside an alert GitHub's schema applies in full: chainloop's trimmed fixture lacks
		// security_advisory.withdrawn_at.
		{file: "ghas/chainloop-ghas-dependency-scan.json", wantErr: []string{"alerts[0].security_advisory: missing property 'withdrawn_at'"}},
		{file: "ghas/github-code-scanning-alerts.json", wantErr: []string{"not an export of GitHub Dependabot alerts"}, notThisKind: true},
	})
	runShapeCases(t, contract.KindGHASDependencyScan, "dependabot.json", []shapeCase{
		{name: "second alert without a security advisory", doc: editedFixture(t, "ghas/github-dependabot-alerts.json",
			func(alerts []map[string]any) { delete(alerts[1], "security_advisory") }),
			wantErr: []string{"alerts[1] (number 1) has no security_advisory with ghsa_id and severity"}},
		{name: "an advisory without what GitHub requires in it", doc: editedFixture(t, "ghas/github-dependabot-alerts.json",
			func(alerts []map[string]any) { delete(alerts[0]["security_advisory"].(map[string]any), "severity") }),
			wantErr: []string{"alerts[0].security_advisory: missing property 'severity'"}},
	})
}

// editedFixture returns a fixture that is an array of objects, edited.
func editedFixture(t *testing.T, file string, edit func([]map[string]any)) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	var elems []map[string]any
	if err := json.Unmarshal(data, &elems); err != nil {
		t.Fatal(err)
	}
	edit(elems)
	out, err := json.Marshal(elems)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
