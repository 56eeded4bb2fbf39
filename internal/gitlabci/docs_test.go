package gitlabci

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// update regenerates the components' READMEs and the inputs tables of docs/gitlab.md from the specs:
// go test ./internal/gitlabci -run TestDocs -update
var update = flag.Bool("update", false, "rewrite templates/*/README.md and the inputs tables of docs/gitlab.md")

const regenerate = "go test ./internal/gitlabci -run TestDocs -update"

// usageValues are the values a README's usage shows for the inputs it passes: the required ones,
// and the materials where a component takes them.
var usageValues = map[string]string{
	"workflow":  "build-and-test",
	"project":   "skynet",
	"materials": "|\n        app=dist/app\n        build-ref=$CI_COMMIT_SHA",
}

// inputsTable renders a component's inputs as Markdown.
func inputsTable(c *component) string {
	var b strings.Builder
	b.WriteString("| input | type | default | description |\n|---|---|---|---|\n")
	for _, name := range c.Order {
		in := c.Inputs[name]
		def := "required"
		if v, ok, _ := in.defaultValue(); ok {
			def = fmt.Sprintf("`%v`", v)
			if v == "" {
				def = "empty"
			}
		}
		desc := in.Description
		if in.Regex != "" {
			desc += fmt.Sprintf(" Must match `%s`.", in.Regex)
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", name, in.typeName(), def, desc)
	}
	return b.String()
}

// readme is a component's README.md for the catalog.
func readme(c *component) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# custody `%s` component\n\n", c.Name)
	intro := strings.TrimPrefix(c.Intro, "custody "+c.Name+": ")
	intro = strings.ToUpper(intro[:1]) + intro[1:]
	fmt.Fprintf(&b, "%s\n\n", strings.ReplaceAll(intro, "(docs/gitlab.md)", "([docs/gitlab.md](../../docs/gitlab.md))"))
	fmt.Fprintf(&b, "```yaml\ninclude:\n  - component: $CI_SERVER_FQDN/%s/%s@~latest\n", componentProject, c.Name)
	var shown []string
	for _, name := range c.Order {
		if _, ok := usageValues[name]; ok && (c.Inputs[name].required() || name == "materials") {
			shown = append(shown, name)
		}
	}
	if len(shown) > 0 {
		b.WriteString("    inputs:\n")
		for _, name := range shown {
			fmt.Fprintf(&b, "      %s: %s\n", name, usageValues[name])
		}
	}
	b.WriteString("```\n\n## Inputs\n\n")
	b.WriteString(inputsTable(c))
	fmt.Fprintf(&b, "\nGenerated from template.yml by `%s`.\n", regenerate)
	return b.Bytes()
}

// tableMarkers delimit a component's generated inputs table in docs/gitlab.md.
var tableMarkers = regexp.MustCompile("(?s)(<!-- inputs: ([a-z-]+) -->\n).*?(<!-- end of inputs -->)")

func TestDocs(t *testing.T) {
	components := loadComponents(t)
	for _, name := range wantComponents {
		c := components[name]
		path := filepath.Join(filepath.Dir(c.Path), "README.md")
		want := readme(c)
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is stale (%v): run %s", path, err, regenerate)
		}
	}

	path := filepath.Join(root, "docs", "gitlab.md")
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	want := tableMarkers.ReplaceAllFunc(got, func(m []byte) []byte {
		sub := tableMarkers.FindSubmatch(m)
		name := string(sub[2])
		seen[name] = true
		c, ok := components[name]
		if !ok {
			t.Errorf("docs/gitlab.md has a table for %s, which templates/ does not have", name)
			return m
		}
		return []byte(string(sub[1]) + "\n" + inputsTable(c) + "\n" + string(sub[3]))
	})
	for _, name := range wantComponents {
		if !seen[name] {
			t.Errorf("docs/gitlab.md has no inputs table for %s (<!-- inputs: %s --> ... <!-- end of inputs -->)", name, name)
		}
	}
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	} else if !bytes.Equal(got, want) {
		t.Errorf("the inputs tables of docs/gitlab.md are stale: run %s", regenerate)
	}
}
