package materials

import (
	"fmt"

	"github.com/custody-dev/custody/contract"
)

// CSAF_SECURITY_ADVISORY: a CSAF document of the Security Advisory profile (CSAF 2.0 section 4.4):
// vulnerabilities and their remediations. The CSAF core is in csaf.go.
var csafSecurityAdvisory = csafProfile{
	kind:     contract.KindCSAFSecurityAdvisory,
	category: "csaf_security_advisory",
	check:    checkCSAFSecurityAdvisory,
}

func init() { registerCSAF(csafSecurityAdvisory) }

// checkCSAFSecurityAdvisory applies the profile's rules: a product_tree (mandatory test 6.1.27.4),
// vulnerabilities, each with notes (6.1.27.5) and a product_status (6.1.27.6) whose products the
// tree defines (6.1.1).
func checkCSAFSecurityAdvisory(doc *csafDocument) error {
	const profile = "Security Advisory"
	if doc.ProductTree == nil {
		return fmt.Errorf("product_tree is missing (required by the %s profile)", profile)
	}
	if len(doc.Vulnerabilities) == 0 {
		return fmt.Errorf("vulnerabilities is missing (required by the %s profile)", profile)
	}
	for i, v := range doc.Vulnerabilities {
		switch {
		case len(v.Notes) == 0:
			return fmt.Errorf("vulnerabilities[%d]: notes is missing (required by the %s profile)", i, profile)
		case v.ProductStatus == nil:
			return fmt.Errorf("vulnerabilities[%d]: product_status is missing (required by the %s profile)", i, profile)
		}
	}
	return checkCSAFProductStatuses(doc)
}
