// Command kubeschema writes the JSON schemas kubeconform validates the Helm chart's manifests with,
// offline (internal/kubeschema): every kind of Kubernetes, from the OpenAPI document in the
// k8s.io/kubernetes module's zip, and prometheus-operator's ServiceMonitor, from its module's CRD,
// both fetched through the Go module proxy:
//
//	go run ./bench/kubeschema -out DIR
//	kubeconform -strict -schema-location 'DIR/{{ .ResourceKind }}{{ .KindSuffix }}.json' manifests.yaml
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/custody-dev/custody/internal/kubeschema"
)

func main() {
	out := flag.String("out", "", "directory to write the schemas into")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "kubeschema: -out DIR is required")
		os.Exit(2)
	}
	start := time.Now()
	n, err := kubeschema.WriteOffline(context.Background(), *out)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kubeschema: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("%d schemas (Kubernetes %s, prometheus-operator %s) in %s, %.1fs\n", n, kubeschema.KubernetesVersion,
		kubeschema.PrometheusOperatorVer, *out, time.Since(start).Seconds())
}
