package materials

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/custody-dev/custody/contract"
)

func TestCraftZAPDASTZip(t *testing.T) {
	t.Parallel()
	runDocCases(t, contract.KindZAPDASTZip, []docCase{
		{file: "zap/zap_scan.zip", want: map[string]string{
			"format": "ZAP JSON report", "tool": "ZAP", "toolVersion": "2.16.1", "sites": "1",
			"findings": "6", "findings.critical": "0", "findings.high": "1", "findings.medium": "2",
			"findings.low": "2", "findings.info": "1", "findings.unknown": "0",
		}},
		{file: "junit-archive/ant-reports.zip", notThisKind: true,
			wantErr: []string{"the zip holds no report_json.json (ZAP's JSON report): not ZAP's zip of reports"}},
		{file: "junit-archive/ant-reports.tar.gz", notThisKind: true, wantErr: []string{"not a zip (the file reads as gzip)"}},
		{file: "zap/zap_scan/report_json.json", notThisKind: true, wantErr: []string{"not a zip (the file reads as JSON)"}},
	})
}

// zapReport is the fixture's report_json.json with each old string of replace replaced once.
func zapReport(t *testing.T, replace ...string) string {
	t.Helper()
	data, err := os.ReadFile("testdata/zap/zap_scan/report_json.json")
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	for i := 0; i+1 < len(replace); i += 2 {
		if !strings.Contains(s, replace[i]) {
			t.Fatalf("report_json.json does not hold %q", replace[i])
		}
		s = strings.Replace(s, replace[i], replace[i+1], 1)
	}
	return s
}

// zapZip is a zip of ZAP's three reports, the JSON one given.
func zapZip(t *testing.T, report string) string {
	t.Helper()
	return writeBytes(t, "zap_scan.zip", zipOf(t, zipEntry{name: "report_json.json", body: report},
		zipEntry{name: "report_md.md", body: "# ZAP Scanning Report\n"}, zipEntry{name: "report_html.html", body: "<html></html>\n"}))
}

func TestZAPDASTZipRefuses(t *testing.T) {
	t.Parallel()
	report := zapReport(t)
	runRefusals(t, contract.KindZAPDASTZip, []refusalCase{
		{name: "unknown risk", path: zapZip(t, zapReport(t, `"riskcode": "3"`, `"riskcode": "4"`)),
			wantErr: []string{`report_json.json: read ZAP report: site[0].alerts[0]: riskcode "4" is not one of 0 (Informational), 1 (Low), 2 (Medium), 3 (High)`}},
		{name: "no riskdesc", path: zapZip(t, zapReport(t, `"riskdesc": "High (Medium)",`, ``)),
			wantErr: []string{"site[0].alerts[0] has no riskdesc"}},
		{name: "no riskcode", path: zapZip(t, zapReport(t, `"riskcode": "2",`, ``)),
			wantErr: []string{"site[0].alerts[1] has no riskcode"}},
		{name: "no pluginid", path: zapZip(t, zapReport(t, `"pluginid": "10109",`, ``)),
			wantErr: []string{"site[0].alerts[5] has no pluginid"}},
		{name: "no version", path: zapZip(t, zapReport(t, `"@version": "2.16.1",`, ``)),
			wantErr: []string{"@version (ZAP's version) is missing"}},
		{name: "a site without alerts", path: zapZip(t, zapReport(t, `"alerts": [`, `"findings": [`)),
			wantErr: []string{"site[0] has no alerts"}},
		{name: "a site that is not an object", path: zapZip(t, `{"@version": "2.16.1", "site": ["http://localhost"]}`),
			wantErr: []string{"site[0] is not an object"}},
		{name: "alerts that are not an array", path: zapZip(t, `{"@version": "2.16.1", "site": [{"@name": "h", "alerts": {}}]}`),
			wantErr: []string{"site[0].alerts is not an array"}},
		{name: "broken JSON", path: zapZip(t, report[:len(report)/2]),
			wantErr: []string{"report_json.json: read ZAP report: invalid JSON: unexpected end of document"}},
		{name: "data after the report", path: zapZip(t, report+"{}"),
			wantErr: []string{"read ZAP report: data after the end of the document"}},
		{name: "nested past the depth limit", path: zapZip(t, `{"@version": "1", "insights": `+strings.Repeat("[", maxJSONDepth+1)),
			wantErr: []string{"JSON nests deeper than 10000 levels"}},
		{name: "two JSON reports", path: writeBytes(t, "z.zip", zipOf(t, zipEntry{name: "report_json.json", body: report}, zipEntry{name: "old/report_json.json", body: report})),
			wantErr: []string{"a second report_json.json (old/report_json.json)"}},
		{name: "a report leaving the archive", path: writeBytes(t, "z.zip", zipOf(t, zipEntry{name: "../report_json.json", body: report})),
			wantErr: []string{`entry "../report_json.json" lies outside the archive`}},
		{name: "an entry declaring more than it may hold", path: writeBytes(t, "z.zip", zipOf(t, zipEntry{name: "report_json.json", body: report},
			zipEntry{name: "report_html.html", body: "x", declared: 300 << 20})),
			wantErr: []string{"report_html.html unpacks to 300.0MiB, more than the 256.0MiB allowed for one entry"}},
	})
}

