package api_test

import (
	"crypto/x509"
	"strings"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/custody-dev/custody/attestation"
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
