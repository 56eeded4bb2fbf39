package contract

import (
	"os"
	"strings"
	"testing"
)

func readDocs(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../docs/contract.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestDocsShowRealErrors(t *testing.T) {
	docs := readDocs(t)
	const path = "testdata/invalid/three-mistakes.yaml"
	_, err := ParseFile(path)
	if err == nil {
		t.Fatal("accepted")
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		shown := "contract.yaml" + strings.TrimPrefix(line, path)
		if !strings.Contains(docs, shown) {
			t.Errorf("docs/contract.md does not show the error custody prints:\n%s", shown)
		}
	}
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	indented := "  " + strings.ReplaceAll(strings.TrimSpace(string(doc)), "\n", "\n  ")
	if !strings.Contains(docs, indented) {
		t.Errorf("docs/contract.md does not quote %s as it is", path)
	}
}

func TestDocsListEveryKindAndRunnerType(t *testing.T) {
	docs := readDocs(t)
	for _, k := range Kinds() {
		if !strings.Contains(docs, "| `"+string(k)+"` |") {
			t.Errorf("docs/contract.md has no row for the kind %s", k)
		}
	}
	for _, r := range RunnerTypes() {
		if !strings.Contains(docs, "| `"+string(r)+"` |") {
			t.Errorf("docs/contract.md has no row for the runner type %s", r)
		}
	}
}

// docs/contract.md names every credential envAllowList refuses.
func TestDocsListTheSecretEnv(t *testing.T) {
	docs := readDocs(t)
	for _, name := range SecretEnv() {
		if !strings.Contains(docs, "`"+name+"`") {
			t.Errorf("docs/contract.md does not list %s among the credentials envAllowList refuses", name)
		}
	}
}
