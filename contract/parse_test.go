package contract

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// problem is one expected FieldError: the field path, its line and a part of the reason.
type problem struct {
	path   string
	line   int
	reason string
}

// rejectCase is a document the parser must reject with exactly the listed problems. schema says
// whether docs/contract.schema.json can express the rule, and so must reject the document too.
type rejectCase struct {
	name   string
	doc    string
	want   []problem
	schema bool
}

// allKinds is how an error lists the valid kinds: every kind, in the order of Kinds().
var allKinds = func() string {
	var names []string
	for _, k := range Kinds() {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}()

const allRunners = "GITHUB_ACTION, GITLAB_PIPELINE, AZURE_PIPELINE, JENKINS_JOB, CIRCLECI_BUILD, TEKTON_PIPELINE, DAGGER_PIPELINE, BUILDKITE_PIPELINE, TEAMCITY_PIPELINE"

// rejectCases are copies of a small valid contract broken in one or two places; the comment of
// each says how.
var rejectCases = []rejectCase{
	{
		name: "misspelt material field", // "type" written "typ"
		doc: `apiVersion: custody.dev/v1
kind: Contract
metadata:
  name: build-and-test
spec:
  materials:
    - name: rootfs
      typ: ARTIFACT
`,
		want: []problem{
			{"spec.materials[0].type", 7, "required: one of " + allKinds},
			{"spec.materials[0].typ", 8, `unknown field "typ", did you mean "type"? (known fields: name, type, optional, output, annotations, skipUpload)`},
		},
		schema: true,
	},
	{
		name: "misspelt optional field", // "optional" written "optinal"; nothing else wrong
		doc: `apiVersion: custody.dev/v1
kind: Contract
metadata:
  name: build-and-test
spec:
  materials:
    - name: dockerfile
      type: ARTIFACT
      optinal: true
`,
		want:   []problem{{"spec.materials[0].optinal", 9, `unknown field "optinal", did you mean "optional"?`}},
		schema: true,
	},
	{
		name: "unknown annotation and runner fields", // "val" for "value", "kind" in runner
		doc: `apiVersion: custody.dev/v1
kind: Contract
metadata:
  name: build-and-test
spec:
  annotations:
    - name: team
      val: core
  runner:
    type: GITHUB_ACTION
    kind: hosted
`,
		want: []problem{
			{"spec.annotations[0].val", 8, `unknown field "val", did you mean "value"? (known fields: name, value)`},
			{"spec.runner.kind", 11, `unknown field "kind" (known fields: type)`},
		},
		schema: true,
	},
	{
		name: "unknown top-level field", // "spec" written "specs"
		doc: `apiVersion: custody.dev/v1
kind: Contract
metadata:
  name: build-and-test
specs:
  materials: []
`,
		want:   []problem{{"specs", 5, `unknown field "specs", did you mean "spec"?`}},
		schema: true,
	},
	{
		name: "unknown material type", // CONTAINER_IMAGE shortened
		doc: `apiVersion: custody.dev/v1
kind: Contract
metadata:
  name: build-and-test
spec:
  materials:
    - name: skynet-control-plane
      type: CONTAINER
      output: true
`,
		want:   []problem{{"spec.materials[0].type", 8, `unknown material type "CONTAINER": valid types are ` + allKinds}},
		schema: true,
	},
	{
		name: "unknown runner type", // GITHUB_ACTION shortened
		doc: `apiVersion: custody.dev/v1
kind: Contract
metadata:
  name: build-and-test
spec:
  runner:
    type: GITHUB
`,
		want:   []problem{{"spec.runner.type", 7, `unknown runner type "GITHUB": valid types are ` + allRunners}},
		schema: true,
	},
	{
		name: "runner without type", // type removed
		doc: `apiVersion: custody.dev/v1
kind: Contract
metadata:
  name: build-and-test
spec:
  runner: {}
`,
		want:   []problem{{"spec.runner.type", 6, "required: one of " + allRunners}},
		schema: true,
	},
	{
		name: "wrong apiVersion and kind", // v1 -> v2, Contract -> Workflow
		doc: `apiVersion: custody.dev/v2
kind: Workflow
metadata:
  name: build-and-test
`,
		want: []problem{
			{"apiVersion", 1, `must be "custody.dev/v1", got "custody.dev/v2"`},
			{"kind", 2, `must be "Contract", got "Workflow"`},
		},
		schema: true,
	},
	{
		name: "missing apiVersion and kind", // both lines removed
		doc: `metadata:
  name: build-and-test
`,
		want: []problem{
			{"apiVersion", 1, `required: must be "custody.dev/v1"`},
			{"kind", 1, `required: must be "Contract"`},
		},
		schema: true,
	},
	{
		name: "missing metadata.name", // name replaced by description
		doc: `apiVersion: custody.dev/v1
kind: Contract
metadata:
  description: no name
`,
		want:   []problem{{"metadata.name", 4, "required: name the contract"}},
		schema: true,
	},
	{
		name: "contract name with capitals", // name written in CamelCase
		doc: `apiVersion: custody.dev/v1
kind: Contract
metadata:
  name: BuildAndTest
`,
		want:   []problem{{"metadata.name", 4, `"BuildAndTest" is not a valid contract name`}},
		schema: true,
	},
	{
		name: "material names not DNS labels", // an underscore, a capital, a trailing '-', 64 characters
		doc: `apiVersion: custody.dev/v1
kind: Contract
metadata:
  name: build-and-test
spec:
  materials:
    - name: root_fs
      type: ARTIFACT
    - name: Dockerfile
      type: ARTIFACT
    - name: build-
      type: STRING
    - name: ` + strings.Repeat("a", 64) + `
      type: STRING
`,
		want: []problem{
			{"spec.materials[0].name", 7, `"root_fs" is not a valid material name: use lowercase letters, digits and '-', start and end with a letter or digit, at most 63 characters`},
			{"spec.materials[1].name", 9, `"Dockerfile" is not a valid material name`},
			{"spec.materials[2].name", 11, `"build-" is not a valid material name`},
			{"spec.materials[3].name", 13, "is not a valid material name"},
		},
		schema: true,
	},
	{
		name: "duplicate material names", // rootfs listed twice
		doc: `apiVersion: custody.dev/v1
kind: Contract
metadata:
  name: build-and-test
spec:
  materials:
    - name: rootfs
      type: ARTIFACT
    - name: dockerfile
      type: ARTIFACT
    - name: rootfs
      type: STRING
`,
		want: []problem{{"spec.materials[2].name", 11, `duplicate material name "rootfs" (first used at spec.materials[0], line 7)`}},
	},
	{
		name: "duplicate annotation names", // "team" twice in the spec, "arch" twice in a material
		doc: `apiVersion: custody.dev/v1
kind: Contract
metadata:
  name: build-and-test
spec:
  annotations:
    - name: team
      value: core
    - name: team
  materials:
    - name: rootfs
      type: ARTIFACT
      annotations:
        - name: arch
        - name: arch
          value: arm64
`,
		want: []problem{
			{"spec.annotations[1].name", 9, `duplicate annotation name "team" (first used at spec.annotations[0], line 7)`},
			{"spec.materials[0].annotations[1].name", 15, `duplicate annotation name "arch" (first used at spec.materials[0].annotations[0], line 14)`},
		},
	},
	{
		name: "bad annotation names", // a space, an empty name, a leading '/'
		doc: `apiVersion: custody.dev/v1
kind: Contract
metadata:
  name: build-and-test
  annotations:
    "/owner": me
spec:
  annotations:
    - name: release train
    - name: ""
`,
		want: []problem{
			{`metadata.annotations["/owner"]`, 6, `"/owner" is not a valid annotation name: use letters, digits, '.', '_', '/' and '-', start and end with a letter or digit, at most 253 characters`},
			{"spec.annotations[0].name", 9, `"release train" is not a valid annotation name`},
			{"spec.annotations[1].name", 10, "required: every annotation needs a name"},
		},
		schema: true,
	},
	{
		name: "bad envAllowList entries", // a leading digit, a '-', a '=' and a repeat
		doc: `apiVersion: custody.dev/v1
kind: Contract
metadata:
  name: build-and-test
spec:
  envAllowList:
    - 1PASSWORD
    - MY-VAR
    - GOOS=linux
    - HOME
    - HOME
`,
		want: []problem{
			{"spec.envAllowList[0]", 7, `"1PASSWORD" is not a valid environment variable name: use letters, digits and '_', not starting with a digit`},
			{"spec.envAllowList[1]", 8, `"MY-VAR" is not a valid environment variable name`},
			{"spec.envAllowList[2]", 9, `"GOOS=linux" is not a valid environment variable name`},
			{"spec.envAllowList[4]", 11, `duplicate entry "HOME" (first at spec.envAllowList[3])`},
		},
		schema: true,
	},
	{
		name: "credentials in envAllowList", // custody's token, the key's password, a CI job token
		doc: `apiVersion: custody.dev/v1
kind: Contract
metadata:
  name: build-and-test
spec:
  envAllowList:
    - GOOS
    - CUSTODY_TOKEN
    - COSIGN_PASSWORD
    - CI_JOB_TOKEN
    - GH_TOKEN
`,
		want: []problem{
			{"spec.envAllowList[1]", 8, `"CUSTODY_TOKEN" is a credential (custody's API token): custody never records credentials in an attestation; remove it from envAllowList`},
			{"spec.envAllowList[2]", 9, `"COSIGN_PASSWORD" is a credential (the password of the signing key)`},
			{"spec.envAllowList[3]", 10, `"CI_JOB_TOKEN" is a credential (the GitLab CI/CD job token)`},
			{"spec.envAllowList[4]", 11, `"GH_TOKEN" is a credential (the GitHub CLI's token, set to the job token where workflows run gh)`},
		},
		schema: true,
	},
	{
		name: "a credential in another case", // Windows reads github_token as GITHUB_TOKEN
		doc: `apiVersion: custody.dev/v1
kind: Contract
metadata:
  name: build-and-test
spec:
  envAllowList: [github_token]
`,
		want: []problem{
			{"spec.envAllowList[0]", 6, `"github_token" is a credential (the GitHub Actions job token)`},
		},
	},
	{
		name: "wrong value types", // a number for a name, "yes" for a boolean, a list for a string
		doc: `apiVersion: custody.dev/v1
kind: Contract
metadata:
  name: build-and-test
  description: [a, b]
spec:
  materials:
    - name: 42
      type: STRING
      optional: yes
`,
		want: []problem{
			{"metadata.description", 5, "must be a string, got a list"},
			{"spec.materials[0].name", 8, `must be a string, got the number 42 (quote it: "42")`},
			{"spec.materials[0].optional", 10, `must be true or false, got the string "yes"`},
		},
		schema: true,
	},
	{
		name: "lists and mappings swapped", // materials as a mapping, metadata as a list
		doc: `apiVersion: custody.dev/v1
kind: Contract
metadata:
  - name: build-and-test
spec:
  materials:
    rootfs: ARTIFACT
`,
		want: []problem{
			{"metadata", 4, "must be a mapping of fields, got a list"},
			{"spec.materials", 7, "must be a list, got a mapping"},
		},
		schema: true,
	},
	{
		name: "empty list item", // a '-' with nothing after it
		doc: `apiVersion: custody.dev/v1
kind: Contract
metadata:
  name: build-and-test
spec:
  materials:
    -
    - name: rootfs
      type: ARTIFACT
`,
		want:   []problem{{"spec.materials[0]", 7, "must not be empty (null)"}},
		schema: true,
	},
	{
		name: "STRING as output", // output: true on a STRING
		doc: `apiVersion: custody.dev/v1
kind: Contract
metadata:
  name: build-and-test
spec:
  materials:
    - name: build-ref
      type: STRING
      output: true
`,
		want:   []problem{{"spec.materials[0].output", 9, "a STRING material has no digest and cannot be an output"}},
		schema: true,
	},
	{
		name: "duplicate YAML keys", // "type" twice, "name" twice
		doc: `apiVersion: custody.dev/v1
kind: Contract
metadata:
  name: build-and-test
  name: other
spec:
  materials:
    - name: rootfs
      type: ARTIFACT
      type: STRING
`,
		want: []problem{
			{"metadata.name", 5, `duplicate key "name" (first set at line 4)`},
			{"spec.materials[0].type", 10, `duplicate key "type" (first set at line 9)`},
		},
	},
	{
		name: "merge key", // a YAML merge key instead of the fields
		doc: `apiVersion: custody.dev/v1
kind: Contract
metadata:
  name: build-and-test
spec:
  materials:
    - &base
      name: rootfs
      type: ARTIFACT
    - <<: *base
      name: dockerfile
`,
		want: []problem{
			{`spec.materials[1]["<<"]`, 10, "YAML merge keys (<<) are not supported in contracts"},
			{"spec.materials[1].type", 10, "required"},
		},
	},
	{
		name: "two documents", // a second contract appended after '---'
		doc: `apiVersion: custody.dev/v1
kind: Contract
metadata:
  name: build-and-test
---
apiVersion: custody.dev/v1
kind: Contract
metadata:
  name: other
`,
		want: []problem{{"", 5, "a second YAML document starts here: a contract file holds exactly one document"}},
	},
	{
		name: "YAML syntax error", // an unclosed flow sequence
		doc: `apiVersion: custody.dev/v1
kind: Contract
metadata:
  name: build-and-test
spec:
  envAllowList: [HOME, PATH
`,
		// yaml.v3 points at the line where the open list starts.
		want: []problem{{"", 6, "invalid YAML: did not find expected ',' or ']'"}},
	},
	{
		name: "bad indentation", // description indented one space less than name
		doc: `apiVersion: custody.dev/v1
kind: Contract
metadata:
  name: build-and-test
 description: builds
`,
		want: []problem{{"", 5, "invalid YAML: did not find expected key"}},
	},
	{
		name: "custom YAML tag", // a tag custody does not know on a mapping and on a string
		doc: `apiVersion: custody.dev/v1
kind: Contract
metadata:
  name: !env CONTRACT_NAME
spec: !include spec.yaml
`,
		want: []problem{
			{"metadata.name", 4, "must be a string, got a value tagged !env"},
			{"spec", 5, "must be a mapping of fields, got a value tagged !include"},
		},
	},
	{
		name: "tab indentation", // a tab where YAML needs spaces
		doc:  "apiVersion: custody.dev/v1\nkind: Contract\nmetadata:\n\tname: build-and-test\n",
		want: []problem{{"", 4, "invalid YAML: found character that cannot start any token"}},
	},
	{
		name: "empty input",
		doc:  "  \n\n",
		want: []problem{{"", 0, "the document is empty: a contract needs apiVersion, kind, metadata and spec"}},
	},
	{
		name: "only comments",
		doc:  "# apiVersion: custody.dev/v1\n",
		want: []problem{{"", 0, "the document is empty"}},
	},
	{
		name: "not a mapping", // a list at the top
		doc:  "- apiVersion: custody.dev/v1\n",
		want: []problem{{"", 1, "must be a mapping of fields, got a list"}},
	},
	{
		name: "JSON unknown field and bad type", // "typ" for "type", a number for a name
		doc: `{
  "apiVersion": "custody.dev/v1",
  "kind": "Contract",
  "metadata": {"name": "build-and-test"},
  "spec": {
    "materials": [
      {"name": 7, "typ": "STRING"}
    ]
  }
}`,
		want: []problem{
			{"spec.materials[0].type", 7, "required"},
			{"spec.materials[0].name", 7, "must be a string, got the number 7"},
			{"spec.materials[0].typ", 7, `unknown field "typ", did you mean "type"?`},
		},
		schema: true,
	},
	{
		name: "JSON duplicate key", // "kind" twice
		doc:  `{"apiVersion": "custody.dev/v1", "kind": "Contract", "kind": "Contract", "metadata": {"name": "x"}}`,
		want: []problem{{"kind", 1, `duplicate key "kind" (first set at line 1, column 34)`}},
	},
	{
		name: "JSON syntax error", // a trailing comma
		doc: `{
  "apiVersion": "custody.dev/v1",
  "kind": "Contract",
}`,
		want: []problem{{"", 4, "invalid JSON: invalid character '}' looking for beginning of object key string"}},
	},
	{
		name: "JSON trailing data", // two objects
		doc:  `{"apiVersion": "custody.dev/v1"} {}`,
		want: []problem{{"", 1, "invalid JSON: invalid character '{' after top-level value"}},
	},
}

// checkProblems asserts err is exactly the wanted problems, in order, and that each one reads, as
// a user sees it, with its line, its path and its reason.
func checkProblems(t *testing.T, err error, want []problem) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted; want %d problems", len(want))
	}
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("errors.Is(err, ErrInvalid) = false for %v", err)
	}
	var got Errors
	if !errors.As(err, &got) {
		t.Fatalf("error is %T, not Errors: %v", err, err)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(got), len(want), err)
	}
	for i, w := range want {
		g := got[i]
		if g.Path != w.path || g.Line != w.line || !strings.Contains(g.Reason, w.reason) {
			t.Errorf("problem %d = {path %q, line %d, reason %q}\nwant {path %q, line %d, reason containing %q}",
				i, g.Path, g.Line, g.Reason, w.path, w.line, w.reason)
		}
		msg := g.Error()
		for _, part := range []string{w.path, w.reason} {
			if !strings.Contains(msg, part) {
				t.Errorf("message %q does not contain %q", msg, part)
			}
		}
		if w.line > 0 && !strings.HasPrefix(msg, "line ") {
			t.Errorf("message %q does not start with its line", msg)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for _, tc := range rejectCases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.doc))
			if c != nil {
				t.Errorf("Parse returned a contract with an error: %+v", c)
			}
			checkProblems(t, err, tc.want)
		})
	}
}

