package materials

import (
	"context"
	"errors"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
)

func init() { register(contract.KindString, craftString) }

// maxStringLen bounds a STRING material: it is stored inline in the statement.
const maxStringLen = 4096

func craftString(_ context.Context, _ *Crafter, value string) (*attestation.Material, error) {
	if value == "" {
		return nil, errors.New("empty value")
	}
	if len(value) > maxStringLen {
		return nil, errors.New("longer than 4096 bytes: add it as a file (ARTIFACT or EVIDENCE) instead")
	}
	return &attestation.Material{Value: value}, nil
}
