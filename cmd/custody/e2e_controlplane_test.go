package main

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custody-dev/custody/internal/cptest"
	"github.com/custody-dev/custody/wire"
)

// onlineWorkspace is a workspace whose steps talk to a control plane.
func onlineWorkspace(t *testing.T, url string) *workspace {
	t.Helper()
	w := newWorkspace(t)
	w.env = append(w.env, "CUSTODY_CONTROL_PLANE="+url, "CUSTODY_RETRY_DEADLINE=2s")
	return w
}

func (w *workspace) with(env ...string) *workspace {
	c := *w
	c.env = append(append([]string{}, w.env...), env...)
	return &c
}

func jsonField(t *testing.T, out, field string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	v, _ := m[field].(string)
	return v
}

// The control plane walkthrough of issue 3, run with the binary against a real control plane.
func TestControlPlaneWalkthrough(t *testing.T) {
	t.Parallel()
	cp := cptest.New(t, cptest.Options{})
	w := onlineWorkspace(t, cp.URL)
	admin := w.with("CUSTODY_TOKEN=" + cp.AdminToken)

	contractV1 := "apiVersion: custody.dev/v1\nkind: Contract\nmetadata:\n  name: build-and-test\nspec:\n  materials:\n    - name: rootfs\n      type: ARTIFACT\n      output: true\n"
	contractV2 := contractV1 + "    - name: build-ref\n      type: STRING\n"
	w.write("contract.yaml", contractV1)
	w.write("contract-v2.yaml", contractV2)
	w.write("rootfs.tar.gz", "rootfs!")
	w.ok("generate-key-pair")

	admin.ok("project", "create", "skynet")
	admin.ok("workflow", "create", "build-and-test", "--project", "skynet", "--contract", "contract.yaml")
	if out := admin.ok("contract", "update", "build-and-test", "--project", "skynet", "--file", "contract-v2.yaml", "-o", "json"); !strings.Contains(out.stdout, `"revision": 2`) {
		t.Fatalf("contract update did not make revision 2:\n%s", out.stdout)
	}
	admin.ok("workflow", "key", "add", "build-and-test", "--project", "skynet", "--public-key", "cosign.pub")
	token := strings.TrimSpace(admin.ok("token", "create", "--project", "skynet", "--workflow", "build-and-test", "--expires", "720h").stdout)
	if !strings.HasPrefix(token, "cst_") || len(token) != 47 {
		t.Fatalf("token create printed %q", token)
	}
	pipeline := w.with("CUSTODY_TOKEN=" + token)

	// Revision 1 is kept and can be pinned; the latest is the default.
	pinned := pipeline.ok("attestation", "init", "--workflow", "build-and-test", "--project", "skynet", "--revision", "1", "-o", "json")
	if !strings.Contains(pinned.stdout, `"contractRevision": 1`) {
		t.Errorf("init --revision 1:\n%s", pinned.stdout)
	}
	pipeline.ok("attestation", "reset", "--reason", "tests failed")
	pipeline.ok("attestation", "init", "--workflow", "build-and-test", "--project", "skynet")
	r := pipeline.custody("attestation", "push", "--key", "cosign.key")
	if r.code != 4 || !strings.Contains(r.stderr, "rootfs, build-ref") {
		t.Errorf("push of an incomplete run: exit %d %s", r.code, r.stderr)
	}
	pipeline.ok("attestation", "add", "--name", "rootfs", "--value", "rootfs.tar.gz")
	pipeline.ok("attestation", "add", "--name", "build-ref", "--value", "80e461e9b385c6986cdb8096c9dc99928943d667")
	pushed := pipeline.ok("attestation", "push", "--key", "cosign.key", "-o", "json")
	digest := jsonField(t, pushed.stdout, "digest")
	if !strings.HasPrefix(digest, "sha256:") || !strings.Contains(jsonField(t, pushed.stdout, "runURL"), "/v1/runs/") ||
		!strings.Contains(jsonField(t, pushed.stdout, "pageURL"), "/ui/runs/") {
		t.Fatalf("push answered:\n%s", pushed.stdout)
	}

	runs := pipeline.ok("attestation", "list", "--workflow", "build-and-test", "--project", "skynet", "-o", "json")
	var list []struct{ State, Reason, AttestationDigest string }
	if err := json.Unmarshal([]byte(runs.stdout), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].State != "succeeded" || list[0].AttestationDigest != digest || list[1].State != "failed" || list[1].Reason != "tests failed" {
		t.Errorf("runs = %+v", list)
	}
	rootfs := "sha256:7c4f39951919d1763f0bf466a449b859cc1eeca2679daafb8547be7fd7aae4bc"
	if byDigest := pipeline.ok("attestation", "list", "--digest", rootfs); !strings.Contains(byDigest.stdout, digest) {
		t.Errorf("list --digest does not find the attestation:\n%s", byDigest.stdout)
	}

	bundle := pipeline.ok("attestation", "get", digest, "--output", "bundle")
	stored, err := cp.Store.GetAttestation(t.Context(), digest)
	if err != nil || !bytes.Equal(stored.Bundle, []byte(bundle.stdout)) {
		t.Fatalf("get --output bundle is not the stored bundle byte for byte (%v)", err)
	}
	w.write("b.json", bundle.stdout)
	if v := w.ok("attestation", "verify", "--key", "cosign.pub", "--artifact", "rootfs.tar.gz", "b.json"); !strings.Contains(v.stdout, "Verified OK") {
		t.Errorf("verify of the fetched bundle:\n%s", v.stdout)
	}
	pipeline.ok("artifact", "download", rootfs, "-o", "back.tar.gz")
	if got, _ := os.ReadFile(filepath.Join(w.dir, "back.tar.gz")); string(got) != "rootfs!" {
		t.Errorf("downloaded %q", got)
	}

	// The key is compromised: the admin removes it by the hint `key list` shows. Pushes it signs are
	// refused from then on; the attestation it verified before stays.
	var keys []struct{ Hint string }
	if err := json.Unmarshal([]byte(admin.ok("workflow", "key", "list", "build-and-test", "--project", "skynet", "-o", "json").stdout), &keys); err != nil || len(keys) != 1 {
		t.Fatalf("key list: %+v, %v", keys, err)
	}
	if out := admin.ok("workflow", "key", "remove", "build-and-test", keys[0].Hint, "--project", "skynet"); !strings.Contains(out.stderr, "no longer trusts key "+keys[0].Hint) {
		t.Errorf("key remove said:\n%s", out.stderr)
	}
	if r := admin.custody("workflow", "key", "remove", "build-and-test", keys[0].Hint, "--project", "skynet"); r.code != 9 || !strings.Contains(r.stderr, "trusts no key") {
		t.Errorf("removing the key again: exit %d %s", r.code, r.stderr)
	}
	pipeline.ok("attestation", "init", "--workflow", "build-and-test", "--project", "skynet")
	pipeline.ok("attestation", "add", "--name", "rootfs", "--value", "rootfs.tar.gz")
	pipeline.ok("attestation", "add", "--name", "build-ref", "--value", "80e461e9b385c6986cdb8096c9dc99928943d667")
	if r := pipeline.custody("attestation", "push", "--key", "cosign.key"); r.code != 3 || !strings.Contains(r.stderr, "trusts no key") {
		t.Errorf("push signed by the removed key: exit %d %s", r.code, r.stderr)
	}
	pipeline.ok("attestation", "get", digest)
}

