package materials

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custody-dev/custody/contract"
)

// TestDetectionBounds: what detection reads of a file is bounded by the sniff, whatever its nesting
// and wherever its markers: a file whose markers come first is refused at its start when it nests too
// deep; one whose markers lie past the prefix, or that has none, is an ARTIFACT.
func TestDetectionBounds(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat("[", 3<<20) + strings.Repeat("]", 3<<20)
	dir := t.TempDir()
	c := New(Options{})
	for _, tc := range []struct {
		name     string
		doc      string
		wantKind contract.Kind // "" when an error is wanted
		wantErr  string
		errKind  contract.Kind
	}{
		{"CycloneDX markers first, then too deep", `{"bomFormat":"CycloneDX","specVersion":"1.6","components":` + deep + `}`,
			"", "nests deeper than 10000 levels", contract.KindSBOMCycloneDXJSON},
		{"DSSE markers first, then too deep", `{"payloadType":"application/vnd.in-toto+json","payload":"","signatures":[],"x":` + deep + `}`,
			"", "nests deeper than 10000 levels", contract.KindAttestation},
		{"OpenVEX markers first, then too deep", `{"@context":"https://openvex.dev/ns/v0.2.0","x":` + deep + `}`,
			"", "nests deeper than 10000 levels", contract.KindOpenVEX},
		{"markers after a value past the prefix", `{"x":` + deep + `,"bomFormat":"CycloneDX"}`, contract.KindArtifact, "", ""},
		{"no markers, deep", `{"x":` + deep + `}`, contract.KindArtifact, "", ""},
		{"top-level array, deep", deep, contract.KindArtifact, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".json")
			if err := os.WriteFile(path, []byte(tc.doc), 0o600); err != nil {
				t.Fatal(err)
			}
			m, err := c.Detect(t.Context(), path)
			if tc.wantErr != "" {
				var kerr *Error
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.As(err, &kerr) || kerr.Kind != tc.errKind {
					t.Fatalf("Detect = %v, want a %s error containing %q", err, tc.errKind, tc.wantErr)
				}
				return
			}
			if err != nil || m.Kind != tc.wantKind {
				t.Fatalf("Detect = %+v, %v; want %s", m, err, tc.wantKind)
			}
		})
	}
}

// TestMarkersPastThePrefix: a document whose writer put its markers after more than the sniffed
// prefix is an ARTIFACT when detected (detection reads the prefix only) and is read as its kind when
// the kind is named.
func TestMarkersPastThePrefix(t *testing.T) {
	t.Parallel()
	var comps, results []string
	for i := range 40000 {
		comps = append(comps, fmt.Sprintf(`{"type":"library","name":"component-%d"}`, i))
		results = append(results, fmt.Sprintf(`{"message":{"text":"finding %d"}}`, i))
	}
	dir := t.TempDir()
	c := New(Options{})
	for _, tc := range []struct {
		name, doc string
		kind      contract.Kind
		key, want string
	}{
		{"bom.json", `{"components":[` + strings.Join(comps, ",") + `],"bomFormat":"CycloneDX","specVersion":"1.6","version":1}`,
			contract.KindSBOMCycloneDXJSON, "componentCount", "40000"},
		{"log.sarif", `{"runs":[{"tool":{"driver":{"name":"x"}},"results":[` + strings.Join(results, ",") + `]}],"version":"2.1.0"}`,
			contract.KindSARIF, "resultCount", "40000"},
	} {
		path := filepath.Join(dir, tc.name)
		if len(tc.doc) <= sniffLimit {
			t.Fatalf("%s: %d bytes, want more than the prefix", tc.name, len(tc.doc))
		}
		if err := os.WriteFile(path, []byte(tc.doc), 0o600); err != nil {
			t.Fatal(err)
		}
		if m, err := c.Detect(t.Context(), path); err != nil || m.Kind != contract.KindArtifact {
			t.Errorf("%s detected: %+v, %v; want an ARTIFACT", tc.name, m, err)
		}
		m, err := c.Craft(t.Context(), tc.kind, path)
		if err != nil || m.Validated[tc.key] != tc.want {
			t.Errorf("%s as %s: %v (validated %v); want %s %s", tc.name, tc.kind, err, m, tc.key, tc.want)
		}
	}
}
