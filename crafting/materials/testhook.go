//go:build custody_testhook

package materials

import (
	"os"
	"path/filepath"
	"strings"
)

// In a test build only (go build -tags custody_testhook), a file whose name starts with
// "panic-validator" makes its validator panic, so that a test can check, through the real CLI,
// that a validator's panic is refused as an invalid input rather than crashing the command.
func init() {
	validatorHook = func(f *os.File) {
		if strings.HasPrefix(filepath.Base(f.Name()), "panic-validator") {
			panic("forced by the custody_testhook build")
		}
	}
}