// What the CLI says and exits with when the control plane refuses, or is not there.
func TestControlPlaneRefusals(t *testing.T) {
	t.Parallel()
	cp := cptest.New(t, cptest.Options{})
	token := cp.Workflow(t, "skynet", "build-and-test", "", nil)
	w := onlineWorkspace(t, cp.URL)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()

	tests := []struct {
		name string
		ws   *workspace
		args []string
		code int
		want string
	}{
		{"no token", w, []string{"project", "list"}, 2, "no token"},
		{"malformed token", w.with("CUSTODY_TOKEN=cst_short"), []string{"project", "list"}, 8, "malformed token"},
		{"workflow token managing", w.with("CUSTODY_TOKEN=" + token), []string{"project", "create", "other"}, 8, "admin"},
		{"unknown workflow", w.with("CUSTODY_TOKEN=" + cp.AdminToken), []string{"attestation", "init", "--workflow", "nope", "--project", "skynet"}, 9, "workflow nope not found"},
		{"name taken", w.with("CUSTODY_TOKEN=" + cp.AdminToken), []string{"project", "create", "skynet"}, 5, "already exists"},
		{"control plane down", w.with("CUSTODY_TOKEN="+token, "CUSTODY_CONTROL_PLANE="+closed, "CUSTODY_RETRY_DEADLINE=300ms"),
			[]string{"attestation", "init", "--workflow", "build-and-test", "--project", "skynet"}, 10, "unavailable"},
		{"control plane down, told while retrying", w.with("CUSTODY_TOKEN="+token, "CUSTODY_CONTROL_PLANE="+closed, "CUSTODY_RETRY_DEADLINE=300ms"),
			[]string{"project", "list"}, 10, "connect: connection refused (attempt 1); retrying in 200ms, until "},
		{"host that does not resolve", w.with("CUSTODY_TOKEN="+token, "CUSTODY_CONTROL_PLANE=http://custody-test.invalid", "CUSTODY_RETRY_DEADLINE=300ms"),
			[]string{"project", "list"}, 10, "control plane unavailable: GET /v1/projects after 1 attempts: Get \"http://custody-test.invalid/v1/projects\""},
	}
	for _, tt := range tests {
		r := tt.ws.custody(tt.args...)
		if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d mentioning %q", tt.name, r.code, r.stderr, tt.code, tt.want)
		}
		if strings.Contains(r.stderr, token) || strings.Contains(r.stderr, cp.AdminToken) {
			t.Errorf("%s: a token appears in the error output", tt.name)
		}
	}
}

