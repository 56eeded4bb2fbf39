package materials

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
)

func init() { register(contract.KindBlackDuckSCAJSON, craftBlackDuck) }

func craftBlackDuck(ctx context.Context, c *Crafter, value string) (*attestation.Material, error) {
	return c.craftFile(ctx, value, validateBlackDuck)
}

// blackDuckSections are the sections of a Black Duck SCA project version report (JSON) that custody
// requires, as chainloop's crafter does: Black Duck publishes no schema of the report.
var blackDuckSections = []string{"detailedVulnerabilities", "detailedProjectVersionCustomFields", "detailedCodeLocations"}

// claimsBlackDuck: a JSON object with one of the sections at its top level (a section may lie
// past the prefix detection reads: the report has a dozen, some large).
func claimsBlackDuck(s *sniffed) bool {
	if s.format != formatJSON || s.top != '{' {
		return false
	}
	for _, k := range blackDuckSections {
		if s.has(k) {
			return true
		}
	}
	return false
}

// blackDuckSeverities maps Black Duck's vulnerability severities.
var blackDuckSeverities = map[string]severity{
	"critical": sevCritical, "high": sevHigh, "medium": sevMedium, "low": sevLow,
}

type blackDuckVulnerability struct {
	VulnerabilityID *string `json:"vulnerabilityId"`
	Severity        *string `json:"severity"`
}

// validateBlackDuck accepts a Black Duck SCA report in JSON: an object whose detailedVulnerabilities,
// detailedProjectVersionCustomFields and detailedCodeLocations are arrays, each vulnerability an
// object with a vulnerabilityId and a severity. The other sections are read past, not checked.
func validateBlackDuck(f *os.File) (map[string]string, error) {
	s, err := sniffFile(f)
	if err != nil {
		return nil, err
	}
	if !claimsBlackDuck(s) {
		return nil, notClaimed("not a Black Duck SCA JSON report: want an object with "+strings.Join(blackDuckSections, ", "), s, '{')
	}
	r, err := openDocument(f)
	if err != nil {
		return nil, err
	}
	var found findings
	seen := map[string]bool{}
	err = eachMember(r, func(key string, dec *json.Decoder) error {
		switch key {
		case "detailedVulnerabilities":
			seen[key] = true
			return elementsOf(dec, key, key, false, func(i int, raw json.RawMessage) error {
				var v blackDuckVulnerability
				where := fmt.Sprintf("%s[%d]", key, i)
				if err := decodeElement(where, raw, &v); err != nil {
					return err
				}
				switch {
				case v.VulnerabilityID == nil || *v.VulnerabilityID == "":
					return fmt.Errorf("%s has no vulnerabilityId", where)
				case v.Severity == nil:
					return fmt.Errorf("%s (%s) has no severity", where, *v.VulnerabilityID)
				}
				found.add(severityOf(*v.Severity, blackDuckSeverities))
				return nil
			})
		case "detailedProjectVersionCustomFields", "detailedCodeLocations":
			seen[key] = true
			return elementsOf(dec, key, key, false, func(int, json.RawMessage) error { return nil })
		}
		return skipTokens(dec)
	})
	if err != nil {
		return nil, fmt.Errorf("read Black Duck report: %w", err)
	}
	for _, k := range blackDuckSections {
		if !seen[k] {
			return nil, fmt.Errorf("the report has no %s", k)
		}
	}
	return found.summary("Black Duck SCA JSON report", "Black Duck", ""), nil
}
