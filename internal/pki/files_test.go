package pki_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custody-dev/custody/internal/pki"
)

// TestReadKeyMode: a key is read only from a file its owner alone may read and write, or, when root
// owns it, root and its group may read (a Kubernetes Secret volume with an fsGroup: root, the
// fsGroup, 0440); a wider mode is refused with the file and its mode named, and no error ever quotes
// the key. The rows of the other owner than the test's need root to chown (CI runs as root).
func TestReadKeyMode(t *testing.T) {
	t.Parallel()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	data, err := pki.Key(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	const user = 65532 // not root
	tests := []struct {
		owner int
		mode  os.FileMode
		want  string // "" accepts
	}{
		{user, 0o600, ""},
		{user, 0o400, ""},
		{user, 0o644, "has mode 0644: a key file must be 0600 or narrower"},
		{user, 0o640, "has mode 0640: a key file must be 0600 or narrower (chmod 600 "},
		{user, 0o440, "has mode 0440"},
		{user, 0o604, "has mode 0604"},
		{user, 0o700, "has mode 0700"},
		{user, 0o666, "has mode 0666"},
		{0, 0o600, ""},
		{0, 0o440, ""}, // a Secret volume with an fsGroup
		{0, 0o640, ""},
		{0, 0o400, ""},
		{0, 0o644, "has mode 0644: a key file root owns must be 0640 or narrower (chmod 640 "},
		{0, 0o660, "has mode 0660"},
		{0, 0o604, "has mode 0604"},
	}
	asRoot := os.Getuid() == 0
	ran := 0
	for _, tc := range tests {
		if !asRoot && tc.owner == 0 {
			continue // a file of root's cannot be made; TestCheckKeyMode has these rows
		}
		path := filepath.Join(dir, fmt.Sprintf("%d-%s.key", tc.owner, tc.mode))
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if asRoot {
			if err := os.Chown(path, tc.owner, tc.owner); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chmod(path, tc.mode); err != nil {
			t.Fatal(err)
		}
		ran++
		got, err := pki.ReadKey(path)
		switch {
		case tc.want == "" && (err != nil || !key.PublicKey.Equal(got.Public())):
			t.Errorf("owner %d, mode %04o: %v, want the key", tc.owner, tc.mode, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path)):
			t.Errorf("owner %d, mode %04o: %v, want an error naming %s and saying %q", tc.owner, tc.mode, err, path, tc.want)
		}
	}
	t.Logf("%d of %d rows ran (as root: %v)", ran, len(tests), asRoot)
}

// TestReadKeyRefusals: what is not a private key is refused by file name, never by content.
func TestReadKeyRefusals(t *testing.T) {
	t.Parallel()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	good, _ := pki.Key(key)
	block, _ := pem.Decode(good)
	broken := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: block.Bytes[:len(block.Bytes)-5]})
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "holds no PEM key"},
		{"bad base64", []byte("-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n"), "holds no PEM key"},
		{"a cut key", broken, "not a PKCS #8 or EC private key"},
	} {
		path := filepath.Join(dir, tc.name)
		if err := os.WriteFile(path, tc.data, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := pki.ReadKey(path)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
			continue
		}
		if b, _ := pem.Decode(tc.data); b != nil && len(b.Bytes) > 8 && bytes.Contains([]byte(err.Error()), b.Bytes[:8]) {
			t.Errorf("%s: the error quotes the key: %v", tc.name, err)
		}
		if strings.Contains(err.Error(), "MII") {
			t.Errorf("%s: the error quotes the PEM body: %v", tc.name, err)
		}
	}
}

// TestWriteAll: the directory is 0700 and every file 0600, whatever the umask left.
func TestWriteAll(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "a", "b")
	if err := pki.WriteAll(dir, pki.File{Name: "one", Data: []byte("1")}, pki.File{Name: "two", Data: []byte("2")}); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("directory: %v, mode %v", err, info.Mode().Perm())
	}
	for _, name := range []string{"one", "two"} {
		if info, err := os.Stat(filepath.Join(dir, name)); err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v", name, err, info.Mode().Perm())
		}
	}
	if _, err := pki.ReadChain(filepath.Join(dir, "one")); err == nil || !strings.Contains(err.Error(), "holds no PEM certificate") {
		t.Errorf("a chain file without certificates: %v", err)
	}
}
