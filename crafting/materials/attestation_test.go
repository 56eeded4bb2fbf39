package materials

import (
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custody-dev/custody/cas"
	"github.com/custody-dev/custody/contract"
)

func attestationCrafter(t *testing.T) *Crafter {
	t.Helper()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return New(Options{Keychain: DockerConfigKeychain(t.TempDir()), Now: func() time.Time { return now }})
}

func TestCraftAttestation(t *testing.T) {
	const cosignStatement = "https://in-toto.io/Statement/v0.1"
	tests := []struct {
		file        string
		want        map[string]string
		wantErr     string
		notThisKind bool
	}{
		{file: "cosign-bundle.json", want: map[string]string{
			"format": "Sigstore bundle", "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
			"payloadType": "application/vnd.in-toto+json", "statementType": cosignStatement,
			"predicateType": "https://custody.dev/attestation/v1", "subjectCount": "1",
		}},
		{file: "cosign-envelope.json", want: map[string]string{
			"format": "DSSE envelope", "mediaType": "application/vnd.dsse.envelope.v1+json",
			"payloadType": "application/vnd.in-toto+json", "statementType": cosignStatement,
			"predicateType": "https://custody.dev/attestation/v1", "subjectCount": "1",
		}},
		{file: "cosign-sign-blob-bundle.json", notThisKind: true, wantErr: "holds a message signature (cosign sign-blob), not a DSSE envelope"},
		{file: "artifact.txt", notThisKind: true, wantErr: "neither a Sigstore bundle"},
		{file: "broken-payload-type.json", wantErr: `DSSE payloadType "text/plain", want application/vnd.in-toto+json`},
		{file: "broken-payload-not-base64.json", wantErr: "payload is not base64"},
		{file: "broken-no-subjects.json", wantErr: "in-toto statement has no subjects"},
		{file: "broken-no-signatures.json", wantErr: "DSSE envelope has no signatures"},
		{file: "broken-bundle-v04.json", wantErr: "bundle version v0.4 is not yet supported"},
		{file: "broken-bundle-payload-type.json", wantErr: `DSSE payloadType "application/json"`},
		{file: "broken-truncated.json", wantErr: "claims to be an attestation but is not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", "attestation", tt.file)
			m, err := attestationCrafter(t).Craft(t.Context(), contract.KindAttestation, path)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("Craft accepted %s: %v", tt.file, m.Validated)
				}
				if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), `ATTESTATION "`+path+`"`) {
					t.Errorf("error %q, want it to name the value and contain %q", err, tt.wantErr)
				}
				if got := errors.Is(err, ErrNotThisKind); got != tt.notThisKind {
					t.Errorf("errors.Is(err, ErrNotThisKind) = %v, want %v", got, tt.notThisKind)
				}
				return
			}
			if err != nil {
				t.Fatalf("Craft: %v", err)
			}
			if !maps.Equal(m.Validated, tt.want) {
				t.Errorf("Validated = %v, want %v", m.Validated, tt.want)
			}
			digest, size := fileDigestOf(t, path)
			if m.Kind != contract.KindAttestation || m.Digest != digest || m.File == nil || m.File.Size != size || m.Value != tt.file {
				t.Errorf("material = %+v", m)
			}
		})
	}
}

// Detection tries ATTESTATION first on every JSON file: every other kind's fixture, valid or
// broken, must be left to the other kinds.
func TestAttestationLeavesOtherJSONAlone(t *testing.T) {
	var files []string
	err := filepath.WalkDir("testdata", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "attestation" {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".json") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skip("no other JSON fixtures yet")
	}
	for _, path := range files {
		t.Run(path, func(t *testing.T) {
			_, err := attestationCrafter(t).Craft(t.Context(), contract.KindAttestation, path)
			if !errors.Is(err, ErrNotThisKind) {
				t.Errorf("ATTESTATION claimed %s: %v", path, err)
			}
		})
	}
}

func TestDetectAttestation(t *testing.T) {
	for _, file := range []string{"cosign-bundle.json", "cosign-envelope.json"} {
		m, err := attestationCrafter(t).Detect(t.Context(), filepath.Join("testdata", "attestation", file))
		if err != nil {
			t.Fatalf("Detect(%s): %v", file, err)
		}
		if m.Kind != contract.KindAttestation {
			t.Errorf("Detect(%s) kind = %s, want ATTESTATION", file, m.Kind)
		}
	}
	// A cosign sign-blob bundle is a signature, not an attestation: detection moves on.
	m, err := attestationCrafter(t).Detect(t.Context(), filepath.Join("testdata", "attestation", "cosign-sign-blob-bundle.json"))
	if err != nil {
		t.Fatalf("Detect(sign-blob bundle): %v", err)
	}
	if m.Kind == contract.KindAttestation {
		t.Errorf("Detect(sign-blob bundle) kind = ATTESTATION")
	}
}

func FuzzValidateAttestation(f *testing.F) {
	entries, err := os.ReadDir(filepath.Join("testdata", "attestation"))
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join("testdata", "attestation", e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "fuzz.json")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		file, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer file.Close()
		validated, err := validateAttestation(file)
		if err == nil && (validated["subjectCount"] == "" || validated["subjectCount"] == "0") {
			t.Fatalf("accepted an attestation without subjects: %v", validated)
		}
	})
}

func fileDigestOf(t *testing.T, path string) (string, int64) {
	t.Helper()
	h, err := cas.HashFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return string(h.Digest), h.Size
}
