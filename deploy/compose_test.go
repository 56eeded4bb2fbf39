package deploy_test

import (
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/custody-dev/custody/controlplane/ca"
	"github.com/custody-dev/custody/controlplane/tsa"
	"github.com/custody-dev/custody/internal/image"
)

const composeFile = "compose/compose.yaml"

// loadCompose loads a compose file as docker compose does (compose-spec's loader: the schema,
// interpolation, consistency of the references), with env as the only environment.
func loadCompose(t *testing.T, path string, env ...string) (*types.Project, error) {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{path}, cli.WithEnv(env), cli.WithDiscardEnvFile, cli.WithConsistency(true),
		cli.WithWorkingDirectory(filepath.Dir(path)))
	if err != nil {
		t.Fatal(err)
	}
	return opts.LoadProject(t.Context())
}

// TestCompose: compose/compose.yaml is a valid compose project of the scale-out shape: two custodyd
// replicas with the same configuration (PostgreSQL, the registry as CAS, one CA and TSA from the
// volume the authority step writes), hardened, behind the proxy; and what it names agrees with the
// image (the data directory, the port) and with the files custodyd ca init writes.
func TestCompose(t *testing.T) {
	t.Parallel()
	p, err := loadCompose(t, composeFile)
	if err != nil {
		t.Fatalf("load %s: %v", composeFile, err)
	}
	if got, want := slices.Sorted(slices.Values(p.ServiceNames())), []string{"authority", "custodyd-1", "custodyd-2", "postgres", "proxy", "registry"}; !slices.Equal(got, want) {
		t.Fatalf("services %q, want %q", got, want)
	}
	replicas := []types.ServiceConfig{p.Services["custodyd-1"], p.Services["custodyd-2"]}
	authority := p.Services["authority"]

	// The authority step writes into the image's data directory (so the new volume takes its owner,
	// the user custodyd runs as), once.
	if got := authority.Volumes; len(got) != 1 || got[0].Source != "authority" || got[0].Target != image.CustodydDataDir {
		t.Errorf("the authority step mounts %+v, want the authority volume on %s", got, image.CustodydDataDir)
	}
	if got, want := []string(authority.Command), []string{"ca", "init", "--out", image.CustodydDataDir, "--if-absent"}; !slices.Equal(got, want) {
		t.Errorf("the authority step runs %q, want %q", got, want)
	}
	if authority.NetworkMode != "none" || authority.Image != replicas[0].Image {
		t.Errorf("the authority step: network %q, image %q", authority.NetworkMode, authority.Image)
	}

	env0 := replicas[0].Environment
	for i, s := range replicas {
		name := s.Name
		if !maps.EqualFunc(s.Environment, env0, func(a, b *string) bool { return a != nil && b != nil && *a == *b }) || s.Image != "ghcr.io/custody-dev/custodyd:latest" {
			t.Errorf("%s: the replicas differ: %v and %v, image %s", name, s.Environment, env0, s.Image)
		}
		e := func(k string) string {
			if v := s.Environment[k]; v != nil {
				return *v
			}
			return ""
		}
		for k, want := range map[string]string{
			"CUSTODY_DATABASE_URL":   "postgres://custody:custody@postgres:5432/custody?sslmode=disable",
			"CUSTODY_CAS":            "oci://registry:5000/custody-cas",
			"CUSTODY_CAS_PLAIN_HTTP": "true",
			"CUSTODY_EXTERNAL_URL":   "http://127.0.0.1:8080",
		} {
			if got := e(k); got != want {
				t.Errorf("%s: %s=%q, want %q", name, k, got, want)
			}
		}
		// The CA and TSA files are the ones ca init writes, in the authority volume, mounted read-only.
		var mount types.ServiceVolumeConfig
		for _, v := range s.Volumes {
			if v.Source == "authority" {
				mount = v
			}
		}
		if !mount.ReadOnly || mount.Target == "" {
			t.Errorf("%s: the authority volume is mounted %+v, want read-only", name, mount)
		}
		for k, want := range map[string]string{
			"CUSTODY_CA_CERT":    filepath.Join(mount.Target, "ca", ca.ChainFile),
			"CUSTODY_CA_KEY":     filepath.Join(mount.Target, "ca", ca.KeyFile),
			"CUSTODY_CA_RETIRED": filepath.Join(mount.Target, "ca", ca.RetiredFile),
			"CUSTODY_TSA_CERT":   filepath.Join(mount.Target, "tsa", tsa.ChainFile),
			"CUSTODY_TSA_KEY":    filepath.Join(mount.Target, "tsa", tsa.KeyFile),
		} {
			if got := e(k); got != want {
				t.Errorf("%s: %s=%q, want %q", name, k, got, want)
			}
		}
		// Its own spool volume on the data directory.
		spool := false
		for _, v := range s.Volumes {
			spool = spool || (v.Source == "spool-"+strconv.Itoa(i+1) && v.Target == image.CustodydDataDir && !v.ReadOnly)
		}
		if !spool {
			t.Errorf("%s: volumes %+v, want its own spool volume on %s", name, s.Volumes, image.CustodydDataDir)
		}
		if !s.ReadOnly || !slices.Equal(s.CapDrop, []string{"ALL"}) || !slices.Equal(s.SecurityOpt, []string{"no-new-privileges:true"}) ||
			!slices.Equal(s.Tmpfs, []string{"/tmp"}) || s.User != "" {
			t.Errorf("%s: read_only %v, cap_drop %v, security_opt %v, tmpfs %v, user %q: want a read-only root, no capability, "+
				"no new privileges, a /tmp, the image's user", name, s.ReadOnly, s.CapDrop, s.SecurityOpt, s.Tmpfs, s.User)
		}
		for dep, cond := range map[string]string{"authority": types.ServiceConditionCompletedSuccessfully,
			"postgres": types.ServiceConditionHealthy, "registry": types.ServiceConditionStarted} {
			if got := s.DependsOn[dep].Condition; got != cond {
				t.Errorf("%s: depends on %s %q, want %q", name, dep, got, cond)
			}
		}
		if len(s.Ports) != 0 {
			t.Errorf("%s publishes %v: the proxy alone is published", name, s.Ports)
		}
	}

	proxy := p.Services["proxy"]
	if len(proxy.Ports) != 1 || proxy.Ports[0].HostIP != "127.0.0.1" || proxy.Ports[0].Published != "8080" || proxy.Ports[0].Target != 8080 {
		t.Errorf("the proxy publishes %+v, want 127.0.0.1:8080", proxy.Ports)
	}
	// The proxy's upstreams are the replicas on the image's port, and it drops an idle connection to
	// them before they do (custodyd.md: keep the balancer's idle timeout below --idle-timeout).
	conf, err := os.ReadFile("compose/nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	var upstreams []string
	for _, m := range regexp.MustCompile(`(?m)^\s*server (\S+):(\d+)\b`).FindAllStringSubmatch(string(conf), -1) {
		upstreams = append(upstreams, m[1])
		if m[2] != strconv.Itoa(image.CustodydPort) {
			t.Errorf("nginx.conf: upstream %s on port %s, want %d", m[1], m[2], image.CustodydPort)
		}
	}
	if !slices.Equal(upstreams, []string{"custodyd-1", "custodyd-2"}) {
		t.Errorf("nginx.conf upstreams %q, want both replicas", upstreams)
	}
	keep := regexp.MustCompile(`keepalive_timeout (\d+)s;`).FindSubmatch(conf)
	idle, _ := time.ParseDuration(*replicas[0].Environment["CUSTODY_IDLE_TIMEOUT"])
	if keep == nil || idle == 0 {
		t.Fatalf("nginx.conf keepalive_timeout %q, CUSTODY_IDLE_TIMEOUT %v", keep, idle)
	}
	if n, _ := strconv.Atoi(string(keep[1])); time.Duration(n)*time.Second >= idle {
		t.Errorf("the proxy keeps idle connections %ss, not below custodyd's %s", keep[1], idle)
	}

	pg := p.Services["postgres"]
	if pg.HealthCheck == nil || !slices.Contains(pg.HealthCheck.Test, "pg_isready") {
		t.Errorf("postgres has no pg_isready health check: %+v", pg.HealthCheck)
	}
}

// TestComposeEnvironment: the project's variables reach every service that needs them.
func TestComposeEnvironment(t *testing.T) {
	t.Parallel()
	p, err := loadCompose(t, composeFile, "POSTGRES_PASSWORD=s3cret", "CUSTODY_EXTERNAL_URL=https://custody.example.com",
		"CUSTODYD_IMAGE=registry.example.com/custodyd@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"CUSTODY_PUBLISH=0.0.0.0:443")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"custodyd-1", "custodyd-2"} {
		s := p.Services[name]
		if got := *s.Environment["CUSTODY_DATABASE_URL"]; got != "postgres://custody:s3cret@postgres:5432/custody?sslmode=disable" {
			t.Errorf("%s: CUSTODY_DATABASE_URL %q", name, got)
		}
		if got := *s.Environment["CUSTODY_EXTERNAL_URL"]; got != "https://custody.example.com" {
			t.Errorf("%s: CUSTODY_EXTERNAL_URL %q", name, got)
		}
	}
	for _, name := range []string{"custodyd-1", "custodyd-2", "authority"} {
		if got := p.Services[name].Image; !strings.HasPrefix(got, "registry.example.com/custodyd@sha256:") {
			t.Errorf("%s: image %q", name, got)
		}
	}
	if got := *p.Services["postgres"].Environment["POSTGRES_PASSWORD"]; got != "s3cret" {
		t.Errorf("postgres: POSTGRES_PASSWORD %q", got)
	}
	if got := p.Services["proxy"].Ports; len(got) != 1 || got[0].HostIP != "0.0.0.0" || got[0].Published != "443" {
		t.Errorf("proxy ports %+v", got)
	}
}

// TestComposeRefuses: the loader's validation is not vacuous: what docker compose would refuse, it
// refuses.
func TestComposeRefuses(t *testing.T) {
	t.Parallel()
	orig, err := os.ReadFile(composeFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ old, new, want string }{
		{"    read_only: true\n    network_mode: none", "    read_only: yes please\n    network_mode: none", "read_only"},
		{"  proxy:\n    image: nginx:1.27-alpine", "  proxy:\n    imag: nginx:1.27-alpine", "services.proxy.imag"},
		{"      - spool-2:/var/lib/custodyd", "      - spool-3:/var/lib/custodyd", "undefined volume"},
		{"    depends_on: [custodyd-1, custodyd-2]", "    depends_on: [custodyd-1, custodyd-3]", "custodyd-3"},
	} {
		if !strings.Contains(string(orig), tc.old) {
			t.Fatalf("%s no longer holds %q", composeFile, tc.old)
		}
		dir := t.TempDir()
		path := filepath.Join(dir, "compose.yaml")
		if err := os.WriteFile(path, []byte(strings.Replace(string(orig), tc.old, tc.new, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := loadCompose(t, path); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q for %q: %v, want an error saying %q", tc.new, tc.old, err, tc.want)
		}
	}
}
