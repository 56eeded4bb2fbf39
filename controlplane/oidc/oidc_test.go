package oidc_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custody-dev/custody/controlplane/oidc"
	"github.com/custody-dev/custody/internal/oidctest"
	"github.com/custody-dev/custody/internal/testclock"
)

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// setup is an issuer and a verifier that trusts it, on one test clock.
func setup(t *testing.T) (*oidctest.Issuer, *oidc.Verifier, *testclock.Clock) {
	t.Helper()
	clk := testclock.New(t0)
	iss := oidctest.New(t)
	iss.Now = clk.Now
	v, err := oidc.New(oidc.Config{Issuers: []string{iss.URL}, Audience: "custody", Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return iss, v, clk
}

func TestVerifyAccepts(t *testing.T) {
	t.Parallel()
	iss, v, _ := setup(t)
	gh := oidctest.GitHubClaims("acme/app", "refs/heads/main")
	gl := oidctest.GitLabClaims("acme/app", "main")
	for _, tc := range []struct {
		name   string
		claims map[string]any
		opts   []oidctest.Option
		check  map[string]string // claims as text
	}{
		{"GitHub RS256", gh, nil, map[string]string{"repository": "acme/app", "ref": "refs/heads/main", "runner_environment": "github-hosted"}},
		{"GitHub ES256", gh, []oidctest.Option{oidctest.ES256()}, map[string]string{"repository_owner_id": gh["repository_owner_id"].(string)}},
		{"GitLab", gl, nil, map[string]string{"project_path": "acme/app", "ref_protected": "true", "runner_id": "1"}},
		{"several audiences", gh, []oidctest.Option{oidctest.Audience("https://github.com/acme", "custody")}, nil},
		{"nbf within the leeway", gh, []oidctest.Option{oidctest.NotBefore(t0.Add(59 * time.Second))}, nil},
		{"iat within the leeway", gh, []oidctest.Option{oidctest.IssuedAt(t0.Add(59 * time.Second))}, nil},
		{"expires in a second", gh, []oidctest.Option{oidctest.ExpiresAt(t0.Add(time.Second))}, nil},
	} {
		tok, err := v.Verify(t.Context(), iss.Token(t, tc.claims, tc.opts...))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if tok.Issuer != iss.URL || tok.Subject != tc.claims["sub"] || tok.ID != tc.claims["jti"] {
			t.Errorf("%s: issuer %q subject %q ID %q", tc.name, tok.Issuer, tok.Subject, tok.ID)
		}
		for k, want := range tc.check {
			if got, ok := tok.Claim(k); !ok || got != want {
				t.Errorf("%s: claim %s = %q, %v; want %q", tc.name, k, got, ok, want)
			}
		}
		if _, ok := tok.Claim("aud"); ok && len(tok.Audience) > 1 {
			t.Errorf("%s: a list claim reads as text", tc.name)
		}
	}
}

// TestVerifyRefuses: every kind of bad token is refused as invalid, saying why, and never echoed.
func TestVerifyRefuses(t *testing.T) {
	t.Parallel()
	iss, v, _ := setup(t)
	other := oidctest.New(t)
	other.Now = iss.Now
	good := func() map[string]any { return oidctest.GitHubClaims("acme/app", "refs/heads/main") }
	without := func(k string) map[string]any { c := good(); delete(c, k); return c }
	with := func(k string, val any) map[string]any { c := good(); c[k] = val; return c }
	tests := []struct {
		name  string
		token string
		want  string
	}{
		{"expired", iss.Token(t, good(), oidctest.IssuedAt(t0.Add(-10*time.Minute)), oidctest.ExpiresAt(t0.Add(-time.Second))), "expired at 2030-01-02T03:04:04Z"},
		{"expires now", iss.Token(t, good(), oidctest.ExpiresAt(t0)), "expired"},
		{"not yet valid", iss.Token(t, good(), oidctest.NotBefore(t0.Add(2*time.Minute))), "not valid before 2030-01-02T03:06:05Z"},
		{"issued in the future", iss.Token(t, good(), oidctest.IssuedAt(t0.Add(2*time.Minute)), oidctest.NotBefore(t0)), "issued in the future, at 2030-01-02T03:06:05Z"},
		{"wrong audience", iss.Token(t, good(), oidctest.Audience("https://github.com/acme")), `expected audience "custody"`},
		{"issuer not on the list", other.Token(t, good()), "issuer \"" + other.URL + "\" is not one this control plane trusts (" + iss.URL + ")"},
		{"no issuer", iss.Token(t, with("iss", "")), `issuer "" is not one`},
		{"bad signature", iss.Token(t, good(), oidctest.BadSignature()), "the signature does not verify with any key issuer " + iss.URL + " publishes"},
		{"alg none", iss.Token(t, good(), oidctest.AlgNone()), `algorithm "none" is not accepted: tokens must be signed with RS256 or ES256`},
		{"HS256 keyed with the public key", iss.Token(t, good(), oidctest.HS256WithPublicKey()), `algorithm "HS256" is not accepted`},
		{"unknown kid", iss.Token(t, good(), oidctest.UnknownKid()), `(key ID "unknown-`},
		{"no jti", iss.Token(t, without("jti")), "no ID (jti)"},
		{"jti too long", iss.Token(t, with("jti", strings.Repeat("j", 257))), "jti) is 257 bytes, at most 256"},
		{"jti with a NUL", iss.Token(t, with("jti", "a\x00b")), "jti) holds a NUL"},
		{"no sub", iss.Token(t, without("sub")), "no subject"},
		{"no exp", iss.Token(t, good(), oidctest.Without("exp")), "no expiry (exp)"},
		{"exp not a number", iss.Token(t, with("exp", "tomorrow")), "unmarshal claims"},
		{"nbf not a number", iss.Token(t, with("nbf", "now")), "unmarshal claims"},
		{"payload not an object", resign(t, iss, "[1,2]"), "not a JSON object"},
		{"not a JWT", "garbage", "not a JWT"},
		{"four parts", iss.Token(t, good()) + ".x", "not a JWT"},
		{"header not JSON", "bm90IGpzb24." + strings.SplitN(iss.Token(t, good()), ".", 2)[1], "header is not base64url JSON"},
		{"too large", iss.Token(t, with("pad", strings.Repeat("x", oidc.MaxTokenSize))), "at most 16384"},
	}
	for _, tc := range tests {
		tok, err := v.Verify(t.Context(), tc.token)
		switch {
		case err == nil:
			t.Errorf("%s: verified: %+v", tc.name, tok)
		case !errors.Is(err, oidc.ErrInvalid):
			t.Errorf("%s: %v, want ErrInvalid", tc.name, err)
		case !strings.Contains(err.Error(), tc.want):
			t.Errorf("%s: %q does not say %q", tc.name, err, tc.want)
		case len(tc.token) > 40 && strings.Contains(err.Error(), tc.token[len(tc.token)-40:]):
			t.Errorf("%s: the error quotes the token", tc.name)
		}
	}
	if other.Requests() != 0 {
		t.Errorf("the issuer not on the list was asked %d times", other.Requests())
	}
}

// resign replaces a good token's payload, keeping its header and signature (which then does not
// verify: the payload is refused before).
func resign(t *testing.T, iss *oidctest.Issuer, payload string) string {
	t.Helper()
	parts := strings.Split(iss.Token(t, oidctest.GitHubClaims("acme/app", "refs/heads/main")), ".")
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + parts[2]
}

// TestLazyAndBounded: New asks no issuer; tokens naming unknown keys make the verifier fetch the key
// set again at most once per refetch interval, however many arrive.
func TestLazyAndBounded(t *testing.T) {
	t.Parallel()
	iss, v, clk := setup(t)
	if n := iss.Requests(); n != 0 {
		t.Fatalf("New asked the issuer %d times", n)
	}
	claims := oidctest.GitHubClaims("acme/app", "refs/heads/main")
	if _, err := v.Verify(t.Context(), iss.Token(t, claims)); err != nil {
		t.Fatal(err)
	}
	first := iss.Requests() // discovery and key set
	if first != 2 {
		t.Errorf("first verification: %d requests, want 2 (discovery, key set)", first)
	}
	for range 20 {
		if _, err := v.Verify(t.Context(), iss.Token(t, claims, oidctest.UnknownKid())); !errors.Is(err, oidc.ErrInvalid) {
			t.Fatalf("unknown kid: %v", err)
		}
	}
	if n := iss.Requests() - first; n > 1 {
		t.Errorf("20 tokens with unknown key IDs made %d fetches, want at most 1", n)
	}
	// The issuer rotates its keys: the new key is fetched once the interval has passed.
	iss.Rotate(t)
	rotated := iss.Token(t, claims)
	if _, err := v.Verify(t.Context(), rotated); !errors.Is(err, oidc.ErrInvalid) {
		t.Errorf("a new key within the refetch interval: %v, want refused until the key set may be fetched again", err)
	}
	clk.Advance(oidc.DefaultRefetch)
	// go-oidc's key set marks its last fetch done before it forgets it, so a verification in that
	// window reuses the old answer once; the next asks again. Nothing here waits on the clock: each
	// attempt waits for the one before, and the fetches stay bounded.
	before := iss.Requests()
	var err error
	for attempt := 0; attempt < 50; attempt++ {
		if _, err = v.Verify(t.Context(), iss.Token(t, claims)); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		t.Errorf("a new key after the refetch interval: %v", err)
	}
	if n := iss.Requests() - before; n != 1 {
		t.Errorf("the new key took %d fetches, want 1", n)
	}
}

// TestIssuerUnavailable: an issuer that does not answer, answers an error, or sends too much is the
// issuer's failure (ErrUnavailable), asked again only after the refetch interval.
func TestIssuerUnavailable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	var srvURL string
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.URL.Path {
		case "/big/.well-known/openid-configuration":
			_ = json.NewEncoder(w).Encode(map[string]string{"issuer": srvURL + "/big", "jwks_uri": srvURL + "/big/jwks"})
		case "/big/jwks":
			_, _ = w.Write([]byte(`{"keys":[` + strings.Repeat(" ", oidc.MaxDocumentSize) + `]}`))
		default:
			http.Error(w, "down", http.StatusBadGateway)
		}
	}))
	t.Cleanup(srv.Close)
	srvURL = srv.URL
	clk := testclock.New(t0)
	issuers := []string{closed, srv.URL + "/down", srv.URL + "/big"}
	v, err := oidc.New(oidc.Config{Issuers: issuers, Audience: "custody", Now: clk.Now, Client: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	// A token of each, signed by a test issuer and claiming to be theirs.
	signer := oidctest.New(t)
	signer.Now = clk.Now
	for _, tc := range []struct{ issuer, want string }{
		{closed, "connection refused"},
		{srv.URL + "/down", "502 Bad Gateway"},
		{srv.URL + "/big", "larger than 262144 bytes"},
	} {
		claims := oidctest.GitHubClaims("acme/app", "refs/heads/main")
		claims["iss"] = tc.issuer
		for range 3 {
			_, err := v.Verify(t.Context(), signer.Token(t, claims))
			if !errors.Is(err, oidc.ErrUnavailable) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: %v, want ErrUnavailable saying %q", tc.issuer, err, tc.want)
			}
		}
	}
	if n := hits.Load(); n != 3 { // /down discovery, /big discovery and key set: each once
		t.Errorf("the failing issuer was asked %d times, want 3", n)
	}
}

