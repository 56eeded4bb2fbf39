package signing_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/controlplane/ca"
	"github.com/custody-dev/custody/controlplane/trustroot"
	"github.com/custody-dev/custody/controlplane/tsa"
	"github.com/custody-dev/custody/internal/keylesstest"
	"github.com/custody-dev/custody/signing"
)

const (
	controlPlane = "https://custody.example"
	identity     = controlPlane + "/projects/skynet/workflows/build-and-test"
)

// authority is the control plane's CA and TSA, answering as custodyd's routes do; tamper, when set,
// changes an answer as a broken or hostile authority would.
type authority struct {
	ca      *ca.Authority
	tsa     *tsa.Authority
	calls   int
	tamper  func(what string, answer [][]byte) [][]byte
	refused error
}

func newAuthority(t *testing.T) *authority {
	t.Helper()
	// The wall clock: a timestamp's PKCS #7 signing time is the wall clock's (see controlplane/tsa).
	c, _, err := ca.Generate("custody test", time.Now)
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := tsa.Generate("custody test", time.Now)
	if err != nil {
		t.Fatal(err)
	}
	return &authority{ca: c, tsa: s}
}

func (a *authority) Certificate(_ context.Context, csr []byte) ([][]byte, error) {
	a.calls++
	if a.refused != nil {
		return nil, a.refused
	}
	chain, err := a.ca.Issue(csr, ca.Identity{URI: identity, Issuer: controlPlane})
	if err != nil {
		return nil, err
	}
	var ders [][]byte
	for _, c := range chain {
		ders = append(ders, c.Raw)
	}
	if a.tamper != nil {
		ders = a.tamper("certificate", ders)
	}
	return ders, nil
}

func (a *authority) Timestamp(_ context.Context, req []byte) ([]byte, error) {
	reply, err := a.tsa.Timestamp(req)
	if err != nil || a.tamper == nil {
		return reply, err
	}
	return a.tamper("timestamp", [][]byte{reply})[0], nil
}

