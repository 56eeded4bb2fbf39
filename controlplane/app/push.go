package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/attestation/satisfy"
	"github.com/custody-dev/custody/controlplane/auth"
	"github.com/custody-dev/custody/controlplane/ca"
	"github.com/custody-dev/custody/controlplane/store"
	"github.com/custody-dev/custody/wire"
)

// Push stores a run's attestation, only once it is verified: signed by a key the workflow trusts,
// about this run, satisfying its contract revision (the rule crafting applies before signing,
// attestation/satisfy), and claiming only blobs the run may claim (materialRefs). Pushing the same
// bundle again returns the same result.
//
// A push is bounded work: the bundle is at most attestation.MaxBundleSize (the API's bound), its
// statement at most attestation.MaxStatementSize and its materials at most attestation.MaxMaterials;
// the signature is checked before the statement is decoded; pushes under way hold at most the push
// budget (Config.PushBudget) of bundle bytes.
func (a *App) Push(ctx context.Context, p auth.Principal, runID string, bundle []byte) (*wire.Pushed, error) {
	r, w, pr, err := a.run(ctx, p, runID)
	if err != nil {
		return nil, err
	}
	if err := a.pushes.Acquire(ctx, int64(len(bundle))); err != nil {
		return nil, fmt.Errorf("push: waiting for a turn: %w", err)
	}
	defer a.pushes.Release(int64(len(bundle)))
	doc, err := attestation.ReadEnvelope(bundle)
	if err != nil {
		return nil, unprocessable(wire.CodeUnverifiable, "not a readable attestation: %v", err)
	}
	if err := attestation.CheckStatementSize(doc.Envelope.Payload); err != nil {
		return nil, &Error{Status: 413, Code: wire.CodeTooLarge, Msg: err.Error()}
	}
	if doc.Bundle == nil {
		// Its envelope digest is the bundle's: stored, it would be served as the bundle.
		return nil, unprocessable(wire.CodeUnverifiable, "a bare DSSE envelope: push the Sigstore bundle (%s) that wraps it", attestation.BundleMediaType)
	}
	digest := doc.Envelope.Digest()
	switch {
	case r.State == store.RunSucceeded && r.AttestationDigest == digest:
		return &wire.Pushed{Digest: digest, Created: false, RunURL: a.runURL(r.ID), PageURL: a.pageURL(r.ID)}, nil
	case r.State != store.RunInitialized:
		return nil, conflict(wire.CodeRunFinished, "run %s is %s: it takes no attestation", r.ID, r.State)
	}
	res, err := a.verify(ctx, p, pr, w, doc)
	if err != nil {
		return nil, err
	}
	pred := res.Predicate
	if pred == nil || pred.Workflow.RunID != r.ID || pred.Workflow.Name != w.Name || pred.Workflow.Project != pr.Name {
		return nil, unprocessable(wire.CodeUnverifiable, "the attestation is not about run %s of %s/%s", r.ID, pr.Name, w.Name)
	}
	if err := checkRunner(p, pred.Runner); err != nil {
		return nil, err
	}
	_, c, err := a.revision(ctx, w, r.ContractRevision)
	if err != nil {
		return nil, err
	}
	if err := satisfy.Check(c, r.ContractRevision, res.Subjects, pred); err != nil {
		return nil, unprocessable(wire.CodeContractUnmet, "contract %s revision %d not satisfied: %v", c.Metadata.Name, r.ContractRevision, err)
	}
	refs, err := a.materialRefs(ctx, p, pr, w, pred)
	if err != nil {
		return nil, err
	}
	att := &store.Attestation{Digest: digest, RunID: r.ID, WorkflowID: w.ID, Bundle: bundle, CreatedAt: a.now().UTC(), Materials: refs}
	att.GitBranch, att.GitCommit = recordedGit(pred)
	created, err := a.store.PutAttestation(ctx, att)
	if errors.Is(err, store.ErrStale) {
		return nil, conflict(wire.CodeRunFinished, "run %s finished while the attestation was pushed", r.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("store attestation: %w", err)
	}
	a.log.Info("attestation stored", "digest", digest, "run", r.ID, "workflow", w.Name, "project", pr.Name, "created", created)
	return &wire.Pushed{Digest: digest, Created: created, RunURL: a.runURL(r.ID), PageURL: a.pageURL(r.ID)}, nil
}

// recordedGit returns the branch and commit the predicate records for its run: the runner context's
// branch, and the git head at init or else the runner context's commit; each only when it is one the
// control plane would take at init: a signed statement may hold anything, and a value that
// is no branch or commit is not kept on the run (the bundle keeps it).
func recordedGit(pred *attestation.Predicate) (branch, commit string) {
	if b := pred.Runner.Branch(); (wire.GitRef{Branch: b}).CheckBranch() == nil {
		branch = b
	}
	var head string
	if pred.Git != nil {
		head = pred.Git.Commit
	}
	for _, c := range []string{head, pred.Runner.Commit()} {
		if c != "" && (wire.GitRef{Commit: c}).CheckCommit() == nil {
			return branch, c
		}
	}
	return branch, ""
}

// verify checks the bundle's signature: a certificate-signed (keyless) bundle against the control
// plane's own authorities, for the workflow's identity; a key-signed one against every key the
// workflow trusts.
func (a *App) verify(ctx context.Context, p auth.Principal, pr *store.Project, w *store.Workflow, doc *attestation.Document) (*attestation.Result, error) {
	if doc.Bundle.GetVerificationMaterial().GetPublicKey() == nil {
		return a.verifyKeyless(ctx, p, pr, w, doc)
	}
	keys, err := a.store.ListPublicKeys(ctx, w.ID)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	if len(keys) == 0 {
		return nil, unprocessable(wire.CodeUnverifiable,
			"the attestation is signed with a key, and workflow %s trusts no key: push keyless (without --key), or add the key with `custody workflow key add`", w.Name)
	}
	var reasons []string
	for _, k := range keys {
		v, err := a.verifiers.get(k.ID, func() (*attestation.Verifier, error) {
			return attestation.NewVerifier(attestation.VerifyOptions{PublicKey: k.PEM})
		})
		if err != nil {
			reasons = append(reasons, fmt.Sprintf("key %s: %v", k.Hint, err))
			continue
		}
		res, err := v.VerifyDocument(ctx, doc, "")
		if err == nil {
			return res, nil
		}
		reasons = append(reasons, fmt.Sprintf("key %s: %v", k.Hint, err))
	}
	return nil, unprocessable(wire.CodeUnverifiable, "signature not verified by any key of workflow %s: %s", w.Name, strings.Join(reasons, "; "))
}

// verifyKeyless checks a certificate-signed bundle as any verifier with the trusted root would: the
// chain to this control plane's CA, valid at the time its timestamp authority vouches for, the
// certificate issued to the pusher for this workflow (the identity IssueCertificate certifies to p:
// the workflow's for a token, the CI job's own for a workload), and the DSSE signature by the
// certified key.
func (a *App) verifyKeyless(ctx context.Context, p auth.Principal, pr *store.Project, w *store.Workflow, doc *attestation.Document) (*attestation.Result, error) {
	if a.keyless == nil {
		return nil, unprocessable(wire.CodeUnverifiable, "the attestation is signed with a certificate, and this control plane issues none (keyless signing is off): sign with a key the workflow trusts")
	}
	id, err := a.Identity(p, pr, w)
	if err != nil {
		return nil, err
	}
	return a.verifyIdentity(ctx, pr, w, doc, id)
}

// verifyIdentity checks a certificate-signed bundle against the control plane's authorities, for a
// certificate naming id.
func (a *App) verifyIdentity(ctx context.Context, pr *store.Project, w *store.Workflow, doc *attestation.Document, id ca.Identity) (*attestation.Result, error) {
	v, err := a.verifiers.get("keyless/"+w.ID+"/"+id.Issuer+" "+id.URI, func() (*attestation.Verifier, error) {
		return attestation.NewVerifier(attestation.VerifyOptions{TrustedMaterial: a.keyless.trusted,
			Identity: &attestation.CertificateIdentity{SAN: id.URI, Issuer: id.Issuer}})
	})
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	res, err := v.VerifyDocument(ctx, doc, "")
	if err != nil {
		return nil, unprocessable(wire.CodeUnverifiable, "keyless signature of workflow %s/%s not verified (want a certificate for %s, issued by %s): %v", pr.Name, w.Name, id.URI, id.Issuer, err)
	}
	return res, nil
}

// materialRefs indexes the materials of a satisfied predicate by digest. A file material that says
// it was uploaded claims its blob, which opens the blob to whoever may read the attestation: the
// claim must be the run's to make (mayClaim), or the push is refused. Other digests (images, files
// kept out of the CAS) are indexed for search and open nothing, whatever the CAS holds now or later.
func (a *App) materialRefs(ctx context.Context, p auth.Principal, pr *store.Project, w *store.Workflow, pred *attestation.Predicate) ([]store.MaterialRef, error) {
	var claims []string
	for _, m := range pred.Materials {
		if claimsBlob(m) {
			claims = append(claims, m.Digest)
		}
	}
	uploads, err := a.store.ListBlobUploads(ctx, pr.OrgID, claims)
	if err != nil {
		return nil, fmt.Errorf("push: %w", err)
	}
	claimable := map[string]bool{}
	for _, u := range uploads {
		if mayClaim(p, pr, w, u) {
			claimable[u.Digest] = true
		}
	}
	var refs []store.MaterialRef
	var refused []string
	for _, m := range pred.Materials {
		if m.Digest == "" {
			continue
		}
		claimed := claimsBlob(m)
		if claimed && !claimable[m.Digest] {
			refused = append(refused, fmt.Sprintf("%s (%s)", m.Name, m.Digest))
		}
		refs = append(refs, store.MaterialRef{Digest: m.Digest, Name: m.Name, Kind: string(m.Kind), Claimed: claimed, Output: m.Output})
	}
	if len(refused) > 0 {
		who := fmt.Sprintf("workflow %s/%s or of project %s", pr.Name, w.Name, pr.Name)
		if p.OrgWide() {
			who = fmt.Sprintf("workflow %s/%s, of project %s or of the org", pr.Name, w.Name, pr.Name)
		}
		if len(refused) > maxListed {
			refused = append(refused[:maxListed], fmt.Sprintf("and %d more", len(refused)-maxListed))
		}
		return nil, unprocessable(wire.CodeMaterialNotClaimable,
			"the attestation says it uploaded the files of %s, but no credential of %s uploaded them: "+
				"upload them with such a credential (custody attestation add does) and push again", strings.Join(refused, ", "), who)
	}
	return refs, nil
}

// mayClaim reports whether a push by p to a run of workflow w (in project pr) may claim a blob that
// u records an upload of: an upload by a credential scoped to the workflow or to its project, which
// gave the blob to them; or an upload by an org-wide credential when the pusher is org-wide too (an
// admin's run, as in the quickstart: it reads every blob already). Another workflow's or project's
// upload is never the run's to give to the workflow's readers, nor is an org-wide credential's to a
// scoped pusher: the blob may be any project's.
func mayClaim(p auth.Principal, pr *store.Project, w *store.Workflow, u store.BlobUpload) bool {
	switch {
	case u.OrgID != pr.OrgID:
		return false
	case u.WorkflowID != "":
		return u.WorkflowID == w.ID
	case u.ProjectID != "":
		return u.ProjectID == pr.ID
	}
	return p.OrgWide()
}

// maxListed bounds the materials a refusal names.
const maxListed = 10

// claimsBlob reports whether a material claims the blob of its digest: a file it says it uploaded.
func claimsBlob(m attestation.Material) bool {
	return m.File != nil && m.File.Uploaded && m.Digest != ""
}

// GetAttestation returns an attestation and its bundle, exactly as pushed.
func (a *App) GetAttestation(ctx context.Context, p auth.Principal, digest string) (*wire.Attestation, []byte, error) {
	att, w, pr, err := a.attestation(ctx, p, digest)
	if err != nil {
		return nil, nil, err
	}
	return toAttestation(att, pr, w), att.Bundle, nil
}

// attestation loads an attestation the principal may read, with its workflow and project.
func (a *App) attestation(ctx context.Context, p auth.Principal, digest string) (*store.Attestation, *store.Workflow, *store.Project, error) {
	att, err := a.store.GetAttestation(ctx, digest)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, nil, notFound("attestation %s not found", digest)
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("get attestation: %w", err)
	}
	w, pr, err := a.workflowOf(ctx, att.WorkflowID)
	if err != nil {
		return nil, nil, nil, err
	}
	if !p.Workflow(pr.OrgID, pr.ID, w.ID) {
		return nil, nil, nil, notFound("attestation %s not found", digest) // as if it did not exist
	}
	return att, w, pr, nil
}

