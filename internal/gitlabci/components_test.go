package gitlabci

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/custody-dev/custody/contract"
)

// The components the catalog publishes.
var wantComponents = []string{"add", "attest", "init", "push", "reset"}

// The check refuses what GitLab refuses, so the tests built on it can fail.
func TestCheckRefusesWhatGitLabRefuses(t *testing.T) {
	t.Parallel()
	c, err := parseComponent("demo", "demo.yml", `spec:
  inputs:
    name:
      regex: ^[a-z]+$
    count:
      type: number
      default: 1
    on:
      type: boolean
      default: false
    tags:
      type: array
      default: []
    mode:
      default: fast
      options: [fast, slow]
---
job: {script: [true]}
`)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		given map[string]any
		want  string
	}{
		{map[string]any{"name": "ok"}, ""},
		{map[string]any{"name": "ok", "count": 2.5, "on": true, "tags": []any{"a"}, "mode": "slow"}, ""},
		{map[string]any{}, "input name is required"},
		{map[string]any{"name": "ok", "nmae": "x"}, "unknown input nmae (demo declares name, count, on, tags, mode)"},
		{map[string]any{"name": "Not-OK"}, `input name: "Not-OK" does not match the regex ^[a-z]+$`},
		{map[string]any{"name": 7}, "input name: 7 is a int, not a string"},
		{map[string]any{"name": "ok", "count": "2"}, "input count: 2 is a string, not a number"},
		{map[string]any{"name": "ok", "on": "true"}, "input on: true is a string, not a boolean"},
		{map[string]any{"name": "ok", "tags": "a"}, "input tags: a is a string, not an array"},
		{map[string]any{"name": "ok", "mode": "medium"}, "input mode: medium is none of the options [fast slow]"},
	}
	for _, tt := range tests {
		got := strings.Join(c.check(tt.given), "; ")
		if got != tt.want {
			t.Errorf("check(%v) = %q, want %q", tt.given, got, tt.want)
		}
	}
}

// Every component declares its inputs as the catalog shows them (typed, described, with defaults
// that pass their own checks), uses each, and runs its job with the image, stage and ID token its
// inputs name.
func TestComponentSpecs(t *testing.T) {
	t.Parallel()
	components := loadComponents(t)
	var names []string
	for name := range components {
		names = append(names, name)
	}
	sort.Strings(names)
	if !slices.Equal(names, wantComponents) {
		t.Fatalf("templates/ has %v, want %v", names, wantComponents)
	}
	interpolation := regexp.MustCompile(`\$\[\[\s*inputs\.([A-Za-z0-9_-]+)\s*\]\]`)
	defaults := map[string]map[string]string{} // input -> default -> component
	for _, name := range names {
		c := components[name]
		if _, err := os.Stat(filepath.Join(filepath.Dir(c.Path), "README.md")); err != nil {
			t.Errorf("%s has no README.md: %v", name, err)
		}
		if c.Intro == "" {
			t.Errorf("%s: template.yml opens with no comment saying what the component does", name)
		}
		for _, in := range c.Order {
			spec := c.Inputs[in]
			if spec.Description == "" {
				t.Errorf("%s: input %s has no description", name, in)
			}
			v, ok, err := spec.defaultValue()
			if err != nil {
				t.Errorf("%s: input %s: default: %v", name, in, err)
			}
			if ok {
				if why := spec.accepts(v); why != "" {
					t.Errorf("%s: input %s: the default %s", name, in, why)
				}
				if s, isString := v.(string); isString {
					if defaults[in] == nil {
						defaults[in] = map[string]string{}
					}
					defaults[in][s] = name
				}
			}
			if !slices.Contains([]string{"string", "number", "boolean", "array"}, spec.typeName()) {
				t.Errorf("%s: input %s: type %q is none of GitLab's", name, in, spec.Type)
			}
		}
		used := map[string]bool{}
		for _, m := range interpolation.FindAllStringSubmatch(c.Body, -1) {
			used[m[1]] = true
			if _, ok := c.Inputs[m[1]]; !ok {
				t.Errorf("%s: the jobs use inputs.%s, which the spec does not declare (GitLab: unknown interpolation key)", name, m[1])
			}
		}
		for _, in := range c.Order {
			if !used[in] {
				t.Errorf("%s: input %s is declared but no job uses it", name, in)
			}
		}
		checkJobs(t, c)
	}
	// Inputs shared by the components mean the same everywhere.
	for _, in := range []string{"audience", "image", "control-plane", "attestation-id"} {
		if len(defaults[in]) > 1 {
			t.Errorf("input %s has different defaults: %v", in, defaults[in])
		}
	}
	if _, ok := defaults["audience"]["custody"]; !ok {
		t.Errorf("the audience defaults to %v, want custody (custodyd's --oidc-audience default)", defaults["audience"])
	}
}

// job is the part of a component's job the tests hold to its inputs.
type job struct {
	Stage string `yaml:"stage"`
	Image struct {
		Name       string   `yaml:"name"`
		Entrypoint []string `yaml:"entrypoint"`
	} `yaml:"image"`
	IDTokens    map[string]struct{ Aud string } `yaml:"id_tokens"`
	Script      []string                        `yaml:"script"`
	AfterScript []string                        `yaml:"after_script"`
	Variables   map[string]string               `yaml:"variables"`
}

