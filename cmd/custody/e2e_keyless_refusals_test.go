package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/custody-dev/custody/internal/cptest"
)

// A push with no key needs a run of the control plane to certify a key for: offline it is a usage
// error, for a dry run an invalid input; each says to sign with --key, and the state stays
// byte-identical, ready for that push.
func TestKeylessPushNeedsAControlPlaneRun(t *testing.T) {
	t.Parallel()
	contract := "apiVersion: custody.dev/v1\nkind: Contract\nmetadata:\n  name: build-and-test\nspec:\n  materials:\n    - name: rootfs\n      type: ARTIFACT\n      output: true\n"
	cp := cptest.New(t, cptest.Options{})
	token := cp.Workflow(t, "skynet", "build-and-test", contract, nil)
	for _, tc := range []struct {
		name     string
		online   bool
		initArgs []string
		code     int
		want     string
	}{
		{"offline", false, []string{"--contract", "contract.yaml"}, 2, "--key is required without a control plane"},
		{"a dry run", true, []string{"--dry-run"}, 3, "a dry run is not a run of the control plane"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorkspace(t)
			if tc.online {
				w = onlineWorkspace(t, cp.URL).with("CUSTODY_TOKEN=" + token)
			}
			w.write("contract.yaml", contract)
			w.write("rootfs.tar.gz", "rootfs!")
			w.ok(append([]string{"attestation", "init", "--workflow", "build-and-test", "--project", "skynet"}, tc.initArgs...)...)
			w.ok("attestation", "add", "--name", "rootfs", "--value", "rootfs.tar.gz")
			before := w.stateBytes()
			r := w.custody("attestation", "push", "--bundle", "b.json")
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, "--key") {
				t.Errorf("push: exit %d, stderr %q; want exit %d saying %q and --key", r.code, r.stderr, tc.code, tc.want)
			}
			if !bytes.Equal(before, w.stateBytes()) {
				t.Error("the refused push changed the state")
			}
			w.ok("generate-key-pair")
			w.ok("attestation", "push", "--key", "cosign.key", "--bundle", "b.json")
		})
	}
}
