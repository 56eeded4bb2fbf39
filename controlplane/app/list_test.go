package app_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/custody-dev/custody/controlplane/app"
	"github.com/custody-dev/custody/controlplane/auth"
	"github.com/custody-dev/custody/controlplane/store"
	"github.com/custody-dev/custody/wire"
)

// storeAttestation records an attestation of project/workflow mentioning digest, as a push would
// after verification (listing reads the index, not the bundle).
func (e *env) storeAttestation(t *testing.T, project, workflow, digest string, n int, at time.Time) {
	t.Helper()
	ctx := context.Background()
	pr, err := e.store.GetProject(ctx, e.admin.Token.OrgID, project)
	if err != nil {
		t.Fatal(err)
	}
	w, err := e.store.GetWorkflow(ctx, pr.ID, workflow)
	if err != nil {
		t.Fatal(err)
	}
	run := &store.Run{ID: fmt.Sprintf("%s-%s-%d", project, workflow, n), WorkflowID: w.ID, ContractRevision: 1,
		State: store.RunInitialized, CreatedAt: at, ExpiresAt: at.Add(time.Hour)}
	if err := e.store.CreateRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	att := &store.Attestation{Digest: fmt.Sprintf("sha256:%x%060d", project[:2], n), RunID: run.ID, WorkflowID: w.ID,
		Bundle: []byte("{}"), CreatedAt: at, Materials: []store.MaterialRef{{Digest: digest, Name: "rootfs", Kind: "ARTIFACT"}}}
	if _, err := e.store.PutAttestation(ctx, att); err != nil {
		t.Fatal(err)
	}
}

// TestSearchByDigestFindsWhatTheTokenMayRead: a scoped token finds its attestation of an artifact
// however many newer ones other projects hold, and a project filter filters.
func TestSearchByDigestFindsWhatTheTokenMayRead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	e.workflow(t, "alpha", "build")
	e.workflow(t, "beta", "build")
	e.workflow(t, "beta", "test")
	const shared = "sha256:5ba8ed0f0fb8a5b0f1f6f8c0e55b3bd9b3bfe1d2f3b4c5d6e7f8091a2b3c4d5e"
	t0 := e.clock.Now()
	e.storeAttestation(t, "alpha", "build", shared, 0, t0) // the oldest
	for i := range 60 {
		e.storeAttestation(t, "beta", "build", shared, i, t0.Add(time.Duration(i+1)*time.Minute))
	}
	alphaProject, _ := e.token(t, wire.CreateToken{Project: "alpha"})
	alphaBuild, _ := e.token(t, wire.CreateToken{Project: "alpha", Workflow: "build"})
	betaProject, _ := e.token(t, wire.CreateToken{Project: "beta"})
	betaTest, _ := e.token(t, wire.CreateToken{Project: "beta", Workflow: "test"})

	for _, tc := range []struct {
		name     string
		p        auth.Principal
		project  string
		limit    int
		want     int
		wantCode string
	}{
		{"alpha's project token", alphaProject, "", 0, 1, ""},
		{"alpha/build's token", alphaBuild, "", 0, 1, ""},
		{"alpha/build's token in project alpha", alphaBuild, "alpha", 0, 1, ""},
		{"beta's project token, default page", betaProject, "", 0, 50, ""},
		{"beta's project token, large page", betaProject, "", 100, 60, ""},
		{"beta/test's token: none of its own", betaTest, "", 0, 0, ""},
		{"admin, default page", e.admin, "", 0, 50, ""},
		{"admin, large page", e.admin, "", 100, 61, ""},
		{"admin in project alpha", e.admin, "alpha", 0, 1, ""},
		{"admin in project beta", e.admin, "beta", 5, 5, ""},
		// What a token may not see is not found, like what does not exist.
		{"beta's token in project alpha", betaProject, "alpha", 0, 0, wire.CodeNotFound},
		{"alpha/build's token in project beta", alphaBuild, "beta", 0, 0, wire.CodeNotFound},
		{"unknown project", e.admin, "gamma", 0, 0, wire.CodeNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page, err := e.app.ListAttestations(ctx, tc.p, app.AttestationQuery{Project: tc.project, Digest: shared, Limit: tc.limit})
			atts := page.Attestations
			if tc.wantCode != "" {
				if code(err) != tc.wantCode {
					t.Fatalf("error = %v, want %s", err, tc.wantCode)
				}
				return
			}
			if err != nil || len(atts) != tc.want {
				t.Fatalf("%d attestations, %v; want %d", len(atts), err, tc.want)
			}
			for i, a := range atts {
				if !tc.p.OrgWide() && a.Project != scopeProject(t, e, tc.p) {
					t.Errorf("attestation of %s/%s shown", a.Project, a.Workflow)
				}
				if tc.project != "" && a.Project != tc.project {
					t.Errorf("attestation of project %s in a search of project %s", a.Project, tc.project)
				}
				if i > 0 && a.CreatedAt.After(atts[i-1].CreatedAt) {
					t.Errorf("not newest first at %d", i)
				}
			}
		})
	}
}

func scopeProject(t *testing.T, e *env, p auth.Principal) string {
	t.Helper()
	pr, err := e.store.GetProjectByID(context.Background(), p.Token.ProjectID)
	if err != nil {
		t.Fatal(err)
	}
	return pr.Name
}

// TestListAttestationsRefusals: a listing names a workflow (with its project) or a digest.
func TestListAttestationsRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	e.workflow(t, "alpha", "build")
	other, _ := e.token(t, wire.CreateToken{Project: "alpha", Workflow: "build"})
	e.workflow(t, "alpha", "other")
	for _, tc := range []struct {
		name                      string
		p                         auth.Principal
		project, workflow, digest string
		status                    int
		code                      string
	}{
		{"nothing", e.admin, "", "", "", 400, wire.CodeBadRequest},
		{"a project alone", e.admin, "alpha", "", "", 400, wire.CodeBadRequest},
		{"a workflow without project", e.admin, "", "build", "", 400, wire.CodeBadRequest},
		{"an unknown workflow", e.admin, "alpha", "deploy", "", 404, wire.CodeNotFound},
		{"another workflow", other, "alpha", "other", "", 404, wire.CodeNotFound},
	} {
		_, err := e.app.ListAttestations(ctx, tc.p, app.AttestationQuery{Project: tc.project, Workflow: tc.workflow, Digest: tc.digest})
		if e, ok := app.AsError(err); !ok || e.Status != tc.status || e.Code != tc.code {
			t.Errorf("%s: %v, want %d %s", tc.name, err, tc.status, tc.code)
		}
	}
}
