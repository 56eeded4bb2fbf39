package auth

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/custody-dev/custody/controlplane/store"
)

func TestNewToken(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 1000 {
		token, hash, err := NewToken()
		if err != nil {
			t.Fatal(err)
		}
		rest, ok := strings.CutPrefix(token, "cst_")
		if !ok || len(token) != 47 {
			t.Fatalf("token %q: want cst_ and 43 characters", token)
		}
		raw, err := base64.RawURLEncoding.DecodeString(rest)
		if err != nil || len(raw) != 32 {
			t.Fatalf("token %q: want 32 bytes of unpadded base64url (%v)", token, err)
		}
		if sum := sha256.Sum256([]byte(token)); !Equal(hash, sum[:]) {
			t.Fatalf("hash of %q is not its sha256", token)
		}
		if got, err := Parse(token); err != nil || !Equal(got, hash) {
			t.Fatalf("Parse(NewToken()) = %x, %v", got, err)
		}
		if seen[token] {
			t.Fatalf("token %q issued twice", token)
		}
		seen[token] = true
	}
}

func TestParseRefuses(t *testing.T) {
	t.Parallel()
	good, _, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, token string }{
		{"empty", ""},
		{"prefix only", "cst_"},
		{"garbage", "cst_garbage"},
		{"other prefix", "ghp_" + good[4:]},
		{"uppercase prefix", "CST_" + good[4:]},
		{"no prefix", good[4:]},
		{"one character short", good[:len(good)-1]},
		{"one character long", good + "A"},
		{"padded", good[:len(good)-1] + "="},
		{"standard base64 alphabet", good[:len(good)-1] + "+"},
		{"space inside", good[:10] + " " + good[11:]},
		{"trailing newline", good[:len(good)-1] + "\n"},
		{"carriage return inside", good[:20] + "\r" + good[21:]},
		{"stray bits in the last character", good[:len(good)-1] + string(strayBits(good[len(good)-1]))},
		{"Bearer included", "Bearer " + good},
	} {
		if _, err := Parse(tc.token); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: Parse(%q) = %v, want ErrMalformed", tc.name, tc.token, err)
		}
	}
}

// FuzzParse: Parse never panics, and what it accepts has a token's exact form.
func FuzzParse(f *testing.F) {
	good, _, _ := NewToken()
	for _, s := range []string{good, "", "cst_", "cst_garbage", good + "=", "cst_" + strings.Repeat("_", 43), "cst_" + strings.Repeat("é", 22)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		hash, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) || hash != nil {
				t.Fatalf("Parse(%q) = %x, %v", s, hash, err)
			}
			return
		}
		rest := strings.TrimPrefix(s, "cst_")
		raw, derr := base64.RawURLEncoding.DecodeString(rest)
		if !strings.HasPrefix(s, "cst_") || len(s) != 47 || derr != nil || len(raw) != 32 || !Equal(hash, Hash(s)) ||
			base64.RawURLEncoding.EncodeToString(raw) != rest {
			t.Fatalf("Parse accepted %q", s)
		}
	})
}

func TestCheck(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		token store.Token
		want  error
	}{
		{"never expires", store.Token{}, nil},
		{"expires later", store.Token{ExpiresAt: now.Add(time.Nanosecond)}, nil},
		{"expires now", store.Token{ExpiresAt: now}, ErrExpired},
		{"expired", store.Token{ExpiresAt: now.Add(-time.Hour)}, ErrExpired},
		{"revoked", store.Token{RevokedAt: now.Add(-time.Hour)}, ErrRevoked},
		{"revoked and expired", store.Token{RevokedAt: now.Add(-time.Hour), ExpiresAt: now.Add(-time.Hour)}, ErrRevoked},
		{"revoked in the future still revoked", store.Token{RevokedAt: now.Add(time.Hour)}, ErrRevoked},
	} {
		if err := Check(&tc.token, now); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("%s: Check = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestEqual(t *testing.T) {
	t.Parallel()
	a, b := Hash("cst_a"), Hash("cst_b")
	if !Equal(a, Hash("cst_a")) || Equal(a, b) || Equal(a, a[:31]) || Equal(nil, a) {
		t.Error("Equal compares wrongly")
	}
}

// strayBits returns another base64url character that decodes to the same 2 high bits as c: the last
// of 43 characters carries 2 bits of the secret and 4 that must be zero.
func strayBits(c byte) byte {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	return alphabet[strings.IndexByte(alphabet, c)|1]
}
