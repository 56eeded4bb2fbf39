// Package oidctest is an OpenID Connect issuer for tests, shaped like the CI issuers custody trusts
// (GitHub Actions, GitLab): it serves /.well-known/openid-configuration and its key set (JWKS) over
// HTTP on 127.0.0.1, with keys generated per issuer, and signs ID tokens with the claim sets those
// CIs put in theirs. Options make the tokens a verifier must refuse: the wrong algorithm (none, HS256
// keyed with the public key), a key the issuer does not publish, a signature by another key, times
// and audiences of the test's choosing. Nothing here reaches the network beyond the loopback.
package oidctest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"maps"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// DefaultAudience is the audience a token gets unless its claims or an option give one: custody's.
const DefaultAudience = "custody"

// Lifetime is how long a token is valid by default: GitHub's ID tokens live 5 minutes.
const Lifetime = 5 * time.Minute

// Issuer is a running OIDC issuer.
type Issuer struct {
	// URL is the issuer (the tokens' iss): http://127.0.0.1:PORT.
	URL string
	// Now is the issuer's clock for the times of the tokens it signs (time.Now by default). Set it
	// before the issuer is used from several goroutines.
	Now func() time.Time

	mu   sync.Mutex
	keys keys
	// requests counts the HTTP requests the issuer served (discovery and key set).
	requests atomic.Int64
}

// keys are the issuer's signing keys, each published in its key set under its key ID.
type keys struct {
	rsa          *rsa.PrivateKey
	ec           *ecdsa.PrivateKey
	rsaID, ecID  string
	generation   int
	publishedSet []byte
}

// New starts an issuer on 127.0.0.1 (a free port) with fresh RS256 and ES256 keys; it stops when
// the test ends.
func New(t testing.TB) *Issuer {
	t.Helper()
	i := &Issuer{Now: time.Now}
	srv := httptest.NewServer(http.HandlerFunc(i.serve))
	t.Cleanup(srv.Close)
	i.URL = srv.URL
	i.Rotate(t)
	return i
}

// Rotate replaces the issuer's keys with new ones under new key IDs: tokens signed before no longer
// verify with the key set it publishes.
func (i *Issuer) Rotate(t testing.TB) {
	t.Helper()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	k := keys{rsa: rk, ec: ek, generation: i.keys.generation + 1}
	k.rsaID, k.ecID = fmt.Sprintf("rsa-%d-%s", k.generation, randomHex(4)), fmt.Sprintf("ec-%d-%s", k.generation, randomHex(4))
	set := map[string]any{"keys": []map[string]string{
		{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": k.rsaID, "n": b64(rk.N.Bytes()), "e": b64(big.NewInt(int64(rk.E)).Bytes())},
		{"kty": "EC", "use": "sig", "alg": "ES256", "kid": k.ecID, "crv": "P-256", "x": b64(pad32(ek.X)), "y": b64(pad32(ek.Y))},
	}}
	if k.publishedSet, err = json.Marshal(set); err != nil {
		t.Fatal(err)
	}
	i.keys = k
}

// Requests is the number of HTTP requests the issuer has served (discovery and key set): a verifier
// that refuses a token before asking its issuer leaves it unchanged.
func (i *Issuer) Requests() int64 { return i.requests.Load() }

func (i *Issuer) serve(w http.ResponseWriter, r *http.Request) {
	i.requests.Add(1)
	if r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer":                                i.URL,
			"jwks_uri":                              i.URL + "/.well-known/jwks",
			"response_types_supported":              []string{"id_token"},
			"subject_types_supported":               []string{"public", "pairwise"},
			"id_token_signing_alg_values_supported": []string{"RS256", "ES256"},
			"scopes_supported":                      []string{"openid"},
			"claims_supported":                      []string{"sub", "aud", "exp", "iat", "iss", "jti", "nbf", "ref", "repository", "repository_owner_id"},
		})
	case "/.well-known/jwks":
		i.mu.Lock()
		set := i.keys.publishedSet
		i.mu.Unlock()
		_, _ = w.Write(set)
	default:
		http.NotFound(w, r)
	}
}

// alg is how a token is signed.
type alg int

const (
	algRS256 alg = iota
	algES256
	algHS256PublicKey
	algNone
)

// tokenOptions are what Options change.
type tokenOptions struct {
	alg                 alg
	unknownKid, foreign bool
	exp, nbf, iat       *time.Time
	audience            []string
	without             []string
}

// Option changes a token Token signs.
type Option func(*tokenOptions)

// ES256 signs with the issuer's P-256 key instead of its RSA key.
func ES256() Option { return func(o *tokenOptions) { o.alg = algES256 } }

// HS256WithPublicKey "signs" with HMAC-SHA256 keyed by the issuer's RSA public key (its PEM), under
// the RSA key's ID: the key confusion attack on verifiers that let a token choose its algorithm.
func HS256WithPublicKey() Option { return func(o *tokenOptions) { o.alg = algHS256PublicKey } }

