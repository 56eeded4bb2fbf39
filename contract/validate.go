package contract

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// The naming rules. docs/contract.md and docs/contract.schema.json state the same rules; the
// schema test keeps them in step.
var (
	// dnsLabel is an RFC 1123 label (a material name): at most 63 characters.
	dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	// dnsSubdomain is an RFC 1123 subdomain (a contract name): at most 253 characters.
	dnsSubdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	// annotationName is a name like a Kubernetes label key, loosely: letters, digits, '.', '_',
	// '/' and '-', starting and ending with a letter or digit; at most 253 characters.
	annotationName = regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9._/]*[A-Za-z0-9])?$`)
	// envVarName is a POSIX environment variable name.
	envVarName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

const (
	maxLabel          = 63
	maxSubdomain      = 253
	maxAnnotationName = 253
)

// Validate checks every rule of a custody.dev/v1 contract and returns all problems as Errors, or
// nil. Parse runs it; call it on a Contract built or changed in Go.
func (c *Contract) Validate() error {
	p := &problems{}
	c.validate(p, func(string) (position, bool) { return position{}, true })
	return p.err()
}

// locator gives the position of a path; ok false means the path was already reported.
type locator func(path string) (at position, ok bool)

type validator struct {
	probs *problems
	where locator
}

func (v *validator) add(path, format string, args ...any) {
	if at, ok := v.where(path); ok {
		v.probs.add(path, at, format, args...)
	}
}

// line says where path is, for "first set at" notes; empty when unknown.
func (v *validator) line(path string) string {
	if at, _ := v.where(path); at.line > 0 {
		return fmt.Sprintf(", line %d", at.line)
	}
	return ""
}

func (c *Contract) validate(probs *problems, where locator) {
	v := &validator{probs: probs, where: where}
	v.constant("apiVersion", c.APIVersion, APIVersion)
	v.constant("kind", c.Kind, KindContract)
	v.contractName("metadata.name", c.Metadata.Name)
	for _, name := range slices.Sorted(maps.Keys(c.Metadata.Annotations)) {
		v.annotationName(joinPath("metadata.annotations", name), name)
	}
	if n := len(c.Spec.Materials); n > MaxMaterials {
		v.add("spec.materials", "%d materials, more than the %d an attestation may record: the contract could never be satisfied", n, MaxMaterials)
	}
	seen := map[string]string{}
	for i, m := range c.Spec.Materials {
		path := indexPath("spec.materials", i)
		v.material(path, m)
		if m.Name == "" {
			continue
		}
		if first, dup := seen[m.Name]; dup {
			v.add(path+".name", "duplicate material name %q (first used at %s%s): material names must be unique",
				m.Name, first, v.line(first+".name"))
			continue
		}
		seen[m.Name] = path
	}
	v.envAllowList("spec.envAllowList", c.Spec.EnvAllowList)
	if c.Spec.Runner != nil {
		v.runner("spec.runner.type", c.Spec.Runner.Type)
	}
	v.annotations("spec.annotations", c.Spec.Annotations)
}

func (v *validator) constant(path, got, want string) {
	switch got {
	case want:
	case "":
		v.add(path, "required: must be %q", want)
	default:
		v.add(path, "must be %q, got %q", want, got)
	}
}

func (v *validator) contractName(path, name string) {
	switch {
	case name == "":
		v.add(path, "required: name the contract (lowercase letters, digits, '-' and '.')")
	case len(name) > maxSubdomain || !dnsSubdomain.MatchString(name):
		v.add(path, "%q is not a valid contract name: use lowercase letters, digits, '-' and '.', start and end with a letter or digit, at most %d characters",
			clip(name), maxSubdomain)
	}
}

func (v *validator) material(path string, m Material) {
	switch {
	case m.Name == "":
		v.add(path+".name", "required: every material needs a name")
	case len(m.Name) > maxLabel || !dnsLabel.MatchString(m.Name):
		v.add(path+".name", "%q is not a valid material name: use lowercase letters, digits and '-', start and end with a letter or digit, at most %d characters",
			clip(m.Name), maxLabel)
	}
	switch {
	case m.Type == "":
		v.add(path+".type", "required: one of %s", kindList())
	case !m.Type.Valid():
		v.add(path+".type", "unknown material type %q: valid types are %s", clip(string(m.Type)), kindList())
	case m.Output && m.Type == KindString:
		v.add(path+".output", "a STRING material has no digest and cannot be an output (a subject of the attestation)")
	}
	v.annotations(path+".annotations", m.Annotations)
}

func (v *validator) annotations(path string, list []Annotation) {
	seen := map[string]int{}
	for i, a := range list {
		p := indexPath(path, i)
		if !v.annotationName(p+".name", a.Name) {
			continue
		}
		if first, dup := seen[a.Name]; dup {
			firstPath := indexPath(path, first)
			v.add(p+".name", "duplicate annotation name %q (first used at %s%s)", a.Name, firstPath, v.line(firstPath+".name"))
			continue
		}
		seen[a.Name] = i
	}
}

func (v *validator) annotationName(path, name string) bool {
	switch {
	case name == "":
		v.add(path, "required: every annotation needs a name")
	case len(name) > maxAnnotationName || !annotationName.MatchString(name):
		v.add(path, "%q is not a valid annotation name: use letters, digits, '.', '_', '/' and '-', start and end with a letter or digit, at most %d characters",
			clip(name), maxAnnotationName)
	default:
		return true
	}
	return false
}

func (v *validator) envAllowList(path string, names []string) {
	seen := map[string]int{}
	for i, name := range names {
		p := indexPath(path, i)
		if !envVarName.MatchString(name) {
			v.add(p, "%q is not a valid environment variable name: use letters, digits and '_', not starting with a digit", clip(name))
			continue
		}
		if reason, secret := secretEnvReason(name); secret {
			v.add(p, "%q is a credential (%s): custody never records credentials in an attestation; remove it from envAllowList", name, reason)
			continue
		}
		if first, dup := seen[name]; dup {
			v.add(p, "duplicate entry %q (first at %s)", name, indexPath(path, first))
			continue
		}
		seen[name] = i
	}
}

func (v *validator) runner(path string, t RunnerType) {
	switch {
	case t == "":
		v.add(path, "required: one of %s", runnerList())
	case !t.Valid():
		v.add(path, "unknown runner type %q: valid types are %s", clip(string(t)), runnerList())
	}
}

func kindList() string {
	names := make([]string, 0, len(Kinds()))
	for _, k := range Kinds() {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}

func runnerList() string {
	names := make([]string, 0, len(RunnerTypes()))
	for _, t := range RunnerTypes() {
		names = append(names, string(t))
	}
	return strings.Join(names, ", ")
}
