package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/term"

	"github.com/custody-dev/custody/signing"
)

// terminalPassword reads a password from the terminal on stdin without echo, prompting on stderr,
// as cosign does. A cancelled context (SIGINT) gives up the read and turns echo back on.
func terminalPassword(ctx context.Context, prompt string) ([]byte, error) {
	fd := int(os.Stdin.Fd())
	state, err := term.GetState(fd)
	if err != nil {
		return nil, fmt.Errorf("read password: %w", err)
	}
	fmt.Fprint(os.Stderr, prompt)
	type read struct {
		pw  []byte
		err error
	}
	done := make(chan read, 1)
	go func() {
		pw, err := term.ReadPassword(fd)
		done <- read{pw, err}
	}()
	select {
	case r := <-done:
		fmt.Fprintln(os.Stderr)
		return r.pw, r.err
	case <-ctx.Done():
		_ = term.Restore(fd, state)
		fmt.Fprintln(os.Stderr)
		return nil, ctx.Err()
	}
}

// passwordPrompt returns a function asking for the key's password on the terminal, when COSIGN_PASSWORD
// is unset, a terminal is there to ask on, and the command does not run in CI (CI set, as CI systems
// do); nil otherwise: then COSIGN_PASSWORD is the rule.
func (g *globals) passwordPrompt(ctx context.Context) func(prompt string) ([]byte, error) {
	if _, set := g.env.lookupEnv(signing.PasswordEnv); set || g.env.ReadPassword == nil || inCI(g.env.Getenv) {
		return nil
	}
	return func(prompt string) ([]byte, error) { return g.env.ReadPassword(ctx, prompt) }
}

// inCI reports a CI system: CI is set to anything but false (GitHub Actions, GitLab CI/CD and most
// others set CI=true).
func inCI(getenv func(string) string) bool {
	v := getenv("CI")
	if v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	return err != nil || b
}

// Prompts and answers as cosign words them.
const (
	promptPassword      = "Enter password for private key: "
	promptPasswordAgain = "Enter password for private key again: "
)

var errPasswordsDiffer = errors.New("passwords do not match")

// newKeyPassword asks for a new key's password twice.
func newKeyPassword(ask func(string) ([]byte, error)) signing.PasswordFunc {
	return func() ([]byte, error) {
		pw, err := ask(promptPassword)
		if err != nil {
			return nil, err
		}
		again, err := ask(promptPasswordAgain)
		if err != nil {
			return nil, err
		}
		if string(pw) != string(again) {
			return nil, errPasswordsDiffer
		}
		return pw, nil
	}
}