func TestParseReportsEveryProblemAtOnce(t *testing.T) {
	// One document with a mistake in every section: the user sees all of them, in line order.
	doc := `apiVersion: custody.dev/v2
kind: Contract
metadata:
  nmae: build-and-test
spec:
  materials:
    - name: Rootfs
      type: ARTIFACT
    - name: sbom
      type: SBOM
  envAllowList: [GOOS, 9LIVES]
  runner:
    type: GITHUB
`
	_, err := Parse([]byte(doc))
	want := strings.Join([]string{
		`line 1, column 13: apiVersion: must be "custody.dev/v1", got "custody.dev/v2"`,
		`line 4, column 3: metadata.nmae: unknown field "nmae", did you mean "name"? (known fields: name, description, annotations)`,
		`line 4, column 3: metadata.name: required: name the contract (lowercase letters, digits, '-' and '.')`,
		`line 7, column 13: spec.materials[0].name: "Rootfs" is not a valid material name: use lowercase letters, digits and '-', start and end with a letter or digit, at most 63 characters`,
		`line 10, column 13: spec.materials[1].type: unknown material type "SBOM": valid types are ` + allKinds,
		`line 11, column 24: spec.envAllowList[1]: "9LIVES" is not a valid environment variable name: use letters, digits and '_', not starting with a digit`,
		`line 13, column 11: spec.runner.type: unknown runner type "GITHUB": valid types are ` + allRunners,
	}, "\n")
	if err == nil || err.Error() != want {
		t.Errorf("error =\n%v\nwant\n%s", err, want)
	}
}

