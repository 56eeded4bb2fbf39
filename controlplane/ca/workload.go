package ca

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
)

// Issuers of CI workload tokens whose claims the CA knows how to certify, as Fulcio does.
const (
	GitHubIssuer = "https://token.actions.githubusercontent.com"
	GitLabIssuer = "https://gitlab.com"
)

// Platform is the CI a workload identity comes from.
type Platform string

// The platforms a workload identity may come from.
const (
	GitHub Platform = "github"
	GitLab Platform = "gitlab"
)

// WorkloadIdentity is the identity Fulcio certifies for a CI workload whose OIDC token was verified:
// the SAN and the extensions its CI provider profile derives from the token's claims, so cosign's
// --certificate-github-workflow-* flags, gh attestation verify and sigstore-go's certificate identity
// policies check them as they would a Fulcio certificate of the same job. server is the CI's web URL
// (https://github.com, https://gitlab.example.com) under which repositories and runs are named.
//
// GitHub: SAN https://<host>/<job_workflow_ref>; GitLab: SAN https://<ci_config_ref_uri>. A claim the
// profile needs and the token lacks is an error: a certificate never names what was not verified.
func WorkloadIdentity(platform Platform, issuer, server string, claims map[string]any) (Identity, error) {
	c := claimReader{claims: claims}
	server = strings.TrimRight(server, "/")
	var ext certificate.Extensions
	var san string
	switch platform {
	case GitHub:
		jobWorkflowRef, repo := c.must("job_workflow_ref"), c.must("repository")
		san = server + "/" + jobWorkflowRef
		ext = certificate.Extensions{
			BuildSignerURI:                      san,
			BuildSignerDigest:                   c.opt("job_workflow_sha"),
			RunnerEnvironment:                   c.opt("runner_environment"),
			SourceRepositoryURI:                 server + "/" + repo,
			SourceRepositoryDigest:              c.must("sha"),
			SourceRepositoryRef:                 c.must("ref"),
			SourceRepositoryIdentifier:          c.opt("repository_id"),
			SourceRepositoryOwnerURI:            server + "/" + c.must("repository_owner"),
			SourceRepositoryOwnerIdentifier:     c.opt("repository_owner_id"),
			BuildConfigURI:                      server + "/" + c.must("workflow_ref"),
			BuildConfigDigest:                   c.opt("workflow_sha"),
			BuildTrigger:                        c.must("event_name"),
			RunInvocationURI:                    fmt.Sprintf("%s/%s/actions/runs/%s/attempts/%s", server, repo, c.must("run_id"), c.must("run_attempt")),
			SourceRepositoryVisibilityAtSigning: c.opt("repository_visibility"),
			// The deprecated v1 extensions cosign's --certificate-github-workflow-* flags still read.
			GithubWorkflowTrigger:    c.must("event_name"),
			GithubWorkflowSHA:        c.must("sha"),
			GithubWorkflowName:       c.opt("workflow"),
			GithubWorkflowRepository: repo,
			GithubWorkflowRef:        c.must("ref"),
		}
	case GitLab:
		configRef, projectPath := c.must("ci_config_ref_uri"), c.must("project_path")
		san = "https://" + configRef
		ref := c.must("ref")
		switch c.opt("ref_type") {
		case "branch":
			ref = "refs/heads/" + ref
		case "tag":
			ref = "refs/tags/" + ref
		}
		ext = certificate.Extensions{
			BuildSignerURI:                      san,
			BuildSignerDigest:                   c.opt("ci_config_sha"),
			RunnerEnvironment:                   c.opt("runner_environment"),
			SourceRepositoryURI:                 server + "/" + projectPath,
			SourceRepositoryDigest:              c.must("sha"),
			SourceRepositoryRef:                 ref,
			SourceRepositoryIdentifier:          c.opt("project_id"),
			SourceRepositoryOwnerURI:            server + "/" + c.must("namespace_path"),
			SourceRepositoryOwnerIdentifier:     c.opt("namespace_id"),
			BuildConfigURI:                      san,
			BuildConfigDigest:                   c.opt("ci_config_sha"),
			BuildTrigger:                        c.must("pipeline_source"),
			RunInvocationURI:                    server + "/" + projectPath + "/-/jobs/" + c.must("job_id"),
			SourceRepositoryVisibilityAtSigning: c.opt("project_visibility"),
		}
	default:
		return Identity{}, fmt.Errorf("workload identity: unknown CI platform %q", platform)
	}
	if len(c.missing) > 0 {
		return Identity{}, fmt.Errorf("workload identity: the %s token has no %s claim", platform, strings.Join(c.missing, ", "))
	}
	// https, or http for an issuer on http (custodyd allows those on loopback only: test issuers).
	if u, err := url.Parse(san); err != nil || u.Host == "" || u.Scheme != "https" && !(u.Scheme == "http" && strings.HasPrefix(issuer, "http://")) {
		return Identity{}, fmt.Errorf("workload identity: SAN %q from the token's claims is not an https URI", san)
	}
	ext.Issuer = issuer
	return Identity{URI: san, Issuer: issuer, CI: &ext}, nil
}

