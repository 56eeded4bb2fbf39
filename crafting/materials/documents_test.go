package materials

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custody-dev/custody/contract"
)

// docNow is the clock of the document tests.
var docNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// newDocCrafter returns an offline Crafter with a fixed clock and an empty docker keychain.
func newDocCrafter(t *testing.T) *Crafter {
	t.Helper()
	return New(Options{Keychain: DockerConfigKeychain(t.TempDir()), Now: func() time.Time { return docNow }})
}

// fileDigest is the sha256 of the file at path, as Material.Digest records it.
func fileDigest(t testing.TB, path string) (string, int64) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:]), int64(len(data))
}

// docCase is one file given to Craft as one kind: accepted with exactly want recorded, or rejected
// with an error that mentions every string of wantErr (and wraps ErrNotThisKind when notThisKind).
type docCase struct {
	file        string // under testdata/
	want        map[string]string
	wantErr     []string
	notThisKind bool
}

func runDocCases(t *testing.T, kind contract.Kind, cases []docCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(filepath.Base(tc.file), func(t *testing.T) {
			t.Parallel()
			path := filepath.Join("testdata", tc.file)
			m, err := newDocCrafter(t).Craft(t.Context(), kind, path)
			if tc.wantErr != nil {
				if err == nil {
					t.Fatalf("Craft(%s, %s) accepted it (%v), want an error", kind, tc.file, m.Validated)
				}
				checkDocError(t, err, kind, path, tc.wantErr, tc.notThisKind)
				return
			}
			if err != nil {
				t.Fatalf("Craft(%s, %s): %v", kind, tc.file, err)
			}
			digest, size := fileDigest(t, path)
			if m.Kind != kind || m.Value != filepath.Base(path) || m.Digest != digest || !m.AddedAt.Equal(docNow) {
				t.Errorf("material = %s %q %s at %s, want %s %q %s at %s",
					m.Kind, m.Value, m.Digest, m.AddedAt, kind, filepath.Base(path), digest, docNow)
			}
			if m.File == nil || m.File.Name != filepath.Base(path) || m.File.Size != size {
				t.Errorf("File = %+v, want %s of %d bytes", m.File, filepath.Base(path), size)
			}
			if !maps.Equal(m.Validated, tc.want) {
				t.Errorf("Validated = %v\nwant        %v", m.Validated, tc.want)
			}
		})
	}
}

// checkDocError checks err is the *Error of kind for path and names every reason of want.
func checkDocError(t *testing.T, err error, kind contract.Kind, path string, want []string, notThisKind bool) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s accepted %s, want an error naming %q", kind, path, want)
	}
	var kerr *Error
	if !errors.As(err, &kerr) || kerr.Kind != kind || kerr.Value != path {
		t.Errorf("error %v: want a %s *Error for %s", err, kind, path)
	}
	for _, s := range want {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %q", err, s)
		}
	}
	if got := errors.Is(err, ErrNotThisKind); got != notThisKind {
		t.Errorf("errors.Is(%q, ErrNotThisKind) = %v, want %v", err, got, notThisKind)
	}
}

