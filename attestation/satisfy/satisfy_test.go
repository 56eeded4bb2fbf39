package satisfy_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/attestation/satisfy"
	"github.com/custody-dev/custody/contract"
)

const contractYAML = `apiVersion: custody.dev/v1
kind: Contract
metadata: {name: build}
spec:
  materials:
    - {name: rootfs, type: ARTIFACT, output: true}
    - {name: image, type: CONTAINER_IMAGE, output: true}
    - name: build-ref
      type: STRING
      annotations: [{name: source}]
    - {name: sbom, type: SBOM_CYCLONEDX_JSON, optional: true}
  annotations:
    - {name: team, value: core}
    - {name: release}
`

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}

func parse(t testing.TB) *contract.Contract {
	t.Helper()
	c, err := contract.Parse([]byte(contractYAML))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// statement is a predicate as crafting records it for the contract, and its subjects.
type statement struct {
	p        *attestation.Predicate
	subjects []attestation.Subject
}

func good() statement {
	p := &attestation.Predicate{
		Workflow: attestation.Workflow{Name: "build", Project: "skynet", RunID: "r1", ContractName: "build", ContractRevision: 3},
		Materials: []attestation.Material{
			{Name: "rootfs", Kind: contract.KindArtifact, Value: "rootfs.tar.gz", Digest: digest("rootfs"), Output: true,
				File: &attestation.File{Name: "rootfs.tar.gz", Size: 6, Uploaded: true}},
			{Name: "image", Kind: contract.KindContainerImage, Value: "registry.example/app@" + digest("image"), Digest: digest("image"),
				Output: true, Image: &attestation.Image{Repository: "registry.example/app", Digest: digest("image"), Source: "registry"}},
			{Name: "build-ref", Kind: contract.KindString, Value: "main", Annotations: map[string]string{"source": "git"}},
		},
		Annotations: map[string]string{"team": "core", "release": "v1"},
	}
	return statement{p: p, subjects: attestation.SubjectsFrom(p.Materials)}
}

func material(s statement, name string) *attestation.Material {
	for i := range s.p.Materials {
		if s.p.Materials[i].Name == name {
			return &s.p.Materials[i]
		}
	}
	panic("no material " + name)
}

// without returns subjects without the one named name.
func without(subjects []attestation.Subject, name string) []attestation.Subject {
	var out []attestation.Subject
	for _, s := range subjects {
		if s.Name != name {
			out = append(out, s)
		}
	}
	return out
}

func TestCheck(t *testing.T) {
	t.Parallel()
	c := parse(t)
	tests := []struct {
		name   string
		change func(s *statement)
		// want is the error's message (all of it), "" for satisfied.
		want        string
		missing     []string
		annotations []string
	}{
		{name: "as crafted", change: func(*statement) {}},
		{name: "an optional material of its kind", change: func(s *statement) {
			s.p.Materials = append(s.p.Materials, attestation.Material{Name: "sbom", Kind: contract.KindSBOMCycloneDXJSON, Digest: digest("sbom")})
		}},
		{name: "an extra material, not an output", change: func(s *statement) {
			s.p.Materials = append(s.p.Materials, attestation.Material{Name: "notes", Kind: contract.KindEvidence, Digest: digest("n")})
		}},
		{name: "another contract", change: func(s *statement) { s.p.Workflow.ContractName = "deploy" },
			want: `the attestation is about contract "deploy" revision 3, the run's is "build" revision 3`},
		{name: "another revision", change: func(s *statement) { s.p.Workflow.ContractRevision = 2 },
			want: `the attestation is about contract "build" revision 2, the run's is "build" revision 3`},
		{name: "a required material missing", change: func(s *statement) {
			s.p.Materials = s.p.Materials[2:]
			s.subjects = nil
		}, want: "required materials not set: rootfs, image", missing: []string{"rootfs", "image"}},
		{name: "a required material of the wrong kind", change: func(s *statement) { material(*s, "rootfs").Kind = contract.KindEvidence },
			want: "material rootfs: the contract says kind ARTIFACT, the attestation records EVIDENCE"},
		{name: "an optional material of the wrong kind", change: func(s *statement) {
			s.p.Materials = append(s.p.Materials, attestation.Material{Name: "sbom", Kind: contract.KindSBOMSPDXJSON, Digest: digest("sbom")})
		}, want: "material sbom: the contract says kind SBOM_CYCLONEDX_JSON, the attestation records SBOM_SPDX_JSON"},
		{name: "a file kind without a digest", change: func(s *statement) {
			material(*s, "rootfs").Digest = ""
			s.subjects = without(s.subjects, "rootfs.tar.gz")
		}, want: "material rootfs: kind ARTIFACT carries the digest of its content, this one has none"},
		{name: "an image without a digest", change: func(s *statement) {
			material(*s, "image").Digest = ""
			s.subjects = without(s.subjects, "registry.example/app")
		}, want: "material image: kind CONTAINER_IMAGE carries the digest of its content, this one has none"},
		{name: "a malformed digest", change: func(s *statement) {
			material(*s, "rootfs").Digest = "sha256:abc"
			s.subjects = attestation.SubjectsFrom(s.p.Materials)
		}, want: `material rootfs: digest "sha256:abc": want 64 lowercase hex characters after sha256:`},
		{name: "an upper-case digest", change: func(s *statement) {
			material(*s, "rootfs").Digest = strings.ToUpper(digest("rootfs"))
			s.subjects = attestation.SubjectsFrom(s.p.Materials)
		}, want: `material rootfs: digest "` + strings.ToUpper(digest("rootfs")) + `": want the form sha256:<64 hex characters>`},
		{name: "a STRING with a digest", change: func(s *statement) { material(*s, "build-ref").Digest = digest("main") },
			want: "material build-ref: kind STRING has no digest, this one has " + digest("main")},
		{name: "an unknown kind", change: func(s *statement) {
			s.p.Materials = append(s.p.Materials, attestation.Material{Name: "notes", Kind: "NOTES", Digest: digest("n")})
		}, want: "material notes: unknown kind NOTES"},
		{name: "a NUL byte in a name", change: func(s *statement) {
			s.p.Materials = append(s.p.Materials, attestation.Material{Name: "no\x00tes", Kind: contract.KindString, Value: "x"})
		}, want: `material name "no\x00tes": not a material name (a DNS-1123 label: lowercase letters, digits and '-', at most 63)`},
		{name: "a material recorded twice", change: func(s *statement) {
			s.p.Materials = append(s.p.Materials, s.p.Materials[2])
		}, want: "material build-ref is recorded twice"},
		{name: "an output that is no subject", change: func(s *statement) { s.subjects = without(s.subjects, "rootfs.tar.gz") },
			want: "material rootfs is an output, but rootfs.tar.gz@" + digest("rootfs") + " is not a subject of the statement"},
		{name: "an output whose subject has another digest", change: func(s *statement) {
			s.subjects[1].Digest = map[string]string{"sha256": strings.TrimPrefix(digest("other"), "sha256:")}
		}, want: "material rootfs is an output, but rootfs.tar.gz@" + digest("rootfs") + " is not a subject of the statement; " +
			"subject rootfs.tar.gz@" + digest("other") + " is no output material of the attestation"},
		{name: "an output the predicate does not mark", change: func(s *statement) {
			material(*s, "rootfs").Output = false
			s.subjects = attestation.SubjectsFrom(s.p.Materials)
		}, want: "material rootfs is an output, but rootfs.tar.gz@" + digest("rootfs") + " is not a subject of the statement"},
		{name: "a subject no material explains", change: func(s *statement) {
			s.subjects = append(s.subjects, attestation.Subject{Name: "extra", Digest: map[string]string{"sha256": strings.Repeat("0", 64)}})
		}, want: "subject extra@sha256:" + strings.Repeat("0", 64) + " is no output material of the attestation"},
		{name: "a material annotation without a value", change: func(s *statement) { material(*s, "build-ref").Annotations = nil },
			want: "annotations without a value: build-ref/source", annotations: []string{"build-ref/source"}},
		{name: "an extra annotation left empty", change: func(s *statement) { material(*s, "rootfs").Annotations = map[string]string{"os": ""} },
			want: "annotations without a value: rootfs/os", annotations: []string{"rootfs/os"}},
		{name: "a run annotation without a value", change: func(s *statement) { delete(s.p.Annotations, "release") },
			want: "annotations without a value: release", annotations: []string{"release"}},
		{name: "a fixed annotation changed", change: func(s *statement) { s.p.Annotations["team"] = "skynet" },
			want: `annotation team is fixed to "core" by the contract, the attestation says "skynet"`},
		{name: "everything at once, in order", change: func(s *statement) {
			s.p.Workflow.ContractRevision = 1
			s.p.Materials = s.p.Materials[1:]
			s.p.Annotations = nil
			s.subjects = nil
		}, want: "required materials not set: rootfs; annotations without a value: team, release; " +
			`the attestation is about contract "build" revision 1, the run's is "build" revision 3; ` +
			"material image is an output, but registry.example/app@" + digest("image") + " is not a subject of the statement",
			missing: []string{"rootfs"}, annotations: []string{"team", "release"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := good()
			tc.change(&s)
			err := satisfy.Check(c, 3, s.subjects, s.p)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Check = %v, want satisfied", err)
				}
				return
			}
			var u *satisfy.Unsatisfied
			if !errors.As(err, &u) {
				t.Fatalf("Check = %v, want *Unsatisfied", err)
			}
			if err.Error() != tc.want {
				t.Errorf("message:\n got %s\nwant %s", err, tc.want)
			}
			if !reflect.DeepEqual(u.Missing, tc.missing) || !reflect.DeepEqual(u.Annotations, tc.annotations) {
				t.Errorf("missing %v, annotations %v; want %v, %v", u.Missing, u.Annotations, tc.missing, tc.annotations)
			}
		})
	}
}

