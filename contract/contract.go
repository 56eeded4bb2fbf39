// Package contract defines the custody.dev/v1 Contract: the evidence (materials) a workflow's
// pipeline must produce, the environment it may record and the runner it must run on.
package contract

// APIVersion and KindContract are the only accepted values of apiVersion and kind.
const (
	APIVersion   = "custody.dev/v1"
	KindContract = "Contract"
)

// Contract is a parsed, validated custody.dev/v1 Contract.
type Contract struct {
	APIVersion string   `json:"apiVersion" yaml:"apiVersion"`
	Kind       string   `json:"kind" yaml:"kind"`
	Metadata   Metadata `json:"metadata" yaml:"metadata"`
	Spec       Spec     `json:"spec" yaml:"spec"`
}

// Metadata names and describes a contract.
type Metadata struct {
	Name        string            `json:"name" yaml:"name"`
	Description string            `json:"description,omitempty" yaml:"description,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty" yaml:"annotations,omitempty"`
}

// Spec is what the contract demands of a run.
type Spec struct {
	Materials    []Material   `json:"materials,omitempty" yaml:"materials,omitempty"`
	EnvAllowList []string     `json:"envAllowList,omitempty" yaml:"envAllowList,omitempty"`
	Runner       *Runner      `json:"runner,omitempty" yaml:"runner,omitempty"`
	Annotations  []Annotation `json:"annotations,omitempty" yaml:"annotations,omitempty"`
}

// Material is one piece of evidence the contract asks for.
type Material struct {
	// Name is a DNS-1123 label, unique within the contract.
	Name string `json:"name" yaml:"name"`
	Type Kind   `json:"type" yaml:"type"`
	// Optional materials need not be set for push to succeed.
	Optional bool `json:"optional,omitempty" yaml:"optional,omitempty"`
	// Output materials become subjects of the in-toto statement.
	Output bool `json:"output,omitempty" yaml:"output,omitempty"`
	// Annotations with an empty value must be given a value at add or push.
	Annotations []Annotation `json:"annotations,omitempty" yaml:"annotations,omitempty"`
	// SkipUpload keeps the file out of the content-addressed store; only its digest is recorded.
	SkipUpload bool `json:"skipUpload,omitempty" yaml:"skipUpload,omitempty"`
}

// Annotation is a name and a value. An empty value in a contract means "to be supplied".
type Annotation struct {
	Name  string `json:"name" yaml:"name"`
	Value string `json:"value,omitempty" yaml:"value,omitempty"`
}

// Runner names the CI runner type a run must happen on.
type Runner struct {
	Type RunnerType `json:"type" yaml:"type"`
}

// Material returns the material called name, or false.
func (c *Contract) Material(name string) (Material, bool) {
	for _, m := range c.Spec.Materials {
		if m.Name == name {
			return m, true
		}
	}
	return Material{}, false
}