func TestParseJSONSyntaxErrorHasByteOffset(t *testing.T) {
	doc := "{\n  \"apiVersion\": \"custody.dev/v1\",\n  \"kind\": \"Contract\",\n}"
	_, err := Parse([]byte(doc))
	want := `line 4, column 1 (byte 58): invalid JSON: invalid character '}' looking for beginning of object key string`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant %s", err, want)
	}
	if doc[58] != '}' {
		t.Errorf("byte 58 is %q, not the culprit", doc[58])
	}
}

func TestParseFileNamesThePath(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "contract.yaml")
	doc := "apiVersion: custody.dev/v1\nkind: Contract\nmetadata:\n  name: x\nspec:\n  materials:\n    - name: a\n      typ: STRING\n"
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := ParseFile(path)
	want := path + `: line 7, column 7: spec.materials[0].type: required: one of ` + allKinds + "\n" +
		path + `: line 8, column 7: spec.materials[0].typ: unknown field "typ", did you mean "type"? (known fields: name, type, optional, output, annotations, skipUpload)`
	if err == nil || err.Error() != want {
		t.Errorf("error =\n%v\nwant\n%s", err, want)
	}

	missing := filepath.Join(dir, "nope.yaml")
	_, err = ParseFile(missing)
	if err == nil || !strings.Contains(err.Error(), missing) || !errors.Is(err, os.ErrNotExist) || errors.Is(err, ErrInvalid) {
		t.Errorf("missing file: error = %v; want one naming %s, matching os.ErrNotExist and not ErrInvalid", err, missing)
	}
}

