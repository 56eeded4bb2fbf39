// Package pki holds what custodyd's authorities (the CA and the timestamp authority) share: their
// certificates, made with random serials, and their PEM files of certificate chains and private
// keys, read with a bound, written whole. A private key is read only from a file no one but its
// owner may read or write.
package pki

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/custody-dev/custody/internal/atomicfile"
	"github.com/custody-dev/custody/internal/input"
)

// MaxFile bounds a chain or key file.
const MaxFile = 1 << 20

// KeyMode is the widest mode a key file may have; RootKeyMode the widest of a key file root owns,
// whose group may read it: a Kubernetes Secret volume of a pod with an fsGroup is made so (owner
// root, group the fsGroup, mode 0440 whatever defaultMode says), and it is how a non-root custodyd
// reads a key no one else may change; PostgreSQL allows its server key the same.
const (
	KeyMode     fs.FileMode = 0o600
	RootKeyMode fs.FileMode = 0o640
)

// checkKeyMode refuses a key file's mode perm wider than its owner allows (RootKeyMode when root,
// uid 0, owns it; KeyMode otherwise).
func checkKeyMode(path string, perm fs.FileMode, owner uint32, known bool) error {
	if known && owner == 0 {
		if perm&^RootKeyMode != 0 {
			return fmt.Errorf("%s has mode %04o: a key file root owns must be %04o or narrower (chmod 640 %s)", path, perm, RootKeyMode, path)
		}
		return nil
	}
	if perm&^KeyMode != 0 {
		return fmt.Errorf("%s has mode %04o: a key file must be %04o or narrower (chmod 600 %s), or %04o if root owns it", path, perm, KeyMode, path, RootKeyMode)
	}
	return nil
}

// ReadChain reads the PEM certificates in path, in their order. It refuses a file with none.
func ReadChain(path string) ([]*x509.Certificate, error) {
	data, err := input.ReadFile(context.Background(), path, MaxFile)
	if err != nil {
		return nil, err
	}
	var chain []*x509.Certificate
	for rest := data; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: certificate %d: %w", path, len(chain)+1, err)
		}
		chain = append(chain, c)
	}
	if len(chain) == 0 {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return chain, nil
}

// ReadPair reads an authority's chain and its issuing key (see ReadChain and ReadKey).
func ReadPair(chainFile, keyFile string) ([]*x509.Certificate, crypto.Signer, error) {
	chain, err := ReadChain(chainFile)
	if err != nil {
		return nil, nil, err
	}
	key, err := ReadKey(keyFile)
	if err != nil {
		return nil, nil, err
	}
	return chain, key, nil
}

// ReadKey reads the PEM private key (PKCS #8, or EC) in path. It refuses a file whose mode lets
// anyone but its owner read or write it (or, when root owns it, anyone but root and its group
// read it: RootKeyMode), and never quotes the key in an error.
func ReadKey(path string) (crypto.Signer, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	uid, known := owner(info)
	if err := checkKeyMode(path, info.Mode().Perm(), uid, known); err != nil {
		return nil, err
	}
	data, err := input.ReadFile(context.Background(), path, MaxFile)
	if err != nil {
		return nil, err
	}
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, fmt.Errorf("%s holds no PEM key", path)
	}
	if k, err := x509.ParsePKCS8PrivateKey(b.Bytes); err == nil {
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("%s: a %T cannot sign", path, k)
		}
		return s, nil
	}
	k, err := x509.ParseECPrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: not a PKCS #8 or EC private key", path)
	}
	return k, nil
}

// Chain encodes certificates as PEM, in their order.
func Chain(certs []*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

// Key encodes a private key as PEM (PKCS #8).
func Key(k crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("encode a %T key: %w", k, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// File is one file of WriteAll.
type File struct {
	Name string
	Data []byte
}

// WriteAll creates dir (0700) if needed and writes files into it in their order, each whole (temp
// file, fsync, rename) with mode 0600: a crash leaves every file old or new, never half written.
func WriteAll(dir string, files ...File) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for _, f := range files {
		if err := atomicfile.Write(filepath.Join(dir, f.Name), f.Data, KeyMode); err != nil {
			return fmt.Errorf("write %s: %w", f.Name, err)
		}
	}
	return nil
}

// Exists says whether path exists; an error other than its absence is returned.
func Exists(path string) (bool, error) {
	switch _, err := os.Stat(path); {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	default:
		return false, err
	}
}
