package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// outputContract demands one output file, the least a signed statement needs.
const outputContract = "apiVersion: custody.dev/v1\nkind: Contract\nmetadata:\n  name: c\nspec:\n  materials:\n    - name: rootfs\n      type: ARTIFACT\n      output: true\n"

// Names and values a bundle or a state carries reach the terminal escaped: a bundle cannot
// recolour, retitle or clear the terminal of the one who verifies it.
func TestHumanOutputEscapesControlCharacters(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t)
	w.write("contract.yaml", outputContract)
	w.write("rootfs.tar.gz", "rootfs!")
	w.ok("generate-key-pair")
	evil := "\x1b]0;pwned\x07\x1b[2J"
	w.ok("attestation", "init", "--workflow", "wf"+evil, "--project", "p\u202eroj", "--contract", "contract.yaml")
	w.ok("attestation", "add", "--name", "rootfs", "--value", "rootfs.tar.gz")
	w.ok("attestation", "add", "--name", "note", "--value", "value"+evil)
	status := w.ok("attestation", "status", "--full")
	w.ok("attestation", "push", "--key", "cosign.key", "--bundle", "b.json")
	verify := w.ok("attestation", "verify", "--key", "cosign.pub", "b.json")

	for name, out := range map[string]string{"status --full": status.stdout, "verify": verify.stdout} {
		if strings.ContainsAny(out, "\x1b\x07\u202e") {
			t.Errorf("%s printed raw control characters:\n%q", name, out)
		}
		if !strings.Contains(out, `wf\x1b]0;pwned\x07\x1b[2J`) || !strings.Contains(out, `p\u202eroj`) {
			t.Errorf("%s does not show the names escaped:\n%s", name, out)
		}
	}
	if !strings.Contains(status.stdout, `value\x1b]0;pwned\x07\x1b[2J`) {
		t.Errorf("status --full does not show the value escaped:\n%s", status.stdout)
	}
	// JSON stays JSON: the value is there, as JSON encodes it.
	if js := w.ok("attestation", "verify", "--key", "cosign.pub", "b.json", "-o", "json"); !strings.Contains(js.stdout, `"workflow": "wf\u001b]0;pwned\u0007\u001b[2J"`) {
		t.Errorf("verify -o json:\n%s", js.stdout)
	}
}

// generate-key-pair --force replaces a symlink at cosign.key or cosign.pub with a file: it never
// writes through it to the file it points to.
func TestGenerateKeyPairForceReplacesSymlinks(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t)
	outside := t.TempDir()
	for _, name := range []string{"cosign.key", "cosign.pub"} {
		target := filepath.Join(outside, name+".target")
		if err := os.WriteFile(target, []byte("keep me"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, filepath.Join(w.dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if r := w.custody("generate-key-pair"); r.code == 0 {
		t.Fatalf("generate-key-pair over symlinks without --force succeeded:\n%s", r.stderr)
	}
	w.ok("generate-key-pair", "--force")
	for _, name := range []string{"cosign.key", "cosign.pub"} {
		if got, _ := os.ReadFile(filepath.Join(outside, name+".target")); string(got) != "keep me" {
			t.Errorf("--force wrote through the %s symlink: its target now holds %q", name, got)
		}
		info, err := os.Lstat(filepath.Join(w.dir, name))
		if err != nil || !info.Mode().IsRegular() {
			t.Errorf("%s is not a regular file after --force: %v %v", name, info, err)
		}
	}
	if info, _ := os.Stat(filepath.Join(w.dir, "cosign.key")); info.Mode().Perm() != 0o600 {
		t.Errorf("cosign.key mode %v, want 0600", info.Mode().Perm())
	}
	w.write("contract.yaml", outputContract)
	w.write("rootfs.tar.gz", "rootfs!")
	w.ok("attestation", "init", "--workflow", "w", "--project", "p", "--contract", "contract.yaml")
	w.ok("attestation", "add", "--name", "rootfs", "--value", "rootfs.tar.gz")
	w.ok("attestation", "push", "--key", "cosign.key", "--bundle", "b.json")
	w.ok("attestation", "verify", "--key", "cosign.pub", "b.json")
}

// A token typed where it does not belong (as an argument, a command, a config key) is not printed
// back whole in the error, which CI logs keep: the ERR line shows its prefix only, as login does.
func TestErrorsDoNotEchoTokens(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t)
	token := "cst_" + strings.Repeat("Tok3n-_", 6) + "x"
	for _, args := range [][]string{
		{"login", token},
		{"attestation", "status", "--full", token},
		{"token", token},
		{token},
		{"config", "set", token, "x"},
	} {
		r := w.custody(args...)
		if r.code != 2 || strings.Contains(r.stderr, token) || !strings.Contains(r.stderr, "cst_Tok3…") {
			t.Errorf("custody %s: exit %d, stderr %q; want a usage error (2) showing the token redacted", strings.Join(args, " "), r.code, r.stderr)
		}
	}
}
