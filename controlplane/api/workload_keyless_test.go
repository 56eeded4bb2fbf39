package api_test

import (
	"crypto/x509"
	"encoding/json"
	"maps"
	"strings"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/client"
	"github.com/custody-dev/custody/crafting"
	"github.com/custody-dev/custody/internal/oidctest"
	"github.com/custody-dev/custody/signing"
	"github.com/custody-dev/custody/wire"
)

// A CI job whose OIDC token was exchanged signs keyless as itself: the certificate names the job's
// workflow file and repository as Fulcio would, the control plane stores the push, and a verifier
// pinning the CI identity accepts it. A token of the workflow pushing the job's bundle is refused:
// the certificate is not its identity.
func TestWorkloadKeylessPush(t *testing.T) {
	t.Parallel()
	f := newOIDCFixture(t)
	ctx := t.Context()
	out, err := f.srv.Client(t, "").ExchangeOIDC(ctx, wire.ExchangeOIDC{Token: f.github(t, nil), Project: "alpha", Workflow: "build"})
	if err != nil {
		t.Fatal(err)
	}
	job := f.srv.Client(t, out.Token)
	run, err := job.InitRun(ctx, wire.InitRun{Project: "alpha", Workflow: "build"})
	if err != nil {
		t.Fatal(err)
	}
	authority := job.RunAuthority(run.Run.ID)
	signer, err := signing.NewKeylessSigner(authority, nil)
	if err != nil {
		t.Fatal(err)
	}
	bundle := craft{Run: run.Run, Contract: run.Contract, Signer: signer, Adds: buildAdds(t, "rootfs")}.bundle(t)
	wantSAN := f.iss.URL + "/acme/app/.github/workflows/build.yml@refs/heads/main"
	if authority.Issued == nil || authority.Issued.Identity != wantSAN || authority.Issued.Issuer != f.iss.URL {
		t.Fatalf("certificate issued to the job: %+v, want %s by %s", authority.Issued, wantSAN, f.iss.URL)
	}

	// A token of the workflow did not get this certificate: its push is refused.
	_, err = f.srv.Admin(t).Push(ctx, run.Run.ID, bundle)
	if err == nil || !strings.Contains(err.Error(), "want a certificate for "+f.srv.URL+"/projects/alpha/workflows/build") {
		t.Errorf("the admin's push of the job's bundle: %v, want a refusal naming the workflow's identity", err)
	}
	if _, err := job.Push(ctx, run.Run.ID, bundle); err != nil {
		t.Fatalf("the job's push: %v", err)
	}

	doc, err := attestation.Read(bundle)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(doc.Bundle.GetVerificationMaterial().GetCertificate().GetRawBytes())
	if err != nil {
		t.Fatal(err)
	}
	ext, err := certificate.ParseExtensions(leaf.Extensions)
	if err != nil {
		t.Fatal(err)
	}
	claims := oidctest.GitHubClaims("acme/app", "refs/heads/main")
	if ext.SourceRepositoryURI != f.iss.URL+"/acme/app" || ext.GithubWorkflowRepository != "acme/app" ||
		ext.SourceRepositoryOwnerIdentifier != claims["repository_owner_id"] || ext.BuildTrigger != "push" || ext.RunnerEnvironment != "github-hosted" {
		t.Errorf("extensions: %+v", ext)
	}
	tr, err := root.NewTrustedRootFromJSON(f.srv.TrustedRoot)
	if err != nil {
		t.Fatal(err)
	}
	res, err := attestation.Verify(ctx, bundle, attestation.VerifyOptions{TrustedMaterial: tr,
		Identity: &attestation.CertificateIdentity{SAN: wantSAN, Issuer: f.iss.URL}})
	if err != nil || res.Signer.SAN != wantSAN {
		t.Errorf("verify with the CI identity: %v", err)
	}
	_, err = attestation.Verify(ctx, bundle, attestation.VerifyOptions{TrustedMaterial: tr,
		Identity: &attestation.CertificateIdentity{SAN: f.srv.URL + "/projects/alpha/workflows/build", Issuer: f.srv.URL}})
	if err == nil {
		t.Error("the job's bundle verified as the workflow token's identity")
	}
}

