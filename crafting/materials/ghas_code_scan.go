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

func init() { register(contract.KindGHASCodeScan, craftGHASCodeScan) }

func craftGHASCodeScan(ctx context.Context, c *Crafter, value string) (*attestation.Material, error) {
	return c.craftFile(ctx, value, validateGHASCodeScan)
}

var ghasCodeScanMarkers = []string{"number", "rule", "tool", "most_recent_instance"}

// claimsGHASCodeScan: a JSON array whose first alert has number, rule, tool and most_recent_instance.
func claimsGHASCodeScan(s *sniffed) bool { return arrayClaims(s, ghasCodeScanMarkers...) }

// codeScanSeverities maps a code scanning rule's security_severity_level (security rules) and, when
// it has none, its severity (SARIF levels, as GitHub shows them: Error, Warning, Note).
var codeScanSeverities = map[string]severity{
	"critical": sevCritical, "high": sevHigh, "medium": sevMedium, "low": sevLow,
	"error": sevHigh, "warning": sevMedium, "note": sevLow, "none": sevInfo,
}

type codeScanAlert struct {
	ghasAlert
	Rule *struct {
		ID                    *string `json:"id"`
		Severity              *string `json:"severity"`
		SecuritySeverityLevel *string `json:"security_severity_level"`
	} `json:"rule"`
	Tool *struct {
		Name    *string `json:"name"`
		Version *string `json:"version"`
	} `json:"tool"`
	MostRecentInstance json.RawMessage `json:"most_recent_instance"`
}

// validateGHASCodeScan accepts GitHub's code scanning alerts of a repository: each alert valid
// against GitHub's schema, with number, state, rule.id, tool.name and most_recent_instance.
func validateGHASCodeScan(f *os.File) (map[string]string, error) {
	var tools, versions []string
	export := ghasExport{
		what: "GitHub code scanning alerts", def: "code-scanning-alert-items", markers: ghasCodeScanMarkers,
		count: func(where string, raw json.RawMessage) (severity, string, error) {
			var a codeScanAlert
			if err := decodeElement(where, raw, &a); err != nil {
				return 0, "", err
			}
			if err := a.check(where); err != nil {
				return 0, "", err
			}
			switch {
			case a.Rule == nil || a.Rule.ID == nil || *a.Rule.ID == "":
				return 0, "", fmt.Errorf("%s (number %d) has no rule.id", where, *a.Number)
			case a.Tool == nil || a.Tool.Name == nil || *a.Tool.Name == "":
				return 0, "", fmt.Errorf("%s (number %d) has no tool.name", where, *a.Number)
			case a.MostRecentInstance == nil:
				return 0, "", fmt.Errorf("%s (number %d) has no most_recent_instance", where, *a.Number)
			}
			if !slices.Contains(tools, *a.Tool.Name) {
				tools = append(tools, *a.Tool.Name)
			}
			if a.Tool.Version != nil && !slices.Contains(versions, *a.Tool.Version) {
				versions = append(versions, *a.Tool.Version)
			}
			level := a.Rule.SecuritySeverityLevel
			if level == nil {
				level = a.Rule.Severity
			}
			sev := sevUnknown
			if level != nil {
				sev = severityOf(*level, codeScanSeverities)
			}
			return sev, *a.State, nil
		},
	}
	found, open, err := export.validate(f)
	if err != nil {
		return nil, err
	}
	version := ""
	if len(tools) == 1 && len(versions) == 1 {
		version = versions[0]
	}
	v := found.summary(export.what, strings.Join(tools, ","), version)
	v["open"] = itoa(open)
	return v, nil
}
