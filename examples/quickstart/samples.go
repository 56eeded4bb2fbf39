package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// contractFile is the seed's contract, from the examples (the quickstart runs from the repository root).
const contractFile = "examples/contracts/build-and-test.yaml"

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
	if err := cdx.NewBOMEncoder(&sbom, cdx.BOMFileFormatJSON).SetPretty(true).EncodeVersion(bom, cdx.SpecVersion1_5); err != nil {
		return fmt.Errorf("encode sample SBOM: %w", err)
	}
	files := map[string][]byte{
		"rootfs.tar.gz":       []byte("rootfs!"),
		"sbom.cyclonedx.json": sbom.Bytes(),
		"junit.xml":           []byte(junitXML),
	}
	contract, err := os.ReadFile(contractFile)
	if err != nil {
		return fmt.Errorf("read the example contract (run the quickstart from the repository root): %w", err)
	}
	files["contract.yaml"] = contract
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			return err
		}
	}
	return nil
}
