package materials

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// fuzzScanner feeds a scanner validator files of the fuzzer's bytes, seeded with the fixtures of the
// seed directories. It must never panic; what it accepts must record a format and, when it counts
// findings, every severity key, adding up to the total.
func fuzzScanner(f *testing.F, validate validator, seedDirs ...string) {
	for _, dir := range seedDirs {
		paths, err := filepath.Glob(filepath.Join("testdata", dir, "*"))
		if err != nil {
			f.Fatal(err)
		}
		for _, p := range paths {
			if data, err := os.ReadFile(p); err == nil {
				f.Add(data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "report")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		file, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer file.Close()
		v, err := validate(file)
		if err != nil {
			if err.Error() == "" {
				t.Errorf("refused %q without a reason", data)
			}
			return
		}
		if v["format"] == "" {
			t.Errorf("accepted %q with no format: %v", data, v)
		}
		total, ok := v["findings"]
		if !ok {
			return
		}
		sum := 0
		for _, k := range severityKeys {
			n, err := strconv.Atoi(v["findings."+k])
			if err != nil {
				t.Fatalf("findings.%s = %q in %v", k, v["findings."+k], v)
			}
			sum += n
		}
		if strconv.Itoa(sum) != total {
			t.Errorf("findings %s, severities add up to %d: %v", total, sum, v)
		}
	})
}

func FuzzValidateGitLabReport(f *testing.F) {
	fuzzScanner(f, validateGitLabReport, "gitlab", "sarif")
}
func FuzzValidateGHASCodeScan(f *testing.F)   { fuzzScanner(f, validateGHASCodeScan, "ghas") }
func FuzzValidateGHASSecretScan(f *testing.F) { fuzzScanner(f, validateGHASSecretScan, "ghas") }
func FuzzValidateGHASDependencyScan(f *testing.F) {
	fuzzScanner(f, validateGHASDependencyScan, "ghas")
}
func FuzzValidateGitleaks(f *testing.F) { fuzzScanner(f, validateGitleaks, "gitleaks", "ghas") }
func FuzzValidateTrufflehog(f *testing.F) {
	fuzzScanner(f, validateTrufflehog, "trufflehog", "gitleaks")
}
func FuzzValidateScorecard(f *testing.F) { fuzzScanner(f, validateScorecard, "scorecard") }
func FuzzValidateBlackDuck(f *testing.F) { fuzzScanner(f, validateBlackDuck, "blackduck") }
func FuzzValidateTwistcli(f *testing.F)  { fuzzScanner(f, validateTwistcli, "twistcli") }
func FuzzValidateCheckmarx(f *testing.F) { fuzzScanner(f, validateCheckmarx, "checkmarx") }
