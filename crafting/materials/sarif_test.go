package materials

import (
	"maps"
	"testing"

	"github.com/custody-dev/custody/contract"
)

// sarifWant is a SARIF summary: runs, results, the tool and its version ("" for none), and the
// findings by severity, critical to unknown.
func sarifWant(runs, results int, tool, version string, by [6]int) map[string]string {
	want := map[string]string{"format": "SARIF", "version": "2.1.0", "runs": itoa(runs), "resultCount": itoa(results)}
	total := 0
	for i, sev := range severityKeys {
		want["findings."+sev] = itoa(by[i])
		total += by[i]
	}
	want["findings"] = itoa(total)
	if tool != "" {
		want["tool"], want["tools"] = tool, tool
	}
	if version != "" {
		want["toolVersion"] = version
	}
	return want
}

func TestCraftSARIF(t *testing.T) {
	t.Parallel()
	runDocCases(t, contract.KindSARIF, []docCase{
		// gosec: six results of level error, one warning.
		{file: "sarif/gosec.sarif", want: sarifWant(1, 7, "gosec", "dev", [6]int{0, 6, 1, 0, 0, 0})},
		{file: "sarif/gosec-clean.sarif", want: sarifWant(1, 0, "gosec", "dev", [6]int{})},
		{file: "sarif/broken-version.sarif", wantErr: []string{`version "2.0.0" is not supported (SARIF 2.1.0)`}},
		// SARIF 2.1.0 3.13.4: no run performed ([]), or a failure before any run (null).
		{file: "sarif/empty-runs.sarif", want: sarifWant(0, 0, "", "", [6]int{})},
		{file: "sarif/null-runs.sarif", want: sarifWant(0, 0, "", "", [6]int{})},
		{file: "sarif/broken-no-driver-name.sarif", wantErr: []string{"runs[0].tool.driver.name is missing"}},
		{file: "sarif/broken-result-no-message.sarif", wantErr: []string{"runs[0].results[3] has no message"}},
		// gosec writes runs before version: cut in half, nothing says SARIF any more.
		{file: "sarif/broken-truncated.sarif", wantErr: []string{"not a SARIF log", "truncated"}, notThisKind: true},
		{file: "other/package.json", wantErr: []string{"not a SARIF log"}, notThisKind: true},
	})
}

func TestCraftSARIFShapes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, json string
		want       map[string]string
		wantErr    []string
	}{
		{
			name: "two runs of two tools, one without results",
			json: `{"version": "2.1.0", "runs": [
				{"tool": {"driver": {"name": "CodeQL"}}, "results": [{"message": {"id": "default"}}]},
				{"tool": {"driver": {"name": "golangci-lint"}}},
				{"tool": {"driver": {"name": "CodeQL"}}, "results": []}]}`,
			want: sarifWant(3, 1, "CodeQL,golangci-lint", "", [6]int{0, 0, 1, 0, 0, 0}),
		},
		{
			name:    "schema names SARIF, version missing",
			json:    `{"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "runs": []}`,
			wantErr: []string{"version is missing"},
		},
		{
			name:    "runs missing",
			json:    `{"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0"}`,
			wantErr: []string{"runs is missing"},
		},
		{
			name:    "data after the log",
			json:    `{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}}]} {}`,
			wantErr: []string{"data after the end of the document"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := writeTemp(t, "scan.sarif", tc.json)
			m, err := newDocCrafter(t).Craft(t.Context(), contract.KindSARIF, path)
			if tc.wantErr != nil {
				checkDocError(t, err, contract.KindSARIF, path, tc.wantErr, false)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(m.Validated, tc.want) {
				t.Errorf("Validated = %v, want %v", m.Validated, tc.want)
			}
		})
	}
}

