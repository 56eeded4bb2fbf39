package ca

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
	"time"

	"github.com/custody-dev/custody/internal/atomicfile"
	"github.com/custody-dev/custody/internal/input"
)

// Files of a generated authority in its directory, each 0600 (the directory 0700).
const (
	ChainFile   = "chain.pem"        // the intermediate, then the root
	KeyFile     = "intermediate.key" // the issuing key (PKCS #8)
	RootKeyFile = "root.key"         // the root's key, kept for rotation (PKCS #8)
)

// maxPEMFile bounds a certificate chain or key file read by the authority.
const maxPEMFile = 1 << 20

// LoadOrCreate loads the authority in dir, or generates one there on first use. Every file is
// written whole (temp file, fsync, rename) with mode 0600, so a crash never leaves half a key.
func LoadOrCreate(dir, name string, now func() time.Time) (*Authority, error) {
	chain, key := filepath.Join(dir, ChainFile), filepath.Join(dir, KeyFile)
	switch _, err := os.Stat(chain); {
	case err == nil:
		return LoadFiles(chain, key, now)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("CA: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("CA: %w", err)
	}
	a, rootKey, err := Generate(name, now)
	if err != nil {
		return nil, err
	}
	rootDER, err := x509.MarshalPKCS8PrivateKey(rootKey)
	if err != nil {
		return nil, fmt.Errorf("CA: encode the root key: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(a.key)
	if err != nil {
		return nil, fmt.Errorf("CA: encode the intermediate key: %w", err)
	}
	var chainPEM []byte
	for _, c := range a.Chain {
		chainPEM = append(chainPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	// The chain goes last: its presence is what says the authority exists.
	for _, f := range []struct {
		name string
		data []byte
	}{
		{RootKeyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: rootDER})},
		{KeyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})},
		{ChainFile, chainPEM},
	} {
		if err := atomicfile.Write(filepath.Join(dir, f.name), f.data, 0o600); err != nil {
			return nil, fmt.Errorf("CA: write %s: %w", f.name, err)
		}
	}
	return a, nil
}

// LoadFiles loads an authority from a PEM chain file (issuing certificate first, root last) and the
// issuing certificate's PEM private key (PKCS #8, or EC).
func LoadFiles(chainFile, keyFile string, now func() time.Time) (*Authority, error) {
	chainPEM, err := input.ReadFile(context.Background(), chainFile, maxPEMFile)
	if err != nil {
		return nil, fmt.Errorf("CA: %w", err)
	}
	var chain []*x509.Certificate
	for rest := chainPEM; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("CA: %s: %w", chainFile, err)
		}
		chain = append(chain, c)
	}
	if len(chain) == 0 {
		return nil, fmt.Errorf("CA: %s holds no PEM certificate", chainFile)
	}
	keyPEM, err := input.ReadFile(context.Background(), keyFile, maxPEMFile)
	if err != nil {
		return nil, fmt.Errorf("CA: %w", err)
	}
	b, _ := pem.Decode(keyPEM)
	if b == nil {
		return nil, fmt.Errorf("CA: %s holds no PEM key", keyFile)
	}
	key, err := parseKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("CA: %s: %w", keyFile, err)
	}
	a, err := New(chain, key, now)
	if err != nil {
		return nil, fmt.Errorf("%w (%s, %s)", err, chainFile, keyFile)
	}
	return a, nil
}

func parseKey(der []byte) (crypto.Signer, error) {
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("a %T cannot sign", k)
		}
		return s, nil
	}
	k, err := x509.ParseECPrivateKey(der)
	if err != nil {
		return nil, errors.New("not a PKCS #8 or EC private key")
	}
	return k, nil
}
