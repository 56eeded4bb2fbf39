package signing

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/custody-dev/custody/attestation"
)

// Every algorithm `cosign import-key-pair` accepts loads, signs, and verifies with its cosign .pub.
func TestLoadKeyAlgorithms(t *testing.T) {
	statement := []byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"` +
		strings.Repeat("a", 64) + `"}}],"predicateType":"https://custody.dev/attestation/v1","predicate":{"workflow":{"name":"w","project":"p"}}}`)
	for _, name := range []string{"cosign", "imported", "imported-ed25519", "imported-rsa"} {
		t.Run(name, func(t *testing.T) {
			s, err := LoadKey(filepath.Join("testdata", name+".key"), KeyOptions{Password: password("custody-test")})
			if err != nil {
				t.Fatalf("LoadKey: %v", err)
			}
			pubPEM, err := os.ReadFile(filepath.Join("testdata", name+".pub"))
			if err != nil {
				t.Fatal(err)
			}
			pub, err := cryptoutils.UnmarshalPEMToPublicKey(pubPEM)
			if err != nil {
				t.Fatal(err)
			}
			if err := cryptoutils.EqualKeys(s.PublicKey(), pub); err != nil {
				t.Fatalf("loaded key is not %s.pub: %v", name, err)
			}
			b, err := s.Sign(context.Background(), statement)
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			if _, err := attestation.Verify(context.Background(), b, attestation.VerifyOptions{PublicKey: pubPEM}); err != nil {
				t.Errorf("Verify with %s.pub: %v", name, err)
			}
		})
	}
}

// A cosign key PEM whose body is not go-securesystemslib's envelope is named as such, not blamed on
// the password.
func TestLoadKeyBadEnvelope(t *testing.T) {
	for _, body := range []string{"not json", `{"kdf":{"name":"argon2"}}`} {
		pemText := string(cryptoutils.PEMEncode(sigstorePrivateKeyPEMType, []byte(body)))
		_, err := LoadKey("env://K", KeyOptions{Getenv: env(map[string]string{"K": pemText})})
		if err == nil || !strings.Contains(err.Error(), "key env://K: not a cosign encrypted key") || strings.Contains(err.Error(), "password") {
			t.Errorf("LoadKey(%q) = %v, want \"not a cosign encrypted key\"", body, err)
		}
	}
}
