package materials

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
)

// A validator that panics makes Craft return the kind's *Error naming the panic, not ErrNotThisKind
// (detection stops at it), and nothing is recorded.
func TestCraftRecoversValidatorPanic(t *testing.T) {
	t.Parallel()
	path := writeTemp(t, "scan.sarif", `{"version": "2.1.0", "runs": []}`)
	for _, tc := range []struct {
		name string
		fn   craftFunc
	}{
		{"in the validator", func(ctx context.Context, c *Crafter, value string) (*attestation.Material, error) {
			return c.craftFile(ctx, value, func(*os.File) (map[string]string, error) {
				var m map[string]string
				m["boom"] = "x" // assignment to entry in nil map
				return m, nil
			})
		}},
		{"in the craft function", func(context.Context, *Crafter, string) (*attestation.Material, error) {
			panic(errors.New("boom"))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := newDocCrafter(t).craft(t.Context(), contract.KindSARIF, path, tc.fn)
			if m != nil {
				t.Errorf("craft recorded %+v", m)
			}
			checkDocError(t, err, contract.KindSARIF, path, []string{"the SARIF validator failed on this file: "}, false)
		})
	}
}
