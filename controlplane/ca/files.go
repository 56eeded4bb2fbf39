package ca

import (
	"crypto"
	"fmt"
	"path/filepath"
	"time"

	"github.com/custody-dev/custody/internal/pki"
)

// Files of a generated authority in its directory, each 0600 (the directory 0700).
const (
	ChainFile   = "chain.pem"        // the intermediate, then the root
	KeyFile     = "intermediate.key" // the issuing key (PKCS #8)
	RootKeyFile = "root.key"         // the root's key, kept for rotation (PKCS #8)
)

// LoadOrCreate loads the authority in dir, or generates one there on first use. Every file is
// written whole (temp file, fsync, rename) with mode 0600, so a crash never leaves half a key.
func LoadOrCreate(dir, name string, now func() time.Time) (*Authority, error) {
	if err := finishRotation(dir); err != nil {
		return nil, err
	}
	chain := filepath.Join(dir, ChainFile)
	switch ok, err := pki.Exists(chain); {
	case err != nil:
		return nil, fmt.Errorf("CA: %w", err)
	case ok:
		return LoadFiles(chain, filepath.Join(dir, KeyFile), now)
	}
	a, rootKey, err := Generate(name, now)
	if err != nil {
		return nil, err
	}
	if err := a.write(dir, rootKey, ""); err != nil {
		return nil, err
	}
	return a, nil
}

// write puts the authority's keys (and the root's, if given) into dir under their names plus
// suffix, then extra, then its chain: the chain goes last, since its presence says the authority
// exists.
func (a *Authority) write(dir string, rootKey crypto.Signer, suffix string, extra ...pki.File) error {
	var files []pki.File
	if rootKey != nil {
		data, err := pki.Key(rootKey)
		if err != nil {
			return fmt.Errorf("CA: the root key: %w", err)
		}
		files = append(files, pki.File{Name: RootKeyFile + suffix, Data: data})
	}
	data, err := pki.Key(a.key)
	if err != nil {
		return fmt.Errorf("CA: the intermediate key: %w", err)
	}
	files = append(append(files, pki.File{Name: KeyFile + suffix, Data: data}), extra...)
	if err := pki.WriteAll(dir, append(files, pki.File{Name: ChainFile, Data: pki.Chain(a.Chain)})...); err != nil {
		return fmt.Errorf("CA: %w", err)
	}
	return nil
}

// LoadFiles loads an authority from a PEM chain file (issuing certificate first, root last) and the
// issuing certificate's PEM private key (PKCS #8, or EC), a file of mode 0600 or narrower.
func LoadFiles(chainFile, keyFile string, now func() time.Time) (*Authority, error) {
	chain, key, err := pki.ReadPair(chainFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("CA: %w", err)
	}
	a, err := New(chain, key, now)
	if err != nil {
		return nil, fmt.Errorf("%w (%s, %s)", err, chainFile, keyFile)
	}
	return a, nil
}
