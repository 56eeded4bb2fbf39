package materials

import (
	"encoding/json"
	"io/fs"
	"strings"
	"testing"

	"github.com/custody-dev/custody/contract"
)

func TestCraftGitLabReport(t *testing.T) {
	t.Parallel()
	extra := func(typ, schema, tool, version string) map[string]string {
		return map[string]string{"reportType": typ, "schemaVersion": schema, "tool": tool, "toolVersion": version}
	}
	runDocCases(t, contract.KindGitLabSecurityReport, []docCase{
		// GitLab's analyzers' QA reports, as chainloop keeps them (versions :SKIP: as GitLab's QA writes them).
		{file: "gitlab/chainloop-gl-sast-report.json", want: counted("GitLab SAST report 15.1.4", [6]int{2: 2}, extra("sast", "15.1.4", "Semgrep", ":SKIP:"))},
		{file: "gitlab/chainloop-gl-secret-detection-report.json", want: counted("GitLab Secret Detection report 15.1.4", [6]int{0: 1}, extra("secret_detection", "15.1.4", "Gitleaks", ":SKIP:"))},
		// 15.1.1 is checked against the latest embedded patch of 15.1; scan and version come last.
		{file: "gitlab/chainloop-gl-container-scanning-report.json", want: counted("GitLab Container Scanning report 15.1.1", [6]int{0: 25, 1: 25, 2: 25, 3: 1}, extra("container_scanning", "15.1.4", "Trivy", "0.19.2"))},
		// SonarQube's GitLab export names 15.0.0: checked against 15.0.7.
		{file: "gitlab/chainloop-gl-sonarqube-report.json", want: counted("GitLab SAST report 15.0.0", [6]int{}, extra("sast", "15.0.7", "Sonar", "11.2.0.2797"))},
		{file: "sarif/gosec.sarif", wantErr: []string{"not a GitLab security report"}, notThisKind: true},
		{file: "cyclonedx/custody-mod.cdx.json", wantErr: []string{"not a GitLab security report"}, notThisKind: true},
	})
}

// gitlabReport is a minimal valid report of a type, with vulnerabilities.
func gitlabReport(version, typ, vulns string) string {
	return `{"version": "` + version + `", "vulnerabilities": [` + vulns + `], "scan": {"type": "` + typ + `", "status": "success",
		"start_time": "2026-01-02T03:04:05", "end_time": "2026-01-02T03:04:09",
		"analyzer": {"id": "semgrep", "name": "Semgrep", "version": "5.1.0", "vendor": {"name": "GitLab"}},
		"scanner": {"id": "semgrep", "name": "Semgrep", "version": "1.90.0", "vendor": {"name": "GitLab"}}}}`
}

func TestCraftGitLabReportShapes(t *testing.T) {
	t.Parallel()
	vuln := func(sev string) string {
		return `{"id": "v-` + sev + `", "severity": "` + sev + `", "identifiers": [{"type": "cwe", "name": "CWE-79", "value": "79"}], "location": {"file": "a.go", "start_line": 3}}`
	}
	sast := func(version, vulns string) string { return gitlabReport(version, "sast", vulns) }
	extra := map[string]string{"reportType": "sast", "schemaVersion": "15.1.4", "tool": "Semgrep", "toolVersion": "1.90.0"}
	runShapeCases(t, contract.KindGitLabSecurityReport, "gl-sast-report.json", []shapeCase{
		{name: "every severity", doc: sast("15.1.4", strings.Join([]string{vuln("Critical"), vuln("High"), vuln("Medium"), vuln("Low"), vuln("Info"), vuln("Unknown")}, ",")),
			want: counted("GitLab SAST report 15.1.4", [6]int{1, 1, 1, 1, 1, 1}, extra)},
		{name: "no vulnerabilities, a patch custody does not embed", doc: sast("15.1.9", ""),
			want: counted("GitLab SAST report 15.1.9", [6]int{}, extra)},
		{name: "a severity GitLab does not know", doc: sast("15.1.4", vuln("Severe")),
			wantErr: []string{"vulnerabilities[0].severity: value must be one of"}},
		{name: "a vulnerability without identifiers", doc: sast("15.1.4", `{"id": "x", "location": {}}`),
			wantErr: []string{"vulnerabilities[0]: missing property 'identifiers'"}},
		{name: "a remediation without its diff", doc: strings.Replace(sast("15.1.4", ""), `"vulnerabilities": []`, `"vulnerabilities": [], "remediations": [{"fixes": [{"id": "x"}], "summary": "s"}]`, 1),
			wantErr: []string{"remediations[0]: missing property 'diff'"}},
		{name: "a scan without its analyzer", doc: strings.Replace(sast("15.1.4", ""), `"analyzer"`, `"analyser"`, 1),
			wantErr: []string{"scan: missing property 'analyzer'"}},
		{name: "a start time not as GitLab writes it", doc: strings.Replace(sast("15.1.4", ""), `"2026-01-02T03:04:05"`, `"2026-01-02 03:04:05"`, 1),
			wantErr: []string{"scan.start_time", "does not match pattern"}},
		{name: "a version of no embedded MAJOR.MINOR", doc: sast("16.0.0", ""),
			wantErr: []string{"schema version 16.0.0 is not supported", "15.0.7, 15.1.4, 15.2.1"}},
		{name: "a version that is no schema version", doc: sast("15.1", ""),
			wantErr: []string{`version "15.1" is not a schema version`}},
		{name: "a report type custody does not read", doc: gitlabReport("15.1.4", "coverage_fuzzing", ""),
			wantErr: []string{`scan.type "coverage_fuzzing" is not supported`}},
		{name: "no scan type", doc: strings.Replace(sast("15.1.4", ""), `"type": "sast", `, "", 1),
			wantErr: []string{"scan.type is missing"}},
		// Each version's own schema: 15.2 added columns to a detail's file location, both or none.
		{name: "a 15.2 file location with a start column and no end", doc: sast("15.2.1", strings.Replace(vuln("Low"), `"location"`,
			`"details": {"f": {"name": "where", "type": "file-location", "file_name": "a.go", "line_start": 3, "column_start": 2}}, "location"`, 1)),
			wantErr: []string{"vulnerabilities[0].details.f", "column_end"}},
		{name: "a 15.1 file location with columns of no meaning to it", doc: sast("15.1.4", strings.Replace(vuln("Low"), `"location"`,
			`"details": {"f": {"name": "where", "type": "file-location", "file_name": "a.go", "line_start": 3, "column_start": 2}}, "location"`, 1)),
			want: counted("GitLab SAST report 15.1.4", [6]int{3: 1}, extra)},
		{name: "a 15.0 dependency scanning report without dependency files", doc: gitlabReport("15.0.7", "dependency_scanning", ""),
			wantErr: []string{"missing property 'dependency_files'"}},
		{name: "a DAST report without its scanned resources", doc: gitlabReport("15.1.4", "dast", ""),
			wantErr: []string{"scan: missing property 'scanned_resources'"}},
		{name: "a dependency scanning vulnerability without its file", doc: gitlabReport("15.1.4", "dependency_scanning",
			`{"id": "x", "identifiers": [{"type": "cve", "name": "CVE-1", "value": "CVE-1"}], "location": {"dependency": {"package": {"name": "p"}, "version": "1"}}}`),
			wantErr: []string{"vulnerabilities[0].location: missing property 'file'"}},
		{name: "vulnerabilities not an array", doc: strings.Replace(sast("15.1.4", ""), `"vulnerabilities": []`, `"vulnerabilities": {}`, 1),
			wantErr: []string{"vulnerabilities is a JSON object, not a JSON array"}},
		{name: "no scan, a version", doc: `{"version": "15.1.4", "vulnerabilities": []}`,
			wantErr: []string{"scan.type is missing"}},
		{name: "a CycloneDX VEX (version a number, no scan)", doc: `{"bomFormat": "CycloneDX", "version": 1, "vulnerabilities": []}`,
			wantErr: []string{"not a GitLab security report"}, notThisKind: true},
	})
}

