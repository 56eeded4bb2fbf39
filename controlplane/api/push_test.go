package api_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
	"github.com/custody-dev/custody/controlplane/store/postgres"
	"github.com/custody-dev/custody/internal/cptest"
	"github.com/custody-dev/custody/internal/pgtest"
	"github.com/custody-dev/custody/signing"
	"github.com/custody-dev/custody/wire"
)

// What a push may store and which blobs it opens, on both stores: the statements here are signed by
// a key the workflow trusts, as anyone holding that key (a pipeline of the workflow) could sign them.

// onStores runs fn against a control plane on each store: SQLite, and PostgreSQL (pgtest).
func onStores(t *testing.T, fn func(t *testing.T, opts cptest.Options)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		fn(t, cptest.Options{})
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		st, err := postgres.Open(context.Background(), pgtest.New(t))
		if err != nil {
			t.Fatal(err)
		}
		fn(t, cptest.Options{Store: st})
	})
}

// statement is an in-toto statement about a run of buildContract, signed as it is, whatever it says.
type statement struct {
	Run       wire.Run
	Materials []attestation.Material
	// Subjects nil: those attestation.SubjectsFrom gives the materials.
	Subjects []attestation.Subject
	// Contract and Revision the predicate names; "" and 0: build and the run's revision.
	Contract string
	Revision int
	// Edit, when set, changes the statement's JSON before it is signed.
	Edit func(payload []byte) []byte
	// Runner and Git are the predicate's, when set.
	Runner *attestation.Runner
	Git    *attestation.Git
}

func (s statement) sign(t testing.TB, signer *signing.KeySigner) []byte {
	t.Helper()
	if s.Contract == "" {
		s.Contract = "build"
	}
	if s.Revision == 0 {
		s.Revision = s.Run.ContractRevision
	}
	if s.Subjects == nil {
		s.Subjects = attestation.SubjectsFrom(s.Materials)
	}
	p := &attestation.Predicate{
		Workflow:  attestation.Workflow{Name: s.Run.Workflow, Project: s.Run.Project, RunID: s.Run.ID, ContractName: s.Contract, ContractRevision: s.Revision},
		Materials: s.Materials,
		Builder:   attestation.Builder{ID: "https://custody.dev/cli", Version: "test"},
		Runner:    s.Runner,
		Git:       s.Git,
	}
	st, err := attestation.NewStatement(s.Subjects, p)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := attestation.MarshalStatement(st)
	if err != nil {
		t.Fatal(err)
	}
	if s.Edit != nil {
		payload = s.Edit(payload)
	}
	bundle, err := signer.Sign(context.Background(), payload)
	if err != nil {
		t.Fatal(err)
	}
	return bundle
}

// rootfs is buildContract's output material: a file of digest, uploaded to the CAS or not.
func rootfs(digest string, uploaded bool) attestation.Material {
	return attestation.Material{Name: "rootfs", Kind: contract.KindArtifact, Value: "rootfs.tar.gz", Digest: digest, Output: true,
		File: &attestation.File{Name: "rootfs.tar.gz", Size: 1, Uploaded: uploaded}}
}

var buildRef = attestation.Material{Name: "build-ref", Kind: contract.KindString, Value: "refs/heads/main"}

func pushCall(token, runID string, bundle []byte) call {
	return raw(http.MethodPost, "/v1/runs/"+runID+"/attestation", token, attestation.BundleMediaType, bundle)
}

func blobCall(token, digest string) call {
	return call{method: http.MethodGet, path: "/v1/blobs/" + digest, header: http.Header{"Authorization": {"Bearer " + token}}}
}

// claims is a control plane with projects alpha (workflows build and other) and beta (build), all on
// buildContract and trusting one key, and a token of every scope.
type claims struct {
	srv    *cptest.Server
	signer *signing.KeySigner
	tokens map[string]string // alpha/build, alpha/other, beta/build, alpha, beta, org, admin
}

