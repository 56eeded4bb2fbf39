package kubeschema

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// The sources of the schemas, as Go modules the module proxy serves (the only registry of Go code
// CI reaches): Kubernetes' OpenAPI document is in the k8s.io/kubernetes module's zip, the
// ServiceMonitor CRD in prometheus-operator's. Neither is a dependency of custody: they are
// downloaded, never built.
const (
	KubernetesModule         = "k8s.io/kubernetes"
	KubernetesVersion        = "v1.34.4"
	KubernetesSwagger        = "api/openapi-spec/swagger.json"
	PrometheusOperatorModule = "github.com/prometheus-operator/prometheus-operator"
	PrometheusOperatorVer    = "v0.85.0"
	ServiceMonitorCRD        = "example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml"
)

// Download fetches module@version into the module cache (go mod download, outside any module, so
// no go.mod changes) and returns its directory.
func Download(ctx context.Context, module, version string) (string, error) {
	tmp, err := os.MkdirTemp("", "kubeschema-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", module+"@"+version)
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "GO111MODULE=on", "GOFLAGS=-mod=mod")
	out, err := cmd.Output()
	var info struct {
		Dir   string
		Error string
	}
	if jerr := json.Unmarshal(out, &info); jerr == nil && info.Error != "" {
		return "", fmt.Errorf("go mod download %s@%s: %s", module, version, info.Error)
	}
	if err != nil {
		if exit, ok := err.(*exec.ExitError); ok {
			err = fmt.Errorf("%w: %s", err, exit.Stderr)
		}
		return "", fmt.Errorf("go mod download %s@%s: %w", module, version, err)
	}
	if info.Dir == "" {
		return "", fmt.Errorf("go mod download %s@%s: no directory in %q", module, version, out)
	}
	return info.Dir, nil
}

// WriteOffline writes into dir the schemas of every kind of Kubernetes KubernetesVersion and of
// prometheus-operator's ServiceMonitor, from the modules' zips. It returns how many it wrote.
func WriteOffline(ctx context.Context, dir string) (int, error) {
	kube, err := Download(ctx, KubernetesModule, KubernetesVersion)
	if err != nil {
		return 0, err
	}
	promop, err := Download(ctx, PrometheusOperatorModule, PrometheusOperatorVer)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, src := range []struct {
		path    string
		convert func([]byte) (map[string][]byte, error)
	}{{filepath.Join(kube, KubernetesSwagger), FromSwagger}, {filepath.Join(promop, ServiceMonitorCRD), FromCRD}} {
		doc, err := os.ReadFile(src.path)
		if err != nil {
			return n, err
		}
		schemas, err := src.convert(doc)
		if err != nil {
			return n, fmt.Errorf("%s: %w", src.path, err)
		}
		if err := Write(dir, schemas); err != nil {
			return n, err
		}
		n += len(schemas)
	}
	return n, nil
}
