package oci

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// The grammar of the distribution spec and of docker's reference package: a DNS name or an IPv4
// address or a bracketed IPv6 address, an optional port; path components of lowercase
// alphanumerics joined by '.', '_', '__' or dashes.
var (
	hostPattern = regexp.MustCompile(`^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]{1,5})?$`)
	repoPattern = regexp.MustCompile(`^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$`)
)

// validHost checks what hostPattern cannot: a port in range, an IPv6 address that parses.
func validHost(host string) bool {
	if !hostPattern.MatchString(host) {
		return false
	}
	h, port := host, ""
	if i := strings.LastIndex(host, ":"); i >= 0 && !strings.HasSuffix(host, "]") {
		h, port = host[:i], host[i+1:]
	}
	if port != "" {
		if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
			return false
		}
	}
	if inner, ok := strings.CutPrefix(h, "["); ok {
		ip := net.ParseIP(strings.TrimSuffix(inner, "]"))
		return ip != nil && ip.To4() == nil
	}
	return true
}

// Ref names the repository blobs are stored in: "oci://registry.example.com/custody-cas".
type Ref struct {
	// Registry is the host, with its port when not the default ("ghcr.io", "127.0.0.1:5000").
	Registry string
	// Repository is the path in the registry ("custody-cas", "team/custody-cas").
	Repository string
}

// String returns the reference in its oci:// form, which ParseRef reads back.
func (r Ref) String() string { return "oci://" + r.Registry + "/" + r.Repository }

// ParseRef reads "oci://host[:port]/repository" or the bare "host[:port]/repository". The first
// path element is always the registry (unlike docker's shorthand, there is no implied Docker Hub),
// and the reference names a repository: a tag or a digest is refused.
func ParseRef(s string) (Ref, error) {
	rest := strings.TrimPrefix(s, "oci://")
	if scheme, _, ok := strings.Cut(rest, "://"); ok {
		return Ref{}, fmt.Errorf("oci reference %q: scheme %q, want oci://host/repository", s, scheme)
	}
	if strings.ContainsAny(rest, "@?#") {
		return Ref{}, fmt.Errorf("oci reference %q: want oci://host/repository, without digest, query or fragment", s)
	}
	host, repo, ok := strings.Cut(rest, "/")
	if !ok || host == "" || repo == "" {
		return Ref{}, fmt.Errorf("oci reference %q: want oci://host/repository", s)
	}
	if strings.Contains(repo, ":") {
		return Ref{}, fmt.Errorf("oci reference %q: names a tag; want a repository (blobs are tagged by digest)", s)
	}
	if !validHost(host) {
		return Ref{}, fmt.Errorf("oci reference %q: invalid registry host %q", s, host)
	}
	if len(repo) > 255 || !repoPattern.MatchString(repo) {
		return Ref{}, fmt.Errorf("oci reference %q: invalid repository %q: want lowercase path components like team/custody-cas", s, repo)
	}
	reg, err := name.NewRegistry(host, name.StrictValidation)
	if err != nil {
		return Ref{}, fmt.Errorf("oci reference %q: registry: %w", s, err)
	}
	// Canonical names, as requests will use them: docker.io is index.docker.io, and Docker Hub's
	// one-component repositories live under library/.
	r := reg.Repo(repo)
	return Ref{Registry: r.RegistryStr(), Repository: r.RepositoryStr()}, nil
}

// loopback reports whether host (with an optional port) is this machine: the only registries
// spoken to over plain http.
func loopback(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