func (a *authority) trustedRoot(t *testing.T) root.TrustedMaterial {
	t.Helper()
	b, err := trustroot.Build(a.ca.Entries(nil), []trustroot.Entry{{Chain: a.tsa.Chain, Start: a.tsa.Chain[0].NotBefore}})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := root.NewTrustedRootFromJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func statement(t *testing.T) []byte {
	t.Helper()
	st, err := keylesstest.Statement("skynet", "build-and-test", "rootfs.tar.gz", []byte("rootfs"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// A keyless bundle carries the leaf and an RFC 3161 timestamp of the signature, and verifies with
// the trusted root for the identity the CA certified; each signature has its own key.
func TestKeylessSign(t *testing.T) {
	t.Parallel()
	a := newAuthority(t)
	signer, err := signing.NewKeylessSigner(a, nil)
	if err != nil {
		t.Fatal(err)
	}
	st := statement(t)
	first, err := signer.Sign(t.Context(), st)
	if err != nil {
		t.Fatal(err)
	}
	second, err := signer.Sign(t.Context(), st)
	if err != nil {
		t.Fatal(err)
	}
	res, err := attestation.Verify(t.Context(), first, attestation.VerifyOptions{TrustedMaterial: a.trustedRoot(t),
		Identity: &attestation.CertificateIdentity{SAN: identity, Issuer: controlPlane}})
	if err != nil {
		t.Fatalf("the keyless bundle does not verify: %v", err)
	}
	if res.Signer == nil || res.Signer.SAN != identity || len(res.Signer.Timestamps) != 1 {
		t.Errorf("signer = %+v, want %s with one timestamp", res.Signer, identity)
	}
	docs := [2]*attestation.Document{}
	for i, b := range [][]byte{first, second} {
		if docs[i], err = attestation.Read(b); err != nil {
			t.Fatal(err)
		}
	}
	if leaf0, leaf1 := docs[0].Bundle.GetVerificationMaterial().GetCertificate(), docs[1].Bundle.GetVerificationMaterial().GetCertificate(); leaf0 == nil || leaf1 == nil {
		t.Fatal("no leaf certificate in the bundle")
	} else if c0, c1 := parse(t, leaf0.GetRawBytes()), parse(t, leaf1.GetRawBytes()); c0.PublicKey.(*ecdsa.PublicKey).Equal(c1.PublicKey) {
		t.Error("two signatures share a key: the key must live for one signature")
	}
	if a.calls != 2 {
		t.Errorf("%d certificate requests for 2 signatures", a.calls)
	}
}

func parse(t *testing.T, der []byte) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// What the authority answers is checked before it is used: a certificate for another key, or a
// timestamp of something else, ends the signature with a reason, and no bundle is made.
func TestKeylessSignRefusals(t *testing.T) {
	t.Parallel()
	otherKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		tamper  func(a *authority, t *testing.T) func(string, [][]byte) [][]byte
		refused error
		want    string
	}{
		{name: "refused", refused: errors.New("run 1 is succeeded: no certificate is issued for it"), want: "no certificate is issued"},
		{name: "no certificate", want: "answered no certificate", tamper: func(*authority, *testing.T) func(string, [][]byte) [][]byte {
			return func(what string, ders [][]byte) [][]byte {
				if what == "certificate" {
					return nil
				}
				return ders
			}
		}},
		{name: "another key's certificate", want: "certified another key", tamper: func(a *authority, t *testing.T) func(string, [][]byte) [][]byte {
			return func(what string, ders [][]byte) [][]byte {
				if what != "certificate" {
					return ders
				}
				csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, otherKey)
				if err != nil {
					t.Fatal(err)
				}
				chain, err := a.ca.Issue(csr, ca.Identity{URI: identity, Issuer: controlPlane})
				if err != nil {
					t.Fatal(err)
				}
				return [][]byte{chain[0].Raw}
			}
		}},
		{name: "not a certificate", want: "certificate", tamper: func(*authority, *testing.T) func(string, [][]byte) [][]byte {
			return func(what string, ders [][]byte) [][]byte {
				if what == "certificate" {
					return [][]byte{[]byte("garbage")}
				}
				return ders
			}
		}},
		{name: "a timestamp of something else", want: "not for this signature", tamper: func(a *authority, t *testing.T) func(string, [][]byte) [][]byte {
			return func(what string, ders [][]byte) [][]byte {
				if what != "timestamp" {
					return ders
				}
				reply, err := a.tsa.Timestamp(timestampRequest(t, []byte("another signature")))
				if err != nil {
					t.Fatal(err)
				}
				return [][]byte{reply}
			}
		}},
		{name: "not a timestamp reply", want: "the authority's reply", tamper: func(*authority, *testing.T) func(string, [][]byte) [][]byte {
			return func(what string, ders [][]byte) [][]byte {
				if what == "timestamp" {
					return [][]byte{[]byte("garbage")}
				}
				return ders
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := newAuthority(t)
			a.refused = tc.refused
			if tc.tamper != nil {
				a.tamper = tc.tamper(a, t)
			}
			signer, err := signing.NewKeylessSigner(a, nil)
			if err != nil {
				t.Fatal(err)
			}
			b, err := signer.Sign(t.Context(), statement(t))
			if err == nil || !strings.Contains(err.Error(), tc.want) || b != nil {
				t.Fatalf("Sign = %d bytes, %v; want no bundle and an error saying %q", len(b), err, tc.want)
			}
		})
	}
}

func timestampRequest(t *testing.T, data []byte) []byte {
	t.Helper()
	req, err := timestamp.CreateRequest(bytes.NewReader(data), &timestamp.RequestOptions{Hash: crypto.SHA256, Certificates: true})
	if err != nil {
		t.Fatal(err)
	}
	return req
}
