package materials

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/custody-dev/custody/contract"
)

// scannerKinds are the kinds of scanners' reports.
var scannerKinds = []contract.Kind{
	contract.KindGitLabSecurityReport, contract.KindOSSFScorecardJSON, contract.KindCheckmarxJSON,
	contract.KindTwistcliScanJSON, contract.KindBlackDuckSCAJSON, contract.KindGHASCodeScan,
	contract.KindGHASSecretScan, contract.KindGHASDependencyScan, contract.KindGitleaksJSON,
	contract.KindTrufflehogJSON,
}

// claimants returns every kind of fileDetectOrder that claims the file, in order.
func claimants(t *testing.T, path string) []contract.Kind {
	t.Helper()
	s, err := sniffPath(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []contract.Kind
	for _, c := range fileDetectOrder {
		if c.claims(s) {
			kinds = append(kinds, c.kind)
		}
	}
	return kinds
}

// TestScannerClaims proves the scanner kinds' markers apart: each scanner fixture is claimed by its
// kind and by no other kind of fileDetectOrder, and no fixture of the other JSON kinds is claimed by
// a scanner kind.
func TestScannerClaims(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file string
		kind contract.Kind // "": claimed by no kind (an empty report: the kind must be named)
	}{
		{"gitlab/chainloop-gl-sast-report.json", contract.KindGitLabSecurityReport},
		{"gitlab/chainloop-gl-secret-detection-report.json", contract.KindGitLabSecurityReport},
		{"gitlab/chainloop-gl-container-scanning-report.json", contract.KindGitLabSecurityReport},
		{"gitlab/chainloop-gl-sonarqube-report.json", contract.KindGitLabSecurityReport},
		{"scorecard/scorecard-check1.json", contract.KindOSSFScorecardJSON},
		{"scorecard/scorecard-check3.json", contract.KindOSSFScorecardJSON},
		{"scorecard/chainloop-scorecard.json", contract.KindOSSFScorecardJSON},
		{"checkmarx/chainloop-checkmarx.json", contract.KindCheckmarxJSON},
		{"checkmarx/chainloop-checkmarx-clean.json", contract.KindCheckmarxJSON},
		{"checkmarx/chainloop-checkmarx-null-results.json", contract.KindCheckmarxJSON},
		{"checkmarx/chainloop-checkmarx-extra-engines.json", contract.KindCheckmarxJSON},
		{"twistcli/chainloop-twistcli_scan.json", contract.KindTwistcliScanJSON},
		{"blackduck/chainloop-blackduck_sca.json", contract.KindBlackDuckSCAJSON},
		{"blackduck/chainloop-blackduck_sca_missing_fields.json", contract.KindBlackDuckSCAJSON},
		{"ghas/github-code-scanning-alerts.json", contract.KindGHASCodeScan},
		{"ghas/chainloop-ghas-code-scan.json", contract.KindGHASCodeScan},
		{"ghas/github-secret-scanning-alerts.json", contract.KindGHASSecretScan},
		{"ghas/chainloop-ghas-secret-scan.json", contract.KindGHASSecretScan},
		{"ghas/github-dependabot-alerts.json", contract.KindGHASDependencyScan},
		{"ghas/github-dependabot-alerts-as-published.json", contract.KindGHASDependencyScan},
		{"ghas/chainloop-ghas-dependency-scan.json", contract.KindGHASDependencyScan},
		{"gitleaks/aws-key.gitleaks.json", contract.KindGitleaksJSON},
		{"gitleaks/aws-key-redacted.gitleaks.json", contract.KindGitleaksJSON},
		{"gitleaks/clean.gitleaks.json", ""},
		{"trufflehog/chainloop-trufflehog-report.json", contract.KindTrufflehogJSON},
		{"trufflehog/aws-key-git.trufflehog.jsonl", contract.KindTrufflehogJSON},
		{"trufflehog/secrets-filesystem.trufflehog.jsonl", contract.KindTrufflehogJSON},
		{"trufflehog/clean.trufflehog.jsonl", ""},
	} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			got := claimants(t, filepath.Join("testdata", tc.file))
			var want []contract.Kind
			if tc.kind != "" {
				want = []contract.Kind{tc.kind}
			}
			if !slices.Equal(got, want) {
				t.Errorf("claimed by %v, want %v", got, want)
			}
		})
	}
	others, err := filepath.Glob("testdata/*/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range others {
		dir := filepath.Base(filepath.Dir(p))
		if !slices.Contains([]string{"cyclonedx", "spdx", "csaf", "openvex", "sarif", "attestation", "other", "slsa", "jacoco", "cobertura", "zap", "junit", "junit-archive", "helm"}, dir) {
			continue
		}
		t.Run(p, func(t *testing.T) {
			t.Parallel()
			if info, err := os.Stat(p); err != nil || info.IsDir() {
				return
			}
			for _, k := range claimants(t, p) {
				if slices.Contains(scannerKinds, k) {
					t.Errorf("%s claims a %s fixture", k, dir)
				}
			}
		})
	}
}

