package oci

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/custody-dev/custody/cas"
)

// inflight serializes the uploads of one digest within a Backend: concurrent Puts of the same blob
// (and every Put's empty config) upload it once, the others find it there. Registries do not all
// cope with concurrent commits of one blob: the distribution registry's filesystem storage
// rewrites the repository's link file in place, and a manifest PUT racing it sees the blob unknown.
type inflight struct {
	mu   sync.Mutex
	busy map[cas.Digest]chan struct{}
}

// lock waits until no other upload of d runs here, or ctx ends. The caller calls the returned
// unlock.
func (f *inflight) lock(ctx context.Context, d cas.Digest) (unlock func(), err error) {
	for {
		f.mu.Lock()
		if f.busy == nil {
			f.busy = map[cas.Digest]chan struct{}{}
		}
		done, taken := f.busy[d]
		if !taken {
			done = make(chan struct{})
			f.busy[d] = done
			f.mu.Unlock()
			return func() {
				f.mu.Lock()
				delete(f.busy, d)
				f.mu.Unlock()
				close(done)
			}, nil
		}
		f.mu.Unlock()
		select {
		case <-done:
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for a concurrent upload of %s: %w", d, ctx.Err())
		}
	}
}

// raceAttempts bounds the retries of an upload that met another writer's commit of the same blob
// (another custodyd replica), raceBackoff spaces them.
const (
	raceAttempts = 6
	raceBackoff  = 50 * time.Millisecond
)

// blobRace reports whether err is a registry saying a blob just uploaded is unknown: what a
// concurrent commit of the same blob by another client looks like on some registries.
func blobRace(err error) bool {
	var terr *transport.Error
	if !errors.As(err, &terr) {
		return false
	}
	for _, d := range terr.Errors {
		switch d.Code {
		case transport.ManifestBlobUnknownErrorCode, transport.BlobUnknownErrorCode, transport.DigestInvalidErrorCode:
			return true
		}
	}
	return false
}

// retryRace runs op until it succeeds, fails for another reason, or raceAttempts are spent.
func retryRace(ctx context.Context, op func() error) error {
	var err error
	for attempt := 1; ; attempt++ {
		if err = op(); err == nil || attempt == raceAttempts || !blobRace(err) {
			return err
		}
		select {
		case <-time.After(time.Duration(attempt) * raceBackoff):
		case <-ctx.Done():
			return fmt.Errorf("%w (after: %v)", ctx.Err(), err)
		}
	}
}
