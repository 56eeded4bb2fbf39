package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// nullPackageSPDX is spdx/tools-golang's json/test_fixtures/spdx2_3_null_package.json: a valid SPDX 2.3
// header and "packages": [null], on which tools-golang v0.5.7 panics.
const nullPackageSPDX = `{
  "SPDXID" : "SPDXRef-DOCUMENT",
  "spdxVersion" : "SPDX-2.3",
  "creationInfo" : { "created" : "2023-07-18T12:27:48Z", "creators" : [ "Tool: spdx-tools" ] },
  "name" : "null-package-doc",
  "dataLicense" : "CC0-1.0",
  "documentNamespace" : "test",
  "packages" : [ null ]
}`

// A material whose validator would panic is an invalid input (exit 3) naming the kind and the reason,
// never a crash (a Go panic exits 2, the usage code), and the state file is left as it was: the
// SPDX null package is refused before the library sees it, and a validator made to panic (in a
// binary built with the custody_testhook tag) is recovered.
func TestValidatorPanicIsAnInvalidInput(t *testing.T) {
	t.Parallel()
	hooked := filepath.Join(t.TempDir(), "custody-testhook")
	if out, err := exec.Command("go", "build", "-tags", "custody_testhook", "-o", hooked, ".").CombinedOutput(); err != nil {
		t.Fatalf("build custody with the test hook: %v\n%s", err, out)
	}
	w := newWorkspace(t)
	w.write("contract.yaml", seedContract)
	w.write("null-package.spdx.json", nullPackageSPDX)
	w.write("panic-validator.sarif", `{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}}]}`)
	w.ok("attestation", "init", "--workflow", "build-and-test", "--project", "skynet", "--contract", "contract.yaml", "--dry-run")
	before := w.stateBytes()

	for _, tc := range []struct {
		name string
		bin  string
		args []string
		want string
	}{
		{"SPDX null package, explicit", custodyBin, []string{"--kind", "SBOM_SPDX_JSON", "--value", "null-package.spdx.json"},
			`ERR add: SBOM_SPDX_JSON "null-package.spdx.json": packages[0] is null`},
		{"SPDX null package, detected", custodyBin, []string{"--value", "null-package.spdx.json"},
			`ERR add: SBOM_SPDX_JSON "null-package.spdx.json": packages[0] is null`},
		{"a validator's panic, explicit", hooked, []string{"--kind", "SARIF", "--value", "panic-validator.sarif"},
			`ERR add: SARIF "panic-validator.sarif": the SARIF validator failed on this file: forced by the custody_testhook build`},
		{"a validator's panic, detected", hooked, []string{"--value", "panic-validator.sarif"},
			`validator failed on this file: forced by the custody_testhook build`},
	} {
		r := w.run(exec.Command(tc.bin, append([]string{"attestation", "add"}, tc.args...)...))
		if r.code != 3 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%s: exit %d\nstdout: %s\nstderr: %s\nwant exit 3 with %q", tc.name, r.code, r.stdout, r.stderr, tc.want)
		}
		if strings.Contains(r.stderr, "goroutine") {
			t.Errorf("%s: a stack trace on stderr:\n%s", tc.name, r.stderr)
		}
		if !bytes.Equal(w.stateBytes(), before) {
			t.Fatalf("%s changed the state file", tc.name)
		}
	}
}
