package materials

import (
	"testing"

	"github.com/custody-dev/custody/contract"
)

func TestCraftCSAFSecurityAdvisory(t *testing.T) {
	t.Parallel()
	bsi := func(version string) map[string]string {
		return map[string]string{
			"format": "CSAF", "csafVersion": version, "category": "csaf_security_advisory",
			"trackingId": "BSI-2022-0001", "publisher": "Bundesamt für Sicherheit in der Informationstechnik", "vulnerabilityCount": "1",
			// known_affected 5, fixed and first_fixed the same product.
			"status.affected": "5", "status.not_affected": "0", "status.fixed": "1", "status.under_investigation": "0",
		}
	}
	runDocCases(t, contract.KindCSAFSecurityAdvisory, []docCase{
		{file: "csaf/oasis-2.0-bsi-2022-0001.json", want: bsi("2.0")},
		{file: "csaf/oasis-2.1-bsi-2022-0001.json", want: bsi("2.1")},
		{file: "csaf/oasis-2.0-rhsa-2021_5186.json", want: map[string]string{
			"format": "CSAF", "csafVersion": "2.0", "category": "csaf_security_advisory",
			"trackingId": "RHSA-2021:5186", "publisher": "Red Hat Product Security", "vulnerabilityCount": "2",
			"status.affected": "0", "status.not_affected": "4", "status.fixed": "2", "status.under_investigation": "0",
		}},
		// A VEX document under the security advisory category: it meets the profile.
		{file: "csaf/broken-category.json", want: map[string]string{
			"format": "CSAF", "csafVersion": "2.0", "category": "csaf_security_advisory",
			"trackingId": "CUSTODY-VEX-2026-0001", "publisher": "Custody Security Team", "vulnerabilityCount": "3",
			"status.affected": "1", "status.not_affected": "2", "status.fixed": "1", "status.under_investigation": "1",
		}},
		// OASIS's failing example of mandatory test 6.1.27.4.
		{file: "csaf/oasis-2.0-tc-6-1-27-04-01.json", wantErr: []string{"product_tree is missing (required by the Security Advisory profile)"}},
		{file: "csaf/broken-sa-no-notes.json", wantErr: []string{"vulnerabilities[0]: notes is missing (required by the Security Advisory profile)"}},
		{file: "csaf/broken-sa-no-product-status.json", wantErr: []string{"vulnerabilities[0]: product_status is missing"}},
		{file: "csaf/broken-sa-undefined-product.json", wantErr: []string{`vulnerabilities[0]: product_status refers to product "CSAFPID-9999", which the product_tree does not define`}},
		{file: "csaf/custody-vex-2026-0001.json", wantErr: []string{`document.category is "csaf_vex", want "csaf_security_advisory": add it as CSAF_VEX`}},
		{file: "csaf/broken-csaf-version.json", wantErr: []string{`document.csaf_version "2.2" is not supported`}},
		{file: "csaf/broken-truncated.json", wantErr: []string{"read CSAF document", "truncated"}},
		{file: "openvex/custody.openvex.json", wantErr: []string{"no document.csaf_version field, not a CSAF document"}, notThisKind: true},
	})
}
