// Package trustroot writes and reads Sigstore trusted roots (trusted_root.json): the certificate
// authorities and timestamp authorities a verifier trusts, each a certificate chain with the window
// in which it is trusted. cosign (--trusted-root), sigstore-go and gh read this format.
package trustroot

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	prototrustroot "github.com/sigstore/protobuf-specs/gen/pb-go/trustroot/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/custody-dev/custody/internal/input"
)

// MediaType is the trusted root's media type, the one sigstore-go v1.3 and cosign v2 read.
const MediaType = "application/vnd.dev.sigstore.trustedroot+json;version=0.1"

// MaxSize bounds a trusted root Parse reads.
const MaxSize = 4 << 20

// Entry is one authority of a trusted root: a certificate chain and when it is trusted.
type Entry struct {
	// Chain is the issuing certificate (a CA's intermediate, a TSA's leaf) first, the root last.
	Chain []*x509.Certificate
	// URI names the authority (informational).
	URI string
	// Start and End bound the times at which a signature or a timestamp made under this chain is
	// trusted, both included. A zero End leaves the window open.
	Start, End time.Time
}

// Build returns the trusted root listing cas as certificate authorities and tsas as timestamp
// authorities, as indented JSON. Every entry needs a chain and a start; an end, if any, after it.
func Build(cas, tsas []Entry) ([]byte, error) {
	tr := &prototrustroot.TrustedRoot{MediaType: MediaType}
	for i, e := range cas {
		a, err := authority(e)
		if err != nil {
			return nil, fmt.Errorf("trusted root: certificate authority %d: %w", i+1, err)
		}
		tr.CertificateAuthorities = append(tr.CertificateAuthorities, a)
	}
	for i, e := range tsas {
		a, err := authority(e)
		if err != nil {
			return nil, fmt.Errorf("trusted root: timestamp authority %d: %w", i+1, err)
		}
		tr.TimestampAuthorities = append(tr.TimestampAuthorities, a)
	}
	compact, err := protojson.Marshal(tr)
	if err != nil {
		return nil, fmt.Errorf("trusted root: %w", err)
	}
	// protojson varies its whitespace on purpose; indenting the compact form makes the output stable.
	var out bytes.Buffer
	if err := json.Indent(&out, compact, "", "  "); err != nil {
		return nil, fmt.Errorf("trusted root: %w", err)
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// SameChain says whether e and o hold the same certificates in the same order.
func (e Entry) SameChain(o Entry) bool {
	return slices.EqualFunc(e.Chain, o.Chain, func(a, b *x509.Certificate) bool { return a.Equal(b) })
}

// Equal says whether e and o are the same authority with the same window.
func (e Entry) Equal(o Entry) bool {
	return e.SameChain(o) && e.URI == o.URI && e.Start.Equal(o.Start) && e.End.Equal(o.End)
}

// check is the rule every entry keeps, built or parsed.
func (e Entry) check() error {
	switch {
	case len(e.Chain) == 0:
		return errors.New("no certificate chain")
	case e.Start.IsZero():
		return errors.New("no start of its window")
	case !e.End.IsZero() && e.End.Before(e.Start):
		return fmt.Errorf("its window ends (%s) before it starts (%s)", e.End.UTC().Format(time.RFC3339), e.Start.UTC().Format(time.RFC3339))
	}
	return nil
}

func authority(e Entry) (*prototrustroot.CertificateAuthority, error) {
	if err := e.check(); err != nil {
		return nil, err
	}
	root := e.Chain[len(e.Chain)-1]
	a := &prototrustroot.CertificateAuthority{
		Subject:   &protocommon.DistinguishedName{CommonName: root.Subject.CommonName},
		Uri:       e.URI,
		CertChain: &protocommon.X509CertificateChain{},
		ValidFor:  &protocommon.TimeRange{Start: timestamppb.New(e.Start)},
	}
	if len(root.Subject.Organization) > 0 {
		a.Subject.Organization = root.Subject.Organization[0]
	}
	for _, c := range e.Chain {
		a.CertChain.Certificates = append(a.CertChain.Certificates, &protocommon.X509Certificate{RawBytes: c.Raw})
	}
	if !e.End.IsZero() {
		a.ValidFor.End = timestamppb.New(e.End)
	}
	return a, nil
}

// Parse reads a trusted root (at most MaxSize bytes) back into its certificate and timestamp
// authorities. Transparency logs and CT logs, which custody does not run, are refused.
func Parse(data []byte) (cas, tsas []Entry, err error) {
	if len(data) > MaxSize {
		return nil, nil, fmt.Errorf("trusted root: larger than the limit of %s", input.Size(MaxSize))
	}
	var tr prototrustroot.TrustedRoot
	if err := protojson.Unmarshal(data, &tr); err != nil {
		return nil, nil, fmt.Errorf("trusted root: %w", err)
	}
	if tr.GetMediaType() != MediaType {
		return nil, nil, fmt.Errorf("trusted root: media type %q: want %q", tr.GetMediaType(), MediaType)
	}
	if len(tr.GetTlogs()) > 0 || len(tr.GetCtlogs()) > 0 {
		return nil, nil, errors.New("trusted root: lists transparency or CT logs, which custody does not use")
	}
	if cas, err = entries(tr.GetCertificateAuthorities()); err != nil {
		return nil, nil, fmt.Errorf("trusted root: certificate authority %w", err)
	}
	if tsas, err = entries(tr.GetTimestampAuthorities()); err != nil {
		return nil, nil, fmt.Errorf("trusted root: timestamp authority %w", err)
	}
	return cas, tsas, nil
}

func entries(as []*prototrustroot.CertificateAuthority) ([]Entry, error) {
	var out []Entry
	for i, a := range as {
		e := Entry{URI: a.GetUri()}
		for j, c := range a.GetCertChain().GetCertificates() {
			cert, err := x509.ParseCertificate(c.GetRawBytes())
			if err != nil {
				return nil, fmt.Errorf("%d: certificate %d: %w", i+1, j+1, err)
			}
			e.Chain = append(e.Chain, cert)
		}
		// protojson has checked the times are in range.
		if start := a.GetValidFor().GetStart(); start != nil {
			e.Start = start.AsTime()
		}
		if end := a.GetValidFor().GetEnd(); end != nil {
			e.End = end.AsTime()
		}
		if err := e.check(); err != nil {
			return nil, fmt.Errorf("%d: %w", i+1, err)
		}
		out = append(out, e)
	}
	return out, nil
}
