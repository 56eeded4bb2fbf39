// Package oidc verifies the OpenID Connect ID tokens CI systems give their jobs (GitHub Actions,
// GitLab CI/CD, and any issuer on the control plane's allow list), with go-oidc: the issuer on the
// list, its signature by a key the issuer publishes (RS256 or ES256, the algorithm fixed by the
// verifier, never by the token), the audience, the token's times, a subject and a token ID.
//
// Issuers are asked nothing until a token names them: the first token of an issuer makes the
// verifier fetch its discovery document, then its key set, which go-oidc caches. Every fetch has a
// timeout and a size bound, and each URL is fetched at most once per Config.Refetch, whatever
// tokens arrive. A token of an issuer not on the list is refused before any network call.
package oidc

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
)

// Defaults and bounds.
const (
	// DefaultLeeway is how far an issuer's clock may run ahead of the control plane's: a token is
	// accepted this long before its nbf and iat. Its exp is not stretched: the credential it is
	// exchanged for may not outlive it.
	DefaultLeeway = time.Minute
	// DefaultRefetch is how long an issuer's document (discovery, key set) is served from memory,
	// answer or failure, before it may be fetched again.
	DefaultRefetch = 30 * time.Second
	// DefaultTimeout bounds one fetch from an issuer.
	DefaultTimeout = 10 * time.Second
	// MaxTokenSize bounds an ID token: GitHub's and GitLab's are 1 to 2 KiB.
	MaxTokenSize = 16 << 10
	// MaxDocumentSize bounds a discovery document or key set: GitHub's key set is about 3 KiB.
	MaxDocumentSize = 256 << 10
	// MaxIDSize bounds a token's jti: GitHub's and GitLab's are UUIDs.
	MaxIDSize = 256
)

// Algorithms are the signature algorithms accepted: those of GitHub's and GitLab's tokens, and
// ES256. Never "none", never an HMAC (whose key a verifier could be tricked into taking from a
// public key).
var Algorithms = []string{"RS256", "ES256"}

// Errors a refused token wraps: ErrInvalid for the token's own faults (a 401), ErrUnavailable when
// its issuer's documents could not be fetched (the token may be good: retry later).
var (
	ErrInvalid     = errors.New("ID token refused")
	ErrUnavailable = errors.New("ID token issuer unavailable")
)

// Config configures a Verifier.
type Config struct {
	// Issuers is the allow list, each exactly as tokens name it in iss: https, or http on a
	// loopback address (tests). Empty: every token is refused.
	Issuers []string
	// Audience is the aud every token must hold.
	Audience string
	// Client fetches the issuers' documents; nil means a client with DefaultTimeout. Its transport
	// is wrapped to bound answers and their refetching.
	Client *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Leeway: DefaultLeeway when 0.
	Leeway time.Duration
	// Refetch: DefaultRefetch when 0.
	Refetch time.Duration
}

// Verifier verifies ID tokens. It is safe for concurrent use.
type Verifier struct {
	issuers  map[string]*issuer
	names    []string
	audience string
	now      func() time.Time
	leeway   time.Duration
	client   *http.Client
}

// issuer is one issuer of the allow list, discovered on first use.
type issuer struct {
	url      string
	mu       sync.Mutex
	verifier *gooidc.IDTokenVerifier
}

// New returns a verifier for the issuers of cfg. It makes no network call.
func New(cfg Config) (*Verifier, error) {
	if cfg.Audience == "" {
		return nil, errors.New("oidc: an audience is required")
	}
	v := &Verifier{issuers: map[string]*issuer{}, audience: cfg.Audience, now: cfg.Now, leeway: cfg.Leeway}
	for _, u := range cfg.Issuers {
		if err := CheckIssuer(u); err != nil {
			return nil, err
		}
		if _, ok := v.issuers[u]; !ok {
			v.issuers[u] = &issuer{url: u}
			v.names = append(v.names, u)
		}
	}
	if v.now == nil {
		v.now = time.Now
	}
	if v.leeway == 0 {
		v.leeway = DefaultLeeway
	}
	refetch := cfg.Refetch
	if refetch == 0 {
		refetch = DefaultRefetch
	}
	client := &http.Client{Timeout: DefaultTimeout}
	if cfg.Client != nil {
		c := *cfg.Client
		client = &c
	}
	next := client.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	client.Transport = &fetcher{next: next, now: v.now, refetch: refetch, max: MaxDocumentSize, last: map[string]*fetched{}}
	v.client = client
	return v, nil
}

