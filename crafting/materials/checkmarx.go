package materials

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
)

func init() { register(contract.KindCheckmarxJSON, craftCheckmarx) }

func craftCheckmarx(ctx context.Context, c *Crafter, value string) (*attestation.Material, error) {
	return c.craftFile(ctx, value, validateCheckmarx)
}

// claimsCheckmarx: a JSON object with scanID, totalCount and results at its top level, the members
// of Checkmarx One's native report (ast-cli's ScanResultsCollection).
func claimsCheckmarx(s *sniffed) bool {
	return s.format == formatJSON && s.top == '{' && s.has("scanID") && s.has("totalCount") && s.has("results")
}

// checkmarxSeverities maps Checkmarx One's result severities.
var checkmarxSeverities = map[string]severity{
	"critical": sevCritical, "high": sevHigh, "medium": sevMedium, "low": sevLow, "info": sevInfo,
}

type checkmarxResult struct {
	Type     *string         `json:"type"`
	Severity string          `json:"severity"`
	Data     json.RawMessage `json:"data"`
}

// validateCheckmarx accepts the native JSON report of Checkmarx One (`cx results show
// --report-format json`, ast-cli's ScanResultsCollection): a non-empty scanID, a totalCount that is
// a count, and results (an array, or null for a clean scan) whose every result has a type (the
// engine: sast, sca, kics, containers, sscs) and a data object. Checkmarx publishes no schema; what
// a result's data holds differs by engine and is not checked.
func validateCheckmarx(f *os.File) (map[string]string, error) {
	s, err := sniffFile(f)
	if err != nil {
		return nil, err
	}
	if !claimsCheckmarx(s) {
		return nil, notClaimed("not a Checkmarx One JSON report: want an object with scanID, totalCount and results", s, '{')
	}
	r, err := openDocument(f)
	if err != nil {
		return nil, err
	}
	var found findings
	var engines []string
	var scanID *string
	var totalCount *uint
	results := false
	err = eachMember(r, func(key string, dec *json.Decoder) error {
		switch key {
		case "scanID":
			if err := dec.Decode(&scanID); err != nil {
				return fmt.Errorf("scanID: %s", syntaxReason(err))
			}
			return nil
		case "totalCount":
			if err := dec.Decode(&totalCount); err != nil {
				return fmt.Errorf("totalCount: %s", syntaxReason(err))
			}
			return nil
		case "results":
			results = true
			return elementsOf(dec, "results", "results", true, func(i int, raw json.RawMessage) error {
				var res checkmarxResult
				where := fmt.Sprintf("results[%d]", i)
				if err := decodeElement(where, raw, &res); err != nil {
					return err
				}
				switch {
				case res.Type == nil || *res.Type == "":
					return fmt.Errorf("%s has no type", where)
				case res.Data == nil || res.Data[0] != '{':
					return fmt.Errorf("%s (%s) has no data object", where, *res.Type)
				}
				if engine := strings.ToLower(*res.Type); !slices.Contains(engines, engine) {
					engines = append(engines, engine)
				}
				found.add(severityOf(res.Severity, checkmarxSeverities))
				return nil
			})
		}
		return skipTokens(dec)
	})
	switch {
	case err != nil:
		return nil, fmt.Errorf("read Checkmarx report: %w", err)
	case scanID == nil || *scanID == "":
		return nil, fmt.Errorf("the report has no scanID")
	case totalCount == nil:
		return nil, fmt.Errorf("the report has no totalCount")
	case !results:
		return nil, fmt.Errorf("the report has no results")
	}
	slices.Sort(engines)
	v := found.summary("Checkmarx One JSON report", "Checkmarx One", "")
	v["scanId"] = *scanID
	v["engines"] = strings.Join(engines, ",")
	return v, nil
}
