package signing

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/custody-dev/custody/internal/atomicfile"
)

// Key pair file names, as cosign writes them.
const (
	PrivateKeyFile = "cosign.key"
	PublicKeyFile  = "cosign.pub"
)

// KeyPair names the files GenerateKeyPair wrote.
type KeyPair struct {
	PrivateKey string
	PublicKey  string
}

// GenerateKeyPair writes a new ECDSA P-256 key pair in dir, exactly as `cosign generate-key-pair`
// does: cosign.key (encrypted with the password, mode 0600) and cosign.pub. It refuses to overwrite
// either file unless force is set.
func GenerateKeyPair(dir string, password PasswordFunc, force bool) (KeyPair, error) {
	paths := KeyPair{PrivateKey: filepath.Join(dir, PrivateKeyFile), PublicKey: filepath.Join(dir, PublicKeyFile)}
	if password == nil {
		return KeyPair{}, errors.New("generate key pair: no password function")
	}
	if !force {
		for _, p := range []string{paths.PrivateKey, paths.PublicKey} {
			if _, err := os.Lstat(p); err == nil {
				return KeyPair{}, fmt.Errorf("generate key pair: %s already exists: remove it or force overwriting", p)
			} else if !errors.Is(err, fs.ErrNotExist) {
				return KeyPair{}, fmt.Errorf("generate key pair: %w", err)
			}
		}
	}
	keys, err := generateCosignKeys(password)
	if err != nil {
		return KeyPair{}, fmt.Errorf("generate key pair: %w", err)
	}
	if err := writeKeyFile(paths.PrivateKey, keys.PrivateBytes, 0o600, force); err != nil {
		return KeyPair{}, err
	}
	if err := writeKeyFile(paths.PublicKey, keys.PublicBytes, 0o644, force); err != nil {
		return KeyPair{}, err
	}
	return paths, nil
}

// writeKeyFile creates path with mode. Without force an existing file (or symlink) is an error,
// never overwritten; with force the file is written beside path and renamed over it, so a symlink
// at path is replaced, never written through, and a killed run leaves the old key or the new one.
func writeKeyFile(path string, data []byte, mode os.FileMode, force bool) error {
	if force {
		if err := atomicfile.Write(path, data, mode); err != nil {
			return fmt.Errorf("generate key pair: %w", err)
		}
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("generate key pair: %w", err)
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return fmt.Errorf("generate key pair: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("generate key pair: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("generate key pair: write %s: %w", path, err)
	}
	return nil
}
