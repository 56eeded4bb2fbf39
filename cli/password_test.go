package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custody-dev/custody/signing"
)

// terminal is a fake terminal: it answers prompts in order and records them.
type terminal struct {
	answers []string
	prompts []string
}

func (t *terminal) read(_ context.Context, prompt string) ([]byte, error) {
	t.prompts = append(t.prompts, prompt)
	if len(t.answers) == 0 {
		return nil, errors.New("no answer left")
	}
	a := t.answers[0]
	t.answers = t.answers[1:]
	return []byte(a), nil
}

// run runs custody in dir with the environment vars and the terminal (nil: none).
func run(t *testing.T, dir string, vars map[string]string, tty *terminal, args ...string) (string, error) {
	t.Helper()
	var stderr bytes.Buffer
	env := Env{
		Getenv:    func(k string) string { return vars[k] },
		LookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
		Stdout:    &bytes.Buffer{}, Stderr: &stderr, Stdin: strings.NewReader(""),
		Now:     func() time.Time { return time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC) },
		Workdir: dir, Version: "test",
	}
	if tty != nil {
		env.ReadPassword = tty.read
	}
	err := Execute(t.Context(), env, append(args, "--state-file", filepath.Join(dir, "state.json")))
	return stderr.String(), err
}

// On a terminal outside CI, a key's password is asked for, as cosign does: twice for a new key,
// once to sign. In CI or without a terminal, COSIGN_PASSWORD stays the rule.
func TestPasswordPrompts(t *testing.T) {
	t.Parallel()
	home := map[string]string{"HOME": t.TempDir()}
	t.Run("generate-key-pair asks twice", func(t *testing.T) {
		dir := t.TempDir()
		tty := &terminal{answers: []string{"s3cret", "s3cret"}}
		if _, err := run(t, dir, home, tty, "generate-key-pair"); err != nil {
			t.Fatal(err)
		}
		if want := []string{promptPassword, promptPasswordAgain}; strings.Join(tty.prompts, "|") != strings.Join(want, "|") {
			t.Errorf("prompts = %q, want %q", tty.prompts, want)
		}
		if _, err := signing.LoadKey(context.Background(), filepath.Join(dir, "cosign.key"), signing.KeyOptions{Password: func() ([]byte, error) { return []byte("s3cret"), nil }}); err != nil {
			t.Errorf("the key does not open with the password typed: %v", err)
		}

		// push asks once, and signs with it.
		contract := "apiVersion: custody.dev/v1\nkind: Contract\nmetadata:\n  name: c\nspec:\n  materials:\n    - name: rootfs\n      type: ARTIFACT\n      output: true\n"
		for name, content := range map[string]string{"contract.yaml": contract, "rootfs.tar.gz": "rootfs!"} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for _, args := range [][]string{
			{"attestation", "init", "--workflow", "w", "--project", "p", "--contract", filepath.Join(dir, "contract.yaml")},
			{"attestation", "add", "--name", "rootfs", "--value", filepath.Join(dir, "rootfs.tar.gz")},
		} {
			if _, err := run(t, dir, home, nil, args...); err != nil {
				t.Fatal(err)
			}
		}
		tty = &terminal{answers: []string{"s3cret"}}
		bundle := filepath.Join(dir, "b.json")
		if _, err := run(t, dir, home, tty, "attestation", "push", "--key", filepath.Join(dir, "cosign.key"), "--bundle", bundle); err != nil {
			t.Fatal(err)
		}
		if len(tty.prompts) != 1 || tty.prompts[0] != promptPassword {
			t.Errorf("push prompted %q", tty.prompts)
		}
		if _, err := os.Stat(bundle); err != nil {
			t.Errorf("no bundle after push: %v", err)
		}
	})
	for _, tc := range []struct {
		name string
		vars map[string]string
		tty  *terminal
		want string
	}{
		{"typed differently", home, &terminal{answers: []string{"s3cret", "s3cert"}}, "passwords do not match"},
		{"in CI", map[string]string{"CI": "true"}, &terminal{}, "COSIGN_PASSWORD is not set"},
		{"without a terminal", home, nil, "COSIGN_PASSWORD is not set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			_, err := run(t, dir, tc.vars, tc.tty, "generate-key-pair")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("generate-key-pair = %v, want an error mentioning %q", err, tc.want)
			}
			if tc.name == "in CI" && len(tc.tty.prompts) != 0 {
				t.Errorf("prompted in CI: %q", tc.tty.prompts)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("a refused generate-key-pair wrote %d files", len(entries))
			}
		})
	}
}
