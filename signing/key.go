package signing

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/custody-dev/custody/internal/input"
)

// KeyOptions configure how a cosign key reference is loaded.
type KeyOptions struct {
	// Getenv reads the environment: COSIGN_PASSWORD and env://VAR references. nil means an empty
	// environment.
	Getenv func(string) string
	// Password, when set, gives the key's password instead of COSIGN_PASSWORD.
	Password PasswordFunc
}

// envScheme prefixes a key reference to an environment variable holding the key's PEM, as in cosign.
const envScheme = "env://"

// LoadKey loads a cosign key reference: the path of a cosign encrypted private key (cosign.key, PEM
// "ENCRYPTED SIGSTORE PRIVATE KEY" or "ENCRYPTED COSIGN PRIVATE KEY"), or env://VAR naming an
// environment variable holding that PEM; either holds at most MaxKeyFileSize bytes, and reading the
// file stops when ctx is cancelled (a FIFO that never ends). The password is opts.Password, else
// COSIGN_PASSWORD.
func LoadKey(ctx context.Context, ref string, opts KeyOptions) (*KeySigner, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	raw, err := readKeyRef(ctx, ref, getenv)
	if err != nil {
		return nil, err
	}
	password := opts.Password
	if password == nil {
		password = EnvPassword(getenv)
	}
	sv, err := decodeCosignKey(ref, raw, password)
	if err != nil {
		return nil, err
	}
	return NewKeySigner(sv)
}

func readKeyRef(ctx context.Context, ref string, getenv func(string) string) ([]byte, error) {
	if ref == "" {
		return nil, errors.New("key: empty reference: give a cosign key file or env://VAR")
	}
	if name, ok := strings.CutPrefix(ref, envScheme); ok {
		if name == "" {
			return nil, fmt.Errorf("key %s: no variable name after env://", ref)
		}
		v := getenv(name)
		if v == "" {
			return nil, fmt.Errorf("key %s: environment variable %s is empty or unset", ref, name)
		}
		if len(v) > MaxKeyFileSize {
			return nil, fmt.Errorf("key %s: environment variable %s holds more than %d bytes (1 MiB), the limit of a key: not a key", ref, name, MaxKeyFileSize)
		}
		return []byte(v), nil
	}
	if scheme, _, ok := strings.Cut(ref, "://"); ok {
		return nil, fmt.Errorf("key %s: %s:// keys are not supported: give a cosign key file or env://VAR", ref, scheme)
	}
	raw, err := input.ReadFile(ctx, ref, MaxKeyFileSize)
	var tooLarge *input.TooLargeError
	if errors.As(err, &tooLarge) {
		return nil, fmt.Errorf("key: %s is larger than %d bytes (1 MiB), the limit of a key file: not a key", ref, MaxKeyFileSize)
	}
	if err != nil {
		return nil, fmt.Errorf("key: %w", err)
	}
	return raw, nil
}

func decodeCosignKey(ref string, raw []byte, password PasswordFunc) (signature.SignerVerifier, error) {
	block, _ := pem.Decode(raw)
	if block == nil {
		return nil, fmt.Errorf("key %s: not a PEM file: want a cosign private key (cosign generate-key-pair)", ref)
	}
	switch block.Type {
	case sigstorePrivateKeyPEMType, cosignPrivateKeyPEMType:
	case "PUBLIC KEY":
		return nil, fmt.Errorf("key %s: a public key cannot sign: give the private key (cosign.key)", ref)
	case "PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY":
		return nil, fmt.Errorf("key %s: a plain %q PEM, not a cosign key: convert it with `cosign import-key-pair --key %s`", ref, block.Type, ref)
	default:
		return nil, fmt.Errorf("key %s: PEM block %q is not a cosign private key", ref, block.Type)
	}
	pass, err := password()
	if err != nil {
		return nil, fmt.Errorf("key %s: password: %w", ref, err)
	}
	sv, err := decodeCosignPrivateKey(block, pass)
	if errors.Is(err, errWrongPassword) {
		return nil, fmt.Errorf("key %s: wrong password? (set %s): %w", ref, PasswordEnv, err)
	}
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", ref, err)
	}
	return sv, nil
}