// What ZAP's older reports and rewritten ones hold is accepted: no @programName, the alert's name in
// "alert", a numeric riskcode, no site at all.
func TestZAPDASTZipVariants(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, report string
		want         map[string]string
	}{
		{"numeric risk and old names", zapReport(t, `"@programName": "ZAP",`, ``, `"riskcode": "3"`, `"riskcode": 2`, `"name": "Cross Site Scripting (Reflected)",`, ``),
			map[string]string{"findings": "6", "findings.high": "0", "findings.medium": "3"}},
		{"no site", `{"@programName": "ZAP", "@version": "2.15.0", "site": []}`,
			map[string]string{"findings": "0", "sites": "0", "toolVersion": "2.15.0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := newDocCrafter(t).Craft(t.Context(), contract.KindZAPDASTZip, zapZip(t, tc.report))
			if err != nil {
				t.Fatalf("Craft: %v", err)
			}
			for k, v := range tc.want {
				if m.Validated[k] != v {
					t.Errorf("%s = %q, want %q (%v)", k, m.Validated[k], v, m.Validated)
				}
			}
		})
	}
}

func TestDetectZAPDASTZip(t *testing.T) {
	t.Parallel()
	runDetectCases(t, []detectCase{
		{"testdata/zap/zap_scan.zip", contract.KindZAPDASTZip},
		{"testdata/junit-archive/ant-reports.zip", contract.KindArtifact},
		{"testdata/zap/zap_scan/report_json.json", contract.KindArtifact},
	})
}

func FuzzValidateZAPDASTZip(f *testing.F) {
	f.Add(zipOf(f, zipEntry{name: "report_json.json", body: `{"@version": "1", "site": [{"@name": "h", "alerts": [{"pluginid": "1", "name": "n", "riskcode": "2", "riskdesc": "Medium (Low)"}]}]}`}))
	fuzzSummary(f, validateZAPDASTZip, func(t *testing.T, v map[string]string) {
		sum := 0
		for _, s := range severityKeys {
			n, ok := v["findings."+s]
			if !ok {
				t.Errorf("no findings.%s in %v", s, v)
			}
			sum += atoiOrFail(t, n)
		}
		if total := atoiOrFail(t, v["findings"]); total != sum || v["findings.critical"] != "0" || v["findings.unknown"] != "0" {
			t.Errorf("findings %v do not add up", v)
		}
	}, "zap")
}

func atoiOrFail(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		t.Errorf("%q is not a count", s)
	}
	return n
}
