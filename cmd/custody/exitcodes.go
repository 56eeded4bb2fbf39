package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/custody-dev/custody/cli"
	"github.com/custody-dev/custody/client"
	"github.com/custody-dev/custody/contract"
	"github.com/custody-dev/custody/crafting"
	"github.com/custody-dev/custody/crafting/materials"
	"github.com/custody-dev/custody/wire"
)

// exitCode is one row of the table of exit codes: the code, its name, what it means, and how an
// error is recognised as it. The table is the one place errors become codes; docs/exit-codes.md is
// generated from it.
type exitCode struct {
	Code    int
	Name    string
	Meaning string
	match   func(error) bool
}

func is(target error) func(error) bool { return func(err error) bool { return errors.Is(err, target) } }

func as[T error]() func(error) bool {
	return func(err error) bool {
		var t T
		return errors.As(err, &t)
	}
}

// exitCodes is checked in order; the first match wins. 0, 1 and 130 are not matched.
var exitCodes = []exitCode{
	{0, "ok", "the command did what it was asked", nil},
	{1, "error", "an unexpected failure: I/O, network, a bug; the message says which", nil},
	{2, "usage", "the command line is wrong: unknown command or flag, missing or conflicting flags", as[*cli.UsageError]()},
	{3, "invalid-input", "a contract, material value, key, trusted root or bundle was refused (here or by the control plane); the message names it and the reason",
		func(err error) bool {
			if fromControlPlane(err) {
				return status(400, 413, 415, 422)(err) && client.Code(err) != wire.CodeContractUnmet
			}
			if as[*cli.CredentialError]()(err) { // an upload that could get no credential
				return false
			}
			return errors.Is(err, contract.ErrInvalid) || as[*materials.Error]()(err) || as[*crafting.InputError]()(err)
		}},
	{4, "contract-not-satisfied", "the run does not meet its contract: required materials or annotation values missing, environment variables unset, wrong runner",
		func(err error) bool {
			return as[*crafting.UnsatisfiedError]()(err) || client.Code(err) == wire.CodeContractUnmet
		}},
	{5, "conflict", "the state does not allow it: an attestation is already in progress, a material is already set to another value, the run is finished, the name is taken",
		func(err error) bool {
			return errors.Is(err, crafting.ErrRunInProgress) || as[*crafting.ConflictError]()(err) || status(409)(err)
		}},
	{6, "no-attestation", "no attestation is in progress: run `custody attestation init` first", is(crafting.ErrNoState)},
	{7, "verification-failed", "at least one bundle failed verification; each verdict is printed", as[*cli.VerificationError]()},
	{8, "auth", "the control plane refused the token: missing, malformed, unknown, expired or revoked (401), or not allowed to do this (403); " +
		"or refused the exchange of the runner's OIDC token (oidc_token_invalid, oidc_token_replayed, trust_policy_unmatched); or no credential " +
		"could be had: the runner gives the job no OIDC token (permissions: id-token: write, id_tokens:), or the job's token was already exchanged",
		func(err error) bool { return status(401, 403)(err) || as[*cli.CredentialError]()(err) }},
	{9, "not-found", "the control plane has no such project, workflow, contract revision, run, attestation or artifact, or the token may not see it", status(404)},
	{10, "unavailable", "the control plane could not be reached, failed, or timed the request out (408), until the retry deadline passed",
		func(err error) bool {
			return as[*client.UnavailableError]()(err) || client.Status(err) >= 500 || client.Status(err) == http.StatusRequestTimeout
		}},
	{codeInterrupted, "interrupted", "SIGINT or SIGTERM stopped the command before it finished; a second signal kills it at once", nil},
}

// codeInterrupted is the exit code of a command a signal stopped. codeOf checks it before the
// table: the cancelled work ends in whatever error it was in the middle of.
const codeInterrupted = 130

// fromControlPlane reports an error that came from the control plane, or from not reaching it: its
// code follows what the control plane said, even when a material's upload carried it.
func fromControlPlane(err error) bool {
	return client.Status(err) != 0 || as[*client.UnavailableError]()(err)
}

// status matches a control-plane refusal with one of the HTTP statuses.
func status(codes ...int) func(error) bool {
	return func(err error) bool {
		s := client.Status(err)
		for _, c := range codes {
			if s == c {
				return true
			}
		}
		return false
	}
}

// codeOf maps an error to its exit code.
func codeOf(err error) int {
	if err == nil {
		return 0
	}
	if errors.Is(err, context.Canceled) { // only a signal cancels the command's context
		return codeInterrupted
	}
	for _, c := range exitCodes {
		if c.match != nil && c.match(err) {
			return c.Code
		}
	}
	return 1
}
