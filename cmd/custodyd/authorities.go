package main

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/custody-dev/custody/controlplane/ca"
	"github.com/custody-dev/custody/controlplane/trustroot"
	"github.com/custody-dev/custody/controlplane/tsa"
	"github.com/custody-dev/custody/internal/pki"
)

// authorityName is the organization of the CA and TSA custodyd generates.
const authorityName = "custody"

// authorities are custodyd's certificate authority and timestamp authority, and the trusted root
// that lists them for verifiers.
type authorities struct {
	CA          *ca.Authority
	TSA         *tsa.Authority
	TrustedRoot []byte // trusted_root.json
}

// authorityFiles names an authority's chain and key files.
type authorityFiles struct {
	Chain, Key string
	generated  bool // in DATA_DIR: made on first start
}

// caFiles is where the CA is: the configured files, or DATA_DIR/ca.
func (c config) caFiles() authorityFiles {
	if c.CACert != "" {
		return authorityFiles{Chain: c.CACert, Key: c.CAKey}
	}
	dir := filepath.Join(c.DataDir, "ca")
	return authorityFiles{Chain: filepath.Join(dir, ca.ChainFile), Key: filepath.Join(dir, ca.KeyFile), generated: true}
}

// tsaFiles is where the TSA is: the configured files, or DATA_DIR/tsa.
func (c config) tsaFiles() authorityFiles {
	if c.TSACert != "" {
		return authorityFiles{Chain: c.TSACert, Key: c.TSAKey}
	}
	dir := filepath.Join(c.DataDir, "tsa")
	return authorityFiles{Chain: filepath.Join(dir, tsa.ChainFile), Key: filepath.Join(dir, tsa.KeyFile), generated: true}
}

// retiredFile is the CA's retired chains: the configured file, or DATA_DIR/ca/retired.json.
func (c config) retiredFile() string {
	if c.CARetired != "" {
		return c.CARetired
	}
	return filepath.Join(c.DataDir, "ca", ca.RetiredFile)
}

// loadAuthorities loads the CA and TSA from the configured files, or from DATA_DIR (generating
// them on first start), and builds the trusted root: the CA's chain in use (open), its retired
// chains with their windows, and the TSA's chain, each named by the external URL.
func loadAuthorities(cfg config, now func() time.Time) (*authorities, error) {
	var a authorities
	var err error
	if f := cfg.caFiles(); f.generated {
		a.CA, err = ca.LoadOrCreate(filepath.Dir(f.Chain), authorityName, now)
	} else {
		a.CA, err = ca.LoadFiles(f.Chain, f.Key, now)
	}
	if err != nil {
		return nil, err
	}
	if f := cfg.tsaFiles(); f.generated {
		a.TSA, err = tsa.LoadOrCreate(filepath.Dir(f.Chain), authorityName, now)
	} else {
		a.TSA, err = tsa.LoadFiles(f.Chain, f.Key, now)
	}
	if err != nil {
		return nil, err
	}
	retired, err := ca.Retired(cfg.retiredFile())
	if err != nil {
		return nil, err
	}
	cas := a.CA.Entries(retired)
	tsas := []trustroot.Entry{{Chain: a.TSA.Chain, Start: a.TSA.Chain[0].NotBefore}}
	for _, list := range [][]trustroot.Entry{cas, tsas} {
		for i := range list {
			list[i].URI = cfg.ExternalURL
		}
	}
	if a.TrustedRoot, err = trustroot.Build(cas, tsas); err != nil {
		return nil, err
	}
	return &a, nil
}

// writeAuthorities generates a CA and a TSA into out/ca and out/tsa (as custodyd does in DATA_DIR)
// for replicas to share through --ca-cert/--ca-key and --tsa-cert/--tsa-key. It refuses a
// directory that already holds either.
func writeAuthorities(out string, now func() time.Time) (caF, tsaF authorityFiles, err error) {
	cfg := config{DataDir: out}
	caF, tsaF = cfg.caFiles(), cfg.tsaFiles()
	for _, f := range []authorityFiles{caF, tsaF} {
		switch ok, err := pki.Exists(f.Chain); {
		case err != nil:
			return caF, tsaF, err
		case ok:
			return caF, tsaF, fmt.Errorf("%s already holds an authority (%s): not replacing it", out, f.Chain)
		}
	}
	if _, err := ca.LoadOrCreate(filepath.Dir(caF.Chain), authorityName, now); err != nil {
		return caF, tsaF, err
	}
	if _, err := tsa.LoadOrCreate(filepath.Dir(tsaF.Chain), authorityName, now); err != nil {
		return caF, tsaF, err
	}
	return caF, tsaF, nil
}
