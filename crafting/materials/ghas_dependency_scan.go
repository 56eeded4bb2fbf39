package materials

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
)

func init() { register(contract.KindGHASDependencyScan, craftGHASDependencyScan) }

func craftGHASDependencyScan(ctx context.Context, c *Crafter, value string) (*attestation.Material, error) {
	return c.craftFile(ctx, value, validateGHASDependencyScan)
}

var ghasDependencyScanMarkers = []string{"number", "dependency", "security_advisory"}

// claimsGHASDependencyScan: a JSON array whose first alert has number, dependency and
// security_advisory.
func claimsGHASDependencyScan(s *sniffed) bool { return arrayClaims(s, ghasDependencyScanMarkers...) }

// dependabotSeverities maps a GitHub advisory's severity.
var dependabotSeverities = map[string]severity{
	"critical": sevCritical, "high": sevHigh, "medium": sevMedium, "low": sevLow,
}

type dependabotAlert struct {
	ghasAlert
	Dependency *struct {
		Package *struct {
			Ecosystem *string `json:"ecosystem"`
			Name      *string `json:"name"`
		} `json:"package"`
	} `json:"dependency"`
	SecurityAdvisory *struct {
		GHSAID   *string `json:"ghsa_id"`
		Severity *string `json:"severity"`
	} `json:"security_advisory"`
}

// validateGHASDependencyScan accepts GitHub's Dependabot alerts of a repository: each alert valid
// against GitHub's schema, with number, state, dependency.package (ecosystem and name) and
// security_advisory (ghsa_id and severity, which the alert counts by).
func validateGHASDependencyScan(f *os.File) (map[string]string, error) {
	export := ghasExport{
		what: "GitHub Dependabot alerts", def: "dependabot-alert", markers: ghasDependencyScanMarkers,
		count: func(where string, raw json.RawMessage) (severity, string, error) {
			var a dependabotAlert
			if err := decodeElement(where, raw, &a); err != nil {
				return 0, "", err
			}
			if err := a.check(where); err != nil {
				return 0, "", err
			}
			d, adv := a.Dependency, a.SecurityAdvisory
			switch {
			case d == nil || d.Package == nil || d.Package.Ecosystem == nil || d.Package.Name == nil:
				return 0, "", fmt.Errorf("%s (number %d) has no dependency.package with ecosystem and name", where, *a.Number)
			case adv == nil || adv.GHSAID == nil || adv.Severity == nil:
				return 0, "", fmt.Errorf("%s (number %d) has no security_advisory with ghsa_id and severity", where, *a.Number)
			}
			return severityOf(*adv.Severity, dependabotSeverities), *a.State, nil
		},
	}
	found, open, err := export.validate(f)
	if err != nil {
		return nil, err
	}
	v := found.summary(export.what, "Dependabot", "")
	v["open"] = itoa(open)
	return v, nil
}
