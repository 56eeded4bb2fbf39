package main

import (
	"errors"

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

// exitCodes is checked in order; the first match wins. 0 and 1 are not matched.
var exitCodes = []exitCode{
	{0, "ok", "the command did what it was asked", nil},
	{1, "error", "an unexpected failure: I/O, network, a bug; the message says which", nil},
	{2, "usage", "the command line is wrong: unknown command or flag, missing or conflicting flags", as[*cli.UsageError]()},
	{3, "invalid-input", "a contract, material value, key or bundle was refused; the message names it and the reason",
		func(err error) bool {
			return errors.Is(err, contract.ErrInvalid) || as[*materials.Error]()(err) || as[*crafting.InputError]()(err)
		}},
	{4, "contract-not-satisfied", "the run does not meet its contract: required materials or annotation values missing, environment variables unset, wrong runner", as[*crafting.UnsatisfiedError]()},
	{5, "conflict", "the state does not allow it: an attestation is already in progress, or a material is already set to another value",
		func(err error) bool {
			return errors.Is(err, crafting.ErrRunInProgress) || as[*crafting.ConflictError]()(err)
		}},
	{6, "no-attestation", "no attestation is in progress: run `custody attestation init` first", is(crafting.ErrNoState)},
	{7, "verification-failed", "at least one bundle failed verification; each verdict is printed", as[*cli.VerificationError]()},
}

// codeOf maps an error to its exit code.
func codeOf(err error) int {
	if err == nil {
		return 0
	}
	for _, c := range exitCodes {
		if c.match != nil && c.match(err) {
			return c.Code
		}
	}
	return 1
}
