// Package satisfy is custody's one rule of "does this statement satisfy this contract": crafting
// applies it before signing, the control plane before storing, so a statement custody signs is one
// the control plane stores, and a statement the control plane refuses was not made by custody.
package satisfy

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/cas"
	"github.com/custody-dev/custody/contract"
)

// MaxProblems bounds the problems an Unsatisfied lists; the rest are counted.
const MaxProblems = 20

// Unsatisfied lists every way a statement falls short of its contract.
type Unsatisfied struct {
	// Missing are the required materials the statement does not hold, in contract order.
	Missing []string
	// Annotations are the annotations without a value: "material/annotation", or "annotation" for
	// the run's own.
	Annotations []string
	// Problems are every other shortfall, each naming its material or subject (at most MaxProblems).
	Problems []string
	// More counts the problems left out of Problems.
	More int
}

func (e *Unsatisfied) Error() string {
	var parts []string
	if len(e.Missing) > 0 {
		parts = append(parts, "required materials not set: "+strings.Join(e.Missing, ", "))
	}
	if len(e.Annotations) > 0 {
		parts = append(parts, "annotations without a value: "+strings.Join(e.Annotations, ", "))
	}
	parts = append(parts, e.Problems...)
	if e.More > 0 {
		parts = append(parts, fmt.Sprintf("and %d more problems", e.More))
	}
	return strings.Join(parts, "; ")
}

func (e *Unsatisfied) problem(format string, args ...any) {
	if len(e.Problems) == MaxProblems {
		e.More++
		return
	}
	e.Problems = append(e.Problems, fmt.Sprintf(format, args...))
}

// Check applies the rule: the predicate names the contract and revision given; every material has a
// material name, a known kind and, unless it is a STRING, a digest (sha256:<64 hex>); every material
// of the contract has the contract's kind, and every required one is there; every annotation the
// contract leaves to the run has a value, and every value it fixes is kept; the subjects are exactly
// the output materials (outputs of the contract or marked so), named and digested as
// attestation.SubjectsFrom names them. It returns nil or an *Unsatisfied naming every shortfall.
func Check(c *contract.Contract, revision int, subjects []attestation.Subject, p *attestation.Predicate) error {
	e := &Unsatisfied{}
	if p == nil {
		e.problem("the statement has no custody predicate")
		return e
	}
	if n := len(p.Materials); n > attestation.MaxMaterials {
		e.problem("the statement records %d materials, more than the %d an attestation may record", n, attestation.MaxMaterials)
		return e
	}
	if p.Workflow.ContractName != c.Metadata.Name || p.Workflow.ContractRevision != revision {
		e.problem("the attestation is about contract %q revision %d, the run's is %q revision %d",
			clip(p.Workflow.ContractName), p.Workflow.ContractRevision, c.Metadata.Name, revision)
	}
	byName := make(map[string]*attestation.Material, len(p.Materials))
	for i := range p.Materials {
		m := &p.Materials[i]
		if byName[m.Name] != nil {
			e.problem("material %s is recorded twice", show(m.Name))
			continue
		}
		byName[m.Name] = m
		checkMaterial(e, m)
	}
	var outputs []attestation.Material
	for _, spec := range c.Spec.Materials {
		m := byName[spec.Name]
		if m == nil {
			if !spec.Optional {
				e.Missing = append(e.Missing, spec.Name)
			}
			continue
		}
		if m.Kind != spec.Type {
			e.problem("material %s: the contract says kind %s, the attestation records %s", spec.Name, spec.Type, show(string(m.Kind)))
		}
		checkAnnotations(e, m.Name, spec.Annotations, m.Annotations)
		if spec.Output || m.Output {
			outputs = append(outputs, *m)
		}
	}
	for i := range p.Materials {
		m := &p.Materials[i]
		if _, inContract := c.Material(m.Name); inContract || byName[m.Name] != m || !contract.IsDNS1123Label(m.Name) {
			continue // checked above, a duplicate, or a name refused already
		}
		checkAnnotations(e, m.Name, nil, m.Annotations)
		if m.Output {
			outputs = append(outputs, *m)
		}
	}
	checkAnnotations(e, "", c.Spec.Annotations, p.Annotations)
	checkSubjects(e, outputs, subjects)
	if len(e.Missing) == 0 && len(e.Annotations) == 0 && len(e.Problems) == 0 {
		return nil
	}
	return e
}

