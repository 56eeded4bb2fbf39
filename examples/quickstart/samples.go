package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	cdx "github.com/CycloneDX/cyclonedx-go"
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

// writeSamples makes the files a build would have produced.
func writeSamples(dir string) error {
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
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			return err
		}
	}
	return nil
}