// TestCraftGitLabReportHeadPastThePrefix: a report whose scan and version come after more than the
// sniffed prefix of vulnerabilities is read twice: once for its head, once to check it.
func TestCraftGitLabReportHeadPastThePrefix(t *testing.T) {
	t.Parallel()
	vuln := `{"id": "v", "severity": "Low", "description": "` + strings.Repeat("x", 1000) + `", "identifiers": [{"type": "cwe", "name": "CWE-1", "value": "1"}], "location": {}}`
	vulns := strings.TrimSuffix(strings.Repeat(vuln+",", sniffLimit/len(vuln)+1), ",")
	report := gitlabReport("15.1.4", "sast", vulns)
	report = strings.Replace(report, `"version": "15.1.4", `, "", 1)
	report = strings.TrimSuffix(report, "}") + `, "version": "15.1.4"}`
	n := sniffLimit/len(vuln) + 1
	runShapeCases(t, contract.KindGitLabSecurityReport, "gl.json", []shapeCase{
		{name: "head after 1 MiB", doc: report, want: counted("GitLab SAST report 15.1.4", [6]int{3: n},
			map[string]string{"reportType": "sast", "schemaVersion": "15.1.4", "tool": "Semgrep", "toolVersion": "1.90.0"})},
	})
}

func TestCraftGitLabReportRestIsBounded(t *testing.T) {
	t.Parallel()
	big := strings.Replace(gitlabReport("15.1.4", "sast", ""), `"vulnerabilities": []`,
		`"vulnerabilities": [], "dependency_files": ["`+strings.Repeat("d", maxGitLabRest)+`"]`, 1)
	runShapeCases(t, contract.KindGitLabSecurityReport, "gl.json", []shapeCase{
		{name: "members other than the streamed arrays past the bound", doc: big,
			wantErr: []string{"the report's members other than vulnerabilities and remediations pass 32 MiB"}},
	})
}

// TestGitLabStreamedArraysArePlain: the arrays read element by element are checked whole as empty
// arrays, which is the same only while their schemas say nothing but their items' (no minItems...).
func TestGitLabStreamedArraysArePlain(t *testing.T) {
	t.Parallel()
	files, err := fs.Glob(gitlabSchemaFS, "schemas/gitlab/*/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("embedded GitLab schemas: %v %v", files, err)
	}
	for _, file := range files {
		data, err := fs.ReadFile(gitlabSchemaFS, file)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Properties map[string]map[string]json.RawMessage `json:"properties"`
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for _, k := range gitlabStreamed {
			for kw := range doc.Properties[k] {
				if kw != "type" && kw != "description" && kw != "items" {
					t.Errorf("%s: properties.%s has %q: checking it as an empty array would not be the same", file, k, kw)
				}
			}
		}
	}
}
