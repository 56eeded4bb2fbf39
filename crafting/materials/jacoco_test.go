package materials

import (
	"strings"
	"testing"

	"github.com/custody-dev/custody/contract"
)

// calcJaCoCo is what calc.jacoco.xml and modules.jacoco.xml (the same run, grouped) record: their
// report-level LINE (6 missed, 12 covered) and BRANCH (7, 11) counters.
func calcJaCoCo(name string) map[string]string {
	return map[string]string{
		"format": "JaCoCo XML", "name": name,
		"lineCoverage": "66.67", "linesCovered": "12", "linesValid": "18",
		"branchCoverage": "61.11", "branchesCovered": "11", "branchesValid": "18",
	}
}

func TestCraftJaCoCo(t *testing.T) {
	t.Parallel()
	runDocCases(t, contract.KindJaCoCoXML, []docCase{
		{file: "jacoco/calc.jacoco.xml", want: calcJaCoCo("calc")},
		{file: "jacoco/modules.jacoco.xml", want: calcJaCoCo("modules")},
		{file: "cobertura/gocover.cobertura.xml", notThisKind: true,
			wantErr: []string{"the root element is <coverage>", "not a JaCoCo XML report"}},
		{file: "junit/calc-fail.junit.xml", notThisKind: true, wantErr: []string{"the root element is <testsuites>"}},
		{file: "cyclonedx/custody-mod.cdx.json", notThisKind: true, wantErr: []string{"not XML: the file reads as JSON"}},
	})
}

func TestJaCoCoRefuses(t *testing.T) {
	t.Parallel()
	const file = "jacoco/calc.jacoco.xml"
	runRefusals(t, contract.KindJaCoCoXML, []refusalCase{
		{name: "unknown counter type", path: fixtureVariant(t, file, `type="LINE" missed="6"`, `type="LINES" missed="6"`),
			wantErr: []string{`<counter> type "LINES" is not one of INSTRUCTION, BRANCH, LINE`}},
		{name: "negative count", path: fixtureVariant(t, file, `missed="6" covered="12"`, `missed="-6" covered="12"`),
			wantErr: []string{`<counter> missed="-6" is not a count`}},
		{name: "counter without covered", path: fixtureVariant(t, file, `missed="6" covered="12"`, `missed="6"`),
			wantErr: []string{"<counter> has no covered attribute"}},
		{name: "line without its branch counts", path: fixtureVariant(t, file, ` mb="0" cb="0"/>`, `/>`),
			wantErr: []string{"<line> has no mb attribute"}},
		{name: "element out of place", path: fixtureVariant(t, file, `<sessioninfo`, `<package name="p"><method name="m" desc="()V"/></package><sessioninfo`),
			wantErr: []string{"<method> may not appear inside <package>"}},
		{name: "foreign element", path: fixtureVariant(t, file, `<sessioninfo`, `<coverage/><sessioninfo`),
			wantErr: []string{"unexpected element <coverage>"}},
		{name: "two report totals", path: fixtureVariant(t, file, `</report>`, `<counter type="LINE" missed="0" covered="1"/></report>`),
			wantErr: []string{"the report has two LINE counters of its own"}},
		{name: "text in the report", path: fixtureVariant(t, file, `<sessioninfo`, `hello<sessioninfo`),
			wantErr: []string{"text inside <report>"}},
		{name: "truncated", path: fixtureVariant(t, file, `</report>`, ``),
			wantErr: []string{"read JaCoCo report: invalid XML at line 1: unexpected EOF"}},
		{name: "a second root", path: fixtureVariant(t, file, `</report>`, `</report><report name="again"/>`),
			wantErr: []string{"a second root element <report>"}},
		{name: "an entity it does not declare", path: fixtureVariant(t, file, `<sessioninfo id="`, `<sessioninfo id="&xxe;`),
			wantErr: []string{"read JaCoCo report: invalid XML at line 1: invalid character entity &xxe;"}},
		{name: "an entity it does not declare in the root", path: fixtureVariant(t, file, `<report name="calc">`, `<report name="&xxe;">`),
			wantErr: []string{"no XML root element (invalid XML at line 1: invalid character entity &xxe;)"}, notThisKind: true},
		{name: "nested too deep", path: fixtureVariant(t, file, `<sessioninfo`,
			strings.Repeat(`<group name="g">`, maxXMLDepth)+strings.Repeat(`</group>`, maxXMLDepth)+`<sessioninfo`),
			wantErr: []string{"elements nest deeper than 256 levels"}},
		{name: "a report of another namespace", path: fixtureVariant(t, file, `<report name="calc">`, `<report xmlns="urn:other" name="calc">`),
			wantErr: []string{"the root element is <urn:other:report>, not <report name=...>: not a JaCoCo XML report"}, notThisKind: true},
	})
}

// An external DTD in the DOCTYPE is never fetched: a report naming one at an address that cannot be
// reached validates as well as one naming JaCoCo's.
func TestJaCoCoExternalDTDNotFetched(t *testing.T) {
	t.Parallel()
	path := fixtureVariant(t, "jacoco/calc.jacoco.xml", `"report.dtd"`, `"http://127.0.0.1:1/report.dtd"`)
	m, err := newDocCrafter(t).Craft(t.Context(), contract.KindJaCoCoXML, path)
	if err != nil {
		t.Fatalf("Craft: %v", err)
	}
	if m.Validated["lineCoverage"] != "66.67" {
		t.Errorf("Validated = %v", m.Validated)
	}
}

// A report of nothing covered has no LINE or BRANCH counter of its own (JaCoCo writes none whose
// total is 0): counts of 0, no percentages.
func TestJaCoCoEmptyReport(t *testing.T) {
	t.Parallel()
	path := writeTemp(t, "empty.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`+
		`<!DOCTYPE report PUBLIC "-//JACOCO//DTD Report 1.1//EN" "report.dtd"><report name="empty"><sessioninfo id="s" start="1" dump="2"/></report>`)
	m, err := newDocCrafter(t).Craft(t.Context(), contract.KindJaCoCoXML, path)
	if err != nil {
		t.Fatalf("Craft: %v", err)
	}
	want := map[string]string{"format": "JaCoCo XML", "name": "empty", "linesCovered": "0", "linesValid": "0", "branchesCovered": "0", "branchesValid": "0"}
	if !mapsEqual(m.Validated, want) {
		t.Errorf("Validated = %v, want %v", m.Validated, want)
	}
}

func FuzzValidateJaCoCo(f *testing.F) { fuzzCoverage(f, validateJaCoCo, "jacoco", "cobertura") }
