package auth

import "errors"

// Reasons a token is refused.
var (
	ErrRevoked = errors.New("token revoked")
	ErrExpired = errors.New("token expired")
)
