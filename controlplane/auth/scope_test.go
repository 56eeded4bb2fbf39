package auth

import (
	"encoding/json"
	"testing"

	"github.com/custody-dev/custody/controlplane/store"
)

// TestPrincipalScopes: what each kind of token may do, inside and outside its scope.
func TestPrincipalScopes(t *testing.T) {
	t.Parallel()
	const org, otherOrg, proj, otherProj, wf, otherWf = "o1", "o2", "p1", "p2", "w1", "w2"
	tests := []struct {
		name  string
		token store.Token
		// what it may do, on: the org, project p1, project p2, workflow p1/w1, p1/w2, p2/w1, and in org o2
		admin, orgWide                          bool
		p1, p2, p1w1, p1w2, p2w1, otherOrgScope bool
		// whether it sees projects p1 and p2
		seesP1, seesP2 bool
	}{
		{"admin", store.Token{OrgID: org, Admin: true}, true, true, true, true, true, true, true, false, true, true},
		{"org token", store.Token{OrgID: org}, false, true, true, true, true, true, true, false, true, true},
		{"project token", store.Token{OrgID: org, ProjectID: proj}, false, false, true, false, true, true, false, false, true, false},
		{"workflow token", store.Token{OrgID: org, ProjectID: proj, WorkflowID: wf}, false, false, false, false, true, false, false, false, true, false},
		{"workflow token without its project", store.Token{OrgID: org, WorkflowID: wf}, false, false, false, false, true, false, true, false, true, true},
		{"no org", store.Token{Admin: true}, true, true, false, false, false, false, false, false, false, false},
	}
	for _, tc := range tests {
		p := Principal{Token: tc.token}
		got := []bool{p.Admin(), p.OrgWide(), p.Project(org, proj), p.Project(org, otherProj), p.Workflow(org, proj, wf),
			p.Workflow(org, proj, otherWf), p.Workflow(org, otherProj, wf), p.Workflow(otherOrg, proj, wf) || p.Project(otherOrg, proj) || p.SeesProject(otherOrg, proj),
			p.SeesProject(org, proj), p.SeesProject(org, otherProj)}
		want := []bool{tc.admin, tc.orgWide, tc.p1, tc.p2, tc.p1w1, tc.p1w2, tc.p2w1, tc.otherOrgScope, tc.seesP1, tc.seesP2}
		names := []string{"Admin", "OrgWide", "Project(p1)", "Project(p2)", "Workflow(p1/w1)", "Workflow(p1/w2)", "Workflow(p2/w1)", "other org",
			"SeesProject(p1)", "SeesProject(p2)"}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: %s = %v, want %v", tc.name, names[i], got[i], want[i])
			}
		}
	}
}

// TestWorkload: a token exchanged for an ID token is a workload, with the token's claims; any other
// token is a token.
func TestWorkload(t *testing.T) {
	t.Parallel()
	plain := store.Token{ID: "t1", OrgID: "o1", WorkflowID: "w1"}
	if w, err := WorkloadOf(&plain); w != nil || err != nil || (Principal{Token: plain}).Kind() != KindToken {
		t.Errorf("a plain token: workload %v, %v", w, err)
	}
	exchanged := plain
	exchanged.WorkloadIssuer = "https://token.actions.githubusercontent.com"
	exchanged.WorkloadClaims = []byte(`{"sub":"repo:acme/app:ref:refs/heads/main","repository":"acme/app","run_attempt":"1","runner_id":7}`)
	w, err := WorkloadOf(&exchanged)
	if err != nil {
		t.Fatal(err)
	}
	p := Principal{Token: exchanged, Workload: w}
	if p.Kind() != KindWorkload || w.Issuer != exchanged.WorkloadIssuer || w.Subject != "repo:acme/app:ref:refs/heads/main" ||
		w.Claim("repository") != "acme/app" || w.Claim("runner_id") != "" || w.Claims["runner_id"].(json.Number) != "7" {
		t.Errorf("workload %+v, kind %s", w, p.Kind())
	}
	if !p.Workflow("o1", "p1", "w1") || p.Workflow("o1", "p1", "w2") {
		t.Error("a workload is not scoped like its token")
	}
	exchanged.WorkloadClaims = []byte(`not json`)
	if _, err := WorkloadOf(&exchanged); err == nil {
		t.Error("claims that are not JSON read")
	}
}
