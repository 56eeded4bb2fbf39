package materials

import (
	"maps"
	"testing"

	"github.com/custody-dev/custody/contract"
)

func junitWant(suites, tests, failures, errs, skipped string) map[string]string {
	return map[string]string{
		"format": "JUnit XML", "suites": suites, "tests": tests,
		"failures": failures, "errors": errs, "skipped": skipped,
	}
}

func TestCraftJUnit(t *testing.T) {
	t.Parallel()
	runDocCases(t, contract.KindJUnitXML, []docCase{
		{file: "junit/go-junit-report-pass.junit.xml", want: junitWant("2", "109", "0", "0", "0")},
		{file: "junit/calc-fail.junit.xml", want: junitWant("1", "5", "2", "0", "1")},
		{file: "junit/cas.junit.xml", want: junitWant("1", "0", "0", "0", "0")},
		{file: "junit/pytest.junit.xml", want: junitWant("1", "4", "1", "1", "1")},
		// rspec_junit_formatter writes a bare <testsuite> root.
		{file: "junit/rspec.junit.xml", want: junitWant("1", "3", "1", "0", "1")},
		{file: "junit/broken-truncated.junit.xml", wantErr: []string{"invalid XML at line 8", "unexpected EOF"}},
		{file: "junit/broken-mismatched-tag.junit.xml", wantErr: []string{"invalid XML at line 7", "element <testcase> closed by </testsuite>"}},
		// JUnit.xsd: testsuite minOccurs="0". What a run must hold is a policy's question, not the parser's.
		{file: "junit/empty-testsuites.junit.xml", want: junitWant("0", "0", "0", "0", "0")},
		{file: "other/custody-mod.cdx.xml", wantErr: []string{"root element is <bom>"}, notThisKind: true},
		{file: "other/package.json", wantErr: []string{"no XML root element"}, notThisKind: true},
	})
}

func TestCraftJUnitShapes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, xml   string
		want        map[string]string
		wantErr     []string
		notThisKind bool
	}{
		{
			name: "nested suites, attributes disagreeing with the test cases",
			xml: `<testsuites><testsuite name="a" tests="99"><testsuite name="a/b">
				<testcase name="x"><failure/></testcase><testcase name="y"><error/><system-out>log</system-out></testcase>
				</testsuite></testsuite></testsuites>`,
			want: junitWant("2", "2", "1", "1", "0"),
		},
		{
			name: "ISO-8859-1 declared",
			xml:  "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<testsuite name=\"caf\xe9\"><testcase name=\"t\"><skipped/></testcase></testsuite>",
			want: junitWant("1", "1", "0", "0", "1"),
		},
		{
			name: "a report of no suite, open and closed",
			xml:  `<?xml version="1.0"?><testsuites name="jest tests" tests="0" failures="0" errors="0" time="0.001"></testsuites>`,
			want: junitWant("0", "0", "0", "0", "0"),
		},
		{
			name:        "unknown encoding",
			xml:         `<?xml version="1.0" encoding="EBCDIC"?><testsuite/>`,
			wantErr:     []string{`XML encoding "EBCDIC" is not supported`},
			notThisKind: true,
		},
		{
			name:    "second root",
			xml:     `<testsuite></testsuite><testsuite></testsuite>`,
			wantErr: []string{"a second root element <testsuite>"},
		},
		{
			name:    "text after the root",
			xml:     `<testsuite></testsuite> trailing`,
			wantErr: []string{"text after the root element"},
		},
		{
			name:    "undeclared entity",
			xml:     `<testsuites><testsuite name="&bomb;"/></testsuites>`,
			wantErr: []string{"invalid XML at line 1"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := writeTemp(t, "report.xml", tc.xml)
			m, err := newDocCrafter(t).Craft(t.Context(), contract.KindJUnitXML, path)
			if tc.wantErr != nil {
				checkDocError(t, err, contract.KindJUnitXML, path, tc.wantErr, tc.notThisKind)
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
