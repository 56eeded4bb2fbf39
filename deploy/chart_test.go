// Package deploy_test checks the ways custodyd is deployed, without a cluster or a Docker engine: the
// Helm chart (helm/custodyd) with helm lint, helm template and kubeconform against Kubernetes'
// schemas, and the compose file (compose/compose.yaml) with the compose-spec loader.
package deploy_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/custody-dev/custody/internal/image"
	"github.com/custody-dev/custody/internal/kubeschema"
	"github.com/custody-dev/custody/internal/pgtest"
)

const chart = "helm/custodyd"

// needTool returns the path of a tool .ci/run installs; without it the test is skipped, or fails
// in CI (CI=true).
func needTool(t *testing.T, name, install string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no %s on PATH (CI=true, so this fails rather than skips; %s)", name, install)
		}
		t.Skipf("no %s on PATH (%s)", name, install)
	}
	return path
}

func helm(t *testing.T) string {
	return needTool(t, "helm", "go install helm.sh/helm/v3/cmd/helm@v3.22.0")
}

func kubeconform(t *testing.T) string {
	return needTool(t, "kubeconform", "go install github.com/yannh/kubeconform/cmd/kubeconform@v0.8.0")
}

var schemaDir = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "custody-kubeschema-")
	if err != nil {
		return "", err
	}
	if _, err := kubeschema.WriteOffline(context.Background(), dir); err != nil {
		return "", err
	}
	return dir, nil
})

// binDir holds custodyd, built once for the tests that run it.
var binDir = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "custody-deploy-bin-")
	if err != nil {
		return "", err
	}
	if err := os.Chmod(dir, 0o755); err != nil { // the pods' user runs it
		return "", err
	}
	return dir, image.BuildBinary(context.Background(), "..", "custodyd", filepath.Join(dir, "custodyd"), "v0.0.0-test")
})

// custodyd is the path of custodyd built from the working tree, as the image's.
func custodyd(t *testing.T) string {
	t.Helper()
	dir, err := binDir()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "custodyd")
}

func TestMain(m *testing.M) {
	code := pgtest.Main(m)
	for _, once := range []func() (string, error){schemaDir, binDir} {
		if dir, err := once(); err == nil {
			os.RemoveAll(dir)
		}
	}
	os.Exit(code)
}

// schemas is the directory of the Kubernetes and ServiceMonitor schemas (internal/kubeschema).
func schemas(t *testing.T) string {
	t.Helper()
	dir, err := schemaDir()
	if err != nil {
		t.Fatalf("the schemas kubeconform validates with: %v", err)
	}
	return dir
}

// run runs a tool and returns its stdout, stderr and whether it succeeded.
func run(t *testing.T, stdin []byte, name string, args ...string) (string, string, bool) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), name, args...)
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+t.TempDir(), "HELM_CONFIG_HOME="+t.TempDir(), "HELM_DATA_HOME="+t.TempDir())
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("%s: %v", name, err)
	}
	return stdout.String(), stderr.String(), err == nil
}

// valueSets are the chart's values files helm lints and renders: its defaults, and each ci/ file.
func valueSets(t *testing.T) map[string][]string {
	files, err := filepath.Glob(filepath.Join(chart, "ci", "*-values.yaml"))
	if err != nil || len(files) < 2 {
		t.Fatalf("values files %v (%v): want ci/single-sqlite-values.yaml and ci/scale-out-values.yaml at least", files, err)
	}
	sets := map[string][]string{"defaults": nil}
	for _, f := range files {
		sets[strings.TrimSuffix(filepath.Base(f), "-values.yaml")] = []string{"-f", f}
	}
	return sets
}

// TestChartLint: helm lint --strict passes on the chart's defaults and each values file.
func TestChartLint(t *testing.T) {
	t.Parallel()
	h := helm(t)
	for name, args := range valueSets(t) {
		out, errOut, ok := run(t, nil, h, append([]string{"lint", "--strict", chart}, args...)...)
		if !ok || !strings.Contains(out, "1 chart(s) linted, 0 chart(s) failed") {
			t.Errorf("helm lint %s: %s%s", name, out, errOut)
		}
	}
}