// AlgNone makes an unsigned token (alg "none", an empty signature).
func AlgNone() Option { return func(o *tokenOptions) { o.alg = algNone } }

// UnknownKid signs with a key the issuer does not publish, under a key ID it does not know.
func UnknownKid() Option { return func(o *tokenOptions) { o.unknownKid = true } }

// BadSignature signs with another RSA key under the issuer's own key ID: the signature does not
// verify with the published key.
func BadSignature() Option { return func(o *tokenOptions) { o.foreign = true } }

// ExpiresAt sets exp (default: iat + Lifetime).
func ExpiresAt(t time.Time) Option { return func(o *tokenOptions) { o.exp = &t } }

// NotBefore sets nbf (default: iat).
func NotBefore(t time.Time) Option { return func(o *tokenOptions) { o.nbf = &t } }

// IssuedAt sets iat (default: the issuer's Now).
func IssuedAt(t time.Time) Option { return func(o *tokenOptions) { o.iat = &t } }

// Audience sets aud: one audience is a string, several a list, as issuers write them.
func Audience(aud ...string) Option { return func(o *tokenOptions) { o.audience = aud } }

// Without leaves the claims out, even those Token fills in (exp, iat, ...).
func Without(claims ...string) Option {
	return func(o *tokenOptions) { o.without = append(o.without, claims...) }
}

// Token signs an ID token with claims (a copy is taken). iss, aud, iat, nbf and exp are filled when
// claims lack them: the issuer's URL, DefaultAudience, the issuer's Now, Now again, Now+Lifetime.
func (i *Issuer) Token(t testing.TB, claims map[string]any, opts ...Option) string {
	t.Helper()
	tok, err := i.sign(claims, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (i *Issuer) sign(claims map[string]any, opts ...Option) (string, error) {
	var o tokenOptions
	for _, opt := range opts {
		opt(&o)
	}
	c := make(map[string]any, len(claims)+5)
	for k, v := range claims {
		c[k] = v
	}
	now := i.Now()
	setDefault(c, "iss", i.URL)
	switch {
	case len(o.audience) == 1:
		c["aud"] = o.audience[0]
	case len(o.audience) > 1:
		c["aud"] = o.audience
	default:
		setDefault(c, "aud", DefaultAudience)
	}
	iat := now
	if o.iat != nil {
		iat = *o.iat
	}
	nbf, exp := iat, iat.Add(Lifetime)
	if o.nbf != nil {
		nbf = *o.nbf
	}
	if o.exp != nil {
		exp = *o.exp
	}
	setDefault(c, "iat", iat.Unix())
	setDefault(c, "nbf", nbf.Unix())
	setDefault(c, "exp", exp.Unix())
	for _, k := range o.without {
		delete(c, k)
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("oidctest: claims: %w", err)
	}

	i.mu.Lock()
	k := i.keys
	i.mu.Unlock()
	header := map[string]string{"typ": "JWT", "kid": k.rsaID, "alg": "RS256"}
	switch o.alg {
	case algES256:
		header["alg"], header["kid"] = "ES256", k.ecID
	case algHS256PublicKey:
		header["alg"] = "HS256"
	case algNone:
		header["alg"] = "none"
	}
	if o.unknownKid {
		header["kid"] = "unknown-" + randomHex(4)
	}
	h, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	input := b64(h) + "." + b64(payload)
	sig, err := signature(input, o, k)
	if err != nil {
		return "", err
	}
	return input + "." + b64(sig), nil
}

// signature signs the JWS signing input as the options say.
func signature(input string, o tokenOptions, k keys) ([]byte, error) {
	digest := sha256.Sum256([]byte(input))
	rk, ek := k.rsa, k.ec
	if o.unknownKid || o.foreign {
		var err error
		if rk, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return nil, err
		}
		if ek, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			return nil, err
		}
	}
	switch o.alg {
	case algES256:
		r, s, err := ecdsa.Sign(rand.Reader, ek, digest[:])
		if err != nil {
			return nil, err
		}
		return append(pad32(r), pad32(s)...), nil
	case algHS256PublicKey:
		der, err := x509.MarshalPKIXPublicKey(&k.rsa.PublicKey)
		if err != nil {
			return nil, err
		}
		mac := hmac.New(sha256.New, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
		mac.Write([]byte(input))
		return mac.Sum(nil), nil
	case algNone:
		return nil, nil
	}
	return rsa.SignPKCS1v15(rand.Reader, rk, crypto.SHA256, digest[:])
}

// ActionsTokenServer serves ID tokens as GitHub Actions does at ACTIONS_ID_TOKEN_REQUEST_URL: GET
// with "Authorization: bearer <request token>" and "&audience=<aud>" answers {"value": "<jwt>"}, a
// token of the issuer with claims and that audience (the repository owner's URL without one, as
// GitHub does). It returns the URL (with a query, as GitHub's has, so clients append
// "&audience=") and the request token; it stops when the test ends.
func (i *Issuer) ActionsTokenServer(t testing.TB, claims map[string]any) (url, requestToken string) {
	t.Helper()
	requestToken = "actions-request-" + randomHex(16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, got, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if r.Method != http.MethodGet || !strings.EqualFold(scheme, "bearer") || got != requestToken {
			http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
			return
		}
		aud := r.URL.Query().Get("audience")
		if aud == "" {
			owner, _ := claims["repository_owner"].(string)
			aud = "https://github.com/" + owner
		}
		// Each request gets a token of its own, as GitHub's token service mints one per request.
		fresh := maps.Clone(claims)
		fresh["jti"] = newJTI()
		tok, err := i.sign(fresh, Audience(aud))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"count": 1, "value": tok})
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/_apis/distributedtask/hubs/build/plans/1/jobs/1/idtoken?api-version=2.0", requestToken
}

