package materials

import (
	"testing"

	"github.com/custody-dev/custody/contract"
)

func TestCraftCSAFInformationalAdvisory(t *testing.T) {
	t.Parallel()
	rhsa := func(version string) map[string]string {
		// No vulnerabilities, so no product status to count.
		return map[string]string{
			"format": "CSAF", "csafVersion": version, "category": "csaf_informational_advisory",
			"trackingId": "RHSA-2019:1862", "publisher": "Red Hat Product Security", "vulnerabilityCount": "0",
		}
	}
	runDocCases(t, contract.KindCSAFInformationalAdvisory, []docCase{
		{file: "csaf/oasis-2.0-rhsa-2019_1862.json", want: rhsa("2.0")},
		{file: "csaf/oasis-2.1-rhsa-2019_1862.json", want: rhsa("2.1")},
		{file: "csaf/broken-ia-no-external-reference.json", wantErr: []string{"document.references has no reference of category external (required by the Informational Advisory profile)"}},
		{file: "csaf/broken-ia-vulnerabilities.json", wantErr: []string{"vulnerabilities is there: the Informational Advisory profile forbids it"}},
		{file: "csaf/oasis-2.0-bsi-2022-0001.json", wantErr: []string{`document.category is "csaf_security_advisory", want "csaf_informational_advisory": add it as CSAF_SECURITY_ADVISORY`}},
		{file: "spdx/custody.spdx.json", wantErr: []string{"no document.csaf_version field, not a CSAF document"}, notThisKind: true},
	})
}
