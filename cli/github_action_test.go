package cli

import (
	"os"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// actionFile is the part of an action.yml the tests compare.
type actionFile struct {
	Inputs  yaml.Node `yaml:"inputs"`
	Outputs yaml.Node `yaml:"outputs"`
	Runs    struct {
		Using string   `yaml:"using"`
		Image string   `yaml:"image"`
		Args  []string `yaml:"args"`
		Steps []struct {
			ID    string            `yaml:"id"`
			Shell string            `yaml:"shell"`
			Env   map[string]string `yaml:"env"`
			Run   string            `yaml:"run"`
		} `yaml:"steps"`
	} `yaml:"runs"`
}

type actionInput struct {
	Description string  `yaml:"description"`
	Required    bool    `yaml:"required"`
	Default     *string `yaml:"default"`
}

type actionOutput struct {
	Description string `yaml:"description"`
	Value       string `yaml:"value"`
}

// entries returns a mapping's keys in file order and decodes each value.
func entries[T any](t *testing.T, n yaml.Node) ([]string, map[string]T) {
	t.Helper()
	if n.Kind != yaml.MappingNode {
		t.Fatalf("line %d: not a mapping", n.Line)
	}
	var names []string
	out := map[string]T{}
	for i := 0; i < len(n.Content); i += 2 {
		var v T
		if err := n.Content[i+1].Decode(&v); err != nil {
			t.Fatalf("%s: %v", n.Content[i].Value, err)
		}
		names = append(names, n.Content[i].Value)
		out[n.Content[i].Value] = v
	}
	return names, out
}

func readAction(t *testing.T, path string) actionFile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var a actionFile
	if err := yaml.Unmarshal(b, &a); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return a
}

// TestActionDeclarations: action.yml (the container action) and its composite wrapper declare the same
// inputs and outputs, which are the ones the entrypoint reads and writes; every default is what the
// entrypoint takes for "not given"; the wrapper hands each input over as the runner hands it to the
// container.
func TestActionDeclarations(t *testing.T) {
	container := readAction(t, "../action.yml")
	local := readAction(t, "../.github/actions/custody-local/action.yml")

	names, inputs := entries[actionInput](t, container.Inputs)
	if !slices.Equal(names, ActionInputs) {
		t.Errorf("action.yml inputs %v, the entrypoint reads %v", names, ActionInputs)
	}
	localNames, localInputs := entries[actionInput](t, local.Inputs)
	if !slices.Equal(localNames, names) {
		t.Errorf("the composite wrapper's inputs %v, action.yml's %v", localNames, names)
	}
	for _, name := range names {
		in, l := inputs[name], localInputs[name]
		if in.Description != l.Description || in.Required != l.Required || (in.Default == nil) != (l.Default == nil) ||
			in.Default != nil && *in.Default != *l.Default {
			t.Errorf("input %s: action.yml %+v, the composite wrapper %+v", name, in, l)
		}
		if in.Description == "" {
			t.Errorf("input %s has no description", name)
		}
		switch {
		case name == "command":
			if !in.Required || in.Default != nil {
				t.Errorf("input command: want it required, with no default")
			}
		case in.Default == nil || given(map[string]string{name: *in.Default}, name):
			t.Errorf("input %s: default %v, which the entrypoint would take for a value given", name, in.Default)
		}
	}

	outNames, outputs := entries[actionOutput](t, container.Outputs)
	if !slices.Equal(outNames, ActionOutputs) {
		t.Errorf("action.yml outputs %v, the entrypoint writes %v", outNames, ActionOutputs)
	}
	localOutNames, localOutputs := entries[actionOutput](t, local.Outputs)
	if !slices.Equal(localOutNames, outNames) {
		t.Errorf("the composite wrapper's outputs %v, action.yml's %v", localOutNames, outNames)
	}
	for _, name := range outNames {
		if outputs[name].Description == "" || outputs[name].Description != localOutputs[name].Description {
			t.Errorf("output %s: descriptions %q and %q", name, outputs[name].Description, localOutputs[name].Description)
		}
		if want := "${{ steps.custody.outputs." + name + " }}"; localOutputs[name].Value != want {
			t.Errorf("the composite wrapper's output %s is %q, want %q", name, localOutputs[name].Value, want)
		}
	}

	if r := container.Runs; r.Using != "docker" || !strings.HasPrefix(r.Image, "docker://") || !slices.Equal(r.Args, []string{"github-action"}) {
		t.Errorf("action.yml runs %+v: want the published image (docker://) with args [github-action]", r)
	}
	r := local.Runs
	if r.Using != "composite" || len(r.Steps) != 1 || r.Steps[0].ID != "custody" || r.Steps[0].Run != "custody github-action" {
		t.Fatalf("the composite wrapper runs %+v: want one step custody running `custody github-action`", r)
	}
	env := r.Steps[0].Env
	for _, name := range names {
		key := "INPUT_" + strings.ToUpper(name)
		if want := "${{ inputs." + name + " }}"; env[key] != want {
			t.Errorf("the composite wrapper sets %s=%q, want %q", key, env[key], want)
		}
	}
	if len(env) != len(names) {
		t.Errorf("the composite wrapper sets %d variables for %d inputs: %v", len(env), len(names), env)
	}
}

// TestActionCommandsTakeDeclaredInputs: every input a command takes is declared, and the help of each
// input names the commands that take it.
func TestActionCommandsTakeDeclaredInputs(t *testing.T) {
	_, inputs := entries[actionInput](t, readAction(t, "../action.yml").Inputs)
	for command, takes := range actionCommands {
		for _, name := range takes {
			in, ok := inputs[name]
			if !ok {
				t.Errorf("command %s takes input %s, which action.yml does not declare", command, name)
				continue
			}
			if name != "attestation-id" && !strings.Contains(in.Description, command) {
				t.Errorf("input %s: its description %q does not name command %s, which takes it", name, in.Description, command)
			}
		}
	}
}