// A pushed predicate may record its runner as authenticated only when the pusher is the CI job
// whose verified token names it: the job's own push is stored as it is; the same claim pushed with
// a custody token, or with another repository in the runner context, is refused with 422
// runner_not_authenticated naming what differs, and stores nothing (the run still takes the job's
// own push).
func TestPushAuthenticatedRunner(t *testing.T) {
	t.Parallel()
	f := newOIDCFixture(t)
	ctx := t.Context()
	claims := oidctest.GitHubClaims("acme/app", "refs/heads/main")
	env := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": f.iss.URL, "GITHUB_REPOSITORY": "acme/app",
		"GITHUB_RUN_ID": claims["run_id"].(string), "GITHUB_RUN_ATTEMPT": "1"}
	ciJob := &crafting.CIJob{Issuer: f.iss.URL, Subject: "repo:acme/app:ref:refs/heads/main"}
	out, err := f.srv.Client(t, "").ExchangeOIDC(ctx, wire.ExchangeOIDC{Token: f.github(t, nil), Project: "alpha", Workflow: "build"})
	if err != nil {
		t.Fatal(err)
	}
	job, admin := f.srv.Client(t, out.Token), f.srv.Admin(t)
	bundle := func(run wire.InitializedRun, pusher *client.Client, env map[string]string) []byte {
		t.Helper()
		signer, err := signing.NewKeylessSigner(pusher.RunAuthority(run.Run.ID), nil)
		if err != nil {
			t.Fatal(err)
		}
		return craft{Run: run.Run, Contract: run.Contract, Signer: signer, Adds: buildAdds(t, "rootfs"), Env: env, Job: ciJob}.bundle(t)
	}
	otherRepo := maps.Clone(env)
	otherRepo["GITHUB_REPOSITORY"] = "acme/other"
	for _, tt := range []struct {
		name   string
		pusher *client.Client
		env    map[string]string
		want   string
	}{
		{"pushed with a custody token", admin, env, "the attestation records its runner as authenticated by \"" + f.iss.URL + "\", and it is pushed with a custody token"},
		{"another repository", job, otherRepo, `GITHUB_REPOSITORY "acme/other", the token's repository is "acme/app"`},
	} {
		run, err := job.InitRun(ctx, wire.InitRun{Project: "alpha", Workflow: "build"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = tt.pusher.Push(ctx, run.Run.ID, bundle(*run, tt.pusher, tt.env))
		if client.Status(err) != 422 || client.Code(err) != wire.CodeRunnerNotAuthenticated || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want 422 %s with %q", tt.name, err, wire.CodeRunnerNotAuthenticated, tt.want)
		}
		if pushed, err := job.Push(ctx, run.Run.ID, bundle(*run, job, env)); err != nil || !pushed.Created {
			t.Errorf("%s: the job's own push after the refusal: %+v, %v", tt.name, pushed, err)
		}
	}

	run, err := job.InitRun(ctx, wire.InitRun{Project: "alpha", Workflow: "build"})
	if err != nil {
		t.Fatal(err)
	}
	pushed, err := job.Push(ctx, run.Run.ID, bundle(*run, job, env))
	if err != nil {
		t.Fatal(err)
	}
	stored, err := job.GetBundle(ctx, pushed.Digest)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := attestation.Read(stored)
	if err != nil {
		t.Fatal(err)
	}
	var st struct{ Predicate attestation.Predicate }
	if err := json.Unmarshal(doc.Envelope.Payload, &st); err != nil {
		t.Fatal(err)
	}
	if r := st.Predicate.Runner; r == nil || !r.Authenticated || r.Issuer != f.iss.URL || r.Subject != ciJob.Subject ||
		r.URL != f.iss.URL+"/acme/app/actions/runs/9000000001/attempts/1" {
		t.Errorf("stored runner %+v, want the job's, authenticated", r)
	}
}
