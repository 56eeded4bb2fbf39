package crafting

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/custody-dev/custody/client"
	"github.com/custody-dev/custody/internal/atomicfile"
	"github.com/custody-dev/custody/signing"
)

// PushRequest is a push as a user asks for it: which signer, where the bundle goes.
type PushRequest struct {
	// Key is a cosign key reference (a file or env://VAR); empty means keyless, which needs ControlPlane.
	Key        string
	KeyOptions signing.KeyOptions
	// ControlPlane, when set, stores the attestation (unless the run is a dry run) and certifies the
	// keyless signer's key.
	ControlPlane *client.Client
	// BundlePath, when set, receives the bundle (online, once the control plane stored it); offline
	// without it the bundle goes to Stdout.
	BundlePath  string
	Stdout      io.Writer
	Annotations map[string]string
	// Authenticated resolves the control plane's credential: the CI job it was exchanged for, or nil
	// (PushOptions.Authenticated). Asked only when the push goes to the control plane.
	Authenticated func(ctx context.Context) (*CIJob, error)
}

// PushResult is what a push did.
type PushResult struct {
	RunID string `json:"runID"`
	// Digest is the attestation's digest (its DSSE envelope's).
	Digest string `json:"digest"`
	Bundle string `json:"bundle,omitempty"`
	RunURL string `json:"runURL,omitempty"`
	// PageURL is the run's page in the control plane's web UI.
	PageURL string `json:"pageURL,omitempty"`
	// Keyless tells a certificate from the control plane signed it; Identity and Issuer are the
	// certificate's SAN and OIDC issuer.
	Keyless  bool   `json:"keyless"`
	Identity string `json:"identity,omitempty"`
	Issuer   string `json:"issuer,omitempty"`
	// Status is the run as it was pushed (the state is cleared once it is stored).
	Status *Status `json:"-"`
	// Written reports the bundle went to Stdout.
	Written bool `json:"-"`
}

// PushRun signs the run and stores it where the request says: the key is loaded first (a wrong
// password fails before anything is rendered); without a key, a control plane certifies a key that
// lives for this one signature (keyless). Offline, and for a dry run, a key is required.
func (c *Crafter) PushRun(ctx context.Context, req PushRequest) (*PushResult, error) {
	opts := PushOptions{Annotations: req.Annotations}
	dest := &destinations{file: &bundleFile{path: req.BundlePath, stdout: req.Stdout}}
	if req.ControlPlane != nil {
		dest.cp = &ControlPlaneDestination{Client: req.ControlPlane}
		opts.Authenticated = req.Authenticated
	}
	opts.Destination = dest
	switch {
	case req.Key != "":
		signer, err := signing.LoadKey(ctx, req.Key, req.KeyOptions)
		if err != nil {
			return nil, &InputError{Err: fmt.Errorf("push: %w", err)}
		}
		opts.Signer = signer
	case req.ControlPlane == nil:
		return nil, &InputError{Err: errors.New("push: --key is required without a control plane: keyless signing needs one to certify its key")}
	default:
		opts.Keyless = req.ControlPlane
	}
	pushed, err := c.Push(ctx, opts)
	if err != nil {
		return nil, err
	}
	res := &PushResult{RunID: pushed.State.RunID, Digest: pushed.Digest, Bundle: req.BundlePath,
		Keyless: pushed.Certificate != nil, Written: req.BundlePath == "" && (dest.cp == nil || pushed.State.DryRun),
		Status: statusOf(pushed.State)}
	if pushed.Certificate != nil {
		res.Identity, res.Issuer = pushed.Certificate.Identity, pushed.Certificate.Issuer
	}
	if dest.cp != nil && dest.cp.Result != nil {
		res.RunURL, res.PageURL = dest.cp.Result.RunURL, dest.cp.Result.PageURL
	}
	return res, nil
}

// destinations stores a pushed attestation in the control plane (unless the run is a dry run) and in
// the bundle file; with neither, the bundle goes to stdout. Online, the file appears only once the
// control plane stored the bundle: a refused push leaves no file that looks like a result.
type destinations struct {
	cp   *ControlPlaneDestination
	file *bundleFile
}

func (d *destinations) Store(ctx context.Context, p *Pushed) error {
	if d.cp == nil || p.State.DryRun {
		return d.file.Store(ctx, p)
	}
	if d.file.path == "" {
		return d.cp.Store(ctx, p)
	}
	// Staged first, so a bundle path that cannot be written fails before anything is stored.
	staged, err := atomicfile.Stage(d.file.path, p.Bundle, 0o644)
	if err != nil {
		return fmt.Errorf("--bundle: %w", err)
	}
	defer staged.Discard()
	if err := d.cp.Store(ctx, p); err != nil {
		return err
	}
	if err := staged.Commit(); err != nil {
		return fmt.Errorf("the control plane stored the attestation, but --bundle was not written (custody attestation get fetches it): %w", err)
	}
	return nil
}

// bundleFile is the offline destination of a push: a file written atomically, or stdout.
type bundleFile struct {
	path   string
	stdout io.Writer
}

func (b *bundleFile) Store(_ context.Context, p *Pushed) error {
	if b.path == "" {
		if b.stdout == nil {
			return errors.New("no --bundle file and no standard output to write the bundle to")
		}
		_, err := b.stdout.Write(append(p.Bundle, '\n'))
		return err
	}
	return atomicfile.Write(b.path, p.Bundle, 0o644)
}
