package signing

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
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
			s, err := LoadKey(context.Background(), filepath.Join("testdata", name+".key"), KeyOptions{Password: password("custody-test")})
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
		_, err := LoadKey(context.Background(), "env://K", KeyOptions{Getenv: env(map[string]string{"K": pemText})})
		if err == nil || !strings.Contains(err.Error(), "key env://K: not a cosign encrypted key") || strings.Contains(err.Error(), "password") {
			t.Errorf("LoadKey(context.Background(), %q) = %v, want \"not a cosign encrypted key\"", body, err)
		}
	}
}

// Key files are read up to MaxKeyFileSize: a larger file, an endless device or an oversized env://
// value is refused with the name and the limit, without reading it all.
func TestKeyReadsAreBounded(t *testing.T) {
	dir := t.TempDir()
	key, err := os.ReadFile("testdata/cosign.key")
	if err != nil {
		t.Fatal(err)
	}
	// A key padded to exactly the limit still loads (pem.Decode ignores what follows the block).
	atLimit := filepath.Join(dir, "at-limit.key")
	if err := os.WriteFile(atLimit, append(key, bytes.Repeat([]byte("\n"), MaxKeyFileSize-len(key))...), 0o600); err != nil {
		t.Fatal(err)
	}
	overLimit := filepath.Join(dir, "over-limit.key")
	if err := os.WriteFile(overLimit, append(key, bytes.Repeat([]byte("\n"), MaxKeyFileSize+1-len(key))...), 0o600); err != nil {
		t.Fatal(err)
	}
	limit := "is larger than " + strconv.Itoa(MaxKeyFileSize) + " bytes (1 MiB), the limit of a key file"
	opts := KeyOptions{Password: password("custody-test")}

	if _, err := LoadKey(context.Background(), atLimit, opts); err != nil {
		t.Errorf("LoadKey(context.Background(), a key of exactly %d bytes) = %v", MaxKeyFileSize, err)
	}
	for _, ref := range []string{overLimit, "/dev/zero"} {
		if _, err := LoadKey(context.Background(), ref, opts); err == nil || err.Error() != "key: "+ref+" "+limit+": not a key" {
			t.Errorf("LoadKey(context.Background(), %s) = %v, want %q", ref, err, ref+" "+limit)
		}
	}
	huge := strings.Repeat("A", MaxKeyFileSize+1)
	if _, err := LoadKey(context.Background(), "env://K", KeyOptions{Getenv: env(map[string]string{"K": huge})}); err == nil ||
		!strings.Contains(err.Error(), "key env://K: environment variable K holds more than 1048576 bytes (1 MiB)") {
		t.Errorf("LoadKey(context.Background(), env:// of 1 MiB + 1) = %v", err)
	}

}
