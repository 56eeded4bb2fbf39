package gitlabci

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// root is the repository, from this package's directory.
var root = filepath.Join("..", "..")

// componentProject is the GitLab project path the components are published under; every
// `include: component:` of the examples and docs names one of them there.
const componentProject = "custody-dev/custody"

// component is one GitLab CI/CD component: templates/<name>/template.yml, in the catalog's layout
// for a component with files of its own (its README.md).
type component struct {
	Name   string
	Path   string
	Intro  string           // the comment that opens the file, as prose
	Inputs map[string]input // spec:inputs
	Order  []string         // the inputs in the order the spec declares them
	Body   string           // the jobs: the document after the spec's
}

// input is one entry of spec:inputs, with the keys GitLab reads.
type input struct {
	Type        string    `yaml:"type"`
	Default     yaml.Node `yaml:"default"` // Kind 0: none, the input is required
	Description string    `yaml:"description"`
	Regex       string    `yaml:"regex"`
	Options     []any     `yaml:"options"`
}

// typeName is the input's type, string when the spec says none (as GitLab reads it).
func (in input) typeName() string {
	if in.Type == "" {
		return "string"
	}
	return in.Type
}

// defaultValue decodes the input's default; ok is false for a required input.
func (in input) defaultValue() (v any, ok bool, err error) {
	if in.required() {
		return nil, false, nil
	}
	err = in.Default.Decode(&v)
	return v, true, err
}

// required says the input has no default.
func (in input) required() bool { return in.Default.Kind == 0 }

// accepts says why GitLab would refuse v for the input, or "" when it takes it.
func (in input) accepts(v any) string {
	switch in.typeName() {
	case "string":
		s, ok := v.(string)
		if !ok {
			return fmt.Sprintf("%v is a %T, not a string", v, v)
		}
		if in.Regex != "" {
			re, err := regexp.Compile(in.Regex)
			if err != nil {
				return fmt.Sprintf("its regex %s does not compile: %v", in.Regex, err)
			}
			if !re.MatchString(s) {
				return fmt.Sprintf("%q does not match the regex %s", s, in.Regex)
			}
		}
	case "number":
		switch v.(type) {
		case int, float64:
		default:
			return fmt.Sprintf("%v is a %T, not a number", v, v)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return fmt.Sprintf("%v is a %T, not a boolean", v, v)
		}
	case "array":
		if _, ok := v.([]any); !ok {
			return fmt.Sprintf("%v is a %T, not an array", v, v)
		}
	default:
		return fmt.Sprintf("type %q is none of string, number, boolean, array", in.Type)
	}
	if len(in.Options) > 0 && !slices.Contains(in.Options, v) {
		return fmt.Sprintf("%v is none of the options %v", v, in.Options)
	}
	return ""
}

// check says what GitLab would refuse in the inputs given to the component: unknown inputs, missing
// required ones, values of the wrong type, out of the options, or that the regex does not match.
func (c *component) check(given map[string]any) []string {
	var problems []string
	names := make([]string, 0, len(given))
	for name := range given {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		in, ok := c.Inputs[name]
		if !ok {
			problems = append(problems, fmt.Sprintf("unknown input %s (%s declares %s)", name, c.Name, strings.Join(c.Order, ", ")))
			continue
		}
		if why := in.accepts(given[name]); why != "" {
			problems = append(problems, fmt.Sprintf("input %s: %s", name, why))
		}
	}
	for _, name := range c.Order {
		if _, ok := given[name]; !ok && c.Inputs[name].required() {
			problems = append(problems, fmt.Sprintf("input %s is required", name))
		}
	}
	return problems
}

// loadComponents reads every component of templates/.
func loadComponents(t testing.TB) map[string]*component {
	t.Helper()
	if single, _ := filepath.Glob(filepath.Join(root, "templates", "*.yml")); len(single) > 0 {
		t.Fatalf("%v: components live in templates/<name>/template.yml, beside their README.md", single)
	}
	paths, err := filepath.Glob(filepath.Join(root, "templates", "*", "template.yml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no component in templates/ (%v)", err)
	}
	out := map[string]*component{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		c, err := parseComponent(filepath.Base(filepath.Dir(p)), p, string(b))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out[c.Name] = c
	}
	return out
}

// parseComponent reads a component file: its opening comment, the spec document, the jobs.
func parseComponent(name, path, text string) (*component, error) {
	header, body, ok := strings.Cut(text, "\n---\n")
	if !ok {
		return nil, fmt.Errorf("no --- between the spec and the jobs")
	}
	c := &component{Name: name, Path: path, Body: body, Inputs: map[string]input{}}
	var intro []string
	for _, line := range strings.Split(header, "\n") {
		rest, ok := strings.CutPrefix(line, "#")
		if !ok {
			break
		}
		intro = append(intro, strings.TrimSpace(rest))
	}
	c.Intro = strings.Join(intro, " ")
	var doc struct {
		Spec struct {
			Inputs yaml.Node `yaml:"inputs"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal([]byte(header), &doc); err != nil {
		return nil, fmt.Errorf("spec: %w", err)
	}
	inputs := doc.Spec.Inputs
	if inputs.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("spec:inputs is not a mapping")
	}
	for i := 0; i < len(inputs.Content); i += 2 {
		var in input
		if err := inputs.Content[i+1].Decode(&in); err != nil {
			return nil, fmt.Errorf("input %s: %w", inputs.Content[i].Value, err)
		}
		c.Order = append(c.Order, inputs.Content[i].Value)
		c.Inputs[inputs.Content[i].Value] = in
	}
	return c, nil
}

// include is one `include: component:` entry of a pipeline.
type include struct {
	Component string         `yaml:"component"`
	Inputs    map[string]any `yaml:"inputs"`
}

var componentAddress = regexp.MustCompile(`^[^/\s]+/` + regexp.QuoteMeta(componentProject) + `/([a-z0-9-]+)@\S+$`)

// checkIncludes returns what GitLab would refuse in the component includes of a pipeline's YAML,
// and how many includes it checked.
func checkIncludes(components map[string]*component, pipeline []byte) (problems []string, n int, err error) {
	var doc struct {
		Include []include `yaml:"include"`
	}
	if err := yaml.Unmarshal(pipeline, &doc); err != nil {
		return nil, 0, err
	}
	for _, inc := range doc.Include {
		if inc.Component == "" {
			continue
		}
		n++
		m := componentAddress.FindStringSubmatch(inc.Component)
		if m == nil {
			problems = append(problems, fmt.Sprintf("component %s: not HOST/%s/NAME@VERSION", inc.Component, componentProject))
			continue
		}
		c, ok := components[m[1]]
		if !ok {
			problems = append(problems, fmt.Sprintf("component %s: templates/ has no component %s", inc.Component, m[1]))
			continue
		}
		for _, p := range c.check(inc.Inputs) {
			problems = append(problems, m[1]+": "+p)
		}
	}
	return problems, n, nil
}
