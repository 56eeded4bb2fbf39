package materials

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
)

func init() { register(contract.KindGHASSecretScan, craftGHASSecretScan) }

func craftGHASSecretScan(ctx context.Context, c *Crafter, value string) (*attestation.Material, error) {
	return c.craftFile(ctx, value, validateGHASSecretScan)
}

var ghasSecretScanMarkers = []string{"number", "secret_type", "state"}

// claimsGHASSecretScan: a JSON array whose first alert has number, secret_type and state.
func claimsGHASSecretScan(s *sniffed) bool { return arrayClaims(s, ghasSecretScanMarkers...) }

type secretScanAlert struct {
	ghasAlert
	SecretType *string `json:"secret_type"`
}

// validateGHASSecretScan accepts GitHub's secret scanning alerts of a repository: each alert valid
// against GitHub's schema, with number, state and secret_type. GitHub gives secret scanning alerts
// no severity: every alert counts as unknown.
func validateGHASSecretScan(f *os.File) (map[string]string, error) {
	export := ghasExport{
		what: "GitHub secret scanning alerts", def: "secret-scanning-alert", markers: ghasSecretScanMarkers,
		count: func(where string, raw json.RawMessage) (severity, string, error) {
			var a secretScanAlert
			if err := decodeElement(where, raw, &a); err != nil {
				return 0, "", err
			}
			if err := a.check(where); err != nil {
				return 0, "", err
			}
			if a.SecretType == nil || *a.SecretType == "" {
				return 0, "", fmt.Errorf("%s (number %d) has no secret_type", where, *a.Number)
			}
			return sevUnknown, *a.State, nil
		},
	}
	found, open, err := export.validate(f)
	if err != nil {
		return nil, err
	}
	v := found.summary(export.what, "GitHub secret scanning", "")
	v["open"] = itoa(open)
	return v, nil
}
