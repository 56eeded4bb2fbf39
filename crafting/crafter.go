package crafting

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/custody-dev/custody/crafting/materials"
	"github.com/custody-dev/custody/runner"
)

// Options configure a Crafter. Environment and clock are injected so tests run in parallel.
type Options struct {
	Store     Store
	Materials *materials.Crafter
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Version is the CLI's version, recorded in the state and the predicate.
	Version string
	// Workdir is where the git head is read; "" means the current directory.
	Workdir string
	// Warn tells the user about a failure the lifecycle worked around; nil drops warnings.
	Warn func(msg string)
	// Runner is the runner the command runs on, detected once by the caller; nil detects it from
	// Getenv.
	Runner *runner.Context
}

// Crafter runs the attestation lifecycle.
type Crafter struct {
	store     Store
	materials *materials.Crafter
	getenv    func(string) string
	now       func() time.Time
	version   string
	workdir   string
	warn      func(string)
	runner    runner.Context
}

// New returns a Crafter.
func New(opts Options) (*Crafter, error) {
	if opts.Store == nil {
		return nil, errors.New("crafting: a state store is required")
	}
	c := &Crafter{store: opts.Store, materials: opts.Materials, getenv: opts.Getenv, now: opts.Now,
		version: opts.Version, workdir: opts.Workdir, warn: opts.Warn}
	if c.materials == nil {
		c.materials = materials.New(materials.Options{Now: opts.Now})
	}
	if c.getenv == nil {
		c.getenv = os.Getenv
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.warn == nil {
		c.warn = func(string) {}
	}
	if c.workdir == "" {
		c.workdir = "."
	}
	switch {
	case opts.Runner != nil:
		c.runner = *opts.Runner
	case opts.Getenv == nil:
		c.runner = runner.Detect(runner.OSEnv())
	default:
		c.runner = runner.Detect(runner.Env{Getenv: opts.Getenv})
	}
	return c, nil
}

// maxStaleRetries bounds the re-read-and-retry loop of a write that lost a race.
const maxStaleRetries = 100

// update applies fn to the current state and saves it, re-reading and re-applying when another
// writer got there first. fn must be cheap and repeatable: slow work (hashing) happens before.
func (c *Crafter) update(ctx context.Context, runID string, fn func(*State) error) (*State, error) {
	for range maxStaleRetries {
		st, base, err := c.store.Load(ctx)
		if err != nil {
			return nil, err
		}
		if st.RunID != runID {
			return nil, fmt.Errorf("the attestation in progress changed (run %s, was %s): it was reset or replaced", st.RunID, runID)
		}
		if err := fn(st); err != nil {
			return nil, err
		}
		_, err = c.store.Save(ctx, st, base)
		if errors.Is(err, ErrStale) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("save state to %s: %w", c.store.Location(), err)
		}
		return st, nil
	}
	return nil, fmt.Errorf("save state to %s: gave up after %d concurrent changes", c.store.Location(), maxStaleRetries)
}

func newRunID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate run id: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40 // UUID version 4
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}