func TestParseTooLarge(t *testing.T) {
	doc := "apiVersion: custody.dev/v1\n# " + strings.Repeat("x", MaxSize) + "\n"
	_, err := Parse([]byte(doc))
	if err == nil || !strings.Contains(err.Error(), "larger than 1048576 bytes") {
		t.Errorf("error = %v; want the size limit", err)
	}
}

func TestParseAliasExpansionIsBounded(t *testing.T) {
	// 400 annotations shared by 400 materials through one alias: 160,000 nodes from a small file.
	var b strings.Builder
	b.WriteString("apiVersion: custody.dev/v1\nkind: Contract\nmetadata:\n  name: bomb\nspec:\n  annotations: &a\n")
	for i := range 400 {
		b.WriteString("    - {name: n" + strings.Repeat("x", i%3) + "}\n")
	}
	b.WriteString("  materials:\n")
	for range 400 {
		b.WriteString("    - {name: m, type: STRING, annotations: *a}\n")
	}
	_, err := Parse([]byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "aliases expand too far (more than 100000 nodes)") {
		t.Errorf("error = %.300v; want the expansion limit", err)
	}
}

func TestParseBuildAndTestExample(t *testing.T) {
	// The quickstart's contract: the seed walkthrough's table, with rootfs an output too, so the issue's
	// `verify --artifact rootfs.tar.gz` finds it among the subjects.
	c, err := ParseFile("../examples/contracts/build-and-test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := []Material{
		{Name: "skynet-control-plane", Type: KindContainerImage, Output: true},
		{Name: "rootfs", Type: KindArtifact, Output: true},
		{Name: "dockerfile", Type: KindArtifact, Optional: true},
		{Name: "build-ref", Type: KindString},
		{Name: "skynet-sbom", Type: KindSBOMCycloneDXJSON},
	}
	if !reflect.DeepEqual(c.Spec.Materials, want) {
		t.Errorf("materials = %+v\nwant %+v", c.Spec.Materials, want)
	}
	if c.Metadata.Name != "build-and-test" || c.Spec.Runner != nil {
		t.Errorf("metadata.name = %q, runner = %+v", c.Metadata.Name, c.Spec.Runner)
	}
}

