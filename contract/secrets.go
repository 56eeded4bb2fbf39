package contract

import (
	"maps"
	"slices"
	"strings"
)

// secretEnv are the environment variables no contract may list in envAllowList: credentials of
// custody itself, of the signing keys it reads, and of the CI systems it runs in. Recording one
// would copy the secret into the run's state and into a signed attestation that everyone who may
// read the workflow's attestations can read. The list is of names custody knows to be credentials;
// docs/contract.md and docs/contract.schema.json list the same names, and a test keeps them in step.
var secretEnv = map[string]string{
	// custody and custodyd
	"CUSTODY_TOKEN":        "custody's API token",
	"CUSTODY_OIDC_TOKEN":   "custody's OIDC token for keyless signing",
	"CUSTODY_DATABASE_URL": "custodyd's database URL, which may hold its password",
	"CUSTODY_CAS_PASSWORD": "custodyd's registry password",
	// signing keys, as cosign and sigstore clients read them
	"COSIGN_PASSWORD":    "the password of the signing key",
	"COSIGN_PRIVATE_KEY": "a cosign private key",
	"SIGSTORE_ID_TOKEN":  "an OIDC token for keyless signing",
	// GitHub Actions
	"GITHUB_TOKEN":                   "the GitHub Actions job token",
	"GH_TOKEN":                       "the GitHub CLI's token, set to the job token where workflows run gh",
	"ACTIONS_ID_TOKEN_REQUEST_TOKEN": "the token that requests GitHub Actions OIDC tokens",
	"ACTIONS_RUNTIME_TOKEN":          "the GitHub Actions runtime token",
	// GitLab CI/CD
	"CI_JOB_TOKEN":         "the GitLab CI/CD job token",
	"CI_JOB_JWT":           "a GitLab CI/CD OIDC token",
	"CI_JOB_JWT_V1":        "a GitLab CI/CD OIDC token",
	"CI_JOB_JWT_V2":        "a GitLab CI/CD OIDC token",
	"CI_REGISTRY_PASSWORD": "the GitLab container registry password",
	"CI_DEPLOY_PASSWORD":   "a GitLab deploy token",
	"CI_REPOSITORY_URL":    "the GitLab clone URL, which holds the job token",
	"DOCKER_AUTH_CONFIG":   "registry credentials of GitLab runners",
}

// SecretEnv lists, sorted, the environment variables a contract may not record (envAllowList
// refuses them whatever their case).
func SecretEnv() []string { return slices.Sorted(maps.Keys(secretEnv)) }

// secretEnvReason says what the variable named name holds when it is a credential custody refuses
// to record; ok is false for any other name. Case is ignored: Windows' environment ignores it.
func secretEnvReason(name string) (reason string, ok bool) {
	reason, ok = secretEnv[strings.ToUpper(name)]
	return reason, ok
}
