package crafting

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
	"github.com/custody-dev/custody/signing"
)

// testSigner makes a real cosign key pair and returns its signer and public key PEM.
func testSigner(t *testing.T) (*signing.KeySigner, []byte) {
	t.Helper()
	dir := t.TempDir()
	password := func() ([]byte, error) { return []byte("pw"), nil }
	pair, err := signing.GenerateKeyPair(dir, password, false)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := signing.LoadKey(context.Background(), pair.PrivateKey, signing.KeyOptions{Password: password})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := os.ReadFile(pair.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return signer, pub
}

// memoryDestination keeps what was pushed, or fails with err.
type memoryDestination struct {
	pushed *Pushed
	err    error
}

func (d *memoryDestination) Store(_ context.Context, p *Pushed) error {
	if d.err != nil {
		return d.err
	}
	d.pushed = p
	return nil
}

func TestPushNamesEverythingMissing(t *testing.T) {
	t.Parallel()
	c, dir := newTestCrafter(t)
	initRun(t, c)
	ctx := context.Background()
	if _, err := c.Add(ctx, AddOptions{Name: "build-ref", Value: "abc"}); err != nil {
		t.Fatal(err)
	}
	before := stateBytes(t, dir)
	signer, _ := testSigner(t)
	_, err := c.Push(ctx, PushOptions{Signer: signer, Destination: &memoryDestination{}})
	var u *UnsatisfiedError
	if !errors.As(err, &u) {
		t.Fatalf("push = %v, want UnsatisfiedError", err)
	}
	if !reflect.DeepEqual(u.Materials, []string{"rootfs"}) || !reflect.DeepEqual(u.Annotations, []string{"build-ref/source", "release"}) {
		t.Errorf("missing = %v / %v", u.Materials, u.Annotations)
	}
	if want := "push: contract not satisfied: required materials not set: rootfs; annotations without a value: build-ref/source, release"; err.Error() != want {
		t.Errorf("message = %q\nwant      %q", err, want)
	}
	if string(stateBytes(t, dir)) != string(before) {
		t.Fatal("a refused push changed the state")
	}
}

func TestPushSignsVerifiableAttestation(t *testing.T) {
	t.Parallel()
	c, dir := newTestCrafter(t)
	initRun(t, c)
	ctx := context.Background()
	rootfs := writeFile(t, dir, "rootfs.tar.gz", "rootfs!")
	if _, err := c.Add(ctx, AddOptions{Name: "rootfs", Value: rootfs}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Add(ctx, AddOptions{Name: "build-ref", Value: "abc", Annotations: map[string]string{"source": "git"}}); err != nil {
		t.Fatal(err)
	}
	signer, pub := testSigner(t)

	// A fixed contract annotation cannot be overridden at push.
	_, err := c.Push(ctx, PushOptions{Signer: signer, Destination: &memoryDestination{}, Annotations: map[string]string{"team": "resistance", "release": "1"}})
	if err == nil || !strings.Contains(err.Error(), `annotation team is fixed to "cyberdyne core"`) {
		t.Fatalf("push overriding a fixed annotation = %v", err)
	}
	// A destination that fails keeps the run.
	failing := &memoryDestination{err: errors.New("disk full")}
	if _, err := c.Push(ctx, PushOptions{Signer: signer, Destination: failing, Annotations: map[string]string{"release": "1"}}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("push to a failing destination = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, DefaultStateFile)); err != nil {
		t.Fatalf("a failed push cleared the state: %v", err)
	}

	dest := &memoryDestination{}
	pushed, err := c.Push(ctx, PushOptions{Signer: signer, Destination: dest, Annotations: map[string]string{"release": "v0.7.6"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, DefaultStateFile)); !os.IsNotExist(err) {
		t.Errorf("state not cleared after push: %v", err)
	}
	res, err := attestation.Verify(ctx, dest.pushed.Bundle, attestation.VerifyOptions{PublicKey: pub, ArtifactPath: rootfs})
	if err != nil {
		t.Fatalf("verify the pushed bundle: %v", err)
	}
	p := res.Predicate
	if p.Workflow.Name != "build-and-test" || p.Workflow.Project != "skynet" || p.Workflow.RunID != pushed.State.RunID ||
		p.Env["BUILD_NUMBER"] != "42" || p.Annotations["team"] != "cyberdyne core" || p.Annotations["release"] != "v0.7.6" ||
		len(p.Materials) != 2 || p.Builder.Version != "test" {
		t.Errorf("predicate = %+v", p)
	}
	if len(res.Subjects) != 1 || res.Subjects[0].Name != "rootfs.tar.gz" {
		t.Errorf("subjects = %v, want only the output rootfs.tar.gz", res.Subjects)
	}
}

// countingSigner counts the statements it is asked to sign.
type countingSigner struct {
	Signer
	n int
}

func (s *countingSigner) Sign(ctx context.Context, statement []byte) ([]byte, error) {
	s.n++
	return s.Signer.Sign(ctx, statement)
}

// TestPushAppliesTheContractRule: a state whose material no longer matches the contract (edited, or
// written by another tool) is refused before signing, by the rule the control plane applies.
func TestPushAppliesTheContractRule(t *testing.T) {
	t.Parallel()
	c, dir := newTestCrafter(t)
	initRun(t, c)
	ctx := context.Background()
	if _, err := c.Add(ctx, AddOptions{Name: "rootfs", Value: writeFile(t, dir, "rootfs.tar.gz", "rootfs!")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Add(ctx, AddOptions{Name: "build-ref", Value: "abc", Annotations: map[string]string{"source": "git"}}); err != nil {
		t.Fatal(err)
	}
	b := editState(t, dir, func(st *State) { st.Material("rootfs").Kind = "EVIDENCE" })
	key, _ := testSigner(t)
	signer := &countingSigner{Signer: key}
	_, err := c.Push(ctx, PushOptions{Signer: signer, Destination: &memoryDestination{}, Annotations: map[string]string{"release": "1"}})
	var u *UnsatisfiedError
	if !errors.As(err, &u) {
		t.Fatalf("push = %v, want UnsatisfiedError", err)
	}
	if want := "push: contract not satisfied: material rootfs: the contract says kind ARTIFACT, the attestation records EVIDENCE"; err.Error() != want {
		t.Errorf("message = %q\nwant      %q", err, want)
	}
	if signer.n != 0 {
		t.Errorf("the refused statement was signed")
	}
	if !reflect.DeepEqual(stateBytes(t, dir), b) {
		t.Error("a refused push changed the state")
	}
}

// TestBounds: a run holds at most attestation.MaxMaterials materials (the next add is refused and
// changes nothing), and a statement past attestation.MaxStatementSize is refused before it is signed:
// the control plane would refuse to store either.
func TestBounds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("materials", func(t *testing.T) {
		t.Parallel()
		c, dir := newTestCrafter(t)
		initRun(t, c)
		b := editState(t, dir, func(st *State) {
			for i := len(st.Materials); i < attestation.MaxMaterials; i++ {
				st.Materials = append(st.Materials, attestation.Material{Name: fmt.Sprintf("extra-%d", i), Kind: contract.KindString, Value: "x"})
			}
		})
		_, err := c.Add(ctx, AddOptions{Name: "one-more", Value: "x", Kind: contract.KindString})
		var in *InputError
		if !errors.As(err, &in) || !strings.Contains(err.Error(), fmt.Sprintf("already holds %d materials, the most an attestation may record", attestation.MaxMaterials)) {
			t.Fatalf("add of material %d = %v", attestation.MaxMaterials+1, err)
		}
		if !reflect.DeepEqual(stateBytes(t, dir), b) {
			t.Error("a refused add changed the state")
		}
	})
	t.Run("statement", func(t *testing.T) {
		t.Parallel()
		c, dir := newTestCrafter(t)
		initRun(t, c)
		if _, err := c.Add(ctx, AddOptions{Name: "rootfs", Value: writeFile(t, dir, "rootfs.tar.gz", "rootfs!")}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Add(ctx, AddOptions{Name: "build-ref", Value: "abc", Annotations: map[string]string{"source": "git"}}); err != nil {
			t.Fatal(err)
		}
		// Strings of 4000 bytes (a STRING holds at most 4096), enough of them to pass 1 MiB.
		before := editState(t, dir, func(st *State) {
			for i := 0; i*4000 <= attestation.MaxStatementSize; i++ {
				st.Materials = append(st.Materials, attestation.Material{Name: fmt.Sprintf("note-%d", i), Kind: contract.KindString, Value: strings.Repeat("a", 4000)})
			}
		})
		key, _ := testSigner(t)
		signer := &countingSigner{Signer: key}
		_, err := c.Push(ctx, PushOptions{Signer: signer, Destination: &memoryDestination{}, Annotations: map[string]string{"release": "1"}})
		var in *InputError
		if !errors.As(err, &in) || !strings.Contains(err.Error(), "larger than the 1 MiB custody takes") {
			t.Fatalf("push of an oversized statement = %.300v", err)
		}
		if signer.n != 0 {
			t.Error("the oversized statement was signed")
		}
		if !reflect.DeepEqual(stateBytes(t, dir), before) {
			t.Error("a refused push changed the state")
		}
	})
}

// editState changes the state file in dir as edit says (what a tampered or hand-edited workspace
// holds) and returns the bytes written.
func editState(t *testing.T, dir string, edit func(*State)) []byte {
	t.Helper()
	st, err := decodeState(stateBytes(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	edit(st)
	b, _, err := encodeState(st)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, DefaultStateFile), b, 0o600); err != nil {
		t.Fatal(err)
	}
	return b
}

// The predicate records the runner as authenticated, with the issuer and subject of the CI job the
// push's credential was exchanged for, only on a runner whose context the control plane checks, and
// never for a dry run; the state keeps the runner as init recorded it. A credential that cannot be
// had fails the push and leaves the state as it was.
func TestPushRecordsAnAuthenticatedRunner(t *testing.T) {
	t.Parallel()
	job := &CIJob{Issuer: "https://token.actions.githubusercontent.com", Subject: "repo:cyberdyne/skynet:ref:refs/heads/main"}
	jenkins := env{"JENKINS_URL": "https://ci.acme.internal/", "JOB_NAME": "skynet", "BUILD_NUMBER": "1", "BUILD_TAG": "jenkins-skynet-1"}
	tests := []struct {
		name   string
		env    env
		dryRun bool
		job    *CIJob
		err    error
		want   bool // authenticated
		asked  bool
	}{
		{name: "a GitHub job's exchanged credential", env: gitHubActions, job: job, want: true, asked: true},
		{name: "a custody token", env: gitHubActions, asked: true},
		{name: "a GitLab job's exchanged credential", env: env{"GITLAB_CI": "true", "CI_PROJECT_PATH": "cyberdyne/skynet"}, job: job, want: true, asked: true},
		{name: "a runner the control plane does not check", env: jenkins, job: job},
		{name: "no runner", env: env{}, job: job},
		{name: "a dry run", env: gitHubActions, dryRun: true, job: job},
		{name: "no credential", env: gitHubActions, err: errors.New("no OIDC token: add permissions: id-token: write"), asked: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			c := crafterAt(t, dir, tt.env.with("BUILD_NUMBER", "1"))
			if _, err := c.Init(context.Background(), InitOptions{Workflow: "build-and-test", Project: "skynet", Contract: seedContract(), DryRun: tt.dryRun}); err != nil {
				t.Fatal(err)
			}
			for _, add := range []AddOptions{{Name: "rootfs", Value: writeFile(t, dir, "rootfs.tar.gz", "rootfs!")},
				{Name: "build-ref", Value: "abc", Annotations: map[string]string{"source": "git"}}} {
				if _, err := c.Add(context.Background(), add); err != nil {
					t.Fatal(err)
				}
			}
			before := stateBytes(t, dir)
			signer, _ := testSigner(t)
			asked := false
			dest := &memoryDestination{}
			pushed, err := c.Push(context.Background(), PushOptions{Signer: signer, Destination: dest, Annotations: map[string]string{"release": "1"},
				Authenticated: func(context.Context) (*CIJob, error) { asked = true; return tt.job, tt.err }})
			if asked != tt.asked {
				t.Errorf("the credential was asked for: %v, want %v", asked, tt.asked)
			}
			if tt.err != nil {
				if err == nil || err.Error() != "push: "+tt.err.Error() || string(stateBytes(t, dir)) != string(before) {
					t.Errorf("push = %v, want the credential's error and the state as it was", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r := pushed.Predicate.Runner
			switch {
			case tt.want && (r == nil || !r.Authenticated || r.Issuer != job.Issuer || r.Subject != job.Subject || r.Type == ""):
				t.Errorf("runner %+v, want authenticated by %+v", r, job)
			case !tt.want && r.ClaimsAuthenticated():
				t.Errorf("runner %+v claims to be authenticated", r)
			case pushed.State.Runner.ClaimsAuthenticated():
				t.Errorf("the state's runner %+v changed", pushed.State.Runner)
			}
			if !bytes.Contains(pushed.Statement, []byte(`"authenticated":true`)) != !tt.want {
				t.Errorf("statement %s: authenticated %v", pushed.Statement, tt.want)
			}
		})
	}
}