// checkMaterial checks what any material must be, in a contract or not.
func checkMaterial(e *Unsatisfied, m *attestation.Material) {
	if !contract.IsDNS1123Label(m.Name) {
		e.problem("material name %q: not a material name (a DNS-1123 label: lowercase letters, digits and '-', at most 63)", clip(m.Name))
		return
	}
	if !m.Kind.Valid() {
		e.problem("material %s: unknown kind %s", m.Name, show(string(m.Kind)))
		return
	}
	switch {
	case m.Kind == contract.KindString && m.Digest != "":
		e.problem("material %s: kind STRING has no digest, this one has %s", m.Name, show(m.Digest))
	case m.Kind != contract.KindString && m.Digest == "":
		e.problem("material %s: kind %s carries the digest of its content, this one has none", m.Name, m.Kind)
	case m.Digest != "":
		if _, err := cas.ParseDigest(m.Digest); err != nil {
			e.problem("material %s: %s", m.Name, clip(err.Error()))
		}
	}
}

// checkAnnotations checks the values of one material's annotations, or of the run's (material ""):
// every contract annotation has a value, the one fixed if the contract fixes it, and no annotation of
// a material is left empty. An annotation is named "material/annotation", or "annotation" for the run's.
func checkAnnotations(e *Unsatisfied, material string, spec []contract.Annotation, got map[string]string) {
	name := func(annotation string) string {
		if material == "" {
			return annotation
		}
		return material + "/" + annotation
	}
	for _, a := range spec {
		v := got[a.Name]
		switch {
		case v == "":
			e.Annotations = append(e.Annotations, name(a.Name))
		case a.Value != "" && v != a.Value:
			e.problem("annotation %s is fixed to %q by the contract, the attestation says %s", name(a.Name), a.Value, strconv.Quote(clip(v)))
		}
	}
	if material == "" {
		return // the run's own annotations beyond the contract's may be anything
	}
	for _, k := range sortedKeys(got) {
		if got[k] == "" && !slices.ContainsFunc(spec, func(a contract.Annotation) bool { return a.Name == k }) {
			e.Annotations = append(e.Annotations, name(show(k)))
		}
	}
}

// checkSubjects checks the subjects are exactly the outputs' subjects.
func checkSubjects(e *Unsatisfied, outputs []attestation.Material, subjects []attestation.Subject) {
	have := make(map[string]bool, len(subjects))
	for _, s := range subjects {
		have[s.String()] = true
	}
	want := map[string]bool{}
	for _, m := range outputs {
		if m.Digest == "" {
			continue // refused already: an output needs a digest
		}
		m.Output = true
		for _, s := range attestation.SubjectsFrom([]attestation.Material{m}) {
			want[s.String()] = true
			if !have[s.String()] {
				e.problem("material %s is an output, but %s is not a subject of the statement", m.Name, show(s.String()))
			}
		}
	}
	for _, s := range subjects {
		if !want[s.String()] {
			e.problem("subject %s is no output material of the attestation", show(s.String()))
		}
	}
}

// maxShown bounds the bytes of one name or value a message quotes from the statement.
const maxShown = 200

// clip keeps what a message quotes from the statement short.
func clip(s string) string {
	if len(s) <= maxShown {
		return s
	}
	return s[:maxShown] + "..."
}

// show is s as a message shows a name from the statement: as it is when it is short and printable,
// quoted (control characters escaped) otherwise.
func show(s string) string {
	if len(s) <= maxShown && strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) < 0 {
		return s
	}
	return strconv.Quote(clip(s))
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
