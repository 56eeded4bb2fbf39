package materials

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	slsa02 "github.com/in-toto/attestation/go/predicates/provenance/v02"
	slsa1 "github.com/in-toto/attestation/go/predicates/provenance/v1"
	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
)

func init() { register(contract.KindSLSAProvenance, craftSLSAProvenance) }

func craftSLSAProvenance(ctx context.Context, c *Crafter, value string) (*attestation.Material, error) {
	return c.craftFile(ctx, value, validateSLSAProvenance)
}

// The SLSA provenance predicate types custody reads.
const (
	slsaProvenanceV02 = "https://slsa.dev/provenance/v0.2"
	slsaProvenanceV1  = "https://slsa.dev/provenance/v1"
)

// maxSLSALines bounds the statements of one .intoto.jsonl file.
const maxSLSALines = 1000

// claimsSLSAProvenance: a bare in-toto statement (top-level _type and predicateType) whose predicate
// is SLSA provenance v0.2 or v1; or JSON Lines (.intoto.jsonl with more than one line) whose first line
// is such a statement, or a DSSE envelope or Sigstore bundle of one. A single envelope or bundle is
// ATTESTATION's, whatever its predicate (it comes first in detection).
func claimsSLSAProvenance(s *sniffed) bool {
	switch s.format {
	case formatJSON:
		t, _ := s.str("predicateType")
		return s.has("_type") && isSLSAProvenance(t)
	case formatJSONLines:
		t, known := firstPredicateType(s.elem)
		if !known {
			return strings.HasSuffix(s.name, ".intoto.jsonl")
		}
		return isSLSAProvenance(t)
	}
	return false
}

func isSLSAProvenance(predicateType string) bool {
	return predicateType == slsaProvenanceV02 || predicateType == slsaProvenanceV1
}

// firstPredicateType reads the predicate type of a JSON Lines file's first line from its sniffed
// keys: a statement's own, or that of the statement in a DSSE envelope's (or a bundle's envelope's)
// payload. known is false when the line is none of these or its payload lay beyond the sniff.
func firstPredicateType(keys map[string]json.RawMessage) (predicateType string, known bool) {
	if raw, ok := keys["predicateType"]; ok {
		t, isString := rawString(raw)
		return t, isString
	}
	envelope := keys
	if raw := keys["dsseEnvelope"]; raw != nil {
		if json.Unmarshal(raw, &envelope) != nil {
			return "", false
		}
	}
	payload, ok := rawString(envelope["payload"])
	if !ok {
		return "", false
	}
	statement, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		return "", false
	}
	var st struct {
		PredicateType string `json:"predicateType"`
	}
	if json.Unmarshal(statement, &st) != nil {
		return "", false
	}
	return st.PredicateType, true
}

// provenance is what one statement of SLSA provenance says.
type provenance struct {
	predicateType, builderID, buildType string
	envelope                            string // "none", "DSSE envelope" or "Sigstore bundle"
	subjects                            int
}

// validateSLSAProvenance accepts SLSA provenance (v0.2 or v1): an in-toto statement (v1 or v0.1,
// with subjects) whose predicate is SLSA provenance, given bare, in a DSSE envelope or in a Sigstore
// bundle (read as ATTESTATION reads them: attestation.Read), or as JSON Lines of those (.intoto.jsonl:
// every line is checked, at most maxSLSALines). The predicate must have the fields its SLSA version
// requires (in-toto's provenance protos: v1's Validate; v0.2's builder.id and buildType). A signature
// is recorded as present (signed), never verified here.
func validateSLSAProvenance(f *os.File) (map[string]string, error) {
	s, err := sniffFile(f)
	if err != nil {
		return nil, err
	}
	var statements []provenance
	switch {
	case s.format == formatJSONLines:
		statements, err = readProvenanceLines(f)
	case s.format == formatJSON && s.top == '{' && (s.has("_type") || claimsAttestation(s)):
		var p provenance
		p, err = readProvenanceDocument(f)
		statements = []provenance{p}
	default:
		reason := "neither an in-toto statement (_type, predicateType), a DSSE envelope, a Sigstore bundle, nor JSON Lines of them"
		if s.jsonErr != nil {
			reason += " (" + syntaxReason(s.jsonErr) + ")"
		}
		return nil, fmt.Errorf("%s: not SLSA provenance: %w", reason, ErrNotThisKind)
	}
	if err != nil {
		return nil, err
	}
	return provenanceSummary(statements), nil
}

// readProvenanceDocument reads f as one statement, envelope or bundle, at most attestation.MaxSize.
func readProvenanceDocument(f *os.File) (provenance, error) {
	info, err := f.Stat()
	if err != nil {
		return provenance{}, fmt.Errorf("stat file: %w", err)
	}
	if info.Size() > attestation.MaxSize {
		return provenance{}, fmt.Errorf("larger than %d MiB, the limit for an attestation", attestation.MaxSize>>20)
	}
	data, err := readDocument(f)
	if err != nil {
		return provenance{}, err
	}
	return readProvenance(data, true)
}

