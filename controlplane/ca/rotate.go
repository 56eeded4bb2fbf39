package ca

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/custody-dev/custody/controlplane/trustroot"
	"github.com/custody-dev/custody/internal/input"
	"github.com/custody-dev/custody/internal/pki"
)

// RetiredFile, in a CA's directory, lists the chains rotation retired with the windows in which
// signatures made under them stay trusted: a trusted_root.json of certificate authorities only.
const RetiredFile = "retired.json"

// next marks the keys of a rotation not finished yet (see finishRotation).
const next = ".next"

// Entry is the authority's chain as a trusted root lists it while it issues: trusted from its
// issuing certificate's start, with no end.
func (a *Authority) Entry() trustroot.Entry {
	return trustroot.Entry{Chain: a.Chain, Start: a.Chain[0].NotBefore}
}

// Entries lists the authority's chain, then the retired ones, leaving out a retired entry of the
// authority's own chain (what a rotation interrupted before its new chain leaves behind).
func (a *Authority) Entries(retired []trustroot.Entry) []trustroot.Entry {
	out := []trustroot.Entry{a.Entry()}
	for _, e := range retired {
		if !e.SameChain(a.Entry()) {
			out = append(out, e)
		}
	}
	return out
}

// Retired reads the retired chains at path (RetiredFile, or a file named in config); a missing file
// lists none. Its timestamp authorities, if any, are refused: this file is for CA chains.
func Retired(path string) ([]trustroot.Entry, error) {
	data, err := input.ReadFile(context.Background(), path, trustroot.MaxSize)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("CA: retired chains: %w", err)
	}
	cas, tsas, err := trustroot.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("CA: retired chains %s: %w", path, err)
	}
	if len(tsas) > 0 {
		return nil, fmt.Errorf("CA: retired chains %s: lists timestamp authorities; it is for CA chains only", path)
	}
	for i, e := range cas {
		if e.End.IsZero() {
			return nil, fmt.Errorf("CA: retired chains %s: chain %d has no end: a retired chain is trusted until its retirement plus %s", path, i+1, LeafValidity)
		}
	}
	return cas, nil
}

// Rotate retires the authority in dir and puts a new one in its place: with newRoot, a new root and
// intermediate; otherwise a new intermediate under the kept root, signed with RootKeyFile. The old
// chain joins RetiredFile, trusted until retireAt (now when zero; never before now) plus
// LeafValidity, so a certificate it issued just before still verifies at its timestamp. A running
// custodyd issues with the old chain until it restarts.
func Rotate(dir string, newRoot bool, retireAt time.Time, now func() time.Time) (*Authority, error) {
	if err := finishRotation(dir); err != nil {
		return nil, err
	}
	old, err := LoadFiles(filepath.Join(dir, ChainFile), filepath.Join(dir, KeyFile), now)
	if err != nil {
		return nil, err
	}
	t := now()
	if retireAt.IsZero() {
		retireAt = t
	}
	if retireAt.Before(t) {
		return nil, fmt.Errorf("CA: rotate: the retirement time %s is in the past: the old chain issues until the new one is in use", retireAt.UTC().Format(time.RFC3339))
	}
	root := old.Chain[len(old.Chain)-1]
	name := "custody"
	if len(root.Subject.Organization) > 0 {
		name = root.Subject.Organization[0]
	}
	var a *Authority
	var rootKey crypto.Signer
	if newRoot {
		if a, rootKey, err = Generate(name, now); err != nil {
			return nil, err
		}
	} else {
		key, err := pki.ReadKey(filepath.Join(dir, RootKeyFile))
		if err != nil {
			return nil, fmt.Errorf("CA: rotate under the kept root needs its key: %w (or rotate to a new root)", err)
		}
		if !publicKeysEqual(root.PublicKey, key.Public()) {
			return nil, fmt.Errorf("CA: rotate: %s is not the key of the root %q", RootKeyFile, root.Subject.CommonName)
		}
		if a, err = newIntermediate(name, root, key, now); err != nil {
			return nil, fmt.Errorf("CA: rotate: %w", err)
		}
	}
	retired, err := Retired(filepath.Join(dir, RetiredFile))
	if err != nil {
		return nil, err
	}
	gone := old.Entry()
	gone.End = retireAt.Add(LeafValidity)
	retired = append(slices.DeleteFunc(retired, func(e trustroot.Entry) bool { return e.SameChain(gone) }), gone)
	list, err := trustroot.Build(retired, nil)
	if err != nil {
		return nil, fmt.Errorf("CA: rotate: %w", err)
	}
	// The new keys go beside the old ones, then the retired list, then the chain: the chain is the
	// commit, and finishRotation moves the keys into place (or drops them if the chain never came).
	if err := a.write(dir, rootKey, next, pki.File{Name: RetiredFile, Data: list}); err != nil {
		return nil, err
	}
	return a, finishRotation(dir)
}

// finishRotation completes a rotation of dir: when the chain in place is the one the pending keys
// belong to, they replace the old keys; otherwise the rotation stopped before its chain was
// written, and the pending keys are dropped.
func finishRotation(dir string) error {
	pendingKey := filepath.Join(dir, KeyFile+next)
	switch ok, err := pki.Exists(pendingKey); {
	case err != nil:
		return fmt.Errorf("CA: %w", err)
	case !ok:
		return nil
	}
	chain, err := pki.ReadChain(filepath.Join(dir, ChainFile))
	if err != nil {
		return fmt.Errorf("CA: finish a rotation: %w", err)
	}
	key, err := pki.ReadKey(pendingKey)
	if err != nil {
		return fmt.Errorf("CA: finish a rotation: %w", err)
	}
	committed := publicKeysEqual(chain[0].PublicKey, key.Public())
	for _, name := range []string{RootKeyFile, KeyFile} {
		pending := filepath.Join(dir, name+next)
		if committed {
			err = os.Rename(pending, filepath.Join(dir, name))
		} else {
			err = os.Remove(pending)
		}
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("CA: finish a rotation: %w", err)
		}
	}
	return nil
}