// TestCheckBoundsProblems: a statement with thousands of bad materials gets a message of bounded size.
func TestCheckBoundsProblems(t *testing.T) {
	t.Parallel()
	s := good()
	bad := attestation.MaxMaterials - len(s.p.Materials)
	for i := range bad {
		s.p.Materials = append(s.p.Materials, attestation.Material{Name: fmt.Sprintf("m-%d", i), Kind: "NOPE"})
	}
	err := satisfy.Check(parse(t), 3, s.subjects, s.p)
	var u *satisfy.Unsatisfied
	if !errors.As(err, &u) || len(u.Problems) != satisfy.MaxProblems || u.More != bad-satisfy.MaxProblems {
		t.Fatalf("Check = %v", err)
	}
	if !strings.HasSuffix(err.Error(), fmt.Sprintf("; and %d more problems", bad-satisfy.MaxProblems)) || len(err.Error()) > 4096 {
		t.Errorf("message of %d bytes: %.300s...", len(err.Error()), err)
	}
}

// TestCheckBoundsMaterials: past attestation.MaxMaterials the statement is refused at once, with
// the one reason, whatever else it holds.
func TestCheckBoundsMaterials(t *testing.T) {
	t.Parallel()
	for _, n := range []int{attestation.MaxMaterials, attestation.MaxMaterials + 1} {
		s := good()
		for i := len(s.p.Materials); i < n; i++ {
			s.p.Materials = append(s.p.Materials, attestation.Material{Name: fmt.Sprintf("m-%d", i), Kind: contract.KindString, Value: "x"})
		}
		err := satisfy.Check(parse(t), 3, s.subjects, s.p)
		switch want := fmt.Sprintf("the statement records %d materials, more than the %d an attestation may record", n, attestation.MaxMaterials); {
		case n <= attestation.MaxMaterials && err != nil:
			t.Errorf("%d materials: %v", n, err)
		case n > attestation.MaxMaterials && (err == nil || err.Error() != want):
			t.Errorf("%d materials: %v, want %q", n, err, want)
		}
	}
}

