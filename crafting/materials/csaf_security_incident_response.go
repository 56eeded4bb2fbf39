package materials

import (
	"github.com/custody-dev/custody/contract"
)

// CSAF_SECURITY_INCIDENT_RESPONSE: a CSAF document of the Security Incident Response profile (CSAF
// 2.0 section 4.2): the response to a security breach or incident. The CSAF core is in csaf.go.
var csafSecurityIncidentResponse = csafProfile{
	kind:     contract.KindCSAFSecurityIncidentResponse,
	category: "csaf_security_incident_response",
	check:    checkCSAFSecurityIncidentResponse,
}

func init() { registerCSAF(csafSecurityIncidentResponse) }

// checkCSAFSecurityIncidentResponse applies the profile's rules: a note about the response
// (mandatory test 6.1.27.1) and an external reference (6.1.27.2); the products of any
// vulnerability's product_status defined in the product tree (6.1.1).
func checkCSAFSecurityIncidentResponse(doc *csafDocument) error {
	if err := checkCSAFDocumentNotesAndReferences(doc, "Security Incident Response"); err != nil {
		return err
	}
	return checkCSAFProductStatuses(doc)
}
