package signing

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

func password(p string) PasswordFunc { return func() ([]byte, error) { return []byte(p), nil } }

func TestGenerateKeyPair(t *testing.T) {
	dir := t.TempDir()
	kp, err := GenerateKeyPair(dir, password("s3cret"), false)
	if err != nil {
		t.Fatalf("GenerateKeyPair: %v", err)
	}
	if kp.PrivateKey != filepath.Join(dir, "cosign.key") || kp.PublicKey != filepath.Join(dir, "cosign.pub") {
		t.Errorf("paths = %+v", kp)
	}
	info, err := os.Stat(kp.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("cosign.key mode = %v, want 0600", info.Mode().Perm())
	}
	priv, _ := os.ReadFile(kp.PrivateKey)
	if !strings.HasPrefix(string(priv), "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----") {
		t.Errorf("cosign.key is not a cosign key:\n%s", priv)
	}
	s, err := LoadKey(context.Background(), kp.PrivateKey, KeyOptions{Password: password("s3cret")})
	if err != nil {
		t.Fatalf("LoadKey(context.Background(), generated): %v", err)
	}
	pubPEM, _ := os.ReadFile(kp.PublicKey)
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	if err := cryptoutils.EqualKeys(s.PublicKey(), pub); err != nil {
		t.Errorf("cosign.pub does not match cosign.key: %v", err)
	}

	// A second run refuses to overwrite, and leaves the files alone.
	_, err = GenerateKeyPair(dir, password("other"), false)
	if err == nil || !strings.Contains(err.Error(), "cosign.key already exists") {
		t.Errorf("GenerateKeyPair over existing files = %v, want refusal", err)
	}
	if again, _ := os.ReadFile(kp.PrivateKey); string(again) != string(priv) {
		t.Error("cosign.key changed after a refused run")
	}
	// Only the public key existing is refused too.
	dir2 := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir2, "cosign.pub"), []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := GenerateKeyPair(dir2, password("x"), false); err == nil || !strings.Contains(err.Error(), "cosign.pub already exists") {
		t.Errorf("GenerateKeyPair over cosign.pub = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir2, "cosign.key")); !os.IsNotExist(err) {
		t.Error("cosign.key written although cosign.pub blocked the run")
	}

	// force overwrites both and tightens the private key's mode.
	if err := os.Chmod(kp.PrivateKey, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := GenerateKeyPair(dir, password("other"), true); err != nil {
		t.Fatalf("GenerateKeyPair(force): %v", err)
	}
	if info, _ := os.Stat(kp.PrivateKey); info.Mode().Perm() != 0o600 {
		t.Errorf("forced cosign.key mode = %v", info.Mode().Perm())
	}
	if _, err := LoadKey(context.Background(), kp.PrivateKey, KeyOptions{Password: password("s3cret")}); err == nil {
		t.Error("old password still opens the overwritten key")
	}
	if _, err := LoadKey(context.Background(), kp.PrivateKey, KeyOptions{Password: password("other")}); err != nil {
		t.Errorf("LoadKey(context.Background(), new key): %v", err)
	}
}

func TestGenerateKeyPairErrors(t *testing.T) {
	if _, err := GenerateKeyPair(t.TempDir(), nil, false); err == nil || !strings.Contains(err.Error(), "no password function") {
		t.Errorf("nil password = %v", err)
	}
	if _, err := GenerateKeyPair(filepath.Join(t.TempDir(), "missing"), password("x"), false); err == nil {
		t.Error("GenerateKeyPair in a missing directory succeeded")
	}
}
