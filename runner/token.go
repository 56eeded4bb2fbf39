package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// TokenSource gives the run's OIDC ID token, which the control plane exchanges for a short-lived
// credential. A source is asked only when a command needs credentials.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
}

// ErrNoToken matches (errors.Is) the error of a source whose runner gives this job no token (its
// variables are unset): nothing was asked of anyone, and the message says what to add to the
// pipeline.
var ErrNoToken = errors.New("no OIDC token")

// noToken is an error that is ErrNoToken, with a message of its own.
type noToken struct{ msg string }

func (e *noToken) Error() string        { return e.msg }
func (e *noToken) Is(target error) bool { return target == ErrNoToken }

func noTokenf(format string, args ...any) error { return &noToken{msg: fmt.Sprintf(format, args...)} }

const (
	// DefaultAudience is the audience custody asks for (CUSTODY_OIDC_AUDIENCE changes it); the
	// control plane's --oidc-audience must match.
	DefaultAudience = "custody"
	// DefaultGitLabVariable is the id_tokens variable custody reads on GitLab
	// (CUSTODY_OIDC_TOKEN_VAR changes it).
	DefaultGitLabVariable = "CUSTODY_ID_TOKEN"
	// MaxToken bounds an ID token: GitHub's and GitLab's are 1 to 2 KiB.
	MaxToken = 16 << 10
	// maxAudience bounds CUSTODY_OIDC_AUDIENCE.
	maxAudience = 256
	// defaultTimeout bounds a call to GitHub's token service when no HTTP client is injected.
	defaultTimeout = 30 * time.Second
)

// TokenOptions configure the token source of a run.
type TokenOptions struct {
	// Token is an ID token given on the command line (--oidc-token); "" reads CUSTODY_OIDC_TOKEN.
	Token string
	// HTTPClient asks GitHub's token service; nil means one with a 30 second timeout.
	HTTPClient *http.Client
}

// TokenSource returns the run's token source: a token given explicitly (--oidc-token, then
// CUSTODY_OIDC_TOKEN) first, else the runner's own; nil when there is none. It asks nothing yet.
func (c Context) TokenSource(opts TokenOptions) (TokenSource, error) {
	if opts.Token != "" {
		return &StaticToken{From: "--oidc-token", Value: opts.Token}, nil
	}
	if v := c.env.getenv("CUSTODY_OIDC_TOKEN"); v != "" {
		return &StaticToken{From: "CUSTODY_OIDC_TOKEN", Value: v}, nil
	}
	if c.tokens == nil {
		return nil, nil
	}
	return c.tokens(c.env, opts.HTTPClient)
}

// Audience is the audience of the ID tokens custody asks for: CUSTODY_OIDC_AUDIENCE, else "custody".
func Audience(getenv func(string) string) (string, error) {
	aud := getenv("CUSTODY_OIDC_AUDIENCE")
	if aud == "" {
		return DefaultAudience, nil
	}
	if len(aud) > maxAudience || strings.ContainsFunc(aud, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return "", fmt.Errorf("CUSTODY_OIDC_AUDIENCE: want at most %d bytes without spaces or control characters", maxAudience)
	}
	return aud, nil
}

// StaticToken is an ID token given explicitly.
type StaticToken struct {
	// From names where it came from, for messages.
	From, Value string
}

// Token returns the token once it looks like a JWT.
func (s *StaticToken) Token(context.Context) (string, error) {
	if err := checkJWT(s.Value); err != nil {
		return "", fmt.Errorf("%s: %w", s.From, err)
	}
	return s.Value, nil
}

// GitHubTokenSource asks GitHub Actions' token service for an ID token: GET RequestURL&audience=...
// with "Authorization: bearer RequestToken", answered {"value": "<jwt>"}.
type GitHubTokenSource struct {
	// RequestURL and RequestToken are ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN,
	// which GitHub sets only in jobs with `permissions: id-token: write`.
	RequestURL, RequestToken string
	Audience                 string
	Client                   *http.Client
}

