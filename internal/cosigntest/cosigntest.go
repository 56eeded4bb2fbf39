// Package cosigntest finds the cosign binary the interop tests run.
package cosigntest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/custody-dev/custody/internal/testtool"
)

// Version is the cosign release the interop tests are written against.
const Version = "v2.6.5"

// Install is the command that installs it.
const Install = "go install github.com/sigstore/cosign/v2/cmd/cosign@" + Version

// EmptyTrustedRoot is a Sigstore trusted root with no authorities: enough for cosign to verify a
// key-signed bundle offline (--trusted-root) without fetching the public-good root.
const EmptyTrustedRoot = `{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","tlogs":[],"certificateAuthorities":[],"ctlogs":[],"timestampAuthorities":[]}`

// Path returns a cosign binary: $COSIGN_BIN, else cosign on PATH, else in $GOBIN or ~/go/bin (where
// `go install` puts it). Without one the test is skipped, except in CI (CI=true), where it fails with
// the command that installs cosign.
func Path(t testing.TB) string {
	t.Helper()
	return testtool.Path(t, "cosign", "COSIGN_BIN", Install)
}

// WriteEmptyTrustedRoot writes EmptyTrustedRoot in dir and returns its path.
func WriteEmptyTrustedRoot(t testing.TB, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "trusted_root.json")
	if err := os.WriteFile(p, []byte(EmptyTrustedRoot), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Run runs cosign with args in dir, with COSIGN_PASSWORD set to password and no network use of the
// public-good instance expected; it returns combined output and the error.
func Run(t testing.TB, bin, dir, password string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"COSIGN_PASSWORD="+password,
		"COSIGN_YES=true",
		// Keep cosign's TUF cache inside the test's directory, never the user's.
		"TUF_ROOT="+filepath.Join(dir, ".sigstore"),
		"HOME="+dir,
	)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
