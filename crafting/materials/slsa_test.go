package materials

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custody-dev/custody/contract"
)

const (
	genericBuilder = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v1.10.0"
	genericType    = "https://github.com/slsa-framework/slsa-github-generator/generic@v1"
	bcrBuilder     = "https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml@refs/tags/v0.0.1"
	bcrType        = "https://actions.github.io/buildtypes/workflow/v1"
)

// slsaWant is the summary of one statement of provenance.
func slsaWant(version, builder, buildType, envelope string) map[string]string {
	signed := "true"
	if envelope == "none" {
		signed = "false"
	}
	return map[string]string{
		"format": "SLSA provenance " + version, "predicateType": "https://slsa.dev/provenance/" + version,
		"statements": "1", "subjectCount": "1", "builderId": builder, "buildType": buildType,
		"envelope": envelope, "signed": signed,
	}
}

func TestCraftSLSAProvenance(t *testing.T) {
	t.Parallel()
	runDocCases(t, contract.KindSLSAProvenance, []docCase{
		// slsa-github-generator's generic generator (v0.2, in-toto Statement v0.1), bare and in its envelope.
		{file: "slsa/gha-generic-v1.10.0.statement.json", want: slsaWant("v0.2", genericBuilder, genericType, "none")},
		{file: "slsa/gha-generic-v1.10.0.intoto.jsonl", want: slsaWant("v0.2", genericBuilder, genericType, "DSSE envelope")},
		// GitHub's attest-build-provenance (v1, Statement v1), bare and in its Sigstore bundle v0.3.
		{file: "slsa/bcr-module.bazel.statement.json", want: slsaWant("v1", bcrBuilder, bcrType, "none")},
		{file: "slsa/bcr-module.bazel.intoto.jsonl", want: slsaWant("v1", bcrBuilder, bcrType, "Sigstore bundle")},
		// The container-based generator: v1 in a Statement v0.1, in a Sigstore bundle v0.1.
		{file: "slsa/gha-container-based-v1.10.0.build.slsa", want: slsaWant("v1",
			"https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_container-based_slsa3.yml@refs/tags/v1.10.0",
			"https://slsa.dev/container-based-build/v0.1?draft", "Sigstore bundle")},
		// JSON Lines: every line counts; what the lines share is recorded once.
		{file: "slsa/two-builders.intoto.jsonl", want: map[string]string{
			"format":        "SLSA provenance v0.2,SLSA provenance v1",
			"predicateType": "https://slsa.dev/provenance/v0.2,https://slsa.dev/provenance/v1",
			"statements":    "2", "subjectCount": "2",
			"builderId": genericBuilder + "," + bcrBuilder, "buildType": genericType + "," + bcrType,
			"envelope": "DSSE envelope,Sigstore bundle", "signed": "true",
		}},
		{file: "attestation/cosign-envelope.json", notThisKind: true,
			wantErr: []string{`predicateType "https://custody.dev/attestation/v1" is not SLSA provenance`}},
		{file: "attestation/cosign-sign-blob-bundle.json", notThisKind: true, wantErr: []string{"holds a message signature"}},
		{file: "cyclonedx/custody-mod.cdx.json", notThisKind: true,
			wantErr: []string{"neither an in-toto statement (_type, predicateType), a DSSE envelope, a Sigstore bundle, nor JSON Lines of them"}},
		{file: "junit/calc-fail.junit.xml", notThisKind: true, wantErr: []string{"not SLSA provenance"}},
	})
}

// statementVariant writes a copy of a bare statement fixture after edit changed its decoded JSON.
func statementVariant(t *testing.T, file string, edit func(st map[string]any)) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	edit(st)
	out, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	return writeBytes(t, filepath.Base(file), out)
}

func predicateOf(st map[string]any) map[string]any { return st["predicate"].(map[string]any) }

