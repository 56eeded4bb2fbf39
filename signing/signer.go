// Package signing signs custody's in-toto statements into Sigstore bundles: with a key (cosign key
// refs) today, with a certificate from the control plane (keyless) later.
package signing

import (
	"context"
)

// Signer signs an in-toto statement (its JSON bytes) and returns a Sigstore bundle (its JSON bytes)
// holding the DSSE envelope.
type Signer interface {
	Sign(ctx context.Context, statementJSON []byte) ([]byte, error)
}

// PasswordFunc returns the password of an encrypted key.
type PasswordFunc func() ([]byte, error)

// EnvPassword returns the password in COSIGN_PASSWORD, read through getenv, as cosign does. An unset
// variable gives the empty password, which `cosign generate-key-pair` accepts too.
func EnvPassword(getenv func(string) string) PasswordFunc {
	return func() ([]byte, error) { return []byte(getenv(PasswordEnv)), nil }
}

// PasswordEnv is the environment variable holding a cosign key's password.
const PasswordEnv = "COSIGN_PASSWORD"
