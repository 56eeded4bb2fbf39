package fs

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/custody-dev/custody/cas"
)

// FuzzBlobPath: whatever digest a request carries, the path is either refused or a file exactly
// two levels below blobs/sha256, named by the digest's hex.
func FuzzBlobPath(f *testing.F) {
	for _, s := range []string{
		"sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
		"sha256:../../../../../../../../../../../../../../../../../../etc/passwd",
		"sha256:" + strings.Repeat("0", 62) + "/..",
		"sha256:" + strings.Repeat("a", 64) + "/",
		"/etc/passwd", "", "sha256:", "sha256:..",
	} {
		f.Add(s)
	}
	dir := f.TempDir()
	b, err := New(dir)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = b.Close() })
	f.Fuzz(func(t *testing.T, s string) {
		p, err := b.blobPath(cas.Digest(s))
		if err != nil {
			return
		}
		if _, perr := cas.ParseDigest(s); perr != nil {
			t.Fatalf("blobPath accepted %q that ParseDigest refuses: %v", s, perr)
		}
		rel, err := filepath.Rel(b.blobs, p)
		if err != nil {
			t.Fatal(err)
		}
		parts := strings.Split(filepath.ToSlash(rel), "/")
		hex := strings.TrimPrefix(s, "sha256:")
		if len(parts) != 2 || parts[0] != hex[:2] || parts[1] != hex {
			t.Fatalf("blobPath(%q) = %s, outside blobs/sha256/<2 hex>/<hex>", s, p)
		}
	})
}