// TestDetectScanners detects the scanner fixtures through Detect: each is recorded as its kind, or
// stops with its kind's error when it is of the kind but broken, or is an ARTIFACT when no kind claims it.
func TestDetectScanners(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file    string
		kind    contract.Kind
		wantErr string // the error of kind
	}{
		{file: "gitlab/chainloop-gl-sast-report.json", kind: contract.KindGitLabSecurityReport},
		{file: "scorecard/chainloop-scorecard.json", kind: contract.KindOSSFScorecardJSON},
		{file: "checkmarx/chainloop-checkmarx-null-results.json", kind: contract.KindCheckmarxJSON},
		{file: "twistcli/chainloop-twistcli_scan.json", kind: contract.KindTwistcliScanJSON},
		{file: "blackduck/chainloop-blackduck_sca.json", kind: contract.KindBlackDuckSCAJSON},
		{file: "blackduck/chainloop-blackduck_sca_missing_fields.json", kind: contract.KindBlackDuckSCAJSON, wantErr: "the report has no detailedProjectVersionCustomFields"},
		{file: "ghas/github-code-scanning-alerts.json", kind: contract.KindGHASCodeScan},
		{file: "ghas/chainloop-ghas-secret-scan.json", kind: contract.KindGHASSecretScan},
		{file: "ghas/github-dependabot-alerts.json", kind: contract.KindGHASDependencyScan},
		{file: "gitleaks/aws-key.gitleaks.json", kind: contract.KindGitleaksJSON},
		{file: "gitleaks/clean.gitleaks.json", kind: contract.KindArtifact},
		{file: "trufflehog/chainloop-trufflehog-report.json", kind: contract.KindTrufflehogJSON},
		{file: "trufflehog/secrets-filesystem.trufflehog.jsonl", kind: contract.KindTrufflehogJSON},
		{file: "trufflehog/clean.trufflehog.jsonl", kind: contract.KindArtifact},
	} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join("testdata", tc.file)
			m, err := newDocCrafter(t).Detect(t.Context(), path)
			if tc.wantErr != "" {
				checkDocError(t, err, tc.kind, path, []string{tc.wantErr}, false)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Kind != tc.kind {
				t.Errorf("detected as %s, want %s", m.Kind, tc.kind)
			}
		})
	}
}

// TestDetectCorpusScanners detects the corpus's files of the formats the scanner kinds read, which
// the corpus keeps in unsupported/ (they were ARTIFACTs before these kinds).
func TestDetectCorpusScanners(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(corpusDir); errors.Is(err, os.ErrNotExist) {
		t.Skipf("the corpus is not here (%v): it is ../shared/corpus/materials beside the clone", err)
	}
	for file, want := range map[string]contract.Kind{
		"unsupported/chainloop-gl-sast-report.json":             contract.KindGitLabSecurityReport,
		"unsupported/chainloop-ghas-code-scan.json":             contract.KindGHASCodeScan,
		"unsupported/chainloop-gitleaks-report-violations.json": contract.KindGitleaksJSON,
		"unsupported/chainloop-random.json":                     contract.KindArtifact,
	} {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			m, err := newDocCrafter(t).Detect(t.Context(), filepath.Join(corpusDir, file))
			if err != nil {
				t.Fatal(err)
			}
			if m.Kind != want {
				t.Errorf("detected as %s, want %s", m.Kind, want)
			}
		})
	}
}

// TestEveryKindIsCrafted: every kind a contract can name has a crafter, and every file kind that
// detection asks is one of them.
func TestEveryKindIsCrafted(t *testing.T) {
	t.Parallel()
	for _, k := range contract.Kinds() {
		if _, ok := crafters[k]; !ok {
			t.Errorf("kind %s has no crafter", k)
		}
	}
	for _, c := range fileDetectOrder {
		if !c.kind.Valid() {
			t.Errorf("fileDetectOrder asks %s, which is no kind", c.kind)
		}
	}
}
