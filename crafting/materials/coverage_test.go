package materials

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/custody-dev/custody/contract"
)

// fixtureVariant writes a copy of testdata/file with each old string of replace (old, new, ...)
// replaced once, and returns its path. The test fails if an old string is not in the file.
func fixtureVariant(t *testing.T, file string, replace ...string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	for i := 0; i+1 < len(replace); i += 2 {
		if !strings.Contains(s, replace[i]) {
			t.Fatalf("%s does not hold %q", file, replace[i])
		}
		s = strings.Replace(s, replace[i], replace[i+1], 1)
	}
	return writeTemp(t, filepath.Base(file), s)
}

// refusalCase is a file refused as a kind, with what the error must say.
type refusalCase struct {
	name        string
	path        string
	wantErr     []string
	notThisKind bool
}

func runRefusals(t *testing.T, kind contract.Kind, cases []refusalCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := newDocCrafter(t).Craft(t.Context(), kind, tc.path)
			if err == nil {
				t.Fatalf("Craft(%s) accepted it: %v", kind, m.Validated)
			}
			checkDocError(t, err, kind, tc.path, tc.wantErr, tc.notThisKind)
		})
	}
}

func TestPercent(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		covered, valid int64
		want           string
	}{
		{12, 18, "66.67"}, {11, 18, "61.11"}, {1, 3, "33.33"}, {2, 3, "66.67"},
		{0, 5, "0.00"}, {5, 5, "100.00"}, {9, 16, "56.25"}, {1, 8, "12.50"},
	} {
		got := map[string]string{}
		coverageSummary(got, tc.covered, tc.valid, 0, 0)
		if got["lineCoverage"] != tc.want {
			t.Errorf("%d of %d = %q, want %q", tc.covered, tc.valid, got["lineCoverage"], tc.want)
		}
		if _, ok := got["branchCoverage"]; ok {
			t.Errorf("0 of 0 branches recorded a branchCoverage %q, want none", got["branchCoverage"])
		}
	}
}

// fuzzCoverage fuzzes a coverage validator: no panic, and an accepted report's summary is
// consistent: covered at most valid, each percentage what its counts make (or absent with none).
func fuzzCoverage(f *testing.F, validate validator, seedDirs ...string) {
	fuzzSummary(f, validate, func(t *testing.T, v map[string]string) {
		if v["format"] == "" {
			t.Errorf("no format in %v", v)
		}
		for _, what := range []string{"line", "branch"} {
			covered, hasCounts := v[what+"sCovered"]
			if !hasCounts {
				continue // a report without counts records its rates
			}
			c, err1 := strconv.ParseInt(covered, 10, 64)
			n, err2 := strconv.ParseInt(v[what+"sValid"], 10, 64)
			if err1 != nil || err2 != nil || c < 0 || c > n {
				t.Errorf("%ss: %s covered of %s valid", what, covered, v[what+"sValid"])
				continue
			}
			pct, has := v[what+"Coverage"]
			switch {
			case n == 0 && has:
				t.Errorf("%sCoverage %q of nothing to cover", what, pct)
			case n > 0 && pct != percent(float64(c)/float64(n)):
				t.Errorf("%sCoverage %q, want %s of %d", what, pct, covered, n)
			}
		}
	}, seedDirs...)
}

// Coverage reports are detected by their root element; an XML root of neither is passed over.
func TestDetectCoverageReports(t *testing.T) {
	t.Parallel()
	clover := writeTemp(t, "clover.xml", `<?xml version="1.0"?><coverage generated="1" clover="4.4.1"><project timestamp="1"/></coverage>`)
	runDetectCases(t, []detectCase{
		{"testdata/jacoco/calc.jacoco.xml", contract.KindJaCoCoXML},
		{"testdata/jacoco/modules.jacoco.xml", contract.KindJaCoCoXML},
		{"testdata/cobertura/coverage-py.cobertura.xml", contract.KindCoberturaXML},
		{"testdata/cobertura/gocover.cobertura.xml", contract.KindCoberturaXML},
		{clover, contract.KindArtifact},
	})
}

// detectCase is a file and the kind auto-detection must give it.
type detectCase struct {
	path string
	want contract.Kind
}

func runDetectCases(t *testing.T, cases []detectCase) {
	t.Helper()
	for _, tc := range cases {
		m, err := newDocCrafter(t).Detect(t.Context(), tc.path)
		if err != nil {
			t.Errorf("Detect(%s): %v", tc.path, err)
			continue
		}
		if m.Kind != tc.want {
			t.Errorf("Detect(%s) = %s, want %s", tc.path, m.Kind, tc.want)
		}
	}
}