// render is helm template's output for the values, validated by kubeconform -strict against
// Kubernetes 1.34's schemas and the ServiceMonitor CRD's, offline, and parsed.
func render(t *testing.T, args ...string) manifests {
	t.Helper()
	h, kc, dir := helm(t), kubeconform(t), schemas(t)
	out, errOut, ok := run(t, nil, h, append([]string{"template", "custody", chart, "--namespace", "supply-chain"}, args...)...)
	if !ok {
		t.Fatalf("helm template %q: %s", args, errOut)
	}
	if msg, ok := validate(t, kc, dir, out); !ok {
		t.Fatalf("kubeconform -strict refuses helm template %q:\n%s", args, msg)
	}
	return parse(t, out)
}

// validate runs kubeconform -strict on manifests: missing schemas fail too.
func validate(t *testing.T, kc, dir, manifests string) (string, bool) {
	t.Helper()
	out, errOut, ok := run(t, []byte(manifests), kc, "-strict", "-summary", "-schema-location", dir+"/{{ .ResourceKind }}{{ .KindSuffix }}.json", "-")
	return out + errOut, ok && strings.Contains(out, "Invalid: 0, Errors: 0, Skipped: 0")
}

// manifests are rendered objects by kind and name.
type manifests map[string]obj

type obj = map[string]any

func parse(t *testing.T, text string) manifests {
	t.Helper()
	m := manifests{}
	dec := yaml.NewDecoder(strings.NewReader(text))
	for {
		var o obj
		err := dec.Decode(&o)
		if err == io.EOF {
			return m
		}
		if err != nil {
			t.Fatalf("rendered YAML: %v", err)
		}
		if o == nil {
			continue
		}
		m[o["kind"].(string)+"/"+get(o, "metadata", "name").(string)] = o
	}
}

// get walks o by keys (strings) and indexes (ints); nil when something is missing.
func get(o any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := o.(obj)
			if !ok {
				return nil
			}
			o = m[k]
		case int:
			l, ok := o.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			o = l[k]
		}
	}
	return o
}

func (m manifests) kinds() []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// env is the custodyd container's environment: each variable's value, or "secret NAME KEY".
func env(t *testing.T, d obj) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, e := range get(d, "spec", "template", "spec", "containers", 0, "env").([]any) {
		name := get(e, "name").(string)
		if ref := get(e, "valueFrom", "secretKeyRef"); ref != nil {
			out[name] = "secret " + get(ref, "name").(string) + " " + get(ref, "key").(string)
			continue
		}
		out[name], _ = get(e, "value").(string)
	}
	return out
}