func TestParseAcceptsFixtures(t *testing.T) {
	want := map[string]*Contract{
		"minimal.yaml": Default("minimal"),
		"nulls.yaml": {APIVersion: APIVersion, Kind: KindContract, Metadata: Metadata{Name: "nulls"}, Spec: Spec{
			Materials: []Material{{Name: "report", Type: KindEvidence, Annotations: []Annotation{{Name: "reviewer"}}}},
		}},
		"anchors.yaml": {APIVersion: APIVersion, Kind: KindContract, Metadata: Metadata{Name: "anchors"}, Spec: Spec{
			Materials: []Material{
				{Name: "linux-amd64", Type: KindArtifact, Output: true, Annotations: []Annotation{{Name: "channel", Value: "stable"}, {Name: "version"}}},
				{Name: "linux-arm64", Type: KindArtifact, Output: true, Annotations: []Annotation{{Name: "channel", Value: "stable"}, {Name: "version"}}},
			},
		}},
		"quoted.yaml": {APIVersion: APIVersion, Kind: KindContract, Metadata: Metadata{
			Name: "quoted", Description: "Several lines\nof description.\n",
			Annotations: map[string]string{"example.com/port": "8080", "enabled": "true"},
		}, Spec: Spec{Annotations: []Annotation{{Name: "ticket", Value: "folded text"}}}},
		"compact-bom.json": {APIVersion: APIVersion, Kind: KindContract, Metadata: Metadata{Name: "compact.json"}, Spec: Spec{
			Materials: []Material{{Name: "app", Type: KindContainerImage, Output: true, Annotations: []Annotation{{Name: "registry", Value: "ghcr.io"}}}},
			Runner:    &Runner{Type: RunnerTektonPipeline}, EnvAllowList: []string{"HOME"},
		}},
		"crlf-flow.yaml": {APIVersion: APIVersion, Kind: KindContract, Metadata: Metadata{Name: "crlf"}, Spec: Spec{
			Materials: []Material{{Name: "build-ref", Type: KindString}, {Name: "image", Type: KindContainerImage, Output: true, SkipUpload: true}},
			Runner:    &Runner{Type: RunnerJenkinsJob},
		}},
	}
	files, _ := filepath.Glob("testdata/valid/*")
	if len(files) != len(want) {
		t.Fatalf("testdata/valid has %d files, the test knows %d", len(files), len(want))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			c, err := ParseFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if w := want[filepath.Base(f)]; !reflect.DeepEqual(c, w) {
				t.Errorf("got  %+v\nwant %+v", c, w)
			}
		})
	}
}

