package materials

import (
	"errors"

	"github.com/custody-dev/custody/contract"
)

// CSAF_INFORMATIONAL_ADVISORY: a CSAF document of the Informational Advisory profile (CSAF 2.0
// section 4.3): information not related to a vulnerability, such as a misconfiguration. The CSAF
// core is in csaf.go.
var csafInformationalAdvisory = csafProfile{
	kind:     contract.KindCSAFInformationalAdvisory,
	category: "csaf_informational_advisory",
	check:    checkCSAFInformationalAdvisory,
}

func init() { registerCSAF(csafInformationalAdvisory) }

// checkCSAFInformationalAdvisory applies the profile's rules: a note saying what the advisory is
// about (mandatory test 6.1.27.1), an external reference (6.1.27.2), and no vulnerabilities
// (6.1.27.3).
func checkCSAFInformationalAdvisory(doc *csafDocument) error {
	if err := checkCSAFDocumentNotesAndReferences(doc, "Informational Advisory"); err != nil {
		return err
	}
	if len(doc.Vulnerabilities) > 0 {
		return errors.New("vulnerabilities is there: the Informational Advisory profile forbids it (add a document about vulnerabilities as CSAF_SECURITY_ADVISORY)")
	}
	return nil
}
