package attestation_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/custody-dev/custody/attestation"
)

// rawSigner signs any payload as it is, even one custody's own signer would refuse to sign, as a
// holder of a trusted key could.
type rawSigner struct {
	sv     signature.SignerVerifier
	pubPEM []byte
}

func newRawSigner(t testing.TB) rawSigner {
	t.Helper()
	sv, pub := newSignerVerifier(t)
	return rawSigner{sv: sv, pubPEM: pub}
}

// bundle signs payload into a Sigstore bundle v0.3 naming the key by its hint.
func (s rawSigner) bundle(t testing.TB, payload []byte) []byte {
	t.Helper()
	sig, err := s.sv.SignMessage(bytes.NewReader(dsse.PAE(attestation.PayloadType, payload)))
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := s.sv.PublicKey()
	hint, err := attestation.KeyHint(pub)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(map[string]any{
		"mediaType":            attestation.BundleMediaType,
		"verificationMaterial": map[string]any{"publicKey": map[string]string{"hint": hint}},
		"dsseEnvelope": map[string]any{
			"payload": base64Encode(payload), "payloadType": attestation.PayloadType,
			"signatures": []map[string]string{{"sig": base64Encode(sig)}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// verify signs payload and verifies the bundle as the control plane does at push: the envelope is
// read, the signature checked, then the statement decoded (attestation.Verify decodes it first).
func (s rawSigner) verify(t testing.TB, payload []byte) (*attestation.Result, error) {
	t.Helper()
	doc, err := attestation.ReadEnvelope(s.bundle(t, payload))
	if err != nil {
		t.Fatal(err)
	}
	v, err := attestation.NewVerifier(attestation.VerifyOptions{PublicKey: s.pubPEM})
	if err != nil {
		t.Fatal(err)
	}
	return v.VerifyDocument(context.Background(), doc, "")
}

// ambiguousStatement is a custody statement whose JSON has extra placed at the end of the object
// that the marker names: the statement itself ("statement"), its predicate ("predicate"), the
// predicate's workflow ("workflow"), or its env map ("env").
func ambiguousStatement(where, extra string) []byte {
	const digest = `{"sha256":"aa8d448f27c582b120504aead54c6e91c91b5ef063bc136c58170f39e92402d7"}`
	objects := map[string]string{"statement": "", "predicate": "", "workflow": "", "env": ""}
	objects[where] = extra
	return []byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"bin","digest":` + digest + `}],` +
		`"predicateType":"https://custody.dev/attestation/v1","predicate":{` +
		`"workflow":{"name":"build","project":"demo","runID":"r1"` + objects["workflow"] + `},` +
		`"materials":[{"name":"bin","kind":"ARTIFACT","value":"bin","digest":"sha256:aa8d448f27c582b120504aead54c6e91c91b5ef063bc136c58170f39e92402d7","output":true}],` +
		`"env":{"HTTP_PROXY":"http://proxy"` + objects["env"] + `},` +
		`"initializedAt":"2025-01-02T03:04:05Z","finishedAt":"2025-01-02T03:04:05Z","builder":{"id":"custody","version":"test"}` +
		objects["predicate"] + `}` + objects["statement"] + `}`)
}

// TestVerifyRefusesAmbiguousJSON: a signed statement that JSON readers read differently is refused,
// so the subjects and materials custody checked (encoding/json, as sigstore-go reads them: the last
// of two names, any case) are those a verifier or policy engine matching names exactly (jq, OPA)
// sees. Case variants of a map's keys (environment variables) and of names custody ignores stay.
func TestVerifyRefusesAmbiguousJSON(t *testing.T) {
	s := newRawSigner(t)
	const otherSubject = `[{"name":"bin","digest":{"sha256":"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"}}]`
	tests := []struct {
		name, where, extra string
		wantErr            string // "" when it verifies
	}{
		{"subject in another case", "statement", `,"Subject":` + otherSubject, `statement has "Subject", which only a case-insensitive reader takes for "subject"`},
		{"subject twice", "statement", `,"subject":` + otherSubject, `statement has the name "subject" twice`},
		{"subject folded by Unicode", "statement", `,"ſubject":` + otherSubject, `statement has "ſubject", which only a case-insensitive reader takes for "subject"`},
		{"materials in another case", "predicate", `,"MATERIALS":[]`, `statement.predicate has "MATERIALS", which only a case-insensitive reader takes for "materials"`},
		{"run id in another case", "workflow", `,"runid":"r2"`, `statement.predicate.workflow has "runid", which only a case-insensitive reader takes for "runID"`},
		{"an env variable twice", "env", `,"HTTP_PROXY":"http://other"`, `statement.predicate.env has the name "HTTP_PROXY" twice`},
		{"env variables differing in case", "env", `,"http_proxy":"http://proxy"`, ""},
		{"unknown names differing in case", "predicate", `,"note":"a","Note":"b"`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := s.verify(t, ambiguousStatement(tc.where, tc.extra))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Verify() = %v, want verified", err)
				}
				if len(res.Subjects) != 1 || len(res.Predicate.Materials) != 1 {
					t.Errorf("verified %d subjects and %d materials, want 1 and 1", len(res.Subjects), len(res.Predicate.Materials))
				}
				return
			}
			if !errors.Is(err, attestation.ErrAmbiguous) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Verify() = %v, want ErrAmbiguous saying %q", err, tc.wantErr)
			}
		})
	}
}

// FuzzVerifyAmbiguous: whatever the statement, a verified one has no repeated name in any object,
// and its subjects are those an exact-name reader finds.
func FuzzVerifyAmbiguous(f *testing.F) {
	f.Add("statement", `,"Subject":[]`)
	f.Add("env", `,"http_proxy":"x"`)
	f.Add("predicate", `,"materials":[]`)
	f.Add("workflow", `,"name":"x"`)
	s := newRawSigner(f)
	f.Fuzz(func(t *testing.T, where, extra string) {
		payload := ambiguousStatement(where, extra)
		res, err := s.verify(t, payload)
		if err != nil {
			return
		}
		var generic struct {
			Subject []map[string]any `json:"subject"`
		}
		if err := json.Unmarshal(payload, &generic); err != nil {
			t.Fatalf("verified, but not JSON: %v", err)
		}
		var exact []string // name@digests as a reader matching names exactly reads them
		for _, m := range generic.Subject {
			name, _ := m["name"].(string)
			digests, _ := json.Marshal(m["digest"])
			exact = append(exact, name+"@"+string(digests))
		}
		var got []string
		for _, sub := range res.Subjects {
			digests, _ := json.Marshal(sub.Digest)
			got = append(got, sub.Name+"@"+string(digests))
		}
		if strings.Join(got, " ") != strings.Join(exact, " ") {
			t.Errorf("verified subjects %v, an exact-name reader reads %v", got, exact)
		}
	})
}