// CheckIssuer checks an issuer URL can be trusted: https with a host, or http on a loopback address
// (a test issuer); no user, query or fragment.
func CheckIssuer(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Errorf("issuer %q: %w", raw, err)
	case u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "":
		return fmt.Errorf("issuer %q: want https://host[/path], with no user, query or fragment", raw)
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && loopback(u.Hostname()):
		return nil
	case u.Scheme == "http":
		return fmt.Errorf("issuer %q: http is accepted on a loopback address only (127.0.0.1, ::1, localhost): use https", raw)
	}
	return fmt.Errorf("issuer %q: want an https URL", raw)
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Issuers lists the allow list, in the order configured.
func (v *Verifier) Issuers() []string { return slices.Clone(v.names) }

// Allowed reports whether tokens of issuer may be verified.
func (v *Verifier) Allowed(issuer string) bool { _, ok := v.issuers[issuer]; return ok }

// Audience is the audience tokens must hold.
func (v *Verifier) Audience() string { return v.audience }

// Token is a verified ID token.
type Token struct {
	Issuer   string
	Subject  string
	ID       string // jti
	Audience []string
	// Expiry is exp; IssuedAt and NotBefore are zero when the token has no iat or nbf.
	Expiry, IssuedAt, NotBefore time.Time
	// Claims are every claim, as encoding/json decodes them, numbers as json.Number.
	Claims map[string]any
	// Payload is the verified JSON payload, byte for byte.
	Payload []byte
}

// Claim returns a claim as text: a string as it is, a number or a boolean as JSON writes it (GitLab
// writes runner_id as a number). Other values (lists, objects, null) and missing claims are not
// text: ok is false.
func (t *Token) Claim(name string) (value string, ok bool) {
	switch c := t.Claims[name].(type) {
	case string:
		return c, true
	case json.Number:
		return c.String(), true
	case bool:
		if c {
			return "true", true
		}
		return "false", true
	}
	return "", false
}

// header is what the verifier reads of a JWS header before verifying: the algorithm is checked
// against Algorithms, the key ID named in messages.
type header struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
}

// invalid is a refusal of the token itself.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Verify verifies raw and returns its claims, or an error wrapping ErrInvalid or ErrUnavailable
// that says why. The token is never part of an error.
func (v *Verifier) Verify(ctx context.Context, raw string) (*Token, error) {
	if len(raw) > MaxTokenSize {
		return nil, invalid("the token is %d bytes, at most %d", len(raw), MaxTokenSize)
	}
	h, unverified, err := peek(raw)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(Algorithms, h.Alg) {
		return nil, invalid("algorithm %q is not accepted: tokens must be signed with %s", h.Alg, strings.Join(Algorithms, " or "))
	}
	iss, _ := unverified["iss"].(string)
	is, ok := v.issuers[iss]
	if !ok {
		return nil, invalid("issuer %q is not one this control plane trusts (%s)", iss, v.allowList())
	}
	verifier, err := is.discover(ctx, v)
	if err != nil {
		return nil, err
	}
	var sig sigOutcome
	idt, err := verifier.Verify(context.WithValue(ctx, sigOutcomeKey{}, &sig), raw)
	switch {
	case err != nil && fetchFailed(sig.err):
		return nil, fmt.Errorf("%w: %s: its key set: %w", ErrUnavailable, iss, sig.err)
	case err != nil && sig.err != nil:
		return nil, invalid("the signature does not verify with any key issuer %s publishes (key ID %q)", iss, h.Kid)
	case err != nil:
		return nil, invalid("%s", strings.TrimPrefix(err.Error(), "oidc: "))
	}
	return v.check(idt)
}

// allowList names the trusted issuers in messages.
func (v *Verifier) allowList() string {
	if len(v.names) == 0 {
		return "it trusts none"
	}
	return strings.Join(v.names, ", ")
}

// peek decodes a compact JWS's header and payload without verifying it: what is needed to refuse
// it without asking its issuer (algorithm, issuer).
func peek(raw string) (header, map[string]any, error) {
	var h header
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return h, nil, invalid("not a JWT: want three base64url parts separated by dots")
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || json.Unmarshal(hb, &h) != nil {
		return h, nil, invalid("not a JWT: the header is not base64url JSON")
	}
	pb, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return h, nil, invalid("not a JWT: the payload is not base64url")
	}
	claims, err := decodeClaims(pb)
	if err != nil {
		return h, nil, err
	}
	return h, claims, nil
}

// decodeClaims decodes a JWT payload: one JSON object, numbers kept as json.Number.
func decodeClaims(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var claims map[string]any
	if err := dec.Decode(&claims); err != nil || claims == nil || dec.More() {
		return nil, invalid("the payload is not a JSON object")
	}
	return claims, nil
}

