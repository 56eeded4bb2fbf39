package attestation_test

import (
	"crypto"
	"encoding/base64"
	"os"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/custody-dev/custody/attestation"
)

const crypto256 = crypto.SHA256

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func base64Decode(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }
func base64Encode(b []byte) string          { return base64.StdEncoding.EncodeToString(b) }

// emptyMaterial trusts nothing.
type emptyMaterial struct{ root.BaseTrustedMaterial }

// verifyCase is one row of a table of Verify: a bundle, the options, and the error it must give
// (none when wantErr is empty).
type verifyCase struct {
	name    string
	bundle  []byte
	opts    attestation.VerifyOptions
	wantIs  error
	wantErr string
}
