package signing

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/custody-dev/custody/attestation"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadKey(t *testing.T) {
	pemOf := func(name string) string {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		name    string
		ref     string
		opts    KeyOptions
		wantPub string // the public key file the loaded key must match
		wantErr string
	}{
		{name: "cosign key, COSIGN_PASSWORD", ref: "testdata/cosign.key",
			opts: KeyOptions{Getenv: env(map[string]string{"COSIGN_PASSWORD": "custody-test"})}, wantPub: "cosign.pub"},
		{name: "explicit password wins", ref: "testdata/cosign.key",
			opts: KeyOptions{Getenv: env(map[string]string{"COSIGN_PASSWORD": "wrong"}),
				Password: func() ([]byte, error) { return []byte("custody-test"), nil }}, wantPub: "cosign.pub"},
		{name: "empty password", ref: "testdata/empty-password.key", opts: KeyOptions{}, wantPub: "empty-password.pub"},
		{name: "legacy COSIGN PEM type", ref: "testdata/legacy-cosign.key",
			opts: KeyOptions{Getenv: env(map[string]string{"COSIGN_PASSWORD": "custody-test"})}, wantPub: "cosign.pub"},
		{name: "imported key", ref: "testdata/imported.key",
			opts: KeyOptions{Getenv: env(map[string]string{"COSIGN_PASSWORD": "custody-test"})}, wantPub: "imported.pub"},
		{name: "env:// reference", ref: "env://SIGNING_KEY",
			opts: KeyOptions{Getenv: env(map[string]string{"SIGNING_KEY": pemOf("cosign.key"), "COSIGN_PASSWORD": "custody-test"})}, wantPub: "cosign.pub"},

		{name: "wrong password", ref: "testdata/cosign.key",
			opts:    KeyOptions{Getenv: env(map[string]string{"COSIGN_PASSWORD": "nope"})},
			wantErr: "key testdata/cosign.key: wrong password? (set COSIGN_PASSWORD)"},
		{name: "password func fails", ref: "testdata/cosign.key",
			opts:    KeyOptions{Password: func() ([]byte, error) { return nil, errors.New("no terminal") }},
			wantErr: "key testdata/cosign.key: password: no terminal"},
		{name: "missing file", ref: "testdata/nope.key", wantErr: "key: open testdata/nope.key: no such file or directory"},
		{name: "empty ref", ref: "", wantErr: "empty reference"},
		{name: "env var unset", ref: "env://SIGNING_KEY", wantErr: "key env://SIGNING_KEY: environment variable SIGNING_KEY is empty or unset"},
		{name: "env without name", ref: "env://", wantErr: "no variable name after env://"},
		{name: "KMS", ref: "awskms:///alias/x", wantErr: "awskms:// keys are not supported"},
		{name: "public key", ref: "testdata/cosign.pub", wantErr: "a public key cannot sign"},
		{name: "plain EC key", ref: "testdata/plain-ec.pem",
			wantErr: `a plain "EC PRIVATE KEY" PEM, not a cosign key: convert it with ` + "`cosign import-key-pair --key testdata/plain-ec.pem`"},
		{name: "not PEM", ref: "testdata/README.md", wantErr: "not a PEM file"},
		{name: "env var not PEM", ref: "env://K", opts: KeyOptions{Getenv: env(map[string]string{"K": "hunter2"})}, wantErr: "key env://K: not a PEM file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := LoadKey(context.Background(), tt.ref, tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("LoadKey(context.Background(), ) error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadKey: %v", err)
			}
			want, err := cryptoutils.UnmarshalPEMToPublicKey([]byte(pemOf(tt.wantPub)))
			if err != nil {
				t.Fatal(err)
			}
			if err := cryptoutils.EqualKeys(s.PublicKey(), want); err != nil {
				t.Errorf("loaded key is not %s: %v", tt.wantPub, err)
			}
		})
	}
}

func TestSignVerifies(t *testing.T) {
	s, err := LoadKey(context.Background(), "testdata/cosign.key", KeyOptions{Getenv: env(map[string]string{"COSIGN_PASSWORD": "custody-test"})})
	if err != nil {
		t.Fatal(err)
	}
	statement := []byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"` +
		strings.Repeat("a", 64) + `"}}],"predicateType":"https://custody.dev/attestation/v1","predicate":{"workflow":{"name":"w","project":"p"}}}`)
	b, err := s.Sign(context.Background(), statement)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	for _, want := range []string{`"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"`, `"hint":"` + s.Hint() + `"`,
		`"payloadType":"application/vnd.in-toto+json"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("bundle lacks %s: %s", want, b)
		}
	}
	for _, absent := range []string{"tlogEntries", "timestampVerificationData", "keyid"} {
		if strings.Contains(string(b), absent) {
			t.Errorf("bundle has %s: %s", absent, b)
		}
	}
	pub, err := os.ReadFile("testdata/cosign.pub")
	if err != nil {
		t.Fatal(err)
	}
	res, err := attestation.Verify(context.Background(), b, attestation.VerifyOptions{PublicKey: pub, ArtifactDigest: "sha256:" + strings.Repeat("a", 64)})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if res.Predicate.Workflow.Project != "p" || res.KeyHint != s.Hint() {
		t.Errorf("result = %+v", res)
	}
}

func TestSignRejects(t *testing.T) {
	s, err := LoadKey(context.Background(), "testdata/empty-password.key", KeyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		statement string
		want      string
	}{
		{"empty", "", "sign: empty statement"},
		{"not a statement", `{"hello":"world"}`, `sign: in-toto statement _type ""`},
		{"not JSON", `hello`, "sign: DSSE payload is not an in-toto statement"},
		{"no subjects", `{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"x","predicate":{}}`, "no subjects"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Sign(context.Background(), []byte(tt.statement))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Sign() error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestNewKeySignerNil(t *testing.T) {
	if _, err := NewKeySigner(nil); err == nil {
		t.Error("NewKeySigner(nil) succeeded")
	}
}

func FuzzLoadKeyPEM(f *testing.F) {
	for _, name := range []string{"cosign.key", "empty-password.key", "legacy-cosign.key", "plain-ec.pem", "cosign.pub"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, pemText string) {
		s, err := LoadKey(context.Background(), "env://K", KeyOptions{Getenv: env(map[string]string{"K": pemText, "COSIGN_PASSWORD": "custody-test"})})
		if err == nil && s.Hint() == "" {
			t.Fatal("loaded a key without a hint")
		}
	})
}
