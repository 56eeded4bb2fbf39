package materials

import (
	"testing"

	"github.com/custody-dev/custody/contract"
)

func TestCraftOpenVEX(t *testing.T) {
	t.Parallel()
	runDocCases(t, contract.KindOpenVEX, []docCase{
		{file: "openvex/custody.openvex.json", want: map[string]string{
			"format":         "OpenVEX",
			"context":        "https://openvex.dev/ns/v0.2.0",
			"id":             "https://openvex.dev/docs/public/vex-58861b0b7904a09cd30387bbe5ddcabd47e645f6f95e2fb5f6dc2ac8c32cb2d5",
			"author":         "Custody Security Team <security@custody.example>",
			"statementCount": "3",
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