func newClaims(t *testing.T, opts cptest.Options) *claims {
	t.Helper()
	srv := cptest.New(t, opts)
	signer, pub := newSigner(t)
	c := &claims{srv: srv, signer: signer, tokens: map[string]string{"admin": srv.AdminToken}}
	for _, wf := range []string{"alpha/build", "alpha/other", "beta/build"} {
		p, w, _ := strings.Cut(wf, "/")
		c.tokens[wf] = srv.Workflow(t, p, w, buildContract, pub)
	}
	for name, req := range map[string]wire.CreateToken{"alpha": {Project: "alpha"}, "beta": {Project: "beta"}, "org": {}} {
		tok, err := srv.Admin(t).CreateToken(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		c.tokens[name] = tok.Secret
	}
	return c
}

func (c *claims) upload(t *testing.T, credential, content string) string {
	t.Helper()
	h, err := c.srv.Client(t, c.tokens[credential]).UploadBlob(t.Context(), func() (io.Reader, error) { return strings.NewReader(content), nil })
	if err != nil {
		t.Fatalf("upload as %s: %v", credential, err)
	}
	return string(h.Digest)
}

func (c *claims) run(t *testing.T, credential, workflow string) wire.Run {
	t.Helper()
	p, w, _ := strings.Cut(workflow, "/")
	run, err := c.srv.Client(t, c.tokens[credential]).InitRun(t.Context(), wire.InitRun{Project: p, Workflow: w})
	if err != nil {
		t.Fatalf("init %s as %s: %v", workflow, credential, err)
	}
	return run.Run
}

// refusedRead checks credential may not read digest: answered as for a blob that does not exist.
func (c *claims) refusedRead(t *testing.T, credential, digest string) {
	t.Helper()
	a := send(t, c.srv, blobCall(c.tokens[credential], digest))
	absent := send(t, c.srv, blobCall(c.tokens[credential], digestOf([]byte("never uploaded"))))
	if a.status == http.StatusOK || a.status != absent.status || a.problem.Code != absent.problem.Code {
		t.Errorf("%s reads %s: %s; a blob that does not exist: %s", credential, digest, a, absent)
	}
}

// TestPushClaims: which uploads a push may claim (and so open to the readers of its workflow), by the
// scope of the credential that uploaded the blob and of the one that pushes.
func TestPushClaims(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, opts cptest.Options) {
		c := newClaims(t, opts)
		for i, tc := range []struct {
			name      string
			uploaders []string // who uploaded the file before the push
			pusher    string   // who inits and pushes a run of alpha/build
			status    int
		}{
			{"uploaded by the workflow's credential", []string{"alpha/build"}, "alpha/build", 201},
			{"uploaded by its project's credential", []string{"alpha"}, "alpha/build", 201},
			{"pushed by its project's credential", []string{"alpha/build"}, "alpha", 201},
			{"uploaded and pushed by org-wide credentials", []string{"admin"}, "org", 201},
			{"uploaded by another project too", []string{"beta/build", "alpha/build"}, "alpha/build", 201},
			{"uploaded by a sibling workflow's credential", []string{"alpha/other"}, "alpha/build", 422},
			{"uploaded by another project's workflow", []string{"beta/build"}, "alpha/build", 422},
			{"uploaded by another project's credential", []string{"beta"}, "alpha/build", 422},
			{"uploaded by an org-wide credential, pushed by the workflow's", []string{"admin"}, "alpha/build", 422},
			{"another project's upload, pushed by an org-wide credential", []string{"beta/build"}, "admin", 422},
			{"never uploaded", nil, "alpha/build", 422},
		} {
			t.Run(tc.name, func(t *testing.T) {
				content := fmt.Sprintf("rootfs %d", i)
				digest := digestOf([]byte(content))
				for _, u := range tc.uploaders {
					c.upload(t, u, content)
				}
				run := c.run(t, tc.pusher, "alpha/build")
				bundle := statement{Run: run, Materials: []attestation.Material{rootfs(digest, true), buildRef}}.sign(t, c.signer)
				before := snapshot(t, c.srv)
				a := send(t, c.srv, pushCall(c.tokens[tc.pusher], run.ID, bundle))
				if tc.status == http.StatusCreated {
					if a.status != http.StatusCreated {
						t.Fatalf("push = %s, want 201", a)
					}
					if got := send(t, c.srv, blobCall(c.tokens["alpha/build"], digest)); got.status != http.StatusOK {
						t.Errorf("alpha/build reads the claimed blob: %s", got)
					}
					return
				}
				mustProblem(t, a, http.StatusUnprocessableEntity, wire.CodeMaterialNotClaimable)
				if want := "rootfs (" + digest + ")"; !strings.Contains(a.problem.Detail, want) || !strings.Contains(a.problem.Detail, "alpha/build") {
					t.Errorf("detail %q names neither %q nor the workflow", a.problem.Detail, want)
				}
				if snapshot(t, c.srv) != before {
					t.Error("a refused push changed the store")
				}
				c.refusedRead(t, "alpha/build", digest)
			})
		}
		// A refusal names ten materials, then counts the rest.
		run := c.run(t, "alpha/build", "alpha/build")
		ms := []attestation.Material{rootfs(digestOf([]byte("many 0")), true), buildRef}
		for i := 1; i <= 12; i++ {
			ms = append(ms, attestation.Material{Name: fmt.Sprintf("file-%d", i), Kind: contract.KindEvidence, Value: "f",
				Digest: digestOf([]byte(fmt.Sprint("many ", i))), File: &attestation.File{Name: "f", Size: 1, Uploaded: true}})
		}
		a := send(t, c.srv, pushCall(c.tokens["alpha/build"], run.ID, statement{Run: run, Materials: ms}.sign(t, c.signer)))
		mustProblem(t, a, http.StatusUnprocessableEntity, wire.CodeMaterialNotClaimable)
		if strings.Count(a.problem.Detail, "sha256:") != 10 || !strings.Contains(a.problem.Detail, ", and 3 more, but") {
			t.Errorf("refusal of 13 claims: %q, want ten named and 3 more", a.problem.Detail)
		}
	})
}