// Each result that is a finding counts once, by its security-severity (the result's, else its
// rule's, found by index or id in the driver or an extension) as GitHub ranks it, else by its
// level (the result's, else its rule's default, else warning).
func TestSARIFFindings(t *testing.T) {
	t.Parallel()
	const rules = `"rules": [
		{"id": "R0"},
		{"id": "R1", "defaultConfiguration": {"level": "note"}},
		{"id": "R2", "properties": {"security-severity": "9.8"}},
		{"id": "R3", "properties": {"security-severity": 5.5}}]`
	for _, tc := range []struct {
		name, result string
		by           [6]int // critical, high, medium, low, info, unknown
	}{
		{"level error", `"level": "error"`, [6]int{0, 1, 0, 0, 0, 0}},
		{"level warning", `"level": "warning"`, [6]int{0, 0, 1, 0, 0, 0}},
		{"level note", `"level": "note"`, [6]int{0, 0, 0, 1, 0, 0}},
		{"level none", `"level": "none"`, [6]int{0, 0, 0, 0, 1, 0}},
		{"no level, no rule: warning", ``, [6]int{0, 0, 1, 0, 0, 0}},
		{"a level outside SARIF's", `"level": "severe"`, [6]int{0, 0, 0, 0, 0, 1}},
		{"the rule's default level, by index", `"ruleIndex": 1`, [6]int{0, 0, 0, 1, 0, 0}},
		{"the rule's default level, by id", `"ruleId": "R1"`, [6]int{0, 0, 0, 1, 0, 0}},
		{"a hierarchical rule id", `"ruleId": "R1/sub"`, [6]int{0, 0, 0, 1, 0, 0}},
		{"the result's level over the rule's", `"ruleId": "R1", "level": "error"`, [6]int{0, 1, 0, 0, 0, 0}},
		{"the rule's security-severity over the level", `"ruleId": "R2", "level": "note"`, [6]int{1, 0, 0, 0, 0, 0}},
		{"a numeric security-severity", `"rule": {"index": 3}`, [6]int{0, 0, 1, 0, 0, 0}},
		{"the result's security-severity over the rule's", `"ruleId": "R2", "properties": {"security-severity": "7.0"}`, [6]int{0, 1, 0, 0, 0, 0}},
		{"security-severity 0.1", `"properties": {"security-severity": "0.1"}`, [6]int{0, 0, 0, 1, 0, 0}},
		{"security-severity 0.0", `"properties": {"security-severity": "0.0"}`, [6]int{0, 0, 0, 1, 0, 0}},
		{"security-severity 3.9", `"properties": {"security-severity": "3.9"}`, [6]int{0, 0, 0, 1, 0, 0}},
		{"security-severity 4.0", `"properties": {"security-severity": "4.0"}`, [6]int{0, 0, 1, 0, 0, 0}},
		{"security-severity 8.9", `"properties": {"security-severity": "8.9"}`, [6]int{0, 1, 0, 0, 0, 0}},
		{"security-severity 9.0", `"properties": {"security-severity": "9.0"}`, [6]int{1, 0, 0, 0, 0, 0}},
		{"security-severity out of range: the level", `"level": "note", "properties": {"security-severity": "11"}`, [6]int{0, 0, 0, 1, 0, 0}},
		{"security-severity not a number: the level", `"level": "error", "properties": {"security-severity": "high"}`, [6]int{0, 1, 0, 0, 0, 0}},
		{"a rule of an extension", `"rule": {"index": 0, "toolComponent": {"index": 0}}`, [6]int{1, 0, 0, 0, 0, 0}},
		{"a rule of an extension, by id", `"rule": {"id": "go/sql-injection", "toolComponent": {"index": 0}}`, [6]int{1, 0, 0, 0, 0, 0}},
		{"an extension that is not there", `"rule": {"index": 0, "toolComponent": {"index": 5}}, "level": "note"`, [6]int{0, 0, 0, 1, 0, 0}},
		{"a rule index out of range", `"ruleIndex": 99, "level": "note"`, [6]int{0, 0, 0, 1, 0, 0}},
		{"kind informational", `"kind": "informational"`, [6]int{0, 0, 0, 0, 1, 0}},
		{"kind review", `"kind": "review"`, [6]int{0, 0, 0, 0, 1, 0}},
		{"kind fail", `"kind": "fail"`, [6]int{0, 0, 1, 0, 0, 0}},
		{"kind pass: no finding", `"kind": "pass", "level": "none"`, [6]int{}},
		{"kind notApplicable: no finding", `"kind": "notApplicable"`, [6]int{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			result := `{"message": {"text": "m"}`
			if tc.result != "" {
				result += ", " + tc.result
			}
			path := writeTemp(t, "scan.sarif", `{"version": "2.1.0", "runs": [{"tool": {
				"driver": {"name": "CodeQL", "semanticVersion": "2.20.1", `+rules+`},
				"extensions": [{"name": "codeql/go-queries", "rules": [{"id": "go/sql-injection", "properties": {"security-severity": "9.1"}}]}]},
				"results": [`+result+`}]}]}`)
			m, err := newDocCrafter(t).Craft(t.Context(), contract.KindSARIF, path)
			if err != nil {
				t.Fatal(err)
			}
			if want := sarifWant(1, 1, "CodeQL", "2.20.1", tc.by); !maps.Equal(m.Validated, want) {
				t.Errorf("Validated = %v\nwant        %v", m.Validated, want)
			}
		})
	}
}

// The corpus's logs of no run, and Checkmarx One's, whose results are ranked by their rules'
// security-severity.
func TestCraftSARIFCorpus(t *testing.T) {
	t.Parallel()
	for file, want := range map[string]map[string]string{
		// Results of level error and warning, whose rules' security-severity are 8.0, 9.0 and 7.0.
		"chainloop-checkmarx.sarif":        sarifWant(1, 3, "Checkmarx One", "1.0", [6]int{1, 2, 0, 0, 0, 0}),
		"sarif-tutorials-empty-runs.sarif": sarifWant(0, 0, "", "", [6]int{}),
		"sarif-tutorials-no-runs.sarif":    sarifWant(0, 0, "", "", [6]int{}),
	} {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			path := sharedCorpus(t, "sarif/"+file)
			m, err := newDocCrafter(t).Craft(t.Context(), contract.KindSARIF, path)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(m.Validated, want) {
				t.Errorf("Validated = %v\nwant        %v", m.Validated, want)
			}
		})
	}
}
