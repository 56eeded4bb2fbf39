package materials

import (
	"strings"
	"testing"

	"github.com/custody-dev/custody/contract"
)

func TestCraftCobertura(t *testing.T) {
	t.Parallel()
	runDocCases(t, contract.KindCoberturaXML, []docCase{
		// coverage.py 6.5.0 with --branch: 11 of 14 lines, 4 of 6 branches.
		{file: "cobertura/coverage-py.cobertura.xml", want: map[string]string{
			"format": "Cobertura XML", "lineCoverage": "78.57", "linesCovered": "11", "linesValid": "14",
			"branchCoverage": "66.67", "branchesCovered": "4", "branchesValid": "6",
		}},
		// gocover-cobertura: Go's cover profile has no branches, so no branch coverage.
		{file: "cobertura/gocover.cobertura.xml", want: map[string]string{
			"format": "Cobertura XML", "lineCoverage": "53.85", "linesCovered": "7", "linesValid": "13",
			"branchesCovered": "0", "branchesValid": "0",
		}},
		{file: "jacoco/calc.jacoco.xml", notThisKind: true,
			wantErr: []string{"the root element is <report>, not <coverage line-rate=...>: not a Cobertura XML report"}},
		{file: "junit/pytest.junit.xml", notThisKind: true, wantErr: []string{"the root element is <testsuites>"}},
		{file: "sarif/gosec.sarif", notThisKind: true, wantErr: []string{"not XML: the file reads as JSON"}},
	})
}

func TestCoberturaRefuses(t *testing.T) {
	t.Parallel()
	const py, gocover = "cobertura/coverage-py.cobertura.xml", "cobertura/gocover.cobertura.xml"
	runRefusals(t, contract.KindCoberturaXML, []refusalCase{
		{name: "rate over 1", path: fixtureVariant(t, py, `line-rate="0.7857" branches-valid`, `line-rate="78.57" branches-valid`),
			wantErr: []string{`<coverage> line-rate="78.57" is not a rate (a number from 0 to 1)`}},
		{name: "rate not a number", path: fixtureVariant(t, py, `<class name="calc.py" filename="calc.py" complexity="0" line-rate="0.7857"`,
			`<class name="calc.py" filename="calc.py" complexity="0" line-rate="NaN"`),
			wantErr: []string{`<class> line-rate="NaN" is not a rate`}},
		{name: "more covered than valid", path: fixtureVariant(t, py, `lines-covered="11"`, `lines-covered="15"`),
			wantErr: []string{"<coverage> lines-covered=15 is more than lines-valid=14"}},
		{name: "some counts only", path: fixtureVariant(t, py, `branches-valid="6" `, ``),
			wantErr: []string{"<coverage> has some of [lines-covered lines-valid branches-covered branches-valid] but not all"}},
		{name: "no branch-rate", path: fixtureVariant(t, gocover, ` branch-rate="0" version=""`, ` version=""`),
			wantErr: []string{"<coverage> has no branch-rate attribute"}},
		{name: "class without its file", path: fixtureVariant(t, py, ` filename="calc.py"`, ``),
			wantErr: []string{"<class> has no filename attribute"}},
		{name: "line without hits", path: fixtureVariant(t, gocover, `<line number="26" hits="0">`, `<line number="26">`),
			wantErr: []string{"<line> has no hits attribute"}},
		{name: "hits not a count", path: fixtureVariant(t, gocover, `<line number="26" hits="0">`, `<line number="26" hits="many">`),
			wantErr: []string{`<line> hits="many" is not a count`}},
		{name: "element out of place", path: fixtureVariant(t, gocover, `<sources>`, `<classes/><sources>`),
			wantErr: []string{"<classes> may not appear inside <coverage>"}},
		{name: "text where only elements go", path: fixtureVariant(t, gocover, `<packages>`, `<packages>stray`),
			wantErr: []string{"text inside <packages>"}},
		{name: "billion laughs", path: fixtureVariant(t, gocover,
			`<!DOCTYPE coverage SYSTEM "http://cobertura.sourceforge.net/xml/coverage-04.dtd">`,
			`<!DOCTYPE coverage [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>`,
			`<source>/tmp/gocov</source>`, `<source>&lol2;</source>`),
			wantErr: []string{"invalid character entity &lol2;"}},
		{name: "no recursion in the DTD", path: fixtureVariant(t, gocover, `<packages>`, strings.Repeat(`<sources>`, 300)),
			wantErr: []string{"<sources> may not appear inside <sources>"}},
		{name: "clover's coverage", path: writeTemp(t, "clover.xml", `<coverage generated="1" clover="4.4.1"><project timestamp="1"/></coverage>`),
			wantErr: []string{"the root element is <coverage>, not <coverage line-rate=...>"}, notThisKind: true},
	})
}

// A report of the older DTD, without counts, records its rates.
func TestCoberturaRatesOnly(t *testing.T) {
	t.Parallel()
	path := writeTemp(t, "old.xml", `<?xml version="1.0"?><coverage line-rate="0.5" branch-rate="0.25" version="1.9" timestamp="1">`+
		`<packages><package name="p" line-rate="0.5" branch-rate="0.25" complexity="1"><classes/></package></packages></coverage>`)
	m, err := newDocCrafter(t).Craft(t.Context(), contract.KindCoberturaXML, path)
	if err != nil {
		t.Fatalf("Craft: %v", err)
	}
	want := map[string]string{"format": "Cobertura XML", "lineCoverage": "50.00", "branchCoverage": "25.00"}
	if !mapsEqual(m.Validated, want) {
		t.Errorf("Validated = %v, want %v", m.Validated, want)
	}
}

func FuzzValidateCobertura(f *testing.F) { fuzzCoverage(f, validateCobertura, "cobertura", "jacoco") }
