package signing

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// cosign's key format, read and written here with sigstore/sigstore and go-securesystemslib rather
// than by linking cosign, whose package brings 111 more packages (Rekor's REST client, go-chi, zap, a
// LevelDB) into every custody command's start-up (docs/benchmarks.md): a PKCS #8 private key,
// encrypted by go-securesystemslib's encrypted package (scrypt + NaCl secretbox, JSON envelope),
// in a PEM block of one of these types.
const (
	sigstorePrivateKeyPEMType = "ENCRYPTED SIGSTORE PRIVATE KEY" // what cosign writes today
	cosignPrivateKeyPEMType   = "ENCRYPTED COSIGN PRIVATE KEY"   // what older cosign releases wrote
)

// MaxKeyFileSize bounds a key file or env:// key read by custody: a cosign key or public key takes a
// few KiB at most (RSA-4096), so a larger input is a wrong file (or a device that never ends).
const MaxKeyFileSize = 1 << 20

// decodeCosignPrivateKey decrypts a cosign private key PEM block with pass and returns its signer.
// An ed25519 key signs pure Ed25519 (as cosign does when asked for no load options), which DSSE
// verifiers expect.
func decodeCosignPrivateKey(block *pem.Block, pass []byte) (signature.SignerVerifier, error) {
	der, err := encrypted.Decrypt(block.Bytes, pass)
	if err != nil {
		// go-securesystemslib says only this when the secretbox does not open: the password is wrong
		// (or the ciphertext was altered). Every other error is about the envelope itself.
		if strings.Contains(err.Error(), "decryption failed") {
			return nil, errWrongPassword
		}
		return nil, fmt.Errorf("not a cosign encrypted key: %w", err)
	}
	pk, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("parsing private key: %w", err)
	}
	sv, err := signature.LoadDefaultSignerVerifier(pk)
	if err != nil {
		return nil, fmt.Errorf("loading private key: %w", err)
	}
	return sv, nil
}

var errWrongPassword = errors.New("decryption failed")

// cosignKeys is a key pair encoded as cosign writes it.
type cosignKeys struct {
	PrivateBytes []byte // PKCS #8, encrypted, in an "ENCRYPTED SIGSTORE PRIVATE KEY" PEM block
	PublicBytes  []byte // PKIX in a "PUBLIC KEY" PEM block
}

// generateCosignKeys generates an ECDSA P-256 key pair and encodes it as `cosign generate-key-pair`
// does, the private key encrypted with the password.
func generateCosignKeys(password PasswordFunc) (cosignKeys, error) {
	pass, err := password()
	if err != nil {
		return cosignKeys{}, fmt.Errorf("password: %w", err)
	}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return cosignKeys{}, fmt.Errorf("generating ECDSA P-256 key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return cosignKeys{}, fmt.Errorf("encoding private key: %w", err)
	}
	enc, err := encrypted.Encrypt(der, pass)
	if err != nil {
		return cosignKeys{}, fmt.Errorf("encrypting private key: %w", err)
	}
	pub, err := cryptoutils.MarshalPublicKeyToPEM(priv.Public())
	if err != nil {
		return cosignKeys{}, fmt.Errorf("encoding public key: %w", err)
	}
	return cosignKeys{PrivateBytes: pem.EncodeToMemory(&pem.Block{Type: sigstorePrivateKeyPEMType, Bytes: enc}), PublicBytes: pub}, nil
}
