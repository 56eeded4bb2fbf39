package attestation

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	jsoncanonicalizer "github.com/cyberphone/json-canonicalization/go/src/webpki.org/jsoncanonicalizer"
	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
)

// StatementType is the in-toto statement type custody writes.
const StatementType = intoto.StatementTypeUri

// Subject is one subject of the statement: an output material by its digest.
type Subject struct {
	Name string `json:"name"`
	// Digest maps an algorithm ("sha256") to the hex digest.
	Digest map[string]string `json:"digest"`
}

// String renders the subject as name@sha256:hex, the way error messages and tables show it.
func (s Subject) String() string {
	if hex, ok := s.Digest["sha256"]; ok {
		return s.Name + "@sha256:" + hex
	}
	algs := make([]string, 0, len(s.Digest))
	for alg := range s.Digest {
		algs = append(algs, alg)
	}
	slices.Sort(algs)
	if len(algs) == 0 {
		return s.Name
	}
	return s.Name + "@" + algs[0] + ":" + s.Digest[algs[0]]
}

// SubjectsFrom returns the subjects of a run: every output material with a digest. A file is named by
// its file name, an image by its repository. The order is by name, then digest, so the same materials
// always give the same statement; exact duplicates are dropped.
func SubjectsFrom(materials []Material) []Subject {
	var subjects []Subject
	for _, m := range materials {
		if !m.Output || m.Digest == "" {
			continue
		}
		alg, hex, ok := strings.Cut(m.Digest, ":")
		if !ok {
			continue
		}
		name := m.Name
		switch {
		case m.File != nil && m.File.Name != "":
			name = m.File.Name
		case m.Image != nil && m.Image.Repository != "":
			name = m.Image.Repository
		}
		subjects = append(subjects, Subject{Name: name, Digest: map[string]string{alg: hex}})
	}
	slices.SortFunc(subjects, func(a, b Subject) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.String(), b.String())
	})
	return slices.CompactFunc(subjects, func(a, b Subject) bool { return a.String() == b.String() })
}

// NewStatement renders the in-toto v1 statement of predicate p about subjects. It refuses a statement
// without subjects: a verifier could not tie it to any artifact.
func NewStatement(subjects []Subject, p *Predicate) (*intoto.Statement, error) {
	if p == nil {
		return nil, errors.New("statement: no predicate")
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("statement: encode predicate: %w", err)
	}
	predicate := &structpb.Struct{}
	if err := protojson.Unmarshal(raw, predicate); err != nil {
		return nil, fmt.Errorf("statement: convert predicate: %w", err)
	}
	st := &intoto.Statement{
		Type:          StatementType,
		PredicateType: PredicateType,
		Predicate:     predicate,
	}
	for _, s := range subjects {
		st.Subject = append(st.Subject, &intoto.ResourceDescriptor{Name: s.Name, Digest: s.Digest})
	}
	if len(st.Subject) == 0 {
		return nil, errors.New("statement: no subjects: mark at least one material as output in the contract")
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("statement: %w", err)
	}
	return st, nil
}

// MarshalStatement encodes st as canonical JSON (RFC 8785: sorted keys, no insignificant whitespace),
// so the same statement always gives the same bytes. protojson alone is deliberately unstable.
func MarshalStatement(st *intoto.Statement) ([]byte, error) {
	raw, err := protojson.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("encode statement: %w", err)
	}
	canonical, err := jsoncanonicalizer.Transform(raw)
	if err != nil {
		return nil, fmt.Errorf("canonicalize statement: %w", err)
	}
	return canonical, nil
}

// StatementSubjects returns the subjects of st, in the statement's order.
func StatementSubjects(st *intoto.Statement) []Subject {
	subjects := make([]Subject, 0, len(st.GetSubject()))
	for _, rd := range st.GetSubject() {
		subjects = append(subjects, Subject{Name: rd.GetName(), Digest: rd.GetDigest()})
	}
	return subjects
}

// ParsePredicate decodes the custody predicate of st. Unknown fields are ignored, so a statement from
// a newer custody still reads.
func ParsePredicate(st *intoto.Statement) (*Predicate, error) {
	if st == nil {
		return nil, errors.New("predicate: no statement")
	}
	raw, err := protojson.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("predicate: encode: %w", err)
	}
	return predicateOf(raw)
}

// predicateOf decodes the custody predicate of a statement's JSON (a verified DSSE payload) with
// encoding/json, as sigstore-go reads the statement's type and subjects from it.
func predicateOf(statement []byte) (*Predicate, error) {
	var st struct {
		PredicateType string          `json:"predicateType"`
		Predicate     json.RawMessage `json:"predicate"`
	}
	if err := json.Unmarshal(statement, &st); err != nil {
		return nil, fmt.Errorf("predicate: decode: %w", err)
	}
	if st.PredicateType != PredicateType {
		return nil, fmt.Errorf("predicate type %q, want %q", st.PredicateType, PredicateType)
	}
	if len(st.Predicate) == 0 || string(st.Predicate) == "null" {
		return nil, errors.New("predicate: statement has no predicate")
	}
	var p Predicate
	if err := json.Unmarshal(st.Predicate, &p); err != nil {
		return nil, fmt.Errorf("predicate: decode: %w", err)
	}
	return &p, nil
}