// TestForeignBlobStaysClosed is the attack of issue 6: a workflow token of project beta, with the key
// its workflow trusts, pushes a statement naming project alpha's blob. Claiming it as uploaded is
// refused; naming it without the claim is a mere mention, which opens nothing, not even once the
// digest is uploaded later.
func TestForeignBlobStaysClosed(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, opts cptest.Options) {
		c := newClaims(t, opts)
		ctx := t.Context()
		alpha := c.srv.Client(t, c.tokens["alpha/build"])
		run, err := alpha.InitRun(ctx, wire.InitRun{Project: "alpha", Workflow: "build"})
		if err != nil {
			t.Fatal(err)
		}
		secret := craft{Run: run.Run, Contract: run.Contract, Signer: c.signer, Adds: buildAdds(t, "alpha's secret rootfs"), Uploader: alpha}.bundle(t)
		if _, err := alpha.Push(ctx, run.Run.ID, secret); err != nil {
			t.Fatalf("alpha's own push: %v", err)
		}
		digest := digestOf([]byte("alpha's secret rootfs"))
		if a := send(t, c.srv, blobCall(c.tokens["alpha/build"], digest)); a.status != http.StatusOK {
			t.Fatalf("alpha reads its blob: %s", a)
		}

		beta := c.tokens["beta/build"]
		claim := c.run(t, "beta/build", "beta/build")
		before := snapshot(t, c.srv)
		a := send(t, c.srv, pushCall(beta, claim.ID, statement{Run: claim, Materials: []attestation.Material{rootfs(digest, true), buildRef}}.sign(t, c.signer)))
		mustProblem(t, a, http.StatusUnprocessableEntity, wire.CodeMaterialNotClaimable)
		if !strings.Contains(a.problem.Detail, "rootfs ("+digest+")") {
			t.Errorf("detail %q does not name the material and its digest", a.problem.Detail)
		}
		if snapshot(t, c.srv) != before {
			t.Error("the refused push changed the store")
		}
		c.refusedRead(t, "beta/build", digest)

		// A mention without the claim is stored (an image or a file kept out of the CAS is one), and
		// opens nothing; so is a digest nobody uploaded yet, even once alpha uploads and claims it.
		later := digestOf([]byte("alpha's next rootfs"))
		mention := statement{Run: claim, Materials: []attestation.Material{rootfs(digest, false), buildRef,
			{Name: "next", Kind: contract.KindArtifact, Value: "next.tar.gz", Digest: later, File: &attestation.File{Name: "next.tar.gz", Size: 1}}}}
		if a := send(t, c.srv, pushCall(beta, claim.ID, mention.sign(t, c.signer))); a.status != http.StatusCreated {
			t.Fatalf("a push that names alpha's digest without claiming it: %s, want 201", a)
		}
		run, err = alpha.InitRun(ctx, wire.InitRun{Project: "alpha", Workflow: "build"})
		if err != nil {
			t.Fatal(err)
		}
		next := craft{Run: run.Run, Contract: run.Contract, Signer: c.signer, Adds: buildAdds(t, "alpha's next rootfs"), Uploader: alpha}.bundle(t)
		if _, err := alpha.Push(ctx, run.Run.ID, next); err != nil {
			t.Fatalf("alpha's second push: %v", err)
		}
		c.refusedRead(t, "beta/build", digest)
		c.refusedRead(t, "beta/build", later)
		c.refusedRead(t, "beta", later)

		// A digest search finds what the token may read that names the digest: beta's mention for
		// beta, alpha's claim for alpha, both for the org.
		for credential, want := range map[string][]string{"beta/build": {"beta"}, "alpha/build": {"alpha"}, "org": {"alpha", "beta"}} {
			a := send(t, c.srv, call{method: http.MethodGet, path: "/v1/attestations?digest=" + url.QueryEscape(digest),
				header: http.Header{"Authorization": {"Bearer " + c.tokens[credential]}}})
			if a.status != http.StatusOK {
				t.Fatalf("search as %s: %s", credential, a)
			}
			var got []string
			for _, p := range []string{"alpha", "beta"} {
				if strings.Contains(string(a.body), `"project":"`+p+`"`) {
					got = append(got, p)
				}
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("search for alpha's digest as %s finds %v, want %v: %s", credential, got, want, a)
			}
		}
	})
}