func TestSLSAProvenanceRefuses(t *testing.T) {
	t.Parallel()
	const v1, v02 = "slsa/bcr-module.bazel.statement.json", "slsa/gha-generic-v1.10.0.statement.json"
	envelopeLine, err := os.ReadFile("testdata/slsa/gha-generic-v1.10.0.intoto.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	custodyLine, err := os.ReadFile("testdata/attestation/cosign-envelope.json")
	if err != nil {
		t.Fatal(err)
	}
	oneLine := func(b []byte) string { return strings.ReplaceAll(strings.TrimSpace(string(b)), "\n", "") }
	big := writeBytes(t, "big.json", []byte(`{"_type": "https://in-toto.io/Statement/v1", "predicateType": "https://slsa.dev/provenance/v1", "x": "`))
	if err := os.Truncate(big, 33<<20); err != nil {
		t.Fatal(err)
	}
	runRefusals(t, contract.KindSLSAProvenance, []refusalCase{
		{name: "v1 without builder id", path: statementVariant(t, v1, func(st map[string]any) {
			delete(predicateOf(st)["runDetails"].(map[string]any)["builder"].(map[string]any), "id")
		}), wantErr: []string{"SLSA provenance v1 predicate: provenance.runDetails error: runDetails.builder required"}},
		{name: "v1 without external parameters", path: statementVariant(t, v1, func(st map[string]any) {
			delete(predicateOf(st)["buildDefinition"].(map[string]any), "externalParameters")
		}), wantErr: []string{"buildDefinition.externalParameters required"}},
		{name: "v1 without build type", path: statementVariant(t, v1, func(st map[string]any) {
			delete(predicateOf(st)["buildDefinition"].(map[string]any), "buildType")
		}), wantErr: []string{"buildDefinition.buildType required"}},
		{name: "v0.2 without build type", path: statementVariant(t, v02, func(st map[string]any) { delete(predicateOf(st), "buildType") }),
			wantErr: []string{"SLSA provenance v0.2 predicate: buildType required"}},
		{name: "v0.2 without builder id", path: statementVariant(t, v02, func(st map[string]any) { predicateOf(st)["builder"] = map[string]any{} }),
			wantErr: []string{"SLSA provenance v0.2 predicate: builder.id required"}},
		{name: "v0.2 builder of the wrong type", path: statementVariant(t, v02, func(st map[string]any) { predicateOf(st)["builder"] = "me" }),
			wantErr: []string{"predicate is not SLSA provenance: proto:"}},
		{name: "no subjects", path: statementVariant(t, v1, func(st map[string]any) { st["subject"] = []any{} }),
			wantErr: []string{"bare statement: in-toto statement has no subjects"}},
		{name: "not an in-toto statement", path: statementVariant(t, v1, func(st map[string]any) { st["_type"] = "https://example.com/Statement" }),
			wantErr: []string{`in-toto statement _type "https://example.com/Statement"`}},
		{name: "a later line of another predicate", path: writeTemp(t, "mixed.intoto.jsonl", string(envelopeLine)+"\n"+oneLine(custodyLine)+"\n"),
			wantErr: []string{`line 2: predicateType "https://custody.dev/attestation/v1" is not SLSA provenance`}},
		{name: "a broken line", path: writeTemp(t, "broken.intoto.jsonl", string(envelopeLine)+"\n{\"payloadType\": \n"),
			wantErr: []string{"line 2: not valid JSON"}},
		{name: "too many lines", path: writeTemp(t, "many.intoto.jsonl", strings.Repeat(string(envelopeLine)+"\n", maxSLSALines+1)),
			wantErr: []string{"more than 1000 statements in one JSON Lines file"}},
		{name: "larger than an attestation", path: big, wantErr: []string{"larger than 32 MiB, the limit for an attestation"}},
	})
}

// Auto-detection: a bare statement of SLSA provenance, and JSON Lines of it, are SLSA_PROVENANCE; a
// single envelope or bundle stays ATTESTATION (whatever its predicate), as the corpus expects.
func TestDetectSLSAProvenance(t *testing.T) {
	t.Parallel()
	custody, err := os.ReadFile("testdata/attestation/cosign-envelope.json")
	if err != nil {
		t.Fatal(err)
	}
	notSLSA := writeTemp(t, "custody.jsonl", strings.Repeat(strings.ReplaceAll(strings.TrimSpace(string(custody)), "\n", "")+"\n", 2))
	runDetectCases(t, []detectCase{
		{"testdata/slsa/gha-generic-v1.10.0.statement.json", contract.KindSLSAProvenance},
		{"testdata/slsa/bcr-module.bazel.statement.json", contract.KindSLSAProvenance},
		{"testdata/slsa/two-builders.intoto.jsonl", contract.KindSLSAProvenance},
		{"testdata/slsa/gha-generic-v1.10.0.intoto.jsonl", contract.KindAttestation},
		{"testdata/slsa/bcr-module.bazel.intoto.jsonl", contract.KindAttestation},
		{"testdata/slsa/gha-container-based-v1.10.0.build.slsa", contract.KindAttestation},
	})
	// JSON Lines of another predicate are not claimed as SLSA provenance.
	f, err := os.Open(notSLSA)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := sniffFile(f)
	if err != nil {
		t.Fatal(err)
	}
	if s.format != formatJSONLines || claimsSLSAProvenance(s) {
		t.Errorf("JSON Lines of custody attestations: format %s, claimed as SLSA provenance %v", s.format, claimsSLSAProvenance(s))
	}
}

func FuzzValidateSLSAProvenance(f *testing.F) {
	fuzzSummary(f, validateSLSAProvenance, func(t *testing.T, v map[string]string) {
		for _, pt := range strings.Split(v["predicateType"], ",") {
			if !isSLSAProvenance(pt) {
				t.Errorf("accepted predicateType %q", pt)
			}
		}
		if v["signed"] != "true" && v["signed"] != "false" || v["statements"] == "0" || v["builderId"] == "" || v["buildType"] == "" {
			t.Errorf("summary %v", v)
		}
	}, "slsa", "attestation")
}