// discover returns the issuer's go-oidc verifier, fetching its discovery document the first time.
func (is *issuer) discover(ctx context.Context, v *Verifier) (*gooidc.IDTokenVerifier, error) {
	is.mu.Lock()
	defer is.mu.Unlock()
	if is.verifier != nil {
		return is.verifier, nil
	}
	provider, err := gooidc.NewProvider(gooidc.ClientContext(ctx, v.client), is.url)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrUnavailable, is.url, ctx.Err())
		}
		return nil, fmt.Errorf("%w: %s: discovery: %w", ErrUnavailable, is.url, err)
	}
	var meta struct {
		JWKS string `json:"jwks_uri"`
	}
	if err := provider.Claims(&meta); err != nil || meta.JWKS == "" {
		return nil, fmt.Errorf("%w: %s: its discovery document names no jwks_uri", ErrUnavailable, is.url)
	}
	keys := gooidc.NewRemoteKeySet(gooidc.ClientContext(context.Background(), v.client), meta.JWKS)
	is.verifier = gooidc.NewVerifier(is.url, recordingKeySet{keys}, &gooidc.Config{
		ClientID:             v.audience,
		SupportedSigningAlgs: Algorithms,
		// The times are checked by check, with the leeway custody documents; go-oidc checks the
		// signature, the algorithm, the issuer and the audience.
		SkipExpiryCheck: true,
		Now:             v.now,
	})
	return is.verifier, nil
}

// sigOutcome receives what the key set said of a token's signature: go-oidc wraps that error into
// text, and a key set that could not be fetched is not a bad signature.
type sigOutcome struct{ err error }

type sigOutcomeKey struct{}

// recordingKeySet is go-oidc's remote key set, telling its outcome to the Verify call that asked.
type recordingKeySet struct{ gooidc.KeySet }

func (k recordingKeySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	payload, err := k.KeySet.VerifySignature(ctx, jwt)
	if o, ok := ctx.Value(sigOutcomeKey{}).(*sigOutcome); ok {
		o.err = err
	}
	return payload, err
}

// check checks what go-oidc left to custody: the times (with the leeway), a subject and a token ID.
func (v *Verifier) check(idt *gooidc.IDToken) (*Token, error) {
	var payload json.RawMessage
	if err := idt.Claims(&payload); err != nil {
		return nil, invalid("claims: %v", err)
	}
	claims, err := decodeClaims(payload)
	if err != nil {
		return nil, err
	}
	t := &Token{Issuer: idt.Issuer, Subject: idt.Subject, Audience: idt.Audience, Expiry: idt.Expiry, IssuedAt: idt.IssuedAt,
		Claims: claims, Payload: payload}
	if t.NotBefore, err = timeClaim(claims, "nbf"); err != nil {
		return nil, err
	}
	t.ID, _ = claims["jti"].(string)
	now := v.now()
	switch {
	case t.Expiry.IsZero():
		return nil, invalid("the token has no expiry (exp)")
	case !now.Before(t.Expiry):
		return nil, invalid("the token expired at %s (the control plane's time is %s): get a fresh one", stamp(t.Expiry), stamp(now))
	case !t.NotBefore.IsZero() && now.Add(v.leeway).Before(t.NotBefore):
		return nil, invalid("the token is not valid before %s (the control plane's time is %s)", stamp(t.NotBefore), stamp(now))
	case !t.IssuedAt.IsZero() && now.Add(v.leeway).Before(t.IssuedAt):
		return nil, invalid("the token was issued in the future, at %s (the control plane's time is %s)", stamp(t.IssuedAt), stamp(now))
	case t.Subject == "":
		return nil, invalid("the token has no subject (sub)")
	case t.ID == "":
		return nil, invalid("the token has no ID (jti): without one, a replay cannot be told from a first use")
	case len(t.ID) > MaxIDSize:
		return nil, invalid("the token's ID (jti) is %d bytes, at most %d", len(t.ID), MaxIDSize)
	case strings.ContainsRune(t.ID, 0):
		return nil, invalid("the token's ID (jti) holds a NUL")
	}
	return t, nil
}

// timeClaim reads a NumericDate claim (seconds since the epoch); zero when absent.
func timeClaim(claims map[string]any, name string) (time.Time, error) {
	v, ok := claims[name]
	if !ok {
		return time.Time{}, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, invalid("claim %s is not a number of seconds", name)
	}
	f, err := n.Float64()
	if err != nil || f < 0 || f > 1<<40 {
		return time.Time{}, invalid("claim %s (%s) is not a time", name, n)
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC(), nil
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
