package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"time"
)

// Create signs tmpl with signer as parent (tmpl itself when parent is nil: self-signed) for pub,
// with a random 127-bit serial, and returns the parsed certificate.
func Create(tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// NewRoot makes a self-signed root for a new ECDSA P-256 key, valid from notBefore to notAfter,
// that may sign CA certificates down maxPathLen levels (0: only end-entity certificates).
func NewRoot(subject pkix.Name, notBefore, notAfter time.Time, maxPathLen int) (*x509.Certificate, crypto.Signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("root key: %w", err)
	}
	root, err := Create(&x509.Certificate{
		Subject: subject, NotBefore: notBefore, NotAfter: notAfter,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		IsCA:     true, BasicConstraintsValid: true, MaxPathLen: maxPathLen, MaxPathLenZero: maxPathLen == 0,
	}, nil, key.Public(), key)
	if err != nil {
		return nil, nil, fmt.Errorf("root: %w", err)
	}
	return root, key, nil
}