// custody login checks the token and keeps it in a private config file; a dry run stores nothing.
func TestLoginAndDryRun(t *testing.T) {
	t.Parallel()
	cp := cptest.New(t, cptest.Options{})
	w := newWorkspace(t)
	w.env = append(w.env, "CUSTODY_RETRY_DEADLINE=2s")
	if r := w.custody("login", "--control-plane", cp.URL, "--token", "cst_"+strings.Repeat("A", 43)); r.code != 8 {
		t.Fatalf("login with an unknown token: exit %d %s", r.code, r.stderr)
	}
	w.ok("login", "--control-plane", cp.URL, "--token", cp.AdminToken)
	home := strings.TrimPrefix(w.env[1], "HOME=")
	cfg := filepath.Join(home, ".config", "custody", "config.json")
	info, err := os.Stat(cfg)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("config file %s: %v %v", cfg, info, err)
	}
	if view := w.ok("config", "view"); strings.Contains(view.stdout, cp.AdminToken) {
		t.Errorf("config view shows the token:\n%s", view.stdout)
	}
	w.ok("project", "create", "skynet") // the token and URL come from the config file
	w.write("contract.yaml", "apiVersion: custody.dev/v1\nkind: Contract\nmetadata:\n  name: c\n")
	w.ok("attestation", "init", "--workflow", "created-by-init", "--project", "skynet", "--contract", "contract.yaml", "--dry-run")
	if r := w.custody("workflow", "list", "--project", "skynet"); r.code != 0 || strings.Contains(r.stdout, "created-by-init") {
		t.Errorf("a dry run created the workflow:\n%s", r.stdout)
	}
	w.ok("attestation", "reset")
	w.ok("attestation", "init", "--workflow", "created-by-init", "--project", "skynet", "--contract", "contract.yaml")
	if r := w.ok("workflow", "list", "--project", "skynet"); !bytes.Contains([]byte(r.stdout), []byte("created-by-init")) {
		t.Errorf("init --contract did not create the missing workflow:\n%s", r.stdout)
	}
}

