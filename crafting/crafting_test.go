package crafting

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custody-dev/custody/contract"
	"github.com/custody-dev/custody/crafting/materials"
	"github.com/custody-dev/custody/runner"
)

var fixedNow = time.Date(2022, 11, 2, 10, 4, 0, 0, time.UTC)

func clock() time.Time { return fixedNow }

// seedContract is the seed walkthrough's contract, without the image (resolving one needs a registry).
func seedContract() *contract.Contract {
	return &contract.Contract{
		APIVersion: contract.APIVersion, Kind: contract.KindContract,
		Metadata: contract.Metadata{Name: "build-and-test"},
		Spec: contract.Spec{
			Materials: []contract.Material{
				{Name: "rootfs", Type: contract.KindArtifact, Output: true},
				{Name: "dockerfile", Type: contract.KindArtifact, Optional: true},
				{Name: "build-ref", Type: contract.KindString, Annotations: []contract.Annotation{{Name: "source"}}},
			},
			EnvAllowList: []string{"BUILD_NUMBER"},
			Annotations:  []contract.Annotation{{Name: "team", Value: "cyberdyne core"}, {Name: "release"}},
		},
	}
}

type env map[string]string

func (e env) get(k string) string { return e[k] }

func (e env) with(kv ...string) env {
	out := maps.Clone(e)
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// gitHubActions is what GitHub Actions sets in a job (its required variables, docs/runners.md).
var gitHubActions = env{
	"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "cyberdyne/skynet",
	"GITHUB_REPOSITORY_OWNER": "cyberdyne", "GITHUB_RUN_ID": "42", "GITHUB_RUN_ATTEMPT": "1",
	"GITHUB_SHA": "80e461e9b385c6986cdb8096c9dc99928943d667", "GITHUB_WORKFLOW": "build", "GITHUB_EVENT_NAME": "push",
	"GITHUB_ACTOR": "sarah",
}

// newTestCrafter returns a crafter on a fresh workspace, with BUILD_NUMBER set.
func newTestCrafter(t *testing.T) (*Crafter, string) {
	t.Helper()
	dir := t.TempDir()
	return crafterAt(t, dir, env{"BUILD_NUMBER": "42"}), dir
}

func crafterAt(t *testing.T, dir string, e env) *Crafter {
	t.Helper()
	c, err := New(Options{
		Store:     NewFileStore(filepath.Join(dir, DefaultStateFile)),
		Materials: materials.New(materials.Options{Now: clock}),
		Getenv:    e.get, Now: clock, Version: "test", Workdir: dir,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func initRun(t *testing.T, c *Crafter) *State {
	t.Helper()
	st, err := c.Init(context.Background(), InitOptions{Workflow: "build-and-test", Project: "skynet", Contract: seedContract()})
	if err != nil {
		t.Fatalf("init: %v", err)
	}
	return st
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func stateBytes(t *testing.T, dir string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, DefaultStateFile))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestInitRecordsRun(t *testing.T) {
	t.Parallel()
	c, _ := newTestCrafter(t)
	st := initRun(t, c)
	if st.Workflow != "build-and-test" || st.Project != "skynet" || st.Env["BUILD_NUMBER"] != "42" ||
		!st.InitializedAt.Equal(fixedNow) || st.CLIVersion != "test" || len(st.RunID) != 36 {
		t.Errorf("state = %+v", st)
	}
	loaded, _, err := c.store.Load(context.Background())
	if err != nil || loaded.RunID != st.RunID {
		t.Fatalf("load = %v, %v", loaded, err)
	}
}

func TestInitRefusals(t *testing.T) {
	t.Parallel()
	withRunner := seedContract()
	withRunner.Spec.Runner = &contract.Runner{Type: contract.RunnerGitHubAction}
	tests := []struct {
		name     string
		env      env
		contract *contract.Contract
		dryRun   bool
		want     string
	}{
		{"missing env var", env{}, seedContract(), false, "environment variables not set: BUILD_NUMBER"},
		{"wrong runner", env{"BUILD_NUMBER": "1"}, withRunner, false,
			"the contract demands runner GITHUB_ACTION (GitHub Actions), this is no CI runner: run it on GitHub Actions, or change the contract's spec.runner"},
		{"wrong runner type", env{"BUILD_NUMBER": "1", "GITLAB_CI": "true"}, withRunner, false,
			"the contract demands runner GITHUB_ACTION (GitHub Actions), this is GITLAB_PIPELINE (GitLab CI/CD): run it on GitHub Actions"},
		{"the right runner without its variables", env{"BUILD_NUMBER": "1", "GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.com"}, withRunner, false,
			"the contract demands runner GITHUB_ACTION (GitHub Actions), whose variables GITHUB_REPOSITORY, GITHUB_REPOSITORY_OWNER, GITHUB_RUN_ID, " +
				"GITHUB_RUN_ATTEMPT, GITHUB_SHA, GITHUB_WORKFLOW, GITHUB_EVENT_NAME, GITHUB_ACTOR are not set here: pass them to the step's environment"},
		{"dry run tolerates both", env{}, withRunner, true, ""},
		{"right runner", gitHubActions.with("BUILD_NUMBER", "1"), withRunner, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			c := crafterAt(t, dir, tt.env)
			_, err := c.Init(context.Background(), InitOptions{Workflow: "w", Project: "p", Contract: tt.contract, DryRun: tt.dryRun})
			if tt.want == "" {
				if err != nil {
					t.Fatalf("init: %v", err)
				}
				return
			}
			var u *UnsatisfiedError
			if !errors.As(err, &u) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("init error = %v, want UnsatisfiedError containing %q", err, tt.want)
			}
			if _, statErr := os.Stat(filepath.Join(dir, DefaultStateFile)); !os.IsNotExist(statErr) {
				t.Errorf("a refused init wrote the state file")
			}
		})
	}
}

// The crafter works with the runner its caller detected (once per command), and a runner variable
// that is missing is reported, not silently dropped.
func TestInitUsesTheDetectedRunner(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rc := runner.Detect(runner.Env{Getenv: gitHubActions.with("GITHUB_RUN_ATTEMPT", "").get})
	var warnings []string
	c, err := New(Options{
		Store: NewFileStore(filepath.Join(dir, DefaultStateFile)), Now: clock, Workdir: dir, Runner: &rc,
		Getenv: env{"BUILD_NUMBER": "1", "GITLAB_CI": "true"}.get, Warn: func(m string) { warnings = append(warnings, m) },
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.Init(context.Background(), InitOptions{Workflow: "w", Project: "p", Contract: seedContract()})
	if err != nil {
		t.Fatal(err)
	}
	if st.Runner == nil || st.Runner.Type != "GITHUB_ACTION" || st.Runner.URL != "https://github.com/cyberdyne/skynet/actions/runs/42" ||
		st.Runner.Environment["GITHUB_REPOSITORY"] != "cyberdyne/skynet" {
		t.Errorf("recorded runner %+v, want the one given", st.Runner)
	}
	want := []string{"GitHub Actions does not set GITHUB_RUN_ATTEMPT here: the attestation records the runner without them"}
	if !slices.Equal(warnings, want) {
		t.Errorf("warnings = %q, want %q", warnings, want)
	}
}

// TestInitRefusesCredentialValues: a variable the contract allows is not recorded when its value is
// one of custody's own credentials, whatever its name: a custody token, or a private key (the key a
// pipeline hands push as env://COSIGN_KEY would otherwise be copied into the signed attestation).
func TestInitRefusesCredentialValues(t *testing.T) {
	t.Parallel()
	key, err := os.ReadFile("../signing/testdata/cosign.key")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		value, want string
	}{
		{string(key), "BUILD_NUMBER, which holds a private key"},
		{"-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE...", "BUILD_NUMBER, which holds a private key"},
		{"token=cst_" + strings.Repeat("A", 43), "BUILD_NUMBER, which holds a custody API token"},
		{"cst_short", ""}, // not a token's form: recorded
		{"-----BEGIN PUBLIC KEY-----", ""},
	} {
		dir := t.TempDir()
		c := crafterAt(t, dir, env{"BUILD_NUMBER": tt.value})
		st, err := c.Init(context.Background(), InitOptions{Workflow: "w", Project: "p", Contract: seedContract()})
		if tt.want == "" {
			if err != nil || st.Env["BUILD_NUMBER"] != tt.value {
				t.Errorf("init with %.20q: %v, want it recorded", tt.value, err)
			}
			continue
		}
		var input *InputError
		if !errors.As(err, &input) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("init with %.20q: %v, want an InputError saying %q", tt.value, err, tt.want)
		}
		if _, statErr := os.Stat(filepath.Join(dir, DefaultStateFile)); !os.IsNotExist(statErr) {
			t.Errorf("init with %.20q wrote the state file", tt.value)
		}
	}
}

func TestInitRefusesRunInProgress(t *testing.T) {
	t.Parallel()
	c, dir := newTestCrafter(t)
	first := initRun(t, c)
	before := stateBytes(t, dir)
	_, err := c.Init(context.Background(), InitOptions{Workflow: "other", Project: "skynet", Contract: seedContract()})
	if !errors.Is(err, ErrRunInProgress) || !strings.Contains(err.Error(), "--replace") {
		t.Fatalf("second init = %v, want ErrRunInProgress mentioning --replace", err)
	}
	if string(stateBytes(t, dir)) != string(before) {
		t.Fatal("a refused init changed the state file")
	}
	st, err := c.Init(context.Background(), InitOptions{Workflow: "other", Project: "skynet", Contract: seedContract(), Replace: true})
	if err != nil || st.RunID == first.RunID || st.Workflow != "other" {
		t.Fatalf("init --replace = %+v, %v", st, err)
	}
}

func TestAdd(t *testing.T) {
	t.Parallel()
	c, dir := newTestCrafter(t)
	initRun(t, c)
	ctx := context.Background()
	rootfs := writeFile(t, dir, "rootfs.tar.gz", "rootfs!")

	m, err := c.Add(ctx, AddOptions{Name: "rootfs", Value: rootfs})
	if err != nil {
		t.Fatal(err)
	}
	// sha256 of "rootfs!"
	if m.Kind != contract.KindArtifact || !m.Output || m.Digest != "sha256:"+sha256hex("rootfs!") || m.File.Size != 7 {
		t.Errorf("rootfs = %+v", m)
	}
	m, err = c.Add(ctx, AddOptions{Name: "build-ref", Value: "80e461e9b385c6986cdb8096c9dc99928943d667", Annotations: map[string]string{"source": "git"}})
	if err != nil {
		t.Fatal(err)
	}
	if m.Kind != contract.KindString || m.Annotations["source"] != "git" {
		t.Errorf("build-ref = %+v", m)
	}
	m, err = c.Add(ctx, AddOptions{Value: writeFile(t, dir, "notes.txt", "extra")})
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "notes-txt" || m.Kind != contract.KindArtifact {
		t.Errorf("extra file = %+v, want generated name notes-txt", m)
	}
	// The same add again is a no-op.
	if _, err := c.Add(ctx, AddOptions{Name: "rootfs", Value: rootfs}); err != nil {
		t.Errorf("repeated add = %v", err)
	}
	s, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ms := range s.Materials {
		got = append(got, fmt.Sprintf("%s:%s:%v:%v", ms.Name, ms.Kind, ms.Set, ms.Required))
	}
	// A generic file without a name does not fill the unset dockerfile slot: it gets a name of its own.
	want := "rootfs:ARTIFACT:true:true dockerfile:ARTIFACT:false:false build-ref:STRING:true:true notes-txt:ARTIFACT:true:false"
	if strings.Join(got, " ") != want {
		t.Errorf("status = %s\nwant     %s", strings.Join(got, " "), want)
	}
}

func TestFailedAddLeavesStateByteIdentical(t *testing.T) {
	t.Parallel()
	c, dir := newTestCrafter(t)
	initRun(t, c)
	ctx := context.Background()
	if _, err := c.Add(ctx, AddOptions{Name: "rootfs", Value: writeFile(t, dir, "a", "a")}); err != nil {
		t.Fatal(err)
	}
	before := stateBytes(t, dir)
	tests := []struct {
		name string
		opts AddOptions
		want string
	}{
		{"missing file", AddOptions{Name: "dockerfile", Value: filepath.Join(dir, "nope")}, "no such file"},
		{"kind differs from contract", AddOptions{Name: "rootfs", Value: "x", Kind: contract.KindString}, "rootfs is a ARTIFACT in the contract, not a STRING"},
		{"unknown kind", AddOptions{Value: "x", Kind: "BLOB"}, `kind "BLOB": unknown kind`},
		{"bad name", AddOptions{Name: "Not_A_Label", Value: "x"}, "DNS-1123"},
		{"already set", AddOptions{Name: "rootfs", Value: writeFile(t, dir, "b", "b")}, "material rootfs is already set to a@sha256:"},
		{"a typo of an unset material", AddOptions{Name: "build-rev", Value: "80e461e9"},
			"material build-rev is not in contract build-and-test; did you mean build-ref?"},
		{"a typo of an optional unset material", AddOptions{Name: "dockerfiles", Value: writeFile(t, dir, "Dockerfile", "FROM scratch")},
			"did you mean dockerfile?"},
		{"a missing file named as a path", AddOptions{Name: "notes", Value: "NOTES.md"}, `"NOTES.md" looks like a file path`},
	}
	for _, tt := range tests {
		_, err := c.Add(ctx, tt.opts)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: add = %v, want error containing %q", tt.name, err, tt.want)
		}
		if string(stateBytes(t, dir)) != string(before) {
			t.Fatalf("%s: a failed add changed the state file", tt.name)
		}
	}
}

// A name far from every unset contract material is an extra material, added on purpose; so is one
// close only to a material already set.
func TestAddExtraMaterials(t *testing.T) {
	t.Parallel()
	c, dir := newTestCrafter(t)
	initRun(t, c)
	ctx := context.Background()
	if _, err := c.Add(ctx, AddOptions{Name: "rootfs", Value: writeFile(t, dir, "rootfs.tar.gz", "rootfs!")}); err != nil {
		t.Fatal(err)
	}
	for _, opts := range []AddOptions{
		{Name: "rootfs-2", Value: writeFile(t, dir, "rootfs2.tar.gz", "again")}, // near rootfs, which is set
		{Name: "sbom", Value: writeFile(t, dir, "sbom.txt", "not much of an sbom")},
		{Name: "ref", Value: "main"},
		{Name: "notes", Value: "README.md", Kind: contract.KindString}, // text, said so
	} {
		if m, err := c.Add(ctx, opts); err != nil || m.Name != opts.Name {
			t.Errorf("add %s = %+v, %v; want an extra material", opts.Name, m, err)
		}
	}
}

func TestAddWithoutInit(t *testing.T) {
	t.Parallel()
	c, _ := newTestCrafter(t)
	if _, err := c.Add(context.Background(), AddOptions{Value: "x"}); !errors.Is(err, ErrNoState) {
		t.Fatalf("add without init = %v, want ErrNoState", err)
	}
}

// Parallel adds on one workspace, each through its own crafter (as separate steps would be), all land.
func TestParallelAddsAllLand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	initRun(t, crafterAt(t, dir, env{"BUILD_NUMBER": "1"}))
	const n = 24
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := crafterAt(t, dir, env{})
			_, err := c.Add(context.Background(), AddOptions{Name: fmt.Sprintf("m%d", i), Value: fmt.Sprintf("value-%d", i), Kind: contract.KindString})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	s, err := crafterAt(t, dir, env{}).Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := len(s.State.Materials); got != n {
		t.Fatalf("%d materials after %d parallel adds", got, n)
	}
}

func TestResetClearsState(t *testing.T) {
	t.Parallel()
	c, dir := newTestCrafter(t)
	st := initRun(t, c)
	got, err := c.Reset(context.Background())
	if err != nil || got.RunID != st.RunID {
		t.Fatalf("reset = %v, %v", got, err)
	}
	if _, err := os.Stat(filepath.Join(dir, DefaultStateFile)); !os.IsNotExist(err) {
		t.Fatalf("state file still there after reset: %v", err)
	}
	if _, err := c.Reset(context.Background()); !errors.Is(err, ErrNoState) {
		t.Fatalf("second reset = %v, want ErrNoState", err)
	}
}
