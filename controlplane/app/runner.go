package app

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
	"github.com/custody-dev/custody/controlplane/auth"
	"github.com/custody-dev/custody/controlplane/ca"
	"github.com/custody-dev/custody/wire"
)

// ciRunner is how a CI's runner context maps onto the claims of its ID tokens, one to one: the
// runner type and the claim only its tokens have, the variable that names the repository and its
// claim, and the run URLs of the token's run: a prefix after the repository's URL, then what may
// follow it. They stop at the run (GitHub: any attempt) or the project's jobs (GitLab): the job that
// pushes may be another job of the run than the one that recorded the context (remote state, or
// state handed over between jobs).
type ciRunner struct {
	claim     string // the claim only this CI's tokens have
	runner    contract.RunnerType
	repoVar   string
	repoClaim string
	runURL    func(repoURL string, w *auth.Workload) string
	rest      *regexp.Regexp
	runs      string // what the run URLs are, for messages
}

var ciRunners = []ciRunner{
	{claim: "job_workflow_ref", runner: contract.RunnerGitHubAction, repoVar: "GITHUB_REPOSITORY", repoClaim: "repository",
		runURL: func(repoURL string, w *auth.Workload) string {
			return repoURL + "/actions/runs/" + w.Claim("run_id")
		}, rest: regexp.MustCompile(`^(/attempts/[0-9]+)?$`), runs: "the token's run"},
	{claim: "ci_config_ref_uri", runner: contract.RunnerGitLabPipeline, repoVar: "CI_PROJECT_PATH", repoClaim: "project_path",
		runURL: func(repoURL string, _ *auth.Workload) string { return repoURL + "/-/jobs" },
		rest:   regexp.MustCompile(`^/[0-9]+$`), runs: "a job of the token's project"},
}

// checkRunner refuses a predicate that records its runner as authenticated (attestation.Runner)
// unless the pusher is the workload that says so: a CI job whose OIDC token the control plane
// verified, of the issuer and subject the predicate names, whose claims the runner context agrees
// with where they map one to one: the runner type, the repository, and the run URL, which must be
// the token's run's (GitHub) or one of the token's project's jobs (GitLab). A runner context that
// does not claim to be authenticated is stored as it is.
func checkRunner(p auth.Principal, r *attestation.Runner) error {
	if !r.ClaimsAuthenticated() {
		return nil
	}
	w := p.Workload
	if w == nil {
		return unprocessable(wire.CodeRunnerNotAuthenticated, "the attestation records its runner as authenticated by %s, and it is pushed "+
			"with a custody token, not with a credential exchanged for the CI's OIDC token: push from the CI job with its OIDC token "+
			"(without --token or CUSTODY_TOKEN), or push a statement whose runner is not marked authenticated", quoted(r.Issuer))
	}
	var wrong []string
	if !r.Authenticated {
		wrong = append(wrong, "an issuer or subject without authenticated: true")
	}
	if r.Issuer != w.Issuer {
		wrong = append(wrong, fmt.Sprintf("issuer %s, the token's is %s", quoted(r.Issuer), w.Issuer))
	}
	if r.Subject != w.Subject {
		wrong = append(wrong, fmt.Sprintf("subject %s, the token's is %s", quoted(r.Subject), quoted(w.Subject)))
	}
	wrong = append(wrong, runnerMismatch(w, r)...)
	if len(wrong) > 0 {
		return unprocessable(wire.CodeRunnerNotAuthenticated, "the attestation records its runner as authenticated, and its runner context "+
			"is not the CI job's whose OIDC token this credential was exchanged for: %s", strings.Join(wrong, "; "))
	}
	return nil
}

// runnerMismatch compares the runner context with the workload: the runner must be of a CI whose
// context maps onto its tokens' claims (ciRunners), the token that CI's. It returns what disagrees,
// each with the context's value and the token's.
func runnerMismatch(w *auth.Workload, r *attestation.Runner) []string {
	i := slices.IndexFunc(ciRunners, func(c ciRunner) bool { return string(c.runner) == r.Type })
	if i < 0 {
		return []string{fmt.Sprintf("runner type %s: the control plane checks the runner context of %s jobs only", quoted(r.Type), authenticatedRunners())}
	}
	ci := ciRunners[i]
	if _, ok := w.Claims[ci.claim]; !ok {
		return []string{fmt.Sprintf("runner type %s, and the token is no %s job's (it has no %s claim)", r.Type, ci.runner, ci.claim)}
	}
	id, err := ca.Workload(w.Issuer, w.Claims)
	if err != nil || id.CI == nil {
		return []string{fmt.Sprintf("the token's claims name no %s run: %v", ci.runner, err)}
	}
	var wrong []string
	repo := w.Claim(ci.repoClaim)
	if got := r.Environment[ci.repoVar]; got != repo {
		wrong = append(wrong, fmt.Sprintf("%s %s, the token's %s is %s", ci.repoVar, quoted(got), ci.repoClaim, quoted(repo)))
	}
	if r.URL != "" {
		prefix := ci.runURL(id.CI.SourceRepositoryURI, w)
		if rest, ok := strings.CutPrefix(r.URL, prefix); !ok || !ci.rest.MatchString(rest) {
			wrong = append(wrong, fmt.Sprintf("run URL %s, not %s (%s%s)", quoted(r.URL), ci.runs, prefix, strings.Trim(ci.rest.String(), "^$")))
		}
	}
	return wrong
}

// authenticatedRunners lists the runner types whose context the control plane checks.
func authenticatedRunners() string {
	names := make([]string, len(ciRunners))
	for i, c := range ciRunners {
		names[i] = string(c.runner)
	}
	return strings.Join(names, " and ")
}

// quoted quotes a value taken from a pushed statement, shortened.
func quoted(s string) string { return fmt.Sprintf("%q", shorten(s)) }
