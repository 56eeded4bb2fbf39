package materials

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
)

func init() { register(contract.KindTwistcliScanJSON, craftTwistcli) }

func craftTwistcli(ctx context.Context, c *Crafter, value string) (*attestation.Material, error) {
	return c.craftFile(ctx, value, validateTwistcli)
}

// claimsTwistcli: a JSON object with results and consoleURL at its top level.
func claimsTwistcli(s *sniffed) bool {
	return s.format == formatJSON && s.top == '{' && s.has("results") && s.has("consoleURL")
}

// twistcliSeverities maps Prisma Cloud's vulnerability severities (its CVSS-based words and the
// vendor words it passes on: important, moderate).
var twistcliSeverities = map[string]severity{
	"critical": sevCritical, "high": sevHigh, "important": sevHigh, "medium": sevMedium,
	"moderate": sevMedium, "low": sevLow,
}

type twistcliResult struct {
	Vulnerabilities []json.RawMessage `json:"vulnerabilities"`
}

type twistcliVulnerability struct {
	ID       *string `json:"id"`
	Severity *string `json:"severity"`
}

// validateTwistcli accepts the JSON `twistcli images scan --output-file` writes (Prisma Cloud
// Compute): an object with a non-empty consoleURL and a results array, each result an object whose
// vulnerabilities, when present, each have an id and a severity. Prisma Cloud publishes no schema
// of it; what else a result holds (packages, compliance issues, history) is not checked.
func validateTwistcli(f *os.File) (map[string]string, error) {
	s, err := sniffFile(f)
	if err != nil {
		return nil, err
	}
	if !claimsTwistcli(s) {
		return nil, notClaimed("not a twistcli scan report: want an object with results and consoleURL", s, '{')
	}
	r, err := openDocument(f)
	if err != nil {
		return nil, err
	}
	var found findings
	results, consoleURL := false, ""
	err = eachMember(r, func(key string, dec *json.Decoder) error {
		switch key {
		case "consoleURL":
			if err := dec.Decode(&consoleURL); err != nil {
				return fmt.Errorf("consoleURL: %s", syntaxReason(err))
			}
			return nil
		case "results":
			results = true
			return elementsOf(dec, "results", "results", false, func(i int, raw json.RawMessage) error {
				var res twistcliResult
				where := fmt.Sprintf("results[%d]", i)
				if err := decodeElement(where, raw, &res); err != nil {
					return err
				}
				for j, vraw := range res.Vulnerabilities {
					var v twistcliVulnerability
					vwhere := fmt.Sprintf("%s.vulnerabilities[%d]", where, j)
					if err := decodeElement(vwhere, vraw, &v); err != nil {
						return err
					}
					switch {
					case v.ID == nil || *v.ID == "":
						return fmt.Errorf("%s has no id", vwhere)
					case v.Severity == nil:
						return fmt.Errorf("%s (%s) has no severity", vwhere, *v.ID)
					}
					found.add(severityOf(*v.Severity, twistcliSeverities))
				}
				return nil
			})
		}
		return skipTokens(dec)
	})
	switch {
	case err != nil:
		return nil, fmt.Errorf("read twistcli scan report: %w", err)
	case !results:
		return nil, fmt.Errorf("the report has no results")
	case consoleURL == "":
		return nil, fmt.Errorf("the report's consoleURL is empty")
	}
	return found.summary("twistcli scan JSON report", "twistcli", ""), nil
}
