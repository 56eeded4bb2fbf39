package crafting

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"regexp"
	"strconv"
	"strings"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
	"github.com/custody-dev/custody/crafting/materials"
)

// AddOptions add one material.
type AddOptions struct {
	// Name of the material; "" detects the kind and fills the one unset contract material of that
	// kind, or generates a name.
	Name  string
	Value string
	// Kind forces the kind; "" uses the contract's or detects it.
	Kind contract.Kind
	// Annotations give values to the material's annotations.
	Annotations map[string]string
}

// Add validates and records one material. The value is crafted (hashed, resolved, validated) before
// the state is touched, then merged under the store's optimistic concurrency, so parallel adds on one
// workspace all land and a failed add leaves the state as it was.
func (c *Crafter) Add(ctx context.Context, opts AddOptions) (*attestation.Material, error) {
	if opts.Value == "" {
		return nil, inputErrorf("add: --value is required")
	}
	if opts.Kind != "" && !opts.Kind.Valid() {
		return nil, inputErrorf("add: kind %q: unknown kind (known: %s)", opts.Kind, kindList())
	}
	st, _, err := c.store.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("add: %w", err)
	}
	spec, specOK := st.Contract.Material(opts.Name)
	if opts.Name != "" && !specOK {
		if !contract.IsDNS1123Label(opts.Name) {
			return nil, inputErrorf("add: material name %q: must be a DNS-1123 label (lowercase letters, digits and '-', at most 63)", opts.Name)
		}
		if near, ok := nearUnsetMaterial(st, opts.Name); ok {
			return nil, inputErrorf("add: material %s is not in contract %s; did you mean %s? (an extra material needs a name further from the contract's)",
				opts.Name, st.Contract.Metadata.Name, near)
		}
	}
	kind := opts.Kind
	if specOK {
		if kind != "" && kind != spec.Type {
			return nil, inputErrorf("add: material %s is a %s in the contract, not a %s", spec.Name, spec.Type, kind)
		}
		kind = spec.Type
	}

	crafter := c.materials
	if specOK && spec.SkipUpload {
		crafter = crafter.WithoutUpload()
	}
	m, err := craft(ctx, crafter, kind, opts.Value)
	if err != nil {
		return nil, &InputError{Err: fmt.Errorf("add: %w", err)}
	}
	if opts.Name == "" {
		spec, specOK = pickContractMaterial(st, m.Kind)
		m.Name = spec.Name
		if !specOK {
			m.Name = generateName(st, m)
		}
	} else {
		m.Name = opts.Name
	}
	if specOK {
		m.Output = spec.Output
	}
	if m.Annotations, err = mergeAnnotations(m.Name, spec.Annotations, opts.Annotations); err != nil {
		return nil, err
	}

	_, err = c.update(ctx, st.RunID, func(st *State) error {
		if cur := st.Material(m.Name); cur != nil {
			if cur.Kind == m.Kind && cur.Value == m.Value && cur.Digest == m.Digest && maps.Equal(cur.Annotations, m.Annotations) {
				return nil // the same add again: nothing to do
			}
			return &ConflictError{Name: m.Name, Current: describe(cur)}
		}
		if len(st.Materials) >= attestation.MaxMaterials {
			return inputErrorf("add %s: the run already holds %d materials, the most an attestation may record", m.Name, len(st.Materials))
		}
		st.Materials = append(st.Materials, *m)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("add: %w", err)
	}
	return m, nil
}

func craft(ctx context.Context, c *materials.Crafter, kind contract.Kind, value string) (*attestation.Material, error) {
	if kind == "" {
		return c.Detect(ctx, value)
	}
	return c.Craft(ctx, kind, value)
}

// pickContractMaterial returns the contract material of kind that is not set yet, if exactly one is.
// Generic kinds (STRING, ARTIFACT, EVIDENCE) never fill a slot by kind alone: any string or file
// would, and the wrong one would go unnoticed.
func pickContractMaterial(st *State, kind contract.Kind) (contract.Material, bool) {
	switch kind {
	case contract.KindString, contract.KindArtifact, contract.KindEvidence:
		return contract.Material{}, false
	}
	var found []contract.Material
	for _, spec := range st.Contract.Spec.Materials {
		if spec.Type == kind && st.Material(spec.Name) == nil {
			found = append(found, spec)
		}
	}
	if len(found) != 1 {
		return contract.Material{}, false
	}
	return found[0], true
}

// nearUnsetMaterial returns the unset contract material whose name name is a likely typo of: at
// most 2 edits away, and at most one edit per 3 characters of the contract's name (unit-test for
// unit-tests, rootf for rootfs; not sbom-2 for sbom). A name further from every unset one is an
// extra material, added deliberately.
func nearUnsetMaterial(st *State, name string) (string, bool) {
	best, bestDist := "", 3
	for _, spec := range st.Contract.Spec.Materials {
		if st.Material(spec.Name) != nil {
			continue
		}
		if d := contract.EditDistance(name, spec.Name); d < bestDist && 3*d <= len(spec.Name) {
			best, bestDist = spec.Name, d
		}
	}
	return best, best != ""
}

var nonLabel = regexp.MustCompile(`[^a-z0-9]+`)

// generateName names a material added without a name: from its file or repository name, or its kind
// and digest, made a DNS-1123 label and unique in the run.
func generateName(st *State, m *attestation.Material) string {
	var base string
	switch {
	case m.File != nil:
		base = m.File.Name
	case m.Image != nil:
		base = m.Image.Repository[strings.LastIndex(m.Image.Repository, "/")+1:]
	default:
		sum := sha256.Sum256([]byte(m.Value))
		base = string(m.Kind) + "-" + hex.EncodeToString(sum[:4])
	}
	base = strings.Trim(nonLabel.ReplaceAllString(strings.ToLower(base), "-"), "-")
	if len(base) > 56 {
		base = strings.TrimRight(base[:56], "-")
	}
	if base == "" {
		base = "material"
	}
	name := base
	for i := 2; st.Material(name) != nil || contractHas(st, name); i++ {
		name = base + "-" + strconv.Itoa(i)
	}
	return name
}

func contractHas(st *State, name string) bool {
	_, ok := st.Contract.Material(name)
	return ok
}

// mergeAnnotations combines the contract's annotations of a material with the values given at add:
// a contract value is fixed; an empty contract value is to be given; extra annotations are kept.
func mergeAnnotations(material string, spec []contract.Annotation, given map[string]string) (map[string]string, error) {
	out := map[string]string{}
	for _, a := range spec {
		out[a.Name] = a.Value
	}
	for _, k := range sortedKeys(given) {
		v := given[k]
		if fixed, ok := out[k]; ok && fixed != "" && fixed != v {
			return nil, inputErrorf("add: annotation %s of material %s is fixed to %q by the contract", k, material, fixed)
		}
		out[k] = v
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func describe(m *attestation.Material) string {
	if m.Digest != "" && m.File != nil {
		return m.File.Name + "@" + m.Digest
	}
	return m.Value
}

func kindList() string {
	var names []string
	for _, k := range contract.Kinds() {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}