// searchScope returns the workflows a search covers: the one named, the readable ones of the project
// named, or every one the token may read. nil means all of them (an org-wide token, no filter).
func (a *App) searchScope(ctx context.Context, p auth.Principal, project, workflow string) ([]string, error) {
	switch {
	case workflow != "":
		_, w, err := a.workflow(ctx, p, project, workflow) // only a workflow it may read
		if err != nil {
			return nil, err
		}
		return []string{w.ID}, nil
	case project != "":
		pr, err := a.project(ctx, p, project)
		if err != nil {
			return nil, err
		}
		ids, err := a.readableWorkflows(ctx, p, pr)
		if err == nil && len(ids) == 0 && !p.Project(pr.OrgID, pr.ID) {
			return nil, forbidden("this token may not read project %s", project)
		}
		return ids, err
	case p.OrgWide():
		return nil, nil
	case p.Token.WorkflowID != "":
		return []string{p.Token.WorkflowID}, nil
	default:
		pr, err := a.store.GetProjectByID(ctx, p.Token.ProjectID)
		if err != nil {
			return nil, fmt.Errorf("token scope: project %s: %w", p.Token.ProjectID, err)
		}
		return a.readableWorkflows(ctx, p, pr)
	}
}

// readableWorkflows lists the IDs of the project's workflows the token may read (never nil).
func (a *App) readableWorkflows(ctx context.Context, p auth.Principal, pr *store.Project) ([]string, error) {
	ws, err := a.store.ListWorkflows(ctx, pr.ID)
	if err != nil {
		return nil, fmt.Errorf("list workflows of %s: %w", pr.Name, err)
	}
	ids := []string{}
	for _, w := range ws {
		if p.Workflow(pr.OrgID, pr.ID, w.ID) {
			ids = append(ids, w.ID)
		}
	}
	return ids, nil
}

func (a *App) workflowOf(ctx context.Context, workflowID string) (*store.Workflow, *store.Project, error) {
	w, err := a.store.GetWorkflowByID(ctx, workflowID)
	if err != nil {
		return nil, nil, fmt.Errorf("workflow %s: %w", workflowID, err)
	}
	pr, err := a.store.GetProjectByID(ctx, w.ProjectID)
	if err != nil {
		return nil, nil, fmt.Errorf("project %s: %w", w.ProjectID, err)
	}
	return w, pr, nil
}

func toAttestation(a *store.Attestation, pr *store.Project, w *store.Workflow) *wire.Attestation {
	return &wire.Attestation{Digest: a.Digest, RunID: a.RunID, Project: pr.Name, Workflow: w.Name, CreatedAt: a.CreatedAt}
}