func checkJobs(t *testing.T, c *component) {
	t.Helper()
	var jobs map[string]job
	if err := yaml.Unmarshal([]byte(c.Body), &jobs); err != nil {
		t.Errorf("%s: jobs: %v", c.Name, err)
		return
	}
	j, ok := jobs["$[[ inputs.job-name ]]"]
	if len(jobs) != 1 || !ok {
		t.Errorf("%s: want one job named by the job-name input, have %d", c.Name, len(jobs))
		return
	}
	if j.Stage != "$[[ inputs.stage ]]" || j.Image.Name != "$[[ inputs.image ]]" || !slices.Equal(j.Image.Entrypoint, []string{""}) {
		t.Errorf("%s: stage %q, image %q with entrypoint %q; want the inputs, and the image's entrypoint cleared (a custody entrypoint would swallow the job's shell)",
			c.Name, j.Stage, j.Image.Name, j.Image.Entrypoint)
	}
	if tok, ok := j.IDTokens["CUSTODY_ID_TOKEN"]; !ok || tok.Aud != "$[[ inputs.audience ]]" || len(j.IDTokens) != 1 {
		t.Errorf("%s: id_tokens %v; want CUSTODY_ID_TOKEN with aud $[[ inputs.audience ]] (custody reads that variable by default)", c.Name, j.IDTokens)
	}
	// An input interpolated into the script would run as shell: "x; curl ... | sh" as a material.
	for _, line := range append(append([]string{}, j.Script...), j.AfterScript...) {
		if strings.Contains(line, "$[[") {
			t.Errorf("%s: a script interpolates an input; pass it through variables instead:\n%s", c.Name, line)
		}
	}
	for name := range j.Variables {
		if !strings.HasPrefix(name, "CUSTODY_INPUT_") {
			t.Errorf("%s: job variable %s: the component's own variables are CUSTODY_INPUT_*, so none hides a CI/CD variable custody reads", c.Name, name)
		}
	}
}

// The regex of the workflow and project inputs is the control plane's own rule for names, so a name
// GitLab lets through is one custodyd takes.
func TestNameRegexIsTheContractRule(t *testing.T) {
	t.Parallel()
	components := loadComponents(t)
	names := []string{"", "a", "skynet", "build-and-test", "a1", "1a", "-a", "a-", "A", "a_b", "a.b", "a b", "skynet\n",
		"é", strings.Repeat("a", 63), strings.Repeat("a", 64), "a--b"}
	for _, c := range components {
		for _, in := range []string{"workflow", "project"} {
			spec, ok := c.Inputs[in]
			if !ok {
				continue
			}
			re := regexp.MustCompile(spec.Regex)
			for _, n := range names {
				if re.MatchString(n) != contract.IsDNS1123Label(n) {
					t.Errorf("%s: input %s: regex says %v for %q, custodyd says %v", c.Name, in, re.MatchString(n), n, contract.IsDNS1123Label(n))
				}
			}
		}
	}
}

func FuzzNameRegexIsTheContractRule(f *testing.F) {
	c := loadComponents(f)["attest"]
	re := regexp.MustCompile(c.Inputs["workflow"].Regex)
	for _, s := range []string{"skynet", "a-b", "-", strings.Repeat("x", 64)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if re.MatchString(s) != contract.IsDNS1123Label(s) {
			t.Errorf("regex says %v for %q, custodyd says %v", re.MatchString(s), s, contract.IsDNS1123Label(s))
		}
	})
}

// yamlBlock is a fenced YAML block of a Markdown page.
var yamlBlock = regexp.MustCompile("(?s)```yaml\n(.*?)```")

// Every `include: component:` that the examples, the README and the docs show passes inputs the
// component declares, of its types, and every input it requires: real GitLab refuses the pipeline
// otherwise, while gitlab-ci-local ignores an unknown input.
func TestEveryIncludeIsDeclared(t *testing.T) {
	t.Parallel()
	components := loadComponents(t)
	pipelines, _ := filepath.Glob(filepath.Join(root, "examples", "gitlab", "*", ".gitlab-ci.yml"))
	if len(pipelines) < 3 {
		t.Fatalf("examples/gitlab has %d pipelines", len(pipelines))
	}
	docs := []string{"README.md", filepath.Join("docs", "gitlab.md"), filepath.Join("examples", "gitlab", "README.md")}
	for _, name := range wantComponents {
		docs = append(docs, filepath.Join("templates", name, "README.md"))
	}
	check := func(where string, b []byte, wantIncludes bool) {
		problems, n, err := checkIncludes(components, b)
		if err != nil {
			t.Errorf("%s: %v", where, err)
		}
		for _, p := range problems {
			t.Errorf("%s: %s", where, p)
		}
		if wantIncludes && n == 0 {
			t.Errorf("%s includes no component", where)
		}
	}
	for _, p := range pipelines {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		check(p, b, true)
	}
	for _, d := range docs {
		b, err := os.ReadFile(filepath.Join(root, d))
		if err != nil {
			t.Fatal(err)
		}
		blocks := 0
		for _, m := range yamlBlock.FindAllSubmatch(b, -1) {
			if strings.Contains(string(m[1]), "component:") {
				blocks++
				check(d, m[1], true)
			}
		}
		if blocks == 0 {
			t.Errorf("%s shows no `include: component:`", d)
		}
	}
}