// TestPushContractRule: the control plane checks the statement against the run's contract revision
// with the rule crafting applies before signing: 422 contract_not_satisfied naming the material, and
// nothing stored.
func TestPushContractRule(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, opts cptest.Options) {
		c := newClaims(t, opts)
		token := c.tokens["alpha/build"]
		var run wire.Run
		digest := digestOf([]byte("rootfs"))
		other := digestOf([]byte("something else"))
		good := []attestation.Material{rootfs(digest, false), buildRef}
		with := func(change func(ms []attestation.Material) []attestation.Material) []attestation.Material {
			ms := append([]attestation.Material(nil), good...)
			return change(ms)
		}
		for _, tc := range []struct {
			name   string
			st     statement
			detail string
		}{
			{"a required material of another kind", statement{Materials: with(func(ms []attestation.Material) []attestation.Material {
				ms[0].Kind = contract.KindEvidence
				return ms
			})}, "material rootfs: the contract says kind ARTIFACT, the attestation records EVIDENCE"},
			{"a file without a digest", statement{Materials: with(func(ms []attestation.Material) []attestation.Material {
				ms[0].Digest = ""
				return ms
			}), Subjects: []attestation.Subject{{Name: "rootfs.tar.gz", Digest: map[string]string{"sha256": strings.TrimPrefix(digest, "sha256:")}}}},
				"material rootfs: kind ARTIFACT carries the digest of its content, this one has none"},
			{"an output that is no subject", statement{Materials: good,
				Subjects: []attestation.Subject{{Name: "other", Digest: map[string]string{"sha256": strings.TrimPrefix(other, "sha256:")}}}},
				"material rootfs is an output, but rootfs.tar.gz@" + digest + " is not a subject of the statement"},
			{"an output whose subject has another digest", statement{Materials: good,
				Subjects: []attestation.Subject{{Name: "rootfs.tar.gz", Digest: map[string]string{"sha256": strings.TrimPrefix(other, "sha256:")}}}},
				"material rootfs is an output, but rootfs.tar.gz@" + digest + " is not a subject of the statement"},
			{"another contract revision", statement{Materials: good, Revision: 7},
				`the attestation is about contract "build" revision 7, the run's is "build" revision 1`},
			{"another contract", statement{Materials: good, Contract: "deploy"},
				`the attestation is about contract "deploy" revision 1, the run's is "build" revision 1`},
			{"a NUL byte in a material name", statement{Materials: append(good[:2:2],
				attestation.Material{Name: "no\x00tes", Kind: contract.KindEvidence, Value: "notes", Digest: other})}, `material name "no\x00tes": not a material name`},
			{"a malformed digest", statement{Materials: append(good[:2:2],
				attestation.Material{Name: "notes", Kind: contract.KindEvidence, Value: "notes", Digest: "sha256:NOTHEX"})}, `material notes: digest "sha256:NOTHEX"`},
			{"an unknown kind", statement{Materials: append(good[:2:2],
				attestation.Material{Name: "notes", Kind: "NOTES", Value: "notes", Digest: other})}, "material notes: unknown kind NOTES"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				run = c.run(t, "alpha/build", "alpha/build")
				tc.st.Run = run
				before := snapshot(t, c.srv)
				a := send(t, c.srv, pushCall(token, run.ID, tc.st.sign(t, c.signer)))
				mustProblem(t, a, http.StatusUnprocessableEntity, wire.CodeContractUnmet)
				if !strings.Contains(a.problem.Detail, tc.detail) {
					t.Errorf("detail %q does not say %q", a.problem.Detail, tc.detail)
				}
				if snapshot(t, c.srv) != before {
					t.Error("a refused push changed the store")
				}
			})
		}
		// The last run took none of them.
		if a := send(t, c.srv, pushCall(token, run.ID, statement{Run: run, Materials: good}.sign(t, c.signer))); a.status != http.StatusCreated {
			t.Fatalf("the good statement: %s", a)
		}
	})
}

