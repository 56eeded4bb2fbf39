package attestation

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/custody-dev/custody/contract"
)

const (
	hexA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	hexB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

func TestSubjectsFrom(t *testing.T) {
	file := func(name, file, hex string, output bool) Material {
		return Material{Name: name, Kind: contract.KindArtifact, Value: file, Digest: "sha256:" + hex, Output: output,
			File: &File{Name: file, Size: 1}}
	}
	image := func(name, repo, hex string) Material {
		return Material{Name: name, Kind: contract.KindContainerImage, Value: repo + "@sha256:" + hex, Digest: "sha256:" + hex,
			Output: true, Image: &Image{Repository: repo, Tag: "v1", Digest: "sha256:" + hex, Source: "registry"}}
	}
	tests := []struct {
		name      string
		materials []Material
		want      []string
	}{
		{"none", nil, []string{}},
		{"only outputs", []Material{file("bin", "app", hexA, true), file("log", "build.log", hexB, false)},
			[]string{"app@sha256:" + hexA}},
		{"string materials have no digest", []Material{{Name: "version", Kind: contract.KindString, Value: "1.0", Output: true}},
			[]string{}},
		{"image named by repository", []Material{image("img", "registry.example.com/team/app", hexB)},
			[]string{"registry.example.com/team/app@sha256:" + hexB}},
		{"sorted by name then digest", []Material{
			file("z", "zeta", hexA, true), image("img", "alpha/app", hexB), file("b2", "beta", hexB, true), file("b1", "beta", hexA, true),
		}, []string{"alpha/app@sha256:" + hexB, "beta@sha256:" + hexA, "beta@sha256:" + hexB, "zeta@sha256:" + hexA}},
		{"exact duplicates dropped", []Material{file("a", "app", hexA, true), file("b", "app", hexA, true)},
			[]string{"app@sha256:" + hexA}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := []string{}
			for _, s := range SubjectsFrom(tt.materials) {
				got = append(got, s.String())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("SubjectsFrom() = %v, want %v", got, tt.want)
			}
		})
	}
}

func fullPredicate() *Predicate {
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	return &Predicate{
		Workflow: Workflow{Name: "build", Project: "demo", RunID: "r1", ContractName: "build", ContractRevision: 3},
		Runner: &Runner{Type: "GITHUB_ACTION", URL: "https://github.com/o/r/actions/runs/1", Environment: map[string]string{"GITHUB_REF": "refs/heads/main"},
			Authenticated: true, Issuer: "https://token.actions.githubusercontent.com", Subject: "repo:o/r:ref:refs/heads/main"},
		Git: &Git{Commit: strings.Repeat("c", 40), AuthorName: "Dev", AuthorEmail: "dev@example.com", Date: at, Message: "msg",
			Remotes: []GitRemote{{Name: "origin", URL: "https://github.com/o/r.git"}}},
		Materials: []Material{{Name: "bin", Kind: contract.KindArtifact, Value: "app", Digest: "sha256:" + hexA, Output: true,
			Annotations: map[string]string{"k": "v"}, File: &File{Name: "app", Size: 7, Uploaded: true},
			Validated: map[string]string{"format": "x"}, AddedAt: at}},
		Annotations:   map[string]string{"team": "core"},
		Env:           map[string]string{"GOFLAGS": "-mod=mod"},
		InitializedAt: at,
		FinishedAt:    at.Add(time.Minute),
		Builder:       Builder{ID: "https://custody.dev/cli", Version: "v0.1.0"},
	}
}

func TestNewStatementRoundTrip(t *testing.T) {
	p := fullPredicate()
	st, err := NewStatement(SubjectsFrom(p.Materials), p)
	if err != nil {
		t.Fatalf("NewStatement: %v", err)
	}
	if st.GetType() != "https://in-toto.io/Statement/v1" || st.GetPredicateType() != PredicateType {
		t.Errorf("statement type %q, predicate type %q", st.GetType(), st.GetPredicateType())
	}
	first, err := MarshalStatement(st)
	if err != nil {
		t.Fatalf("MarshalStatement: %v", err)
	}
	for range 5 {
		again, err := MarshalStatement(st)
		if err != nil || !bytes.Equal(first, again) {
			t.Fatalf("MarshalStatement is not stable:\n%s\n%s", first, again)
		}
	}
	if !bytes.HasPrefix(first, []byte(`{"_type":"https://in-toto.io/Statement/v1","predicate":{"annotations":{"team":"core"}`)) {
		t.Errorf("MarshalStatement is not canonical (sorted keys, no spaces): %.120s", first)
	}
	// Back through Read, as a verifier sees it.
	doc, err := Read([]byte(`{"payloadType":"application/vnd.in-toto+json","payload":"` + b64(string(first)) + `","signatures":[{"sig":"AA=="}]}`))
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	got, err := ParsePredicate(doc.Statement)
	if err != nil {
		t.Fatalf("ParsePredicate: %v", err)
	}
	if !reflect.DeepEqual(got, p) {
		t.Errorf("predicate round trip:\n got %+v\nwant %+v", got, p)
	}
}

func TestNewStatementRejects(t *testing.T) {
	p := fullPredicate()
	tests := []struct {
		name     string
		subjects []Subject
		p        *Predicate
		want     string
	}{
		{"no predicate", SubjectsFrom(p.Materials), nil, "no predicate"},
		{"no subjects", nil, p, "no subjects: mark at least one material as output"},
		{"bad digest", []Subject{{Name: "a", Digest: map[string]string{"sha256": "xyz"}}}, p, "digest is not valid hex"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewStatement(tt.subjects, tt.p)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewStatement() error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestParsePredicateWrongType(t *testing.T) {
	doc, err := Read(readFixture(t, "cosign-envelope.json"))
	if err != nil {
		t.Fatal(err)
	}
	doc.Statement.PredicateType = "https://slsa.dev/provenance/v1"
	_, err = ParsePredicate(doc.Statement)
	want := `predicate type "https://slsa.dev/provenance/v1", want "https://custody.dev/attestation/v1"`
	if err == nil || err.Error() != want {
		t.Errorf("ParsePredicate() error = %v, want %s", err, want)
	}
}
