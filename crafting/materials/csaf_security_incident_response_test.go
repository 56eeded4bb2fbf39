package materials

import (
	"testing"

	"github.com/custody-dev/custody/contract"
)

func TestCraftCSAFSecurityIncidentResponse(t *testing.T) {
	t.Parallel()
	runDocCases(t, contract.KindCSAFSecurityIncidentResponse, []docCase{
		{file: "csaf/custody-incident-2026-0001.json", want: map[string]string{
			"format": "CSAF", "csafVersion": "2.0", "category": "csaf_security_incident_response",
			"trackingId": "CUSTODY-IR-2026-0001", "publisher": "Custody Security Team", "vulnerabilityCount": "1",
			"status.affected": "1", "status.not_affected": "0", "status.fixed": "1", "status.under_investigation": "0",
		}},
		// OASIS's failing example of mandatory test 6.1.27.1: only a legal disclaimer.
		{file: "csaf/oasis-2.0-tc-6-1-27-01-01.json", wantErr: []string{"document.notes has no note of category description, details, general or summary (required by the Security Incident Response profile)"}},
		{file: "csaf/broken-ir-no-external-reference.json", wantErr: []string{"document.references has no reference of category external"}},
		{file: "csaf/broken-ir-undefined-product.json", wantErr: []string{`vulnerabilities[0]: product_status refers to product "CUSTODY-RUNNER-9999"`}},
		{file: "csaf/custody-vex-2026-0001.json", wantErr: []string{`document.category is "csaf_vex", want "csaf_security_incident_response": add it as CSAF_VEX`}},
		{file: "sarif/gosec.sarif", wantErr: []string{"no document.csaf_version field, not a CSAF document"}, notThisKind: true},
	})
}
