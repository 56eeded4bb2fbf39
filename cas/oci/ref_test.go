package oci

import (
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
)

func TestParseRef(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    Ref
		wantErr string
	}{
		{in: "oci://registry.example.com/custody-cas", want: Ref{"registry.example.com", "custody-cas"}},
		{in: "registry.example.com/custody-cas", want: Ref{"registry.example.com", "custody-cas"}},
		{in: "oci://ghcr.io/acme/platform/custody-cas", want: Ref{"ghcr.io", "acme/platform/custody-cas"}},
		{in: "oci://127.0.0.1:5000/cas", want: Ref{"127.0.0.1:5000", "cas"}},
		{in: "oci://localhost:5000/cas", want: Ref{"localhost:5000", "cas"}},
		{in: "oci://[::1]:5000/cas", want: Ref{"[::1]:5000", "cas"}},
		{in: "oci://myregistry/cas", want: Ref{"myregistry", "cas"}}, // no Docker Hub shorthand
		{in: "oci://docker.io/acme/cas", want: Ref{"index.docker.io", "acme/cas"}},
		{in: "docker.io/cas", want: Ref{"index.docker.io", "library/cas"}},
		{in: "", wantErr: "want oci://host/repository"},
		{in: "oci://", wantErr: "want oci://host/repository"},
		{in: "oci://registry.example.com", wantErr: "want oci://host/repository"},
		{in: "oci://registry.example.com/", wantErr: "want oci://host/repository"},
		{in: "oci:///cas", wantErr: "want oci://host/repository"},
		{in: "https://registry.example.com/cas", wantErr: `scheme "https"`},
		{in: "oci://registry.example.com/cas:latest", wantErr: "names a tag"},
		{in: "oci://registry.example.com/cas@sha256:abc", wantErr: "without digest"},
		{in: "oci://registry.example.com/cas?insecure=1", wantErr: "without digest, query"},
		{in: "oci://registry.example.com/Custody", wantErr: "repository"},
		{in: "oci://registry.example.com/a//b", wantErr: "repository"},
		{in: "oci://registry.example.com/../cas", wantErr: "repository"},
		{in: "oci://user:pw@registry.example.com/cas", wantErr: "without digest"},
		{in: "oci://reg istry/cas", wantErr: "registry"},
		{in: "oci://registry.example.com:0/cas", wantErr: "registry"},
		{in: "oci://registry.example.com:70000/cas", wantErr: "registry"},
		{in: "oci://registry.example.com:/cas", wantErr: "registry"},
		{in: "oci://[:::]:5000/cas", wantErr: "registry"},
		{in: "oci://-registry.example.com/cas", wantErr: "registry"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseRef(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseRef(%q) = %+v, %v; want an error containing %q", tc.in, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseRef(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			}
			if again, err := ParseRef(got.String()); err != nil || again != got {
				t.Fatalf("ParseRef(%q) = %+v, %v; want it to read back %+v", got.String(), again, err, got)
			}
		})
	}
}

func TestLoopback(t *testing.T) {
	t.Parallel()
	for host, want := range map[string]bool{
		"127.0.0.1": true, "127.0.0.1:5000": true, "127.1.2.3:80": true, "localhost": true,
		"LOCALHOST:5000": true, "[::1]:5000": true, "::1": true,
		"10.0.0.1:5000": false, "192.168.0.1": false, "registry.local": false, "localhost.example.com": false,
		"ghcr.io": false, "127.0.0.1.nip.io": false,
	} {
		if got := loopback(host); got != want {
			t.Errorf("loopback(%q) = %v, want %v", host, got, want)
		}
	}
}

// FuzzParseRef: an accepted reference reads back to itself from its String, names a registry
// without a path, and a repository go-containerregistry accepts under that registry.
func FuzzParseRef(f *testing.F) {
	for _, s := range []string{
		"oci://registry.example.com/custody-cas", "ghcr.io/acme/cas", "oci://127.0.0.1:5000/cas",
		"oci://[::1]:5000/cas", "oci://docker.io/library/cas", "oci://h/a:b", "oci://h/a@sha256:x",
		"oci://h//a", "https://h/a", "oci://h/", "oci://reg istry/a", "oci://h:99999/a", "oci://h/a?x#y",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRef(s)
		if err != nil {
			return
		}
		if r.Registry == "" || r.Repository == "" || strings.Contains(r.Registry, "/") {
			t.Fatalf("ParseRef(%q) = %+v", s, r)
		}
		again, err := ParseRef(r.String())
		if err != nil || again != r {
			t.Fatalf("ParseRef(%q) = %+v; its String %q reads back as %+v, %v", s, r, r.String(), again, err)
		}
		reg, err := name.NewRegistry(r.Registry, name.StrictValidation)
		if err != nil {
			t.Fatalf("ParseRef(%q) accepted registry %q that name refuses: %v", s, r.Registry, err)
		}
		if repo := reg.Repo(r.Repository); repo.RepositoryStr() != r.Repository || repo.RegistryStr() != r.Registry {
			t.Fatalf("ParseRef(%q) = %+v, but go-containerregistry sees %s / %s", s, r, repo.RegistryStr(), repo.RepositoryStr())
		}
	})
}