func TestCheckIssuer(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"https://token.actions.githubusercontent.com", "https://gitlab.com", "https://ghes.example.com/_services/token",
		"http://127.0.0.1:8080", "http://[::1]:9000", "http://localhost:1234/issuer"} {
		if err := oidc.CheckIssuer(ok); err != nil {
			t.Errorf("CheckIssuer(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "gitlab.com", "http://gitlab.com", "http://10.0.0.1", "ftp://x", "https://", "https://u:p@gitlab.com",
		"https://gitlab.com?x=1", "https://gitlab.com#f", "http://127.0.0.1.evil.com"} {
		if err := oidc.CheckIssuer(bad); err == nil {
			t.Errorf("CheckIssuer(%q) accepted", bad)
		}
	}
	if _, err := oidc.New(oidc.Config{Issuers: []string{"http://gitlab.com"}, Audience: "custody"}); err == nil {
		t.Error("New accepted an http issuer off the loopback")
	}
	if _, err := oidc.New(oidc.Config{}); err == nil {
		t.Error("New accepted no audience")
	}
}

// FuzzVerify: Verify never panics, and what it accepts is a token the issuer signed: its payload is
// byte for byte one of the seeds'.
func FuzzVerify(f *testing.F) {
	clk := testclock.New(t0)
	iss := oidctest.New(f)
	iss.Now = clk.Now
	v, err := oidc.New(oidc.Config{Issuers: []string{iss.URL}, Audience: "custody", Now: clk.Now})
	if err != nil {
		f.Fatal(err)
	}
	signed := map[string]bool{}
	for i, opts := range [][]oidctest.Option{nil, {oidctest.ES256()}, {oidctest.AlgNone()}, {oidctest.HS256WithPublicKey()}, {oidctest.UnknownKid()}} {
		tok := iss.Token(f, oidctest.GitHubClaims("acme/app", "refs/heads/main"), opts...)
		if i < 2 { // RS256 and ES256, by the issuer's own keys
			signed[strings.Split(tok, ".")[1]] = true
		}
		f.Add(tok)
	}
	f.Add("")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, raw string) {
		tok, err := v.Verify(t.Context(), raw)
		if err != nil {
			if !errors.Is(err, oidc.ErrInvalid) && !errors.Is(err, oidc.ErrUnavailable) {
				t.Fatalf("error %v wraps neither ErrInvalid nor ErrUnavailable", err)
			}
			return
		}
		if !signed[base64.RawURLEncoding.EncodeToString(tok.Payload)] {
			t.Fatalf("accepted a payload the issuer did not sign: %s", tok.Payload)
		}
	})
}
