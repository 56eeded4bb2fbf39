package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

// UsageError is a command line that cannot be run as given: unknown flag, missing argument.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

func usageErrorf(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// VerificationError says at least one bundle failed verification; each verdict was already printed.
type VerificationError struct{ Failed, Total int }

func (e *VerificationError) Error() string {
	return fmt.Sprintf("verification failed for %d of %d bundles", e.Failed, e.Total)
}

// noArgs refuses positional arguments as a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf("%s takes no arguments, got %q", cmd.CommandPath(), args)
	}
	return nil
}

// groupRun is the RunE of a command that only groups others: help without arguments, a usage error
// for an unknown subcommand.
func groupRun(cmd *cobra.Command, args []string) error {
	if err := subcommandArgs(cmd, args); err != nil {
		return err
	}
	return cmd.Help()
}

// subcommandArgs makes an unknown subcommand a usage error.
func subcommandArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf("unknown command %q for %q; see %s --help", args[0], cmd.CommandPath(), cmd.CommandPath())
	}
	return nil
}