func TestDefaultIsValid(t *testing.T) {
	c := Default("build-and-test")
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(c.Spec.Materials) != 0 || c.Spec.Runner != nil || c.APIVersion != APIVersion || c.Kind != KindContract {
		t.Errorf("Default = %+v", c)
	}
}

func TestValidateWithoutPositions(t *testing.T) {
	// A contract built in Go has no lines: problems name the path and the reason only.
	c := Default("x")
	c.Spec.Materials = []Material{{Name: "a", Type: "NOPE"}, {Name: "a", Type: KindString}}
	c.Metadata.Annotations = map[string]string{"b b": "", "a a": ""}
	err := c.Validate()
	want := `metadata.annotations["a a"]: "a a" is not a valid annotation name: use letters, digits, '.', '_', '/' and '-', start and end with a letter or digit, at most 253 characters
metadata.annotations["b b"]: "b b" is not a valid annotation name: use letters, digits, '.', '_', '/' and '-', start and end with a letter or digit, at most 253 characters
spec.materials[0].type: unknown material type "NOPE": valid types are ` + allKinds + `
spec.materials[1].name: duplicate material name "a" (first used at spec.materials[0]): material names must be unique`
	if err == nil || err.Error() != want {
		t.Errorf("error =\n%v\nwant\n%s", err, want)
	}
}

func TestErrorsAreCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: custody.dev/v1\nkind: Contract\nmetadata:\n  name: x\nspec:\n  envAllowList:\n")
	for range 60 {
		b.WriteString("    - 1X\n")
	}
	_, err := Parse([]byte(b.String()))
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 60 {
		t.Fatalf("got %d problems, want 60: %v", len(errs), err)
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 51 || lines[50] != "... and 10 more problems" {
		t.Errorf("message has %d lines, last %q", len(lines), lines[len(lines)-1])
	}
}

// TestParseBoundsMaterials: a contract lists at most MaxMaterials materials, as many as an
// attestation may record; one more could never be satisfied and is refused where it is written.
func TestParseBoundsMaterials(t *testing.T) {
	t.Parallel()
	doc := func(n int) []byte {
		var b strings.Builder
		b.WriteString("apiVersion: custody.dev/v1\nkind: Contract\nmetadata:\n  name: many\nspec:\n  materials:\n")
		for i := range n {
			fmt.Fprintf(&b, "    - {name: m-%d, type: STRING}\n", i)
		}
		return []byte(b.String())
	}
	if _, err := Parse(doc(MaxMaterials)); err != nil {
		t.Fatalf("%d materials: %v", MaxMaterials, err)
	}
	_, err := Parse(doc(MaxMaterials + 1))
	checkProblems(t, err, []problem{{"spec.materials", 7, "1025 materials, more than the 1024 an attestation may record: the contract could never be satisfied"}})
}