// TestChartRenders: the chart renders, for each values file, manifests kubeconform -strict accepts,
// holding what each shape needs.
func TestChartRenders(t *testing.T) {
	t.Parallel()
	const deploy = "Deployment/custody-custodyd"
	// What every shape holds: a non-root pod on a read-only root, probes on /healthz and /readyz.
	common := func(t *testing.T, m manifests) {
		d := m[deploy]
		pod := get(d, "spec", "template", "spec")
		c := get(pod, "containers", 0)
		for _, want := range []struct {
			path []any
			v    any
		}{
			{[]any{"securityContext", "runAsNonRoot"}, true},
			{[]any{"securityContext", "runAsUser"}, 65532},
			{[]any{"securityContext", "fsGroup"}, 65532},
			{[]any{"securityContext", "seccompProfile", "type"}, "RuntimeDefault"},
			{[]any{"automountServiceAccountToken"}, false},
			{[]any{"containers", 0, "securityContext", "readOnlyRootFilesystem"}, true},
			{[]any{"containers", 0, "securityContext", "allowPrivilegeEscalation"}, false},
			{[]any{"containers", 0, "securityContext", "capabilities", "drop", 0}, "ALL"},
			{[]any{"containers", 0, "ports", 0, "containerPort"}, 8080},
			{[]any{"containers", 0, "livenessProbe", "httpGet", "path"}, "/healthz"},
			{[]any{"containers", 0, "startupProbe", "httpGet", "path"}, "/healthz"},
			{[]any{"containers", 0, "readinessProbe", "httpGet", "path"}, "/readyz"},
			{[]any{"containers", 0, "readinessProbe", "httpGet", "port"}, "http"},
			{[]any{"containers", 0, "resources", "limits", "memory"}, nil}, // present, any value: checked below
		} {
			got := get(pod, want.path...)
			if want.v == nil {
				if got == nil {
					t.Errorf("the pod has no %v", want.path)
				}
				continue
			}
			if got != want.v {
				t.Errorf("the pod's %v = %v, want %v", want.path, got, want.v)
			}
		}
		mounts := map[string]string{}
		for _, vm := range get(c, "volumeMounts").([]any) {
			mounts[get(vm, "mountPath").(string)] = get(vm, "name").(string)
		}
		if mounts["/var/lib/custodyd"] != "data" || mounts["/tmp"] != "tmp" {
			t.Errorf("mounts %v: want the data volume on /var/lib/custodyd and a /tmp (the root is read-only)", mounts)
		}
		if get(m["Service/custody-custodyd"], "spec", "ports", 0, "targetPort") != "http" {
			t.Errorf("the Service does not reach the http port")
		}
		np := m["NetworkPolicy/custody-custodyd"]
		if get(np, "spec", "ingress", 0, "ports", 0, "port") != "http" || len(get(np, "spec", "ingress").([]any)) != 1 {
			t.Errorf("the NetworkPolicy admits %v, want the http port alone", get(np, "spec", "ingress"))
		}
	}
	tests := []struct {
		values string
		kinds  []string
		check  func(t *testing.T, m manifests)
	}{
		{"defaults", []string{deploy, "NetworkPolicy/custody-custodyd", "PersistentVolumeClaim/custody-custodyd-data",
			"Service/custody-custodyd", "ServiceAccount/custody-custodyd"}, func(t *testing.T, m manifests) {
			d := m[deploy]
			if get(d, "spec", "replicas") != 1 || get(d, "spec", "strategy", "type") != "Recreate" {
				t.Errorf("replicas %v, strategy %v: want 1, Recreate (one SQLite writer)", get(d, "spec", "replicas"), get(d, "spec", "strategy"))
			}
			if got := get(d, "spec", "template", "spec", "containers", 0, "image"); got != "ghcr.io/custody-dev/custodyd:0.1.0" {
				t.Errorf("image %v, want the chart's appVersion", got)
			}
			e := env(t, d)
			if e["CUSTODY_EXTERNAL_URL"] != "http://custody-custodyd.supply-chain.svc:8080" || e["CUSTODY_LISTEN"] != ":8080" {
				t.Errorf("env %v", e)
			}
			for _, k := range []string{"CUSTODY_DATABASE_URL", "CUSTODY_CAS", "CUSTODY_CA_KEY", "CUSTODY_CAS_PASSWORD"} {
				if _, ok := e[k]; ok {
					t.Errorf("the defaults set %s", k)
				}
			}
			if get(d, "spec", "template", "spec", "volumes", 0, "persistentVolumeClaim", "claimName") != "custody-custodyd-data" {
				t.Errorf("the data volume is not the claim: %v", get(d, "spec", "template", "spec", "volumes", 0))
			}
		}},
		{"single-sqlite", []string{deploy, "NetworkPolicy/custody-custodyd", "PersistentVolumeClaim/custody-custodyd-data",
			"Service/custody-custodyd", "ServiceAccount/custody-custodyd", "ServiceMonitor/custody-custodyd"}, func(t *testing.T, m manifests) {
			sm := m["ServiceMonitor/custody-custodyd"]
			if get(sm, "spec", "endpoints", 0, "path") != "/metrics" || get(sm, "spec", "endpoints", 0, "port") != "http" ||
				get(sm, "metadata", "labels", "release") != "prometheus" {
				t.Errorf("ServiceMonitor %v", sm)
			}
			if got := env(t, m[deploy])["CUSTODY_EXTERNAL_URL"]; got != "https://custody.example.com" {
				t.Errorf("CUSTODY_EXTERNAL_URL %q", got)
			}
			if got := get(m["PersistentVolumeClaim/custody-custodyd-data"], "spec", "storageClassName"); got != "fast" {
				t.Errorf("storage class %v", got)
			}
		}},
		{"scale-out", []string{deploy, "NetworkPolicy/custody-custodyd", "PodDisruptionBudget/custody-custodyd",
			"Secret/custody-custodyd", "Service/custody-custodyd", "ServiceAccount/custody-custodyd", "ServiceMonitor/custody-custodyd"}, func(t *testing.T, m manifests) {
			d := m[deploy]
			if get(d, "spec", "replicas") != 3 || get(d, "spec", "strategy", "type") != "RollingUpdate" {
				t.Errorf("replicas %v, strategy %v", get(d, "spec", "replicas"), get(d, "spec", "strategy"))
			}
			if got := get(d, "spec", "template", "spec", "containers", 0, "image"); got != "ghcr.io/custody-dev/custodyd@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" {
				t.Errorf("image %v, want the digest", got)
			}
			e := env(t, d)
			for k, want := range map[string]string{
				"CUSTODY_DATABASE_URL":   "secret custodyd-postgres url",
				"CUSTODY_CAS":            "oci://registry.example.com/custody-cas",
				"CUSTODY_CAS_USERNAME":   "secret custody-custodyd cas-username",
				"CUSTODY_CAS_PASSWORD":   "secret custody-custodyd cas-password",
				"CUSTODY_CA_CERT":        "/etc/custodyd/authority/ca-chain.pem",
				"CUSTODY_CA_KEY":         "/etc/custodyd/authority/ca.key",
				"CUSTODY_CA_RETIRED":     "/etc/custodyd/authority/ca-retired.json",
				"CUSTODY_TSA_CERT":       "/etc/custodyd/authority/tsa-chain.pem",
				"CUSTODY_TSA_KEY":        "/etc/custodyd/authority/tsa.key",
				"CUSTODYD_OIDC_ISSUERS":  "https://token.actions.githubusercontent.com,https://gitlab.example.com",
				"CUSTODY_MAX_BLOB_SIZE":  "1073741824",
				"CUSTODY_EXTERNAL_URL":   "https://custody.example.com",
				"CUSTODYD_OIDC_AUDIENCE": "custody",
			} {
				if e[k] != want {
					t.Errorf("%s = %q, want %q", k, e[k], want)
				}
			}
			s := m["Secret/custody-custodyd"]
			if got := get(s, "data"); len(got.(obj)) != 2 || get(s, "data", "cas-password") != "bm90LWEtcmVhbC1wYXNzd29yZA==" {
				t.Errorf("the chart's Secret holds %v, want the CAS credentials alone", got)
			}
			vols := get(d, "spec", "template", "spec", "volumes").([]any)
			if get(vols[0], "emptyDir", "sizeLimit") != "8Gi" {
				t.Errorf("the data volume of a replica %v: want an emptyDir for the spool", vols[0])
			}
			auth := get(vols[2], "secret")
			if get(auth, "secretName") != "custodyd-authority" || get(auth, "defaultMode") != 0o440 || len(get(auth, "items").([]any)) != 5 {
				t.Errorf("the authority volume %v: want custodyd-authority's five files, 0440", auth)
			}
			if get(m["PodDisruptionBudget/custody-custodyd"], "spec", "maxUnavailable") != 1 {
				t.Errorf("PodDisruptionBudget %v", m["PodDisruptionBudget/custody-custodyd"])
			}
			np := m["NetworkPolicy/custody-custodyd"]
			if types := get(np, "spec", "policyTypes").([]any); len(types) != 2 || get(np, "spec", "egress", 0, "ports", 0, "port") != 53 ||
				get(np, "spec", "ingress", 0, "from", 0, "namespaceSelector") == nil {
				t.Errorf("NetworkPolicy %v: want ingress from the ingress controller's namespace, egress to DNS and the values'", get(np, "spec"))
			}
		}},
	}
	sets := valueSets(t)
	if len(tests) != len(sets) {
		t.Errorf("%d values files, %d tested", len(sets), len(tests))
	}
	for _, tc := range tests {
		t.Run(tc.values, func(t *testing.T) {
			args, ok := sets[tc.values]
			if !ok {
				t.Fatalf("no values file %s", tc.values)
			}
			m := render(t, args...)
			if got := m.kinds(); !slices.Equal(got, tc.kinds) {
				t.Errorf("objects %q\nwant %q", got, tc.kinds)
			}
			common(t, m)
			tc.check(t, m)
		})
	}
}