// TestDetectDocuments checks auto-detection picks each fixture's kind, passes over files of no
// known format (ARTIFACT) and stops at a file that is plainly of a kind but broken.
func TestDetectDocuments(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	random := make([]byte, 64<<10)
	rng := rand.NewChaCha8([32]byte{7})
	_, _ = rng.Read(random)
	random[0] = 0x7f // no format starts so

	for _, tc := range []struct {
		path     string
		wantKind contract.Kind
		wantErr  []string
	}{
		{path: "testdata/cyclonedx/custody-mod.cdx.json", wantKind: contract.KindSBOMCycloneDXJSON},
		{path: "testdata/cyclonedx/custody-mod-1.4.cdx.json", wantKind: contract.KindSBOMCycloneDXJSON},
		{path: "testdata/spdx/custody.spdx.json", wantKind: contract.KindSBOMSPDXJSON},
		{path: "testdata/spdx/go-sarif-2.2.spdx.json", wantKind: contract.KindSBOMSPDXJSON},
		{path: "testdata/csaf/custody-vex-2026-0001.json", wantKind: contract.KindCSAFVEX},
		{path: "testdata/csaf/avendor-advisory-0004.json", wantKind: contract.KindCSAFVEX},
		{path: "testdata/csaf/oasis-2.1-2022-evd-uc-03-ms-001.json", wantKind: contract.KindCSAFVEX},
		{path: "testdata/csaf/oasis-2.0-bsi-2022-0001.json", wantKind: contract.KindCSAFSecurityAdvisory},
		{path: "testdata/csaf/broken-category.json", wantKind: contract.KindCSAFSecurityAdvisory},
		{path: "testdata/csaf/oasis-2.1-rhsa-2019_1862.json", wantKind: contract.KindCSAFInformationalAdvisory},
		{path: "testdata/csaf/custody-incident-2026-0001.json", wantKind: contract.KindCSAFSecurityIncidentResponse},
		{path: "testdata/openvex/custody.openvex.json", wantKind: contract.KindOpenVEX},
		{path: "testdata/sarif/gosec.sarif", wantKind: contract.KindSARIF},
		{path: "testdata/sarif/gosec-clean.sarif", wantKind: contract.KindSARIF},
		{path: "testdata/junit/calc-fail.junit.xml", wantKind: contract.KindJUnitXML},
		{path: "testdata/junit/go-junit-report-pass.junit.xml", wantKind: contract.KindJUnitXML},
		{path: "testdata/junit/pytest.junit.xml", wantKind: contract.KindJUnitXML},
		{path: "testdata/junit/rspec.junit.xml", wantKind: contract.KindJUnitXML},
		{path: "testdata/helm/demo-0.1.0.tgz", wantKind: contract.KindHelmChart},
		{path: "testdata/openapi/oai-v3.0-petstore.yaml", wantKind: contract.KindOpenAPISpec},
		{path: "testdata/openapi/oai-v3.1-non-oauth-scopes.json", wantKind: contract.KindOpenAPISpec},
		{path: "testdata/openapi/oai-v2.0-petstore-minimal.yaml", wantKind: contract.KindOpenAPISpec},
		{path: "testdata/asyncapi/spec-v3.1.0-streetlights-mqtt.yml", wantKind: contract.KindAsyncAPISpec},
		{path: "testdata/asyncapi/spec-v3.0.0-streetlights-kafka.json", wantKind: contract.KindAsyncAPISpec},
		{path: "testdata/helm/umbrella-1.2.3-rc.1.tgz", wantKind: contract.KindHelmChart},

		// No known format: recorded as an ARTIFACT.
		{path: write("rootfs.bin", random), wantKind: contract.KindArtifact},
		{path: "testdata/other/package.json", wantKind: contract.KindArtifact},
		{path: write("list.json", []byte(`[{"bomFormat": "CycloneDX"}]`)), wantKind: contract.KindArtifact},
		{path: write("broken.json", []byte(`{"name": "x", `)), wantKind: contract.KindArtifact},
		{path: "testdata/other/custody-mod.cdx.xml", wantKind: contract.KindArtifact},
		{path: write("values.yaml", []byte("replicaCount: 1\nimage:\n  repository: nginx\n")), wantKind: contract.KindArtifact},
		{path: write("not-openapi.json", []byte(`{"openapi": 3, "info": {}}`)), wantKind: contract.KindArtifact},
		{path: "testdata/helm/not-a-chart-source.tgz", wantKind: contract.KindArtifact},
		{path: "testdata/helm/not-gzip-chart.tar", wantKind: contract.KindArtifact},
		{path: write("notes.gz", gzipped(t, []byte("release notes\n"))), wantKind: contract.KindArtifact},

		// Plainly of a kind but broken: an error naming the kind and the reason, never an ARTIFACT.
		{path: "testdata/cyclonedx/broken-spec-version.cdx.json", wantErr: []string{"SBOM_CYCLONEDX_JSON", `specVersion "1.9" is not supported`}},
		{path: "testdata/spdx/broken-no-spdx-version.spdx.json", wantErr: []string{"SBOM_SPDX_JSON", "spdxVersion is missing"}},
		{path: "testdata/csaf/broken-no-product-tree.json", wantErr: []string{"CSAF_VEX", "product_tree is missing"}},
		{path: "testdata/csaf/broken-sa-no-notes.json", wantErr: []string{"CSAF_SECURITY_ADVISORY", "notes is missing"}},
		{path: "testdata/csaf/broken-ia-vulnerabilities.json", wantErr: []string{"CSAF_INFORMATIONAL_ADVISORY", "vulnerabilities is there"}},
		{path: "testdata/csaf/oasis-2.0-tc-6-1-27-01-01.json", wantErr: []string{"CSAF_SECURITY_INCIDENT_RESPONSE", "document.notes has no note"}},
		{path: "testdata/openvex/broken-status.openvex.json", wantErr: []string{"OPENVEX", `invalid status value "maybe"`}},
		{path: "testdata/sarif/broken-version.sarif", wantErr: []string{"SARIF", `version "2.0.0" is not supported`}},
		{path: "testdata/junit/broken-truncated.junit.xml", wantErr: []string{"JUNIT_XML", "unexpected EOF"}},
		{path: "testdata/helm/broken-no-version.tgz", wantErr: []string{"HELM_CHART", "demo/Chart.yaml: version is missing"}},
		{path: "testdata/openapi/broken-version.yaml", wantErr: []string{"OPENAPI_SPEC", `openapi "3.2.0" is not supported`}},
		{path: "testdata/openapi/broken-swagger-number.yaml", wantErr: []string{"OPENAPI_SPEC", `swagger is the number 2`}},
		{path: "testdata/asyncapi/broken-version.yml", wantErr: []string{"ASYNCAPI_SPEC", `asyncapi "1.2.0" is not supported`}},
	} {
		t.Run(filepath.Base(tc.path), func(t *testing.T) {
			t.Parallel()
			m, err := newDocCrafter(t).Detect(t.Context(), tc.path)
			if tc.wantErr != nil {
				if err == nil {
					t.Fatalf("Detect(%s) = %s %v, want an error", tc.path, m.Kind, m.Validated)
				}
				for _, s := range tc.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not mention %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Detect(%s): %v", tc.path, err)
			}
			digest, _ := fileDigest(t, tc.path)
			if m.Kind != tc.wantKind || m.Digest != digest {
				t.Errorf("Detect(%s) = %s %s, want %s %s", tc.path, m.Kind, m.Digest, tc.wantKind, digest)
			}
		})
	}
}

