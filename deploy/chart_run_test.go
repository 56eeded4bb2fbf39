package deploy_test

import (
	"encoding/base64"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/custody-dev/custody/internal/pgtest"
)

// TestChartPodsRun stands in for a cluster, where none runs: it renders the scale-out values and runs
// two of the Deployment's pods as custodyd processes, as the kubelet would start them: as the pod's
// user with its fsGroup as a supplementary group, with the container's environment (secretKeyRefs
// resolved from the Secrets: the chart's own, and a database Secret holding a real PostgreSQL URL),
// the data volume an emptyDir, and the authority Secret's files (from custodyd ca init) mounted as a
// Secret volume of a pod with an fsGroup is: root's, of that group, mode 0440. Both pods are ready,
// serve one trusted root and share the store. It needs root (to make files root's and run as the
// pod's user).
func TestChartPodsRun(t *testing.T) {
	t.Parallel()
	if os.Getuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI runs as root, which this test needs")
		}
		t.Skip("needs root: the Secret volume's files are root's, and the pods run as their own user")
	}
	m := render(t, "-f", filepath.Join(chart, "ci", "scale-out-values.yaml"))
	d := m["Deployment/custody-custodyd"]
	pod := get(d, "spec", "template", "spec").(obj)
	uid, gid, fsGroup := get(pod, "securityContext", "runAsUser").(int), get(pod, "securityContext", "runAsGroup").(int), get(pod, "securityContext", "fsGroup").(int)

	bin := custodyd(t)
	root := t.TempDir()
	for _, dir := range []string{filepath.Dir(root), root} {
		if err := os.Chmod(dir, 0o755); err != nil { // the pod's user reaches its volumes through them
			t.Fatal(err)
		}
	}
	// The Secrets the Deployment names: the chart's, and the ones the values say exist.
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(reg.Close)
	secrets := map[string]map[string]string{"custodyd-postgres": {"url": pgtest.New(t)}}
	chartSecret := map[string]string{}
	for k, v := range get(m["Secret/custody-custodyd"], "data").(obj) {
		b, err := base64.StdEncoding.DecodeString(v.(string))
		if err != nil {
			t.Fatal(err)
		}
		chartSecret[k] = string(b)
	}
	secrets["custody-custodyd"] = chartSecret
	shared := filepath.Join(t.TempDir(), "shared")
	// The authority Secret as docs/deploy.md makes it, after a rotation (the values mount retired chains).
	for _, args := range [][]string{{"ca", "init", "--out", shared}, {"ca", "rotate", "--data-dir", shared}} {
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			t.Fatalf("custodyd %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	secrets["custodyd-authority"] = map[string]string{}
	for key, file := range map[string]string{"ca-chain.pem": "ca/chain.pem", "ca.key": "ca/intermediate.key", "tsa-chain.pem": "tsa/chain.pem",
		"tsa.key": "tsa/tsa.key", "ca-retired.json": "ca/retired.json"} {
		b, err := os.ReadFile(filepath.Join(shared, file))
		if err != nil {
			t.Fatal(err)
		}
		secrets["custodyd-authority"][key] = string(b)
	}

	// The pod's volumes, made as the kubelet makes them for a pod with an fsGroup.
	mounts := map[string]string{}
	for _, v := range get(pod, "volumes").([]any) {
		name := get(v, "name").(string)
		dir := filepath.Join(root, name)
		switch {
		case get(v, "emptyDir") != nil:
			mustDo(t, os.Mkdir(dir, 0o777), os.Chmod(dir, 0o777|os.ModeSetgid), os.Chown(dir, 0, fsGroup))
		case get(v, "secret") != nil:
			s := secrets[get(v, "secret", "secretName").(string)]
			mode := os.FileMode(get(v, "secret", "defaultMode").(int)) | 0o440 // the fsGroup's read bits
			mustDo(t, os.Mkdir(dir, 0o755), os.Chown(dir, 0, fsGroup))
			for _, item := range get(v, "secret", "items").([]any) {
				path := filepath.Join(dir, get(item, "path").(string))
				data, ok := s[get(item, "key").(string)]
				if !ok {
					t.Fatalf("Secret volume %s: no key %s", name, get(item, "key"))
				}
				mustDo(t, os.WriteFile(path, []byte(data), 0o600), os.Chown(path, 0, fsGroup), os.Chmod(path, mode))
			}
		default:
			t.Fatalf("volume %s of an unknown kind: %v", name, v)
		}
		mounts[name] = dir
	}
	c := get(pod, "containers", 0)
	paths := map[string]string{}
	for _, vm := range get(c, "volumeMounts").([]any) {
		paths[get(vm, "mountPath").(string)] = mounts[get(vm, "name").(string)]
	}
	env := []string{}
	for _, e := range get(c, "env").([]any) {
		name := get(e, "name").(string)
		value, _ := get(e, "value").(string)
		if ref := get(e, "valueFrom", "secretKeyRef"); ref != nil {
			v, ok := secrets[get(ref, "name").(string)][get(ref, "key").(string)]
			if !ok {
				t.Fatalf("%s: no Secret %s key %s", name, get(ref, "name"), get(ref, "key"))
			}
			value = v
		}
		// A path in the pod is under one mount, the longest that holds it (a mount at /tmp must not
		// take a path already mapped into the test's temp directory).
		longest := ""
		for from := range paths {
			if (value == from || strings.HasPrefix(value, from+"/")) && len(from) > len(longest) {
				longest = from
			}
		}
		if longest != "" {
			value = paths[longest] + strings.TrimPrefix(value, longest)
		}
		switch name {
		case "CUSTODY_LISTEN":
			value = "127.0.0.1:0"
		case "CUSTODY_CAS":
			value = strings.Replace(value, "registry.example.com", strings.TrimPrefix(reg.URL, "http://"), 1)
		}
		env = append(env, name+"="+value)
	}
	var pods []*replica
	for range 2 {
		pods = append(pods, startAs(t, bin, env, &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{uint32(fsGroup)}}))
	}
	var roots []string
	for _, p := range pods {
		if code, body := p.do(t, "GET", "/readyz", "", nil); code != http.StatusOK {
			t.Errorf("%s/readyz: %d %s", p.url, code, body)
		}
		_, root := p.do(t, "GET", "/v1/trusted-root", "", nil)
		roots = append(roots, string(root))
	}
	if roots[0] != roots[1] {
		t.Errorf("the pods serve different trusted roots")
	}
	caChain := secrets["custodyd-authority"]["ca-chain.pem"]
	if !strings.Contains(roots[0], base64.StdEncoding.EncodeToString(firstDER(t, caChain))) {
		t.Errorf("the trusted root does not hold the Secret's CA")
	}
}

func mustDo(t *testing.T, errs ...error) {
	t.Helper()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// firstDER is the first certificate of a PEM chain.
func firstDER(t *testing.T, chain string) []byte {
	t.Helper()
	b, _ := pem.Decode([]byte(chain))
	if b == nil {
		t.Fatal("no PEM certificate")
	}
	return b.Bytes
}
