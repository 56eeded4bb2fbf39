package materials

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// fuzzValidator feeds the validator files of the fuzzer's bytes, seeded with every fixture of the
// seed directories. A validator must never panic, and must either accept with something recorded or
// refuse with a reason.
func fuzzValidator(f *testing.F, validate validator, seedDirs ...string) {
	fuzzSummary(f, validate, nil, seedDirs...)
}

// fuzzSummary is fuzzValidator, and check, when not nil, also judges every summary accepted.
func fuzzSummary(f *testing.F, validate validator, check func(t *testing.T, validated map[string]string), seedDirs ...string) {
	for _, dir := range seedDirs {
		paths, err := filepath.Glob(filepath.Join("testdata", dir, "*"))
		if err != nil {
			f.Fatal(err)
		}
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				continue // a directory
			}
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "doc")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		file, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer file.Close()
		validated, err := validate(file)
		if err == nil && len(validated) == 0 {
			t.Errorf("accepted %q with nothing recorded", data)
		}
		if err == nil && check != nil {
			check(t, validated)
		}
		if err != nil && err.Error() == "" {
			t.Errorf("refused %q without a reason", data)
		}
		if err == nil {
			checkFindings(t, validated)
		}
	})
}

// checkFindings checks a scanner's summary is consistent: findings is the sum of findings.critical
// to findings.unknown, and no more than resultCount when the kind records it.
func checkFindings(t *testing.T, validated map[string]string) {
	t.Helper()
	total, ok := validated["findings"]
	if !ok {
		return
	}
	sum := 0
	for _, sev := range severityKeys {
		n, err := strconv.Atoi(validated["findings."+sev])
		if err != nil {
			t.Fatalf("findings.%s = %q: %v", sev, validated["findings."+sev], validated)
		}
		sum += n
	}
	results, err := strconv.Atoi(validated["resultCount"])
	if itoa(sum) != total || (err == nil && sum > results) {
		t.Errorf("findings %s, by severity %d, results %q: %v", total, sum, validated["resultCount"], validated)
	}
}

func FuzzValidateCycloneDX(f *testing.F) { fuzzValidator(f, validateCycloneDX, "cyclonedx", "other") }
func FuzzValidateSPDX(f *testing.F)      { fuzzValidator(f, validateSPDX, "spdx", "other") }
func FuzzValidateJUnit(f *testing.F)     { fuzzValidator(f, validateJUnit, "junit", "other") }
func FuzzValidateSARIF(f *testing.F)     { fuzzValidator(f, validateSARIF, "sarif", "other") }
func FuzzValidateOpenVEX(f *testing.F)   { fuzzValidator(f, validateOpenVEX, "openvex", "other") }
func FuzzValidateHelmChart(f *testing.F) { fuzzValidator(f, validateHelmChart, "helm") }

// FuzzHelmChartYAML fuzzes the Chart.yaml of a well-formed archive: mutations of a whole .tgz
// rarely get past gzip's checksum.
func FuzzHelmChartYAML(f *testing.F) {
	f.Add([]byte(demoChartYAML))
	f.Add([]byte("apiVersion: v1\nname: old\nversion: v1.0\nappVersion: \"1\"\ntype: library\n"))
	f.Add([]byte("a: &a [*a, *a]\nname: *a\n"))
	f.Add([]byte("apiVersion: v2\nname: [demo\n"))
	f.Fuzz(func(t *testing.T, chartYAML []byte) {
		path := filepath.Join(t.TempDir(), "chart.tgz")
		archive := chartTGZ(t, tarEntry{name: "demo/Chart.yaml", body: string(chartYAML)}, tarEntry{name: "demo/values.yaml", body: "{}\n"})
		if err := os.WriteFile(path, archive, 0o600); err != nil {
			t.Fatal(err)
		}
		file, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer file.Close()
		validated, err := validateHelmChart(file)
		if err == nil && (validated["name"] == "" || validated["version"] == "") {
			t.Errorf("accepted Chart.yaml %q without name and version: %v", chartYAML, validated)
		}
	})
}