func gitHubTokens(env Env, client *http.Client) (TokenSource, error) {
	aud, err := Audience(env.getenv)
	if err != nil {
		return nil, err
	}
	return &GitHubTokenSource{RequestURL: env.getenv("ACTIONS_ID_TOKEN_REQUEST_URL"),
		RequestToken: env.getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN"), Audience: aud, Client: client}, nil
}

// maxGitHubAnswer bounds the token service's answer: the token in a small JSON object.
const maxGitHubAnswer = MaxToken + 1024

// Token asks the token service for a fresh token.
func (s *GitHubTokenSource) Token(ctx context.Context) (string, error) {
	if s.RequestURL == "" || s.RequestToken == "" {
		return "", noTokenf("GitHub Actions gives this job no ID token (ACTIONS_ID_TOKEN_REQUEST_URL and " +
			"ACTIONS_ID_TOKEN_REQUEST_TOKEN are unset): add `permissions: id-token: write` to the workflow or the job " +
			"(pull requests from forks never get one), or pass --token")
	}
	u, err := url.Parse(s.RequestURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", errors.New("ACTIONS_ID_TOKEN_REQUEST_URL is not an http(s) URL")
	}
	sep := "?"
	if strings.Contains(s.RequestURL, "?") {
		sep = "&"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.RequestURL+sep+"audience="+url.QueryEscape(s.Audience), nil)
	if err != nil {
		return "", fmt.Errorf("GitHub Actions ID token: %w", err)
	}
	req.Header.Set("Authorization", "bearer "+s.RequestToken)
	req.Header.Set("Accept", "application/json")
	client := s.Client
	if client == nil {
		client = &http.Client{Timeout: defaultTimeout}
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("GitHub Actions ID token: ask %s: %w", u.Host, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GitHub Actions ID token: the token service at %s answered %s", u.Host, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxGitHubAnswer+1))
	if err != nil {
		return "", fmt.Errorf("GitHub Actions ID token: read the answer: %w", err)
	}
	tok, err := parseGitHubAnswer(b)
	if err != nil {
		return "", fmt.Errorf("GitHub Actions ID token: %w", err)
	}
	return tok, nil
}

// parseGitHubAnswer reads the token service's answer, {"value": "<jwt>"}.
func parseGitHubAnswer(b []byte) (string, error) {
	if len(b) > maxGitHubAnswer {
		return "", fmt.Errorf("the answer is larger than %d bytes", maxGitHubAnswer)
	}
	var answer struct {
		Value string `json:"value"`
	}
	if err := json.Unmarshal(b, &answer); err != nil {
		return "", fmt.Errorf("the answer is not JSON: %w", err)
	}
	if err := checkJWT(answer.Value); err != nil {
		return "", fmt.Errorf("the answer's value: %w", err)
	}
	return answer.Value, nil
}

// GitLabTokenSource reads the ID token GitLab puts in the job's id_tokens variable.
type GitLabTokenSource struct {
	// Variable is the id_tokens variable's name; Audience is the aud it should declare.
	Variable, Audience string
	Getenv             func(string) string
}

// variableName is an environment variable's name.
var variableName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)

func gitLabTokens(env Env, _ *http.Client) (TokenSource, error) {
	aud, err := Audience(env.getenv)
	if err != nil {
		return nil, err
	}
	name := env.getenv("CUSTODY_OIDC_TOKEN_VAR")
	if name == "" {
		name = DefaultGitLabVariable
	}
	if !variableName.MatchString(name) {
		return nil, fmt.Errorf("CUSTODY_OIDC_TOKEN_VAR=%q: want a variable name (letters, digits and _, at most 128)", name)
	}
	return &GitLabTokenSource{Variable: name, Audience: aud, Getenv: env.getenv}, nil
}

// Token returns the variable's token.
func (s *GitLabTokenSource) Token(context.Context) (string, error) {
	v := s.Getenv(s.Variable)
	if v == "" {
		return "", noTokenf("GitLab gives this job no ID token in %s: declare it in the job, "+
			"`id_tokens: {%s: {aud: %s}}`, or pass --token", s.Variable, s.Variable, s.Audience)
	}
	if err := checkJWT(v); err != nil {
		return "", fmt.Errorf("%s: %w", s.Variable, err)
	}
	return v, nil
}

// compactJWS is a JWT's shape: three base64url parts, the signature possibly empty.
var compactJWS = regexp.MustCompile(`^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$`)

// checkJWT refuses what cannot be an ID token, before it is sent anywhere; the control plane
// verifies the rest.
func checkJWT(tok string) error {
	switch {
	case tok == "":
		return errors.New("empty token")
	case len(tok) > MaxToken:
		return fmt.Errorf("the token is larger than %d bytes", MaxToken)
	case !compactJWS.MatchString(tok):
		return errors.New("not a JWT (header.payload.signature in base64url)")
	}
	return nil
}
