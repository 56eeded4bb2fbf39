package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Key files are read through a bound: a private key (--key of push, signing.LoadKey) up to 1 MiB, a
// public key (--key of verify, --public-key) up to 64 KiB. A larger file is refused with its name and
// the limit, as an input error, before anything else happens.
func TestKeyFilesAreBounded(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t)
	w.write("contract.yaml", "apiVersion: custody.dev/v1\nkind: Contract\nmetadata:\n  name: empty\n")
	w.write("bundle.json", "{}")
	big := filepath.Join(w.dir, "big.key")
	if err := os.WriteFile(big, make([]byte, 2<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	w.ok("attestation", "init", "--workflow", "w", "--project", "p", "--contract", "contract.yaml")
	before := w.stateBytes()
	limit := "big.key is larger than 1048576 bytes (1 MiB), the limit of a key file: not a key"

	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"push --key", []string{"attestation", "push", "--key", "big.key"}, 3, "push: key: " + limit},
		{"verify --key", []string{"attestation", "verify", "--key", "big.key", "bundle.json"}, 3, "--key: big.key is larger than the limit of 64 KiB"},
		{"workflow key add --public-key", []string{"workflow", "key", "add", "w", "--project", "p", "--public-key", "big.key"}, 3,
			"--public-key: big.key is larger than the limit of 64 KiB"},
	}
	for _, tt := range tests {
		r := w.custody(tt.args...)
		if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d with %q", tt.name, r.code, r.stderr, tt.code, tt.want)
		}
	}
	if string(w.stateBytes()) != string(before) {
		t.Error("a refused key changed the state file")
	}
}
