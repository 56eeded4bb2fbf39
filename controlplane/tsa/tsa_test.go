package tsa_test

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/timestamp-authority/v2/pkg/verification"

	"github.com/custody-dev/custody/controlplane/ca"
	"github.com/custody-dev/custody/controlplane/trustroot"
	"github.com/custody-dev/custody/controlplane/tsa"
	"github.com/custody-dev/custody/internal/testclock"
)

// clock starts at the wall clock: the PKCS #7 signing time of a timestamp is the wall clock's
// (digitorus/pkcs7 sets it), and verifiers hold it to the certificate's validity, so a chain made at
// a fixed date would not verify its own timestamps. Every assertion is relative to the clock, never
// to the wall clock.
func clock() *testclock.Clock { return testclock.New(time.Now().UTC().Truncate(time.Second)) }

func newTSA(t testing.TB, clk *testclock.Clock) *tsa.Authority {
	t.Helper()
	a, _, err := tsa.Generate("custody test", clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func request(t testing.TB, h crypto.Hash, data []byte, certReq bool, nonce *big.Int) []byte {
	t.Helper()
	hasher := h.New()
	hasher.Write(data)
	der, err := (&timestamp.Request{HashAlgorithm: h, HashedMessage: hasher.Sum(nil), Certificates: certReq, Nonce: nonce}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// TestTimestamp: for each digest the authority accepts, with or without the certificate asked for
// and a nonce, the response verifies with sigstore's timestamp-authority against the chain, at the
// authority's clock, under its policy, with the nonce echoed; it does not verify for other data.
func TestTimestamp(t *testing.T) {
	t.Parallel()
	clk := clock()
	a := newTSA(t, clk)
	signature := []byte("the signature a timestamp is asked for")
	for _, tc := range []struct {
		name    string
		hash    crypto.Hash
		certReq bool
		nonce   *big.Int
	}{
		{"SHA-256", crypto.SHA256, false, nil},
		{"SHA-384 with its certificate", crypto.SHA384, true, nil},
		{"SHA-512 with a nonce", crypto.SHA512, false, big.NewInt(0x5eed)},
		{"SHA-256, certificate and a 20-byte nonce", crypto.SHA256, true, new(big.Int).Lsh(big.NewInt(1), 159)},
	} {
		clk.Advance(1500 * time.Millisecond)
		resp, err := a.Timestamp(request(t, tc.hash, signature, tc.certReq, tc.nonce))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		opts := verification.VerifyOpts{Roots: a.Chain[1:], Nonce: tc.nonce}
		if !tc.certReq {
			opts.TSACertificate = a.Chain[0] // not in the response: the verifier brings it
		}
		ts, err := verification.VerifyTimestampResponse(resp, bytes.NewReader(signature), opts)
		if err != nil {
			t.Fatalf("%s: the response does not verify: %v", tc.name, err)
		}
		if want := clk.Now().Truncate(time.Second); !ts.Time.Equal(want) || ts.HashAlgorithm != tc.hash || !ts.Policy.Equal(tsa.Policy) || ts.Accuracy != tsa.Accuracy {
			t.Errorf("%s: time %s, hash %s, policy %s, accuracy %s; want %s, %s, %s, %s", tc.name, ts.Time, ts.HashAlgorithm, ts.Policy, ts.Accuracy, want, tc.hash, tsa.Policy, tsa.Accuracy)
		}
		if (tc.nonce == nil) != (ts.Nonce == nil) || tc.nonce != nil && tc.nonce.Cmp(ts.Nonce) != 0 {
			t.Errorf("%s: nonce %v, want %v", tc.name, ts.Nonce, tc.nonce)
		}
		if got := len(ts.Certificates); got != map[bool]int{false: 0, true: 1}[tc.certReq] || tc.certReq && !ts.Certificates[0].Equal(a.Chain[0]) {
			t.Errorf("%s: %d certificates in the token, want the timestamping certificate only when asked", tc.name, got)
		}
		if _, err := verification.VerifyTimestampResponse(resp, strings.NewReader("another signature"), opts); err == nil {
			t.Errorf("%s: the timestamp verifies for other data", tc.name)
		}
	}
}

// TestTimestampInTrustedRoot: sigstore-go verifies a timestamp against the authority's entry in a
// trusted root, and refuses it once the entry's window has ended before it.
func TestTimestampInTrustedRoot(t *testing.T) {
	t.Parallel()
	clk := clock()
	a := newTSA(t, clk)
	signature := []byte("a DSSE signature")
	resp, err := a.Timestamp(request(t, crypto.SHA256, signature, false, nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		end  time.Time
		want string // "" verifies
	}{
		{"an open window", time.Time{}, ""},
		{"a window ended before", clk.Now().Add(-time.Second), "after the validity period end"},
	} {
		data, err := trustroot.Build(nil, []trustroot.Entry{{Chain: a.Chain, URI: "https://custody.example", Start: a.Chain[0].NotBefore, End: tc.end}})
		if err != nil {
			t.Fatal(err)
		}
		tr, err := root.NewTrustedRootFromJSON(data)
		if err != nil {
			t.Fatal(err)
		}
		ts, err := tr.TimestampingAuthorities()[0].Verify(resp, signature)
		switch {
		case tc.want == "" && (err != nil || !ts.Time.Equal(clk.Now()) || ts.URI != "https://custody.example"):
			t.Errorf("%s: %v, %+v; want the time %s", tc.name, err, ts, clk.Now())
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestTimestampRefusals: each request the authority refuses, with the reason and its RFC 3161
// failure; the request bound holds to the byte.
func TestTimestampRefusals(t *testing.T) {
	t.Parallel()
	clk := clock()
	a := newTSA(t, clk)
	digest := sha256.Sum256([]byte("x"))
	sha1Req, _ := (&timestamp.Request{HashAlgorithm: crypto.SHA1, HashedMessage: digest[:20]}).Marshal()
	short, _ := (&timestamp.Request{HashAlgorithm: crypto.SHA384, HashedMessage: digest[:]}).Marshal()
	policy, _ := (&timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: digest[:], TSAPolicyOID: asn1.ObjectIdentifier{1, 2, 3}}).Marshal()
	ours, _ := (&timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: digest[:], TSAPolicyOID: tsa.Policy}).Marshal()
	ext, _ := (&timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: digest[:], ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 2, 3, 4}, Value: []byte{5, 0}}}}).Marshal()
	negative, _ := (&timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: digest[:], Nonce: big.NewInt(-7)}).Marshal()
	atBound, past := boundRequests(t, digest[:])

	for _, tc := range []struct {
		name    string
		req     []byte
		failure timestamp.FailureInfo
		want    string // "" accepts
	}{
		{"at the size bound", atBound, 0, ""},
		{"one byte past it", past, timestamp.BadDataFormat, "larger than the limit of 1 KiB"},
		{"not DER", []byte("POST /timestamp"), timestamp.BadDataFormat, "not an RFC 3161 request"},
		{"trailing bytes", append(append([]byte{}, ours...), 0), timestamp.BadDataFormat, "not an RFC 3161 request"},
		{"SHA-1", sha1Req, timestamp.BadAlgorithm, "weak hash algorithm"},
		{"a digest of the wrong length", short, timestamp.BadAlgorithm, "digest length inconsistent"},
		{"another policy", policy, timestamp.UnacceptedPolicy, "policy 1.2.3"},
		{"its own policy", ours, 0, ""},
		{"an extension", ext, timestamp.UnacceptedExtension, "extension 1.2.3.4"},
		{"a negative nonce", negative, timestamp.BadDataFormat, "negative nonce"},
	} {
		resp, err := a.Timestamp(tc.req)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			} else if _, err := timestamp.ParseResponse(resp); err != nil {
				t.Errorf("%s: the response does not parse: %v", tc.name, err)
			}
			continue
		}
		var re *tsa.RequestError
		if !errors.As(err, &re) || re.Failure != tc.failure || !strings.Contains(err.Error(), tc.want) || resp != nil {
			t.Errorf("%s: %v (%T), want a request error (%s) saying %q", tc.name, err, err, tc.failure, tc.want)
		}
	}

	clk.Advance(tsa.LeafValidity + time.Second)
	_, err := a.Timestamp(ours)
	var re *tsa.RequestError
	if err == nil || errors.As(err, &re) || !strings.Contains(err.Error(), "the timestamping certificate is valid from") {
		t.Errorf("past the certificate's end: %v, want the authority's own failure", err)
	}
}