// An init refused because a run is in progress asks nothing of the control plane; init --replace
// marks the run it discards cancelled, naming the run that replaced it.
func TestInitChecksLocallyAndCancelsTheReplacedRun(t *testing.T) {
	t.Parallel()
	cp := cptest.New(t, cptest.Options{})
	token := cp.Workflow(t, "skynet", "build-and-test", "", nil)
	w := onlineWorkspace(t, cp.URL).with("CUSTODY_TOKEN=" + token)
	initArgs := []string{"attestation", "init", "--workflow", "build-and-test", "--project", "skynet"}
	runs := func() []wire.Run {
		t.Helper()
		var out []wire.Run
		r := w.ok("attestation", "list", "--workflow", "build-and-test", "--project", "skynet", "-o", "json")
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
			t.Fatal(err)
		}
		return out
	}

	runID := func(r result) string {
		t.Helper()
		var status struct {
			State struct{ RunID string } `json:"state"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &status); err != nil || status.State.RunID == "" {
			t.Fatalf("init -o json: %v\n%s", err, r.stdout)
		}
		return status.State.RunID
	}

	first := runID(w.ok(append(initArgs, "-o", "json")...))
	before := w.stateBytes()
	if r := w.custody(initArgs...); r.code != 5 || !strings.Contains(r.stderr, "already in progress") {
		t.Fatalf("init over a run: exit %d %s", r.code, r.stderr)
	}
	if got := runs(); len(got) != 1 || got[0].ID != first || got[0].State != "initialized" {
		t.Errorf("a refused init changed the control plane's runs: %+v", got)
	}
	if !bytes.Equal(w.stateBytes(), before) {
		t.Error("a refused init changed the state file")
	}

	second := runID(w.ok(append(initArgs, "--replace", "-o", "json")...))
	got := runs()
	if len(got) != 2 || got[0].ID != second || got[0].State != "initialized" {
		t.Fatalf("runs after init --replace: %+v", got)
	}
	if old := got[1]; old.ID != first || old.State != "cancelled" || old.Reason != "replaced by run "+second+" (attestation init --replace)" {
		t.Errorf("the replaced run is %+v, want cancelled with the run that replaced it", old)
	}
}

// A push the control plane refuses writes no --bundle file, and keeps the run; once it is stored,
// the file is there.
func TestRefusedPushWritesNoBundle(t *testing.T) {
	t.Parallel()
	cp := cptest.New(t, cptest.Options{})
	token := cp.Workflow(t, "skynet", "build-and-test", outputContract, nil) // no trusted key yet
	w := onlineWorkspace(t, cp.URL).with("CUSTODY_TOKEN=" + token)
	w.write("rootfs.tar.gz", "rootfs!")
	w.ok("generate-key-pair")
	w.ok("attestation", "init", "--workflow", "build-and-test", "--project", "skynet")
	w.ok("attestation", "add", "--name", "rootfs", "--value", "rootfs.tar.gz")
	before := w.stateBytes()

	r := w.custody("attestation", "push", "--key", "cosign.key", "--bundle", "attestation.sigstore.json")
	if r.code != 3 || !strings.Contains(r.stderr, "key") {
		t.Fatalf("push without a trusted key: exit %d %s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(w.dir, "attestation.sigstore.json")); !os.IsNotExist(err) {
		t.Errorf("a refused push left a bundle file: %v", err)
	}
	if entries, _ := os.ReadDir(w.dir); len(entries) != 4 { // .custody, rootfs.tar.gz, cosign.key, cosign.pub: nothing staged left
		t.Errorf("the workspace holds %d entries after a refused push", len(entries))
	}
	if !bytes.Equal(w.stateBytes(), before) {
		t.Error("a refused push changed the state file")
	}

	w.with("CUSTODY_TOKEN="+cp.AdminToken).ok("workflow", "key", "add", "build-and-test", "--project", "skynet", "--public-key", "cosign.pub")
	// A person is pointed at the run's page in the web UI.
	if r := w.ok("attestation", "push", "--key", "cosign.key", "--bundle", "attestation.sigstore.json"); !strings.Contains(r.stderr, "pushed: "+cp.URL+"/ui/runs/") {
		t.Errorf("push did not name the run's page:\n%s", r.stderr)
	}
	w.ok("attestation", "verify", "--key", "cosign.pub", "--artifact", "rootfs.tar.gz", "attestation.sigstore.json")
}