// TestPushAmbiguousStatement: a statement whose subjects read one way to custody and sigstore-go
// (encoding/json takes "Subject" for "subject", and the last of two) and another way to a verifier
// or policy engine matching names exactly (jq, OPA) is refused, not stored with the subjects only
// custody sees.
func TestPushAmbiguousStatement(t *testing.T) {
	t.Parallel()
	c := newClaims(t, cptest.Options{})
	run := c.run(t, "alpha/build", "alpha/build")
	evil := `[{"digest":{"sha256":"` + strings.Repeat("e", 64) + `"},"name":"rootfs.tar.gz"}]`
	st := statement{Run: run, Materials: []attestation.Material{rootfs(digestOf([]byte("rootfs")), false), buildRef},
		Edit: func(payload []byte) []byte { // "subject" (exact readers) is evil, "Subject" (custody) the real one
			return []byte(strings.Replace(string(payload), `"subject":`, `"subject":`+evil+`,"Subject":`, 1))
		}}
	before := snapshot(t, c.srv)
	a := send(t, c.srv, pushCall(c.tokens["alpha/build"], run.ID, st.sign(t, c.signer)))
	mustProblem(t, a, http.StatusUnprocessableEntity, wire.CodeUnverifiable)
	if want := `has "Subject", which only a case-insensitive reader takes for "subject"`; !strings.Contains(a.problem.Detail, want) {
		t.Errorf("detail %q does not say %q", a.problem.Detail, want)
	}
	if snapshot(t, c.srv) != before {
		t.Error("the refused push changed the store")
	}
}