// TestChartRefuses: values custodyd could not serve fail the render, saying why.
func TestChartRefuses(t *testing.T) {
	t.Parallel()
	h := helm(t)
	pg, oci, auth := "database.existingSecret=pg", "cas.url=oci://registry.example.com/cas", "authority.existingSecret=ca"
	for _, tc := range []struct {
		set  []string
		want string
	}{
		{[]string{"replicaCount=2"}, "replicaCount 2 needs PostgreSQL (database.url or database.existingSecret), an OCI registry as CAS " +
			"(cas.url: oci://REGISTRY/REPOSITORY), one CA and TSA for every replica (authority.existingSecret, from custodyd ca init): " +
			"SQLite, the filesystem CAS and a generated CA live in one replica's volume"},
		{[]string{"replicaCount=3", oci, auth}, "replicaCount 3 needs PostgreSQL (database.url or database.existingSecret): "},
		{[]string{"replicaCount=3", pg, auth}, "replicaCount 3 needs an OCI registry as CAS (cas.url: oci://REGISTRY/REPOSITORY): "},
		{[]string{"replicaCount=3", pg, "cas.url=file:///shared", auth}, "replicaCount 3 needs an OCI registry as CAS"},
		{[]string{"replicaCount=3", pg, oci}, "replicaCount 3 needs one CA and TSA for every replica (authority.existingSecret, from custodyd ca init): "},
		{[]string{"replicaCount=0"}, "replicaCount"},
		{[]string{"replicas=3"}, "additional properties 'replicas' not allowed"},
		{[]string{"cas.url=s3://bucket"}, `cas.url "s3://bucket": want oci://REGISTRY/REPOSITORY (or file://DIR)`},
		{[]string{"database.url=mysql://db"}, "database.url: want a postgres:// or postgresql:// URL"},
		{[]string{"database.url=postgres://db", pg}, "database: set url or existingSecret, not both"},
		{[]string{"cas.password=x", "cas.existingSecret=s"}, "cas: set username and password, or existingSecret, not both"},
	} {
		out, errOut, ok := run(t, nil, h, append([]string{"template", "custody", chart}, sets(tc.set)...)...)
		if ok || !strings.Contains(errOut, tc.want) {
			t.Errorf("helm template --set %q: ok=%v %s\nwant an error saying %q (stdout %d bytes)", tc.set, ok, errOut, tc.want, len(out))
		}
	}
}

