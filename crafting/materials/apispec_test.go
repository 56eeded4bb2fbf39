package materials

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custody-dev/custody/contract"
)

// TestSpecBounds checks each bound of an API description refuses a document past it, naming it.
func TestSpecBounds(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	huge := filepath.Join(dir, "huge.yaml")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("asyncapi: 3.0.0\ninfo: {title: t, version: \"1\"}\n"); err != nil {
		t.Fatal(err)
	}
	// Sparse: the size without writing 32 MiB.
	if err := f.Truncate(maxSpecSize + 1); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	dense := writeTemp(t, "dense.yaml", "openapi: 3.0.3\ninfo: {title: t, version: \"1\"}\npaths: {}\nx-data: ["+
		strings.Repeat("0,", maxSpecDelimiters)+"0]\n")
	bomb := writeTemp(t, "bomb.yaml", "asyncapi: 3.0.0\ninfo: {title: t, version: \"1\"}\n"+aliasBomb())
	deep := writeTemp(t, "deep.json", `{"asyncapi": "3.0.0", "x": `+strings.Repeat("[", 20000)+strings.Repeat("]", 20000)+"}")
	for _, tc := range []struct {
		kind contract.Kind
		path string
		want string
	}{
		{contract.KindAsyncAPISpec, huge, "larger than the 32 MiB limit of an API description"},
		{contract.KindOpenAPISpec, dense, "more than the 1200000 an API description may have"},
		{contract.KindAsyncAPISpec, bomb, "more than 2000000 values (aliases and references expanded)"},
		{contract.KindAsyncAPISpec, deep, "JSON nests deeper than 10000 levels"},
	} {
		_, err := newDocCrafter(t).Craft(t.Context(), tc.kind, tc.path)
		checkDocError(t, err, tc.kind, tc.path, []string{tc.want}, false)
	}
}

// TestSpecMarkersPastPrefix checks a description whose version key comes after the sniffed prefix
// (as generators that sort keys write them) is no kind to detection, but is read whole and validated
// when its kind is named.
func TestSpecMarkersPastPrefix(t *testing.T) {
	t.Parallel()
	filler := strings.Repeat("x", 1024)
	var schemas []string
	for i := 0; len(schemas)*1000 < 2*sniffLimit; i++ {
		schemas = append(schemas, `"S`+itoa(i)+`": {"type": "string", "description": "`+filler+`"}`)
	}
	doc := `{"components": {"schemas": {` + strings.Join(schemas, ", ") + `}}, "info": {"title": "sorted", "version": "1"}, "openapi": "3.0.3", "paths": {}}`
	path := writeTemp(t, "sorted.json", doc)
	m, err := newDocCrafter(t).Detect(t.Context(), path)
	if err != nil || m.Kind != contract.KindArtifact {
		t.Fatalf("Detect = %v, %v; want an ARTIFACT (the markers lie past the prefix)", m, err)
	}
	m, err = newDocCrafter(t).Craft(t.Context(), contract.KindOpenAPISpec, path)
	if err != nil || m.Validated["title"] != "sorted" {
		t.Fatalf("Craft(OPENAPI_SPEC) = %v, %v; want it validated", m, err)
	}
	noMarker := writeTemp(t, "config.json", strings.Replace(doc, `"openapi": "3.0.3", `, "", 1))
	_, err = newDocCrafter(t).Craft(t.Context(), contract.KindOpenAPISpec, noMarker)
	checkDocError(t, err, contract.KindOpenAPISpec, noMarker, []string{"no openapi or swagger field, not an OpenAPI document"}, true)
	_, err = newDocCrafter(t).Craft(t.Context(), contract.KindAsyncAPISpec, noMarker)
	checkDocError(t, err, contract.KindAsyncAPISpec, noMarker, []string{"no asyncapi field, not an AsyncAPI document"}, true)
}