// GitHubClaims is the claim set of a GitHub Actions ID token for a push to ref of repository
// ("owner/name"), from a workflow build.yml of the same repository, on a GitHub-hosted runner, with
// no environment (GitHub then omits the claim). Owner and repository IDs are derived from the names,
// so the same names give the same IDs; jti is fresh. Change the map for other shapes.
func GitHubClaims(repository, ref string) map[string]any {
	owner, _, _ := strings.Cut(repository, "/")
	workflowRef := repository + "/.github/workflows/build.yml@" + ref
	refType := "branch"
	if strings.HasPrefix(ref, "refs/tags/") {
		refType = "tag"
	}
	return map[string]any{
		"jti":                   newJTI(),
		"sub":                   "repo:" + repository + ":ref:" + ref,
		"ref":                   ref,
		"ref_type":              refType,
		"ref_protected":         "false",
		"sha":                   fakeSHA(repository + ref),
		"repository":            repository,
		"repository_id":         numericID(repository),
		"repository_owner":      owner,
		"repository_owner_id":   numericID(owner),
		"repository_visibility": "private",
		"actor":                 "octocat",
		"actor_id":              "583231",
		"workflow":              "build",
		"workflow_ref":          workflowRef,
		"workflow_sha":          fakeSHA(workflowRef),
		"job_workflow_ref":      workflowRef,
		"job_workflow_sha":      fakeSHA(workflowRef),
		"event_name":            "push",
		"head_ref":              "",
		"base_ref":              "",
		"run_id":                "9000000001",
		"run_number":            "42",
		"run_attempt":           "1",
		"runner_environment":    "github-hosted",
	}
}

// GitLabClaims is the claim set of a GitLab CI/CD id_token for a pipeline of projectPath
// ("group/project") on branch ref (GitLab's ref is the short name: "main"), on gitlab.com's shared
// runners. runner_id is a number, as GitLab writes it; jti is fresh.
func GitLabClaims(projectPath, ref string) map[string]any {
	namespace, _, _ := strings.Cut(projectPath, "/")
	return map[string]any{
		"jti":                   newJTI(),
		"sub":                   "project_path:" + projectPath + ":ref_type:branch:ref:" + ref,
		"namespace_id":          numericID(namespace),
		"namespace_path":        namespace,
		"project_id":            numericID(projectPath),
		"project_path":          projectPath,
		"project_visibility":    "private",
		"user_id":               "1",
		"user_login":            "sample-user",
		"user_email":            "sample-user@example.com",
		"pipeline_id":           "574",
		"pipeline_source":       "push",
		"job_id":                "302",
		"ref":                   ref,
		"ref_type":              "branch",
		"ref_path":              "refs/heads/" + ref,
		"ref_protected":         "true",
		"runner_id":             1,
		"runner_environment":    "gitlab-hosted",
		"sha":                   fakeSHA(projectPath + ref),
		"ci_config_ref_uri":     "gitlab.com/" + projectPath + "//.gitlab-ci.yml@refs/heads/" + ref,
		"ci_config_sha":         fakeSHA(projectPath + ".gitlab-ci.yml"),
		"environment":           "production",
		"environment_protected": "true",
		"deployment_tier":       "production",
	}
}

func setDefault(m map[string]any, k string, v any) {
	if _, ok := m[k]; !ok {
		m[k] = v
	}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// pad32 is a P-256 coordinate or signature half as 32 big-endian bytes.
func pad32(n *big.Int) []byte { return n.FillBytes(make([]byte, 32)) }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newJTI is a fresh token ID, a UUID as GitHub and GitLab make them.
func newJTI() string {
	h := randomHex(16)
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:]
}

// numericID derives a stable decimal ID (as a string, as GitHub writes IDs) from a name.
func numericID(name string) string {
	sum := sha256.Sum256([]byte(name))
	return new(big.Int).SetBytes(sum[:4]).String()
}

func fakeSHA(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:20])
}
