package materials

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
)

func init() { register(contract.KindGitleaksJSON, craftGitleaks) }

func craftGitleaks(ctx context.Context, c *Crafter, value string) (*attestation.Material, error) {
	return c.craftFile(ctx, value, validateGitleaks)
}

// gitleaksMarkers are the keys every finding of `gitleaks --report-format json` has.
var gitleaksMarkers = []string{"RuleID", "Secret", "Fingerprint"}

// claimsGitleaks: a JSON array whose first element has RuleID, Secret and Fingerprint.
func claimsGitleaks(s *sniffed) bool { return arrayClaims(s, gitleaksMarkers...) }

// gitleaksFinding holds the fields of gitleaks' report.Finding that custody checks. gitleaks
// publishes no schema for its JSON report: the required fields are those every finding has
// (gitleaks v8 report/finding.go), the others are checked for their type when present.
type gitleaksFinding struct {
	RuleID      *string  `json:"RuleID"`
	Fingerprint *string  `json:"Fingerprint"`
	Secret      *string  `json:"Secret"`
	File        *string  `json:"File"`
	StartLine   *int     `json:"StartLine"`
	EndLine     *int     `json:"EndLine"`
	StartColumn *int     `json:"StartColumn"`
	EndColumn   *int     `json:"EndColumn"`
	Entropy     *float64 `json:"Entropy"`
	Tags        []string `json:"Tags"`
	Description string   `json:"Description"`
	Match       string   `json:"Match"`
	Commit      string   `json:"Commit"`
}

// validateGitleaks accepts a gitleaks JSON report: an array of findings (empty for a clean scan),
// each with a non-empty RuleID and Fingerprint, a Secret, a File and a StartLine. gitleaks gives
// findings no severity: every finding counts as unknown.
func validateGitleaks(f *os.File) (map[string]string, error) {
	s, err := sniffFile(f)
	if err != nil {
		return nil, err
	}
	if err := checkArrayOf(s, "not a gitleaks JSON report: want a JSON array of findings with RuleID, Secret and Fingerprint", gitleaksMarkers...); err != nil {
		return nil, err
	}
	r, err := openDocument(f)
	if err != nil {
		return nil, err
	}
	var found findings
	err = eachElement(r, func(i int, raw json.RawMessage) error {
		var g gitleaksFinding
		where := fmt.Sprintf("findings[%d]", i)
		if err := decodeElement(where, raw, &g); err != nil {
			return err
		}
		switch {
		case g.RuleID == nil || *g.RuleID == "":
			return fmt.Errorf("%s has no RuleID", where)
		case g.Fingerprint == nil || *g.Fingerprint == "":
			return fmt.Errorf("%s (%s) has no Fingerprint", where, *g.RuleID)
		case g.Secret == nil:
			return fmt.Errorf("%s (%s) has no Secret", where, *g.RuleID)
		case g.File == nil:
			return fmt.Errorf("%s (%s) has no File", where, *g.RuleID)
		case g.StartLine == nil:
			return fmt.Errorf("%s (%s) has no StartLine", where, *g.RuleID)
		}
		found.add(sevUnknown)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read gitleaks report: %w", err)
	}
	return found.summary("gitleaks JSON report", "gitleaks", ""), nil
}
