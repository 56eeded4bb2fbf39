package materials

import (
	"testing"

	"github.com/custody-dev/custody/contract"
)

func TestCraftCSAF(t *testing.T) {
	t.Parallel()
	runDocCases(t, contract.KindCSAFVEX, []docCase{
		{file: "csaf/custody-vex-2026-0001.json", want: map[string]string{
			"format": "CSAF", "csafVersion": "2.0", "category": "csaf_vex",
			"trackingId": "CUSTODY-VEX-2026-0001", "publisher": "Custody Security Team", "vulnerabilityCount": "3",
		}},
		{file: "csaf/avendor-advisory-0004.json", want: map[string]string{
			"format": "CSAF", "csafVersion": "2.0", "category": "csaf_vex",
			"trackingId": "Avendor-advisory-0004", "publisher": "ACME Inc.", "vulnerabilityCount": "2",
		}},
		{file: "csaf/broken-category.json", wantErr: []string{`document.category is "csaf_security_advisory", want "csaf_vex"`}},
		{file: "csaf/broken-csaf-version.json", wantErr: []string{`document.csaf_version "2.1" is not supported`}},
		{file: "csaf/broken-no-tracking-id.json", wantErr: []string{"document.tracking.id is missing"}},
		{file: "csaf/broken-no-product-tree.json", wantErr: []string{"product_tree is missing"}},
		{file: "csaf/broken-undefined-product.json", wantErr: []string{`vulnerabilities[2]: product_status refers to product "CUSTODY-9.9.9"`}},
		{file: "csaf/broken-not-affected-no-impact.json", wantErr: []string{`known_not_affected product "CUSTODY-0.1.0" has no impact statement`}},
		{file: "csaf/broken-affected-no-remediation.json", wantErr: []string{`known_affected product "CUSTODY-0.1.0" has no remediation`}},
		{file: "csaf/broken-truncated.json", wantErr: []string{"read CSAF document", "truncated"}},
		{file: "openvex/custody.openvex.json", wantErr: []string{"no document.csaf_version field"}, notThisKind: true},
		{file: "spdx/custody.spdx.json", wantErr: []string{"no document.csaf_version field"}, notThisKind: true},
	})
}