// FuzzCheck: any predicate and subjects: Check never panics, and what it accepts holds every material
// the contract requires, of its kind, with a well-formed digest, and an output's subject.
func FuzzCheck(f *testing.F) {
	g := good()
	seed, _ := json.Marshal(struct {
		P *attestation.Predicate
		S []attestation.Subject
	}{g.p, g.subjects})
	f.Add(seed)
	f.Add([]byte(`{"P":{"materials":[{"name":"rootfs","kind":"ARTIFACT","digest":"sha256:"}]},"S":[{"name":"","digest":{}}]}`))
	f.Add([]byte(`{"P":null}`))
	c := parse(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var in struct {
			P *attestation.Predicate
			S []attestation.Subject
		}
		if json.Unmarshal(data, &in) != nil {
			return
		}
		if err := satisfy.Check(c, 3, in.S, in.P); err != nil {
			if len(err.Error()) > 64<<10 {
				t.Fatalf("a message of %d bytes", len(err.Error()))
			}
			return
		}
		subjects := map[string]bool{}
		for _, s := range in.S {
			subjects[s.String()] = true
		}
		for _, spec := range c.Spec.Materials {
			var m *attestation.Material
			for i := range in.P.Materials {
				if in.P.Materials[i].Name == spec.Name {
					m = &in.P.Materials[i]
				}
			}
			switch {
			case m == nil && !spec.Optional:
				t.Fatalf("accepted without required material %s", spec.Name)
			case m == nil:
			case m.Kind != spec.Type:
				t.Fatalf("accepted %s of kind %s", spec.Name, m.Kind)
			case spec.Type != contract.KindString && !strings.HasPrefix(m.Digest, "sha256:"):
				t.Fatalf("accepted %s with digest %q", spec.Name, m.Digest)
			case spec.Output:
				out := *m
				out.Output = true
				for _, s := range attestation.SubjectsFrom([]attestation.Material{out}) {
					if !subjects[s.String()] {
						t.Fatalf("accepted output %s without its subject %s", spec.Name, s)
					}
				}
			}
		}
	})
}

// BenchmarkCheckLarge: the rule over a statement of the most materials it may record.
func BenchmarkCheckLarge(b *testing.B) {
	c := parse(b)
	s := good()
	for i := len(s.p.Materials); i < attestation.MaxMaterials; i++ {
		s.p.Materials = append(s.p.Materials, attestation.Material{Name: fmt.Sprintf("m-%d", i), Kind: contract.KindString, Value: "x"})
	}
	b.ResetTimer()
	for range b.N {
		if err := satisfy.Check(c, 3, s.subjects, s.p); err != nil {
			b.Fatal(err)
		}
	}
}