// readProvenanceLines reads every non-empty line of f as one statement, envelope or bundle.
func readProvenanceLines(f *os.File) ([]provenance, error) {
	r, err := openDocument(f)
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), attestation.MaxSize)
	var out []provenance
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if len(out) == maxSLSALines {
			return nil, fmt.Errorf("more than %d statements in one JSON Lines file", maxSLSALines)
		}
		p, err := readProvenance(line, len(out) == 0)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		out = append(out, p)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("a line is longer than %d MiB, the limit for an attestation", attestation.MaxSize>>20)
		}
		return nil, fmt.Errorf("read JSON Lines: %w", err)
	}
	if len(out) == 0 {
		return nil, errors.New("no statement in the JSON Lines file")
	}
	return out, nil
}

// readProvenance reads one bare statement, DSSE envelope or Sigstore bundle of SLSA provenance. A
// statement of another predicate type is not SLSA provenance; when first, the file is another kind.
func readProvenance(data []byte, first bool) (provenance, error) {
	var probe struct {
		Type json.RawMessage `json:"_type"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return provenance{}, fmt.Errorf("not valid JSON: %s", syntaxReason(err))
	}
	var p provenance
	var st *intoto.Statement
	if probe.Type != nil {
		var err error
		if st, err = attestation.ParseStatement(data); err != nil {
			return p, fmt.Errorf("bare statement: %w", err)
		}
		p.envelope = "none"
	} else {
		doc, err := attestation.Read(data)
		if err != nil {
			if first && errors.Is(err, attestation.ErrNotAttestation) { // a cosign sign-blob bundle
				err = fmt.Errorf("%w: %w", err, ErrNotThisKind)
			}
			return p, err
		}
		st, p.envelope = doc.Statement, "Sigstore bundle"
		if doc.Bundle == nil {
			p.envelope = "DSSE envelope"
		}
	}
	p.predicateType, p.subjects = st.GetPredicateType(), len(st.GetSubject())
	var err error
	switch p.predicateType {
	case slsaProvenanceV1:
		p.builderID, p.buildType, err = slsaV1(st)
	case slsaProvenanceV02:
		p.builderID, p.buildType, err = slsaV02(st)
	default:
		err = fmt.Errorf("predicateType %q is not SLSA provenance (%s or %s)", p.predicateType, slsaProvenanceV02, slsaProvenanceV1)
		if first {
			err = fmt.Errorf("%w: %w", err, ErrNotThisKind)
		}
	}
	return p, err
}

// predicateAs decodes a statement's predicate into the provenance message m.
func predicateAs(st *intoto.Statement, m proto.Message) error {
	raw, err := protojson.Marshal(st.GetPredicate())
	if err != nil {
		return fmt.Errorf("predicate: %w", err)
	}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(raw, m); err != nil {
		return fmt.Errorf("predicate is not SLSA provenance: %w", err)
	}
	return nil
}

// slsaV1 checks a SLSA provenance v1 predicate with in-toto's validation (buildDefinition with
// buildType and externalParameters, runDetails.builder.id, well-formed resource descriptors).
func slsaV1(st *intoto.Statement) (builderID, buildType string, err error) {
	var p slsa1.Provenance
	if err := predicateAs(st, &p); err != nil {
		return "", "", err
	}
	if err := p.Validate(); err != nil {
		return "", "", fmt.Errorf("SLSA provenance v1 predicate: %w", err)
	}
	return p.GetRunDetails().GetBuilder().GetId(), p.GetBuildDefinition().GetBuildType(), nil
}

// slsaV02 checks a SLSA provenance v0.2 predicate: the spec's required builder.id and buildType.
func slsaV02(st *intoto.Statement) (builderID, buildType string, err error) {
	var p slsa02.Provenance
	if err := predicateAs(st, &p); err != nil {
		return "", "", err
	}
	switch {
	case p.GetBuilder().GetId() == "":
		return "", "", errors.New("SLSA provenance v0.2 predicate: builder.id required")
	case p.GetBuildType() == "":
		return "", "", errors.New("SLSA provenance v0.2 predicate: buildType required")
	}
	return p.GetBuilder().GetId(), p.GetBuildType(), nil
}

// provenanceSummary records the statements: counts add up; the values several statements share are
// recorded once, different ones comma-separated in order.
func provenanceSummary(statements []provenance) map[string]string {
	var types, builders, buildTypes, envelopes, formats []string
	subjects, signed := 0, true
	for _, p := range statements {
		types = appendNew(types, p.predicateType)
		builders = appendNew(builders, p.builderID)
		buildTypes = appendNew(buildTypes, p.buildType)
		envelopes = appendNew(envelopes, p.envelope)
		formats = appendNew(formats, "SLSA provenance "+strings.TrimPrefix(p.predicateType, "https://slsa.dev/provenance/"))
		subjects += p.subjects
		signed = signed && p.envelope != "none"
	}
	return map[string]string{
		"format":        strings.Join(formats, ","),
		"predicateType": strings.Join(types, ","),
		"statements":    itoa(len(statements)),
		"subjectCount":  itoa(subjects),
		"builderId":     strings.Join(builders, ","),
		"buildType":     strings.Join(buildTypes, ","),
		"envelope":      strings.Join(envelopes, ","),
		"signed":        fmt.Sprint(signed),
	}
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}