// TestKubeconformRefuses: the validation is not vacuous: a manifest the API server would refuse
// (an unknown field, a wrong type, a kind it does not serve) fails it.
func TestKubeconformRefuses(t *testing.T) {
	t.Parallel()
	h, kc, dir := helm(t), kubeconform(t), schemas(t)
	for _, tc := range []struct {
		set  []string
		want string
	}{
		{[]string{"extraEnv[0].name=A", "extraEnv[0].valu=b"}, "additional properties 'valu' not allowed"},
		{[]string{"podSecurityContext.runAsUser=nobody"}, "/spec/template/spec/securityContext/runAsUser"},
		{[]string{"serviceMonitor.enabled=true", "serviceMonitor.interval=30s", "serviceMonitor.labels.a=b",
			"extraEnv[0].name=A", "extraEnv[0].value=b"}, ""}, // the control: valid
	} {
		out, errOut, ok := run(t, nil, h, append([]string{"template", "custody", chart}, sets(tc.set)...)...)
		if !ok {
			t.Fatalf("helm template %q: %s", tc.set, errOut)
		}
		msg, valid := validate(t, kc, dir, out)
		if valid != (tc.want == "") || !strings.Contains(msg, tc.want) {
			t.Errorf("kubeconform on --set %q: valid=%v\n%s\nwant %q", tc.set, valid, msg, tc.want)
		}
	}
	// A kind Kubernetes 1.34 does not serve has no schema: refused, not skipped.
	msg, valid := validate(t, kc, dir, "apiVersion: apps/v1beta1\nkind: Deployment\nmetadata: {name: x}\n")
	if valid || !strings.Contains(msg, "could not find schema for Deployment") {
		t.Errorf("kubeconform on apps/v1beta1: valid=%v %s", valid, msg)
	}
}

// sets are helm's --set arguments for values.
func sets(values []string) []string {
	var args []string
	for _, v := range values {
		args = append(args, "--set", v)
	}
	return args
}
