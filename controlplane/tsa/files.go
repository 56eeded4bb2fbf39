package tsa

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/custody-dev/custody/internal/pki"
)

// Files of a generated authority in its directory, each 0600 (the directory 0700).
const (
	ChainFile   = "chain.pem" // the timestamping certificate, then the root
	KeyFile     = "tsa.key"   // the timestamping key (PKCS #8)
	RootKeyFile = "root.key"  // the root's key, kept to certify a new timestamping key (PKCS #8)
)

// LoadOrCreate loads the authority in dir, or generates one there on first use, each file written
// whole with mode 0600, the chain last: its presence says the authority exists.
func LoadOrCreate(dir, name string, now func() time.Time) (*Authority, error) {
	chain := filepath.Join(dir, ChainFile)
	switch ok, err := pki.Exists(chain); {
	case err != nil:
		return nil, fmt.Errorf("TSA: %w", err)
	case ok:
		return LoadFiles(chain, filepath.Join(dir, KeyFile), now)
	}
	a, rootKey, err := Generate(name, now)
	if err != nil {
		return nil, err
	}
	files := []pki.File{{Name: RootKeyFile}, {Name: KeyFile}, {Name: ChainFile, Data: pki.Chain(a.Chain)}}
	if files[0].Data, err = pki.Key(rootKey); err == nil {
		files[1].Data, err = pki.Key(a.key)
	}
	if err == nil {
		err = pki.WriteAll(dir, files...)
	}
	if err != nil {
		return nil, fmt.Errorf("TSA: %w", err)
	}
	return a, nil
}

// LoadFiles loads an authority from a PEM chain file (timestamping certificate first, root last)
// and its PEM private key (PKCS #8, or EC), a file of mode 0600 or narrower.
func LoadFiles(chainFile, keyFile string, now func() time.Time) (*Authority, error) {
	chain, key, err := pki.ReadPair(chainFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("TSA: %w", err)
	}
	a, err := New(chain, key, now)
	if err != nil {
		return nil, fmt.Errorf("%w (%s, %s)", err, chainFile, keyFile)
	}
	return a, nil
}