// claimReader reads string claims, remembering the required ones that are missing.
type claimReader struct {
	claims  map[string]any
	missing []string
}

func (c *claimReader) opt(name string) string {
	switch v := c.claims[name].(type) {
	case string:
		return v
	case bool:
		return fmt.Sprint(v)
	case float64: // JSON numbers: GitLab's ids
		return fmt.Sprintf("%.0f", v)
	case json.Number:
		return v.String()
	}
	return ""
}

func (c *claimReader) must(name string) string {
	v := c.opt(name)
	if v == "" && !contains(c.missing, name) {
		c.missing = append(c.missing, name)
	}
	return v
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// ciExtensions encodes Fulcio's CI extensions of ext that are set: the deprecated v1 ones
// (1.3.6.1.4.1.57264.1.2-.6) as raw strings, as Fulcio writes them, the v2 ones (.9-.22) as DER
// UTF8Strings.
func ciExtensions(ext *certificate.Extensions) ([]pkix.Extension, error) {
	if ext == nil {
		return nil, nil
	}
	var out []pkix.Extension
	for _, e := range []struct {
		oid asn1.ObjectIdentifier
		v   string
	}{
		{certificate.OIDGitHubWorkflowTrigger, ext.GithubWorkflowTrigger},
		{certificate.OIDGitHubWorkflowSHA, ext.GithubWorkflowSHA},
		{certificate.OIDGitHubWorkflowName, ext.GithubWorkflowName},
		{certificate.OIDGitHubWorkflowRepository, ext.GithubWorkflowRepository},
		{certificate.OIDGitHubWorkflowRef, ext.GithubWorkflowRef},
	} {
		if e.v != "" {
			out = append(out, pkix.Extension{Id: e.oid, Value: []byte(e.v)})
		}
	}
	for _, e := range []struct {
		oid asn1.ObjectIdentifier
		v   string
	}{
		{certificate.OIDBuildSignerURI, ext.BuildSignerURI},
		{certificate.OIDBuildSignerDigest, ext.BuildSignerDigest},
		{certificate.OIDRunnerEnvironment, ext.RunnerEnvironment},
		{certificate.OIDSourceRepositoryURI, ext.SourceRepositoryURI},
		{certificate.OIDSourceRepositoryDigest, ext.SourceRepositoryDigest},
		{certificate.OIDSourceRepositoryRef, ext.SourceRepositoryRef},
		{certificate.OIDSourceRepositoryIdentifier, ext.SourceRepositoryIdentifier},
		{certificate.OIDSourceRepositoryOwnerURI, ext.SourceRepositoryOwnerURI},
		{certificate.OIDSourceRepositoryOwnerIdentifier, ext.SourceRepositoryOwnerIdentifier},
		{certificate.OIDBuildConfigURI, ext.BuildConfigURI},
		{certificate.OIDBuildConfigDigest, ext.BuildConfigDigest},
		{certificate.OIDBuildTrigger, ext.BuildTrigger},
		{certificate.OIDRunInvocationURI, ext.RunInvocationURI},
		{certificate.OIDSourceRepositoryVisibilityAtSigning, ext.SourceRepositoryVisibilityAtSigning},
	} {
		if e.v == "" {
			continue
		}
		der, err := asn1.MarshalWithParams(e.v, "utf8")
		if err != nil {
			return nil, fmt.Errorf("extension %s: %w", e.oid, err)
		}
		out = append(out, pkix.Extension{Id: e.oid, Value: der})
	}
	if ext.Issuer == "" {
		return nil, errors.New("CI extensions without an issuer")
	}
	return out, nil
}

// Workload recognises the CI a verified token comes from by its claims, and the CI's web URL from
// its issuer: GitHub's (github.com, or a GitHub Enterprise Server whose issuer is
// https://HOST/_services/token) or GitLab's (gitlab.com or self-managed, whose issuer is its URL). It
// returns the certificate identity WorkloadIdentity makes of them.
func Workload(issuer string, claims map[string]any) (Identity, error) {
	_, github := claims["job_workflow_ref"]
	_, gitlab := claims["ci_config_ref_uri"]
	switch {
	case github && !gitlab:
		server := "https://github.com"
		if issuer != GitHubIssuer {
			server = strings.TrimSuffix(strings.TrimRight(issuer, "/"), "/_services/token")
		}
		return WorkloadIdentity(GitHub, issuer, server, claims)
	case gitlab && !github:
		return WorkloadIdentity(GitLab, issuer, strings.TrimRight(issuer, "/"), claims)
	}
	return Identity{}, fmt.Errorf("workload identity: a token of %s is neither GitHub's (job_workflow_ref) nor GitLab's (ci_config_ref_uri)", issuer)
}
