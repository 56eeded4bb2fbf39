package testregistry_test

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/custody-dev/custody/internal/testregistry"
)

func TestPushRandomThenHead(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts []testregistry.Option
		auth authn.Authenticator
	}{
		{name: "anonymous", auth: authn.Anonymous},
		{name: "basic auth", opts: []testregistry.Option{testregistry.WithBasicAuth("ci", "s3cret")},
			auth: &authn.Basic{Username: "ci", Password: "s3cret"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := testregistry.New(t, tc.opts...)
			if !strings.HasPrefix(reg.Host, "127.0.0.1:") {
				t.Fatalf("Host = %q, want 127.0.0.1:PORT", reg.Host)
			}
			want := reg.PushRandom(t, "team/app:v1")
			desc, err := remote.Head(mustRef(t, reg.Ref("team/app:v1")), remote.WithAuth(tc.auth))
			if err != nil {
				t.Fatalf("HEAD: %v", err)
			}
			if desc.Digest.String() != want {
				t.Errorf("digest = %s, want %s", desc.Digest, want)
			}
			idx := reg.PushRandomIndex(t, "team/multi:v1", 2)
			desc, err = remote.Head(mustRef(t, reg.Ref("team/multi:v1")), remote.WithAuth(tc.auth))
			if err != nil {
				t.Fatalf("HEAD index: %v", err)
			}
			if desc.Digest.String() != idx {
				t.Errorf("index digest = %s, want %s", desc.Digest, idx)
			}
		})
	}
}

func TestBasicAuthRefusal(t *testing.T) {
	t.Parallel()
	reg := testregistry.New(t, testregistry.WithBasicAuth("ci", "s3cret"))
	for _, tc := range []struct {
		name       string
		user, pass string
		wantStatus int
	}{
		{name: "no credentials", wantStatus: http.StatusUnauthorized},
		{name: "wrong password", user: "ci", pass: "nope", wantStatus: http.StatusUnauthorized},
		{name: "right credentials", user: "ci", pass: "s3cret", wantStatus: http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, reg.URL+"/v2/", nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.user != "" {
				req.SetBasicAuth(tc.user, tc.pass)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			if tc.wantStatus != http.StatusUnauthorized {
				return
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != `Basic realm="testregistry"` {
				t.Errorf("WWW-Authenticate = %q", got)
			}
			if !strings.Contains(string(body), `"UNAUTHORIZED"`) {
				t.Errorf("body = %s, want an UNAUTHORIZED error", body)
			}
		})
	}
}

func TestWriteDockerConfig(t *testing.T) {
	t.Parallel()
	dir := testregistry.WriteDockerConfig(t, "127.0.0.1:5001", "ci", "s3cret")
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	// base64("ci:s3cret")
	if !strings.Contains(string(b), `"127.0.0.1:5001"`) || !strings.Contains(string(b), "Y2k6czNjcmV0") {
		t.Errorf("config.json = %s", b)
	}
}

func mustRef(t *testing.T, s string) name.Reference {
	t.Helper()
	ref, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

func TestWithoutHeadDigest(t *testing.T) {
	t.Parallel()
	reg := testregistry.New(t, testregistry.WithoutHeadDigest())
	want := reg.PushRandom(t, "team/app:v1")
	ref := mustRef(t, reg.Ref("team/app:v1"))
	if _, err := remote.Head(ref); err == nil || !strings.Contains(err.Error(), "Docker-Content-Digest") {
		t.Errorf("HEAD error = %v, want a missing Docker-Content-Digest", err)
	}
	desc, err := remote.Get(ref)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	if desc.Digest.String() != want {
		t.Errorf("GET digest = %s, want %s", desc.Digest, want)
	}
}
