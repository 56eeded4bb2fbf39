// Package auth issues and checks the control plane's API tokens and decides what a token may do.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/custody-dev/custody/wire"
)

// Prefix starts every token, so secret scanners can find leaked ones.
const Prefix = wire.TokenPrefix

// secretBytes is the randomness of a token: 256 bits.
const secretBytes = 32

// encodedLen is the length of a token: the prefix and 32 bytes in unpadded base64url.
var encodedLen = len(Prefix) + base64.RawURLEncoding.EncodedLen(secretBytes)

// ErrMalformed is a bearer value that cannot be a custody token.
var ErrMalformed = errors.New("malformed token")

// NewToken returns a new token and the hash to store. The token itself is never stored.
func NewToken() (token string, hash []byte, err error) {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("generate token: %w", err)
	}
	token = Prefix + base64.RawURLEncoding.EncodeToString(b)
	return token, Hash(token), nil
}

// Hash is what is stored of a token: its sha256.
func Hash(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// Parse checks a bearer value has a token's form and returns its hash for lookup.
func Parse(token string) ([]byte, error) {
	rest, ok := strings.CutPrefix(token, Prefix)
	if !ok {
		return nil, fmt.Errorf("%w: a custody token starts with %s", ErrMalformed, Prefix)
	}
	if len(token) != encodedLen {
		return nil, fmt.Errorf("%w: wrong length", ErrMalformed)
	}
	// Strict refuses stray bits in the last character; the length check catches the CR and LF the
	// decoder skips: one secret has exactly one spelling.
	if raw, err := base64.RawURLEncoding.Strict().DecodeString(rest); err != nil || len(raw) != secretBytes {
		return nil, fmt.Errorf("%w: not base64url", ErrMalformed)
	}
	return Hash(token), nil
}

// Equal compares two token hashes in constant time.
func Equal(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }
