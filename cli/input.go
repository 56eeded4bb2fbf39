package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/custody-dev/custody/contract"
	"github.com/custody-dev/custody/crafting"
	"github.com/custody-dev/custody/internal/input"
)

// Bounds of the files the CLI reads whole. Bundles are bounded by attestation.MaxSize and
// contracts by contract.MaxSize.
const (
	// maxPublicKeySize bounds a PEM public key: an RSA-4096 key is under 1 KiB.
	maxPublicKeySize = 64 << 10
	// maxConfigSize bounds the CLI's config file, which holds a URL and a token.
	maxConfigSize = 64 << 10
)

// readInput reads the file a flag names, at most limit bytes, stopping when ctx is cancelled. A
// file that cannot be opened is a usage error, one too large is refused input; both name the flag.
func readInput(ctx context.Context, flag, path string, limit int64) ([]byte, error) {
	data, err := input.ReadFile(ctx, path, limit)
	var tooLarge *input.TooLargeError
	switch {
	case err == nil:
		return data, nil
	case errors.As(err, &tooLarge):
		return nil, &crafting.InputError{Err: fmt.Errorf("%s: %w", flag, err)}
	case errors.Is(err, context.Canceled):
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	return nil, usageErrorf("%s: %v", flag, err)
}

// readContract reads and checks the contract file a flag names, and returns it with its text.
func readContract(ctx context.Context, flag, path string) (*contract.Contract, string, error) {
	data, err := readInput(ctx, flag, path, contract.MaxSize)
	if err != nil {
		return nil, "", err
	}
	c, err := contract.ParseNamed(path, data)
	if err != nil {
		return nil, "", err
	}
	return c, string(data), nil
}