// boundRequests returns a valid request of exactly MaxRequestSize bytes (a long nonce fills it) and
// one of a byte more.
func boundRequests(t *testing.T, digest []byte) (at, past []byte) {
	t.Helper()
	var sizes = map[int][]byte{}
	for n := 1; n < tsa.MaxRequestSize; n++ {
		nonce := new(big.Int).Lsh(big.NewInt(1), uint(8*n-2)) // n bytes, positive
		der, err := (&timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: digest, Nonce: nonce}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		sizes[len(der)] = der
		if len(der) > tsa.MaxRequestSize+1 {
			break
		}
	}
	at, past = sizes[tsa.MaxRequestSize], sizes[tsa.MaxRequestSize+1]
	if at == nil || past == nil {
		t.Fatalf("no request of %d or %d bytes", tsa.MaxRequestSize, tsa.MaxRequestSize+1)
	}
	return at, past
}

// TestNew: the chain checks sigstore's timestamp-authority makes, and validity at the clock.
func TestNew(t *testing.T) {
	t.Parallel()
	clk := clock()
	a, _, err := tsa.Generate("custody test", clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	other := newTSA(t, clk)
	codeSigning, _, err := ca.Generate("custody test", clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	leaf := a.Chain[0]
	if len(leaf.ExtKeyUsage) != 1 || leaf.ExtKeyUsage[0] != x509.ExtKeyUsageTimeStamping || leaf.IsCA || leaf.KeyUsage != x509.KeyUsageDigitalSignature {
		t.Errorf("timestamping certificate: EKU %v, CA %v, key usage %v", leaf.ExtKeyUsage, leaf.IsCA, leaf.KeyUsage)
	}
	for _, tc := range []struct {
		name  string
		chain []*x509.Certificate
		key   crypto.Signer
		at    time.Time
		want  string
	}{
		{"a root alone", a.Chain[1:], keyOf(t, a), clk.Now(), "a certificate chain (the timestamping certificate, up to its root) and its key are required"},
		{"another authority's key", a.Chain, keyOf(t, other), clk.Now(), "public keys are not equal"},
		{"a code-signing chain", codeSigning.Chain, keyOf(t, a), clk.Now(), "does not verify for timestamping"},
		{"before the chain", a.Chain, keyOf(t, a), clk.Now().Add(-time.Hour), "does not verify for timestamping"},
	} {
		if _, err := tsa.New(tc.chain, tc.key, func() time.Time { return tc.at }); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// keyOf is the authority's key, as LoadOrCreate wrote it.
func keyOf(t *testing.T, a *tsa.Authority) crypto.Signer {
	t.Helper()
	return tsa.KeyForTest(a)
}

// TestLoadOrCreate: the first start writes the authority with private files; the next loads it;
// a key file others may read is refused by name and mode.
func TestLoadOrCreate(t *testing.T) {
	t.Parallel()
	clk := clock()
	dir := filepath.Join(t.TempDir(), "tsa")
	first, err := tsa.LoadOrCreate(dir, "custody test", clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{tsa.ChainFile, tsa.KeyFile, tsa.RootKeyFile} {
		if info, err := os.Stat(filepath.Join(dir, f)); err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v; want 0600", f, err, info.Mode().Perm())
		}
	}
	if info, _ := os.Stat(dir); info.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v, want 0700", info.Mode().Perm())
	}
	again, err := tsa.LoadOrCreate(dir, "custody test", clk.Now)
	if err != nil || !again.Chain[0].Equal(first.Chain[0]) {
		t.Fatalf("a second start: %v, another authority", err)
	}
	if _, err := again.Timestamp(request(t, crypto.SHA512, []byte("s"), true, nil)); err != nil {
		t.Errorf("timestamp with the loaded authority: %v", err)
	}
	key := filepath.Join(dir, tsa.KeyFile)
	os.Chmod(key, 0o644)
	if _, err := tsa.LoadFiles(filepath.Join(dir, tsa.ChainFile), key, clk.Now); err == nil || !strings.Contains(err.Error(), key+" has mode 0644") {
		t.Errorf("a key file others may read: %v", err)
	}
}

// FuzzTimestamp: any bytes as a request: no panic, and a response only for a request it grants,
// over the request's own digest, with its nonce.
func FuzzTimestamp(f *testing.F) {
	clk := clock()
	a := newTSA(f, clk)
	f.Add(request(f, crypto.SHA256, []byte("s"), true, big.NewInt(42)))
	f.Add(request(f, crypto.SHA512, []byte("s"), false, nil))
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x01})
	f.Fuzz(func(t *testing.T, der []byte) {
		resp, err := a.Timestamp(der)
		if err != nil {
			var re *tsa.RequestError
			if !errors.As(err, &re) {
				t.Fatalf("a request failed as the authority's fault: %v", err)
			}
			return
		}
		req, err := timestamp.ParseRequest(der)
		if err != nil {
			t.Fatalf("granted a request that does not parse: %v", err)
		}
		ts, err := timestamp.ParseResponse(resp)
		if err != nil {
			t.Fatalf("the response does not parse: %v", err)
		}
		if !bytes.Equal(ts.HashedMessage, req.HashedMessage) || ts.HashAlgorithm != req.HashAlgorithm || (req.Nonce == nil) != (ts.Nonce == nil) ||
			req.Nonce != nil && req.Nonce.Cmp(ts.Nonce) != 0 {
			t.Fatal("the token is not over the request's digest and nonce")
		}
	})
}