// TestDocumentSizeLimit checks a document past the validation limit is refused with the reason,
// before it is read into memory.
func TestDocumentSizeLimit(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "huge.cdx.json")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	head := `{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [], "padding": "`
	if _, err := f.WriteString(head); err != nil {
		t.Fatal(err)
	}
	// A sparse file: the size without writing 256 MiB of bytes.
	if err := f.Truncate(maxDocumentSize + 1); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = newDocCrafter(t).Craft(t.Context(), contract.KindSBOMCycloneDXJSON, path)
	if err == nil || !strings.Contains(err.Error(), "larger than the 256 MiB validation limit") {
		t.Errorf("Craft of a %d-byte BOM: %v, want the size limit named", maxDocumentSize+1, err)
	}
}

func TestCappedReader(t *testing.T) {
	t.Parallel()
	over := errors.New("over")
	for _, tc := range []struct {
		data    string
		limit   int64
		wantErr error
	}{
		{data: "abc", limit: 3},
		{data: "abc", limit: 4},
		{data: "abcd", limit: 3, wantErr: over},
		{data: "", limit: 0},
		{data: "a", limit: 0, wantErr: over},
	} {
		got, err := readAllString(newCappedReader(strings.NewReader(tc.data), tc.limit, over))
		if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && got != tc.data) {
			t.Errorf("read %q capped at %d = %q, %v; want %v", tc.data, tc.limit, got, err, tc.wantErr)
		}
	}
}

func readAllString(r *cappedReader) (string, error) {
	var b strings.Builder
	buf := make([]byte, 2)
	for {
		n, err := r.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			if errors.Is(err, io.EOF) {
				return b.String(), nil
			}
			return b.String(), err
		}
	}
}

// writeTemp writes content to a new file named name in a test directory.
func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// gzipped compresses data.
func gzipped(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// sharedCorpus is the path of a file of the real-world corpus of materials (../shared beside the
// clone; never copied into the project), or skips the test when the corpus is absent.
func sharedCorpus(t testing.TB, rel string) string {
	t.Helper()
	path := filepath.Join("..", "..", "..", "shared", "corpus", "materials", filepath.FromSlash(rel))
	if _, err := os.Stat(path); err != nil {
		t.Skipf("the materials corpus is absent (%v): run with ../shared beside the clone", err)
	}
	return path
}
