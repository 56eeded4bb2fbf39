package materials

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/custody-dev/custody/contract"
	"github.com/custody-dev/custody/internal/testregistry"
)

func TestDetect(t *testing.T) {
	t.Parallel()
	reg := testregistry.New(t)
	imageDigest := reg.PushRandom(t, "skynet/control-plane:v0.7.6")
	authReg := testregistry.New(t, testregistry.WithBasicAuth("ci-bot", "s3cret"))
	authReg.PushRandom(t, "skynet/control-plane:v0.7.6")

	dir := t.TempDir()
	binary := filepath.Join(dir, "rootfs.bin")
	// An ELF-like header, then bytes no text format starts with.
	content := append([]byte("\x7fELF\x02\x01\x01"), bytes.Repeat([]byte{0, 1, 2, 0xfe}, 300)...)
	if err := os.WriteFile(binary, content, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	layoutDir := filepath.Join(dir, "image-layout")
	layoutDigest := writeLayout(t, layoutDir, layoutImage{})[0]
	plainDir := filepath.Join(dir, "plain")
	if err := os.Mkdir(plainDir, 0o755); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name       string
		value      string
		wantKind   contract.Kind
		wantValue  string
		wantDigest string
		wantErr    []string
		// wantErrKind is the kind the error says was tried; empty when the error is not an *Error.
		wantErrKind contract.Kind
	}{
		{
			name:       "image reference at a registry",
			value:      reg.Ref("skynet/control-plane:v0.7.6"),
			wantKind:   contract.KindContainerImage,
			wantValue:  reg.Host + "/skynet/control-plane@" + imageDigest,
			wantDigest: imageDigest,
		},
		{
			name:        "image reference the registry does not know is an error, not a STRING",
			value:       reg.Ref("skynet/control-plane:v9"),
			wantErr:     []string{"MANIFEST_UNKNOWN", reg.Ref("skynet/control-plane:v9")},
			wantErrKind: contract.KindContainerImage,
		},
		{
			name:        "image reference the registry refuses is an error, not a STRING",
			value:       authReg.Ref("skynet/control-plane:v0.7.6"),
			wantErr:     []string{"UNAUTHORIZED", authReg.Ref("skynet/control-plane:v0.7.6")},
			wantErrKind: contract.KindContainerImage,
		},
		{
			name:      "git commit sha",
			value:     "80e461e9b385c6986cdb8096c9dc99928943d667",
			wantKind:  contract.KindString,
			wantValue: "80e461e9b385c6986cdb8096c9dc99928943d667",
		},
		{
			name:      "version",
			value:     "v1.2.3",
			wantKind:  contract.KindString,
			wantValue: "v1.2.3",
		},
		{
			name:    "missing file named by its extension",
			value:   "missing.json",
			wantErr: []string{`"missing.json" looks like a file path`, "no such file", "--kind STRING"},
		},
		{
			name:    "missing file named by an extension of any kind",
			value:   "README.md",
			wantErr: []string{`"README.md" looks like a file path`, "no such file", "--kind STRING"},
		},
		{
			name:    "missing file named by a relative path without an extension",
			value:   "dist/custody",
			wantErr: []string{`"dist/custody" looks like a file path`, "--kind STRING", "tag or digest"},
		},
		{
			name:      "URL",
			value:     "https://github.com/custody-dev/custody/actions/runs/42",
			wantKind:  contract.KindString,
			wantValue: "https://github.com/custody-dev/custody/actions/runs/42",
		},
		{
			name:      "prerelease version",
			value:     "1.0.0-rc.1",
			wantKind:  contract.KindString,
			wantValue: "1.0.0-rc.1",
		},
		{
			name:    "missing file by path",
			value:   filepath.Join(dir, "dist", "app.tgz"),
			wantErr: []string{filepath.Join(dir, "dist", "app.tgz"), "no such file"},
		},
		{
			name:       "binary file",
			value:      binary,
			wantKind:   contract.KindArtifact,
			wantValue:  "rootfs.bin",
			wantDigest: "sha256:" + hex.EncodeToString(sum[:]),
		},
		{
			name:       "OCI image layout directory",
			value:      layoutDir,
			wantKind:   contract.KindContainerImage,
			wantValue:  "image-layout@" + layoutDigest,
			wantDigest: layoutDigest,
		},
		{
			name:       "OCI image layout written by crane",
			value:      filepath.Join("testdata", "images", "control-plane"),
			wantKind:   contract.KindContainerImage,
			wantValue:  "control-plane@sha256:ac36dc67642f7c3bf0d1d559498cdfd4a673801cd081c96f5d7621ac778d6884",
			wantDigest: "sha256:ac36dc67642f7c3bf0d1d559498cdfd4a673801cd081c96f5d7621ac778d6884",
		},
		{
			name:        "directory that is not an OCI image layout",
			value:       plainDir,
			wantErr:     []string{plainDir, "not an OCI image layout"},
			wantErrKind: contract.KindContainerImage,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := newIsolatedCrafter(t, Options{}).Detect(t.Context(), tc.value)
			if tc.wantErr != nil {
				if err == nil {
					t.Fatalf("Detect(%q) = %s %q, want an error", tc.value, m.Kind, m.Value)
				}
				for _, s := range tc.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not mention %q", err, s)
					}
				}
				var kerr *Error
				if tc.wantErrKind != "" && (!errors.As(err, &kerr) || kerr.Kind != tc.wantErrKind) {
					t.Errorf("error %v: want a %s *Error", err, tc.wantErrKind)
				}
				return
			}
			if err != nil {
				t.Fatalf("Detect(%q): %v", tc.value, err)
			}
			if m.Kind != tc.wantKind || m.Value != tc.wantValue || m.Digest != tc.wantDigest {
				t.Errorf("Detect(%q) = %s %q %q; want %s %q %q", tc.value, m.Kind, m.Value, m.Digest, tc.wantKind, tc.wantValue, tc.wantDigest)
			}
		})
	}
}

// addFixtureSeeds adds the first 512 bytes of every file under testdata/ to the corpus.
func addFixtureSeeds(f *testing.F, add func(head []byte)) {
	f.Helper()
	paths, _ := filepath.Glob(filepath.Join("testdata", "*", "*"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // a directory, such as an OCI layout's blobs
		}
		add(b[:min(len(b), 512)])
	}
}

func FuzzLooksLikeImage(f *testing.F) {
	for _, s := range []string{
		"127.0.0.1:5001/skynet/control-plane:v0.7.6",
		"registry.example.com/team/app@sha256:" + strings.Repeat("a", 64),
		"nginx", "nginx:1.27", "80e461e9b385c6986cdb8096c9dc99928943d667",
		"rootfs.tar.gz", "missing.json", "./out/oci:v1", "", ":", "@", "a@b:c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		if !looksLikeImage(value) {
			return
		}
		ref, err := name.ParseReference(value)
		if err != nil {
			t.Fatalf("looksLikeImage(%q) but ParseReference: %v", value, err)
		}
		if ref.Identifier() == "" {
			t.Errorf("looksLikeImage(%q) without a tag or digest", value)
		}
	})
}
