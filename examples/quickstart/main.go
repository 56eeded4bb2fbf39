// Command quickstart runs the seed walkthrough of custody on one machine, with nothing but Go: it
// makes sample files (a rootfs tarball, a CycloneDX SBOM, a JUnit report), starts an in-process OCI
// registry holding the skynet control-plane image, and runs custody's commands on them, printing each
// as a user would type it:
//
//	go run ./examples/quickstart
//
// Everything happens in a temporary directory, removed at the end (-keep keeps it).
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/custody-dev/custody/cli"
)

const contractYAML = `# The seed's contract: what a run of build-and-test must produce.
apiVersion: custody.dev/v1
kind: Contract
metadata:
  name: build-and-test
  description: skynet's build pipeline
spec:
  materials:
    - name: skynet-control-plane
      type: CONTAINER_IMAGE
      output: true
    - name: rootfs
      type: ARTIFACT
      output: true
    - name: dockerfile
      type: ARTIFACT
      optional: true
    - name: build-ref
      type: STRING
    - name: skynet-sbom
      type: SBOM_CYCLONEDX_JSON
`

const junitXML = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="3" failures="0">
  <testsuite name="skynet/control-plane" tests="3" failures="0" errors="0" skipped="0" time="0.012">
    <testcase classname="skynet/control-plane" name="TestSelfAwareness" time="0.004"></testcase>
    <testcase classname="skynet/control-plane" name="TestJudgmentDay" time="0.004"></testcase>
    <testcase classname="skynet/control-plane" name="TestTimeTravel" time="0.004"></testcase>
  </testsuite>
</testsuites>
`

func main() {
	keep := flag.Bool("keep", false, "keep the working directory")
	flag.Parse()
	if err := run(*keep); err != nil {
		fmt.Fprintf(os.Stderr, "quickstart: %v\n", err)
		os.Exit(1)
	}
}

func run(keep bool) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "custody-quickstart-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Printf("# working directory: %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	if err := os.Chdir(dir); err != nil {
		return err
	}

	image, stop, err := startRegistry(ctx)
	if err != nil {
		return err
	}
	defer stop()
	if err := writeSamples(); err != nil {
		return err
	}

	env := cli.ProcessEnv("quickstart")
	env.Workdir = dir
	env.Terminal = true // show the seed's progress line
	environ := map[string]string{"COSIGN_PASSWORD": "quickstart"}
	env.Getenv = func(k string) string {
		if v, ok := environ[k]; ok {
			return v
		}
		// The workspace is this directory, whatever CI this runs in.
		if k == "GITHUB_WORKSPACE" || k == "CI_PROJECT_DIR" || k == "CUSTODY_STATE_FILE" {
			return ""
		}
		return os.Getenv(k)
	}
	env.LookupEnv = func(k string) (string, bool) { v := env.Getenv(k); return v, v != "" }

	steps := [][]string{
		{"generate-key-pair"},
		{"attestation", "init", "--workflow", "build-and-test", "--project", "skynet", "--contract", "contract.yaml"},
		{"attestation", "add", "--name", "skynet-control-plane", "--value", image},
		{"attestation", "add", "--name", "rootfs", "--value", "rootfs.tar.gz"},
		{"attestation", "add", "--name", "build-ref", "--value", "80e461e9b385c6986cdb8096c9dc99928943d667"},
		{"attestation", "add", "--name", "skynet-sbom", "--value", "sbom.cyclonedx.json"},
		{"attestation", "add", "--value", "junit.xml"},
		{"attestation", "status", "--full"},
		{"attestation", "push", "--key", "cosign.key", "--bundle", "attestation.sigstore.json"},
		{"attestation", "verify", "--key", "cosign.pub", "--artifact", "rootfs.tar.gz", "attestation.sigstore.json"},
	}
	for _, args := range steps {
		fmt.Printf("\n$ custody %s\n", strings.Join(args, " "))
		if err := cli.Execute(ctx, env, args); err != nil {
			return fmt.Errorf("custody %s: %w", strings.Join(args, " "), err)
		}
	}
	return cosignVerify()
}

// startRegistry serves an in-process OCI registry on loopback and pushes the seed's image to it.
func startRegistry(ctx context.Context) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: registry.New(registry.Logger(log.New(io.Discard, "", 0))), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // ends with Shutdown
	stop := func() { _ = srv.Shutdown(ctx) }
	ref := ln.Addr().String() + "/skynet/control-plane:v0.7.6"
	img, err := random.Image(1024, 2)
	if err != nil {
		stop()
		return "", nil, err
	}
	tag, err := name.ParseReference(ref)
	if err != nil {
		stop()
		return "", nil, err
	}
	if err := remote.Write(tag, img, remote.WithContext(ctx)); err != nil {
		stop()
		return "", nil, fmt.Errorf("push sample image: %w", err)
	}
	return ref, stop, nil
}

// writeSamples makes the files a build would have produced.
func writeSamples() error {
	bom := cdx.NewBOM()
	bom.SpecVersion = cdx.SpecVersion1_5
	bom.Metadata = &cdx.Metadata{Component: &cdx.Component{
		Type: cdx.ComponentTypeApplication, Name: "skynet-control-plane", Version: "v0.7.6", BOMRef: "skynet-control-plane",
	}}
	bom.Components = &[]cdx.Component{{Type: cdx.ComponentTypeLibrary, Name: "github.com/spf13/cobra", Version: "v1.10.2",
		PackageURL: "pkg:golang/github.com/spf13/cobra@v1.10.2", BOMRef: "pkg:golang/github.com/spf13/cobra@v1.10.2"}}
	var sbom bytes.Buffer
	if err := cdx.NewBOMEncoder(&sbom, cdx.BOMFileFormatJSON).SetPretty(true).Encode(bom); err != nil {
		return fmt.Errorf("encode sample SBOM: %w", err)
	}
	files := map[string][]byte{
		"contract.yaml":       []byte(contractYAML),
		"rootfs.tar.gz":       []byte("rootfs!"),
		"sbom.cyclonedx.json": sbom.Bytes(),
		"junit.xml":           []byte(junitXML),
	}
	for name, content := range files {
		if err := os.WriteFile(name, content, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// cosignVerify checks the bundle with cosign, a verifier custody did not write, when it is installed.
func cosignVerify() error {
	cosign, err := exec.LookPath("cosign")
	if err != nil {
		if gopath, gerr := exec.Command("go", "env", "GOPATH").Output(); gerr == nil {
			cosign = filepath.Join(strings.TrimSpace(string(gopath)), "bin", "cosign")
		}
	}
	if _, err := os.Stat(cosign); err != nil {
		fmt.Println("\n# cosign is not installed: skipping the cross-check (go install github.com/sigstore/cosign/v2/cmd/cosign@v2.6.5)")
		return nil
	}
	root := `{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","tlogs":[],"certificateAuthorities":[],"ctlogs":[],"timestampAuthorities":[]}`
	if err := os.WriteFile("empty.json", []byte(root), 0o644); err != nil {
		return err
	}
	args := []string{"verify-blob-attestation", "--new-bundle-format", "--key", "cosign.pub", "--insecure-ignore-tlog",
		"--trusted-root", "empty.json", "--type", "https://custody.dev/attestation/v1", "--bundle", "attestation.sigstore.json", "rootfs.tar.gz"}
	fmt.Printf("\n$ cosign %s\n", strings.Join(args, " "))
	cmd := exec.Command(cosign, args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stdout
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("cosign verify-blob-attestation: %w", err)
	}
	return nil
}
