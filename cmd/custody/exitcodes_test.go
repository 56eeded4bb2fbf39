package main

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/custody-dev/custody/client"
	"github.com/custody-dev/custody/wire"
)

// TestControlPlaneStatusCodes: what the control plane answered decides the exit code, however the
// error was wrapped on its way up.
func TestControlPlaneStatusCodes(t *testing.T) {
	refusal := func(status int, code string) error {
		return fmt.Errorf("push: store attestation: %w", &client.Error{Problem: wire.Problem{Status: status, Code: code}})
	}
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"bad request", refusal(400, wire.CodeBadRequest), 3},
		{"too large", refusal(413, wire.CodeTooLarge), 3},
		{"unverifiable", refusal(422, wire.CodeUnverifiable), 3},
		{"contract not satisfied", refusal(422, wire.CodeContractUnmet), 4},
		{"conflict", refusal(409, wire.CodeConflict), 5},
		{"unauthenticated", refusal(401, "unauthenticated"), 8},
		{"forbidden", refusal(403, wire.CodeForbidden), 8},
		{"not found, or hidden", refusal(404, wire.CodeNotFound), 9},
		{"request timeout", refusal(408, wire.CodeRequestTimeout), 10},
		{"unavailable", refusal(503, "unavailable"), 10},
		{"internal", refusal(500, wire.CodeInternal), 10},
		{"unreachable", &client.UnavailableError{Err: errors.New("connection refused")}, 10},
		{"interrupted", fmt.Errorf("add: %w", context.Canceled), codeInterrupted},
	}
	for _, tc := range tests {
		if got := codeOf(tc.err); got != tc.want {
			t.Errorf("%s: exit %d, want %d", tc.name, got, tc.want)
		}
	}
}
