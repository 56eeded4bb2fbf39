package materials

import (
	"slices"
	"testing"

	"github.com/custody-dev/custody/contract"
)

func TestCraftOpenVEX(t *testing.T) {
	t.Parallel()
	runDocCases(t, contract.KindOpenVEX, []docCase{
		{file: "openvex/custody.openvex.json", want: map[string]string{
			"format":              "OpenVEX",
			"context":             "https://openvex.dev/ns/v0.2.0",
			"id":                  "https://openvex.dev/docs/public/vex-58861b0b7904a09cd30387bbe5ddcabd47e645f6f95e2fb5f6dc2ac8c32cb2d5",
			"author":              "Custody Security Team <security@custody.example>",
			"statementCount":      "3",
			"status.not_affected": "1", "status.fixed": "1", "status.affected": "1", "status.under_investigation": "0",
		}},
		{file: "openvex/broken-status.openvex.json", wantErr: []string{"statements[1] (CVE-2024-45337)", `invalid status value "maybe"`}},
		{file: "openvex/broken-no-justification.openvex.json", wantErr: []string{"statements[0] (CVE-2024-24790)", "either justification or impact statement must be defined"}},
		{file: "openvex/broken-no-author.openvex.json", wantErr: []string{"author is missing"}},
		{file: "openvex/broken-no-statements.openvex.json", wantErr: []string{"the document has no statements"}},
		{file: "openvex/broken-context-v0.0.1.openvex.json", wantErr: []string{`@context "https://openvex.dev/ns" is not supported`}},
		{file: "openvex/broken-truncated.openvex.json", wantErr: []string{"parse OpenVEX document", "unexpected end of JSON input"}},
		{file: "csaf/custody-vex-2026-0001.json", wantErr: []string{"no OpenVEX @context"}, notThisKind: true},
		{file: "sarif/gosec.sarif", wantErr: []string{"no OpenVEX @context"}, notThisKind: true},
	})
}

// status.* counts the (vulnerability, product) pairs of each status: a pair once per status, a
// statement naming no product once.
func TestCraftOpenVEXStatus(t *testing.T) {
	t.Parallel()
	path := writeTemp(t, "doc.openvex.json", `{"@context": "https://openvex.dev/ns/v0.2.0",
		"@id": "https://openvex.dev/docs/example/vex-1", "author": "A", "timestamp": "2026-01-01T00:00:00Z", "version": 1,
		"statements": [
			{"vulnerability": {"name": "CVE-1"}, "products": [{"@id": "pkg:a"}, {"@id": "pkg:b"}], "status": "affected",
				"action_statement": "upgrade"},
			{"vulnerability": {"name": "CVE-1"}, "products": [{"@id": "pkg:a"}], "status": "affected", "action_statement": "upgrade"},
			{"vulnerability": {"name": "CVE-2"}, "products": [{"identifiers": {"purl": "pkg:c"}}], "status": "under_investigation"},
			{"vulnerability": {"name": "CVE-2"}, "products": [{"identifiers": {"purl": "pkg:c"}}], "status": "fixed"},
			{"vulnerability": {"name": "CVE-3"}, "status": "not_affected", "justification": "component_not_present"}]}`)
	m, err := newDocCrafter(t).Craft(t.Context(), contract.KindOpenVEX, path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"status.affected": "2", "status.not_affected": "1", "status.fixed": "1", "status.under_investigation": "1"}
	for k, v := range want {
		if m.Validated[k] != v {
			t.Errorf("%s = %q, want %q (%v)", k, m.Validated[k], v, m.Validated)
		}
	}
}

func TestCraftOpenVEXCorpus(t *testing.T) {
	t.Parallel()
	path := sharedCorpus(t, "openvex/chainloop-openvex_v0.2.0.json")
	m, err := newDocCrafter(t).Craft(t.Context(), contract.KindOpenVEX, path)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{m.Validated["status.affected"], m.Validated["status.not_affected"], m.Validated["status.fixed"], m.Validated["status.under_investigation"]}
	if want := []string{"0", "2", "3", "0"}; !slices.Equal(got, want) {
		t.Errorf("status affected, not_affected, fixed, under_investigation = %v, want %v", got, want)
	}
}
