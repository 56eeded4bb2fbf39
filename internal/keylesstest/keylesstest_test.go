package keylesstest_test

import (
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"

	"github.com/custody-dev/custody/internal/keylesstest"
)

// The double's bundles are standard: sigstore-go alone verifies one against the double's
// trusted_root.json, at its RFC 3161 timestamp, for the SAN and issuer it was signed for; and that
// whatever the wall clock says, years before or after the signing time.
func TestBundlesVerifyWithSigstoreGo(t *testing.T) {
	for _, at := range []time.Time{
		time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC),
		time.Date(2001, 3, 1, 10, 0, 0, 0, time.UTC),
		time.Date(2090, 3, 1, 10, 0, 0, 0, time.UTC),
	} {
		t.Run(at.Format("2006"), func(t *testing.T) { verifyWithSigstoreGo(t, at) })
	}
}

func verifyWithSigstoreGo(t *testing.T, at time.Time) {
	ca, err := keylesstest.New("custody test", at)
	if err != nil {
		t.Fatal(err)
	}
	statement, err := keylesstest.Statement("skynet", "build", "app.bin", []byte("app"), at)
	if err != nil {
		t.Fatal(err)
	}
	const san, issuer = "https://custody.example/projects/skynet/workflows/build", "https://custody.example"
	raw, err := ca.Sign(statement, keylesstest.Signing{SAN: san, Issuer: issuer, At: at.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	trJSON, err := ca.TrustedRootJSON()
	if err != nil {
		t.Fatal(err)
	}
	tr, err := root.NewTrustedRootFromJSON(trJSON)
	if err != nil {
		t.Fatal(err)
	}
	var b bundle.Bundle
	if err := b.UnmarshalJSON(raw); err != nil {
		t.Fatal(err)
	}
	v, err := verify.NewVerifier(tr, verify.WithSignedTimestamps(1))
	if err != nil {
		t.Fatal(err)
	}
	id, err := verify.NewShortCertificateIdentity(issuer, "", san, "")
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Verify(&b, verify.NewPolicy(verify.WithoutArtifactUnsafe(), verify.WithCertificateIdentity(id)))
	if err != nil {
		t.Fatal(err)
	}
	if got := res.VerifiedTimestamps; len(got) != 1 || !got[0].Timestamp.Equal(at.Add(time.Hour)) {
		t.Errorf("verified timestamps %+v, want one at %s", got, at.Add(time.Hour))
	}
}
