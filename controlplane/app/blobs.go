package app

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/custody-dev/custody/cas"
	"github.com/custody-dev/custody/controlplane/auth"
	"github.com/custody-dev/custody/controlplane/store"
	"github.com/custody-dev/custody/wire"
)

// PutBlob streams a blob into the CAS. claimed returns the digest the client claims, read once the
// body is received (a header, or a trailer for a client that hashes while it uploads); a mismatch
// stores nothing. Any token of the org may upload: the CAS keeps one copy of each content, and the
// store records the scope of every credential that uploaded it, which decides what attestations of
// which workflows may claim it (see Push).
func (a *App) PutBlob(ctx context.Context, p auth.Principal, r io.Reader, claimed func() string) (*wire.Blob, error) {
	h, err := a.cas.Put(ctx, r, func(got cas.Hashed) error {
		want := claimed()
		if want == "" {
			return nil // the client will compare the digest we answer with its own
		}
		if _, err := cas.ParseDigest(want); err != nil {
			return badRequest("%s: %v", wire.DigestHeader, err)
		}
		if string(got.Digest) != want {
			return &Error{Status: 400, Code: wire.CodeDigestMismatch,
				Msg: fmt.Sprintf("received %d bytes with digest %s, the client claimed %s: nothing was stored", got.Size, got.Digest, want)}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	up := &store.BlobUpload{Digest: string(h.Digest), OrgID: p.Token.OrgID, ProjectID: p.Token.ProjectID,
		WorkflowID: p.Token.WorkflowID, CreatedAt: a.now().UTC()}
	if err := a.store.AddBlobUpload(ctx, up); err != nil {
		return nil, fmt.Errorf("record the upload of %s: %w", h.Digest, err)
	}
	return &wire.Blob{Digest: string(h.Digest), Size: h.Size}, nil
}

// OpenBlob opens a blob of the CAS. An org-wide token reads any blob; a project or workflow token
// reads the blobs that an attestation it may read claims (see Push), so neither a digest alone nor
// an attestation that merely names it opens another project's artifacts. It is checked before the
// CAS is asked, so a refusal does not tell whether the blob exists.
func (a *App) OpenBlob(ctx context.Context, p auth.Principal, digest string) (io.ReadCloser, int64, error) {
	d, err := cas.ParseDigest(digest)
	if err != nil {
		return nil, 0, badRequest("%v", err)
	}
	if err := a.mayReadBlob(ctx, p, digest); err != nil {
		return nil, 0, err
	}
	rc, size, err := a.cas.Open(ctx, d)
	if errors.Is(err, cas.ErrNotFound) {
		return nil, 0, notFound("blob %s not found", digest)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("open blob: %w", err)
	}
	return rc, size, nil
}

// mayReadBlob allows an org-wide token, or a scoped one when an attestation of its scope claims the
// digest.
func (a *App) mayReadBlob(ctx context.Context, p auth.Principal, digest string) error {
	workflowIDs, err := a.searchScope(ctx, p, "", "")
	if err != nil {
		return fmt.Errorf("open blob: %w", err)
	}
	if workflowIDs == nil {
		return nil // org-wide
	}
	claimed, err := a.store.BlobClaimed(ctx, digest, workflowIDs)
	if err != nil {
		return fmt.Errorf("open blob: %w", err)
	}
	if claimed {
		return nil
	}
	return forbidden("this token may read only the blobs its attestations claim, and none claims %s", digest)
}
