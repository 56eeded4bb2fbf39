package attestation

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRead(t *testing.T) {
	tests := []struct {
		file          string
		wantMediaType string
		wantBundle    bool
	}{
		{"cosign-bundle.json", BundleMediaType, true},
		{"cosign-envelope.json", DSSEMediaType, false},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			doc, err := Read(readFixture(t, tt.file))
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if doc.MediaType != tt.wantMediaType {
				t.Errorf("MediaType = %q, want %q", doc.MediaType, tt.wantMediaType)
			}
			if (doc.Bundle != nil) != tt.wantBundle {
				t.Errorf("Bundle = %v, want bundle %v", doc.Bundle, tt.wantBundle)
			}
			if doc.Envelope.PayloadType != PayloadType || len(doc.Envelope.Signatures) != 1 {
				t.Errorf("envelope = %q with %d signatures", doc.Envelope.PayloadType, len(doc.Envelope.Signatures))
			}
			st := doc.Statement
			if st.GetPredicateType() != PredicateType {
				t.Errorf("predicateType = %q", st.GetPredicateType())
			}
			// cosign writes in-toto Statement v0.1.
			if st.GetType() != "https://in-toto.io/Statement/v0.1" {
				t.Errorf("_type = %q", st.GetType())
			}
			subjects := StatementSubjects(st)
			want := "artifact.txt@sha256:2f4e15616f33daa5ca31762467ecc7554ed07b111a1f5be46062a45c52a52ad4"
			if len(subjects) != 1 || subjects[0].String() != want {
				t.Errorf("subjects = %v, want [%s]", subjects, want)
			}
			p, err := ParsePredicate(st)
			if err != nil {
				t.Fatalf("ParsePredicate: %v", err)
			}
			if p.Workflow.Name != "build" || p.Workflow.ContractRevision != 2 || len(p.Materials) != 1 {
				t.Errorf("predicate = %+v", p)
			}
		})
	}
}

func TestReadRejects(t *testing.T) {
	tests := []struct {
		name    string
		data    []byte
		notThis bool   // wraps ErrNotAttestation: detection moves on
		want    string // in the error
	}{
		{"not JSON", []byte("hello"), true, "not a JSON object"},
		{"JSON array", []byte(`[1,2]`), true, "not a JSON object"},
		{"CycloneDX SBOM", []byte(`{"bomFormat":"CycloneDX","specVersion":"1.5","components":[]}`), true, "neither a Sigstore bundle"},
		{"trusted root", []byte(`{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","tlogs":[]}`), true, "neither a Sigstore bundle"},
		{"payload only", []byte(`{"payload":"e30=","payloadType":"application/vnd.in-toto+json"}`), true, "neither"},
		{"too large", []byte(`{"x":"` + strings.Repeat("a", MaxSize) + `"}`), true, "larger than 32 MiB"},
		{"sign-blob bundle", readFixture(t, "cosign-sign-blob-bundle.json"), true, "message signature (cosign sign-blob)"},
		{"payload type", readFixture(t, "broken-payload-type.json"), false, `payloadType "text/plain", want application/vnd.in-toto+json`},
		{"payload not base64", readFixture(t, "broken-payload-not-base64.json"), false, "payload is not base64"},
		{"payload not statement", readFixture(t, "broken-payload-not-statement.json"), false, "in-toto statement"},
		{"no subjects", readFixture(t, "broken-no-subjects.json"), false, "statement has no subjects"},
		{"no signatures", readFixture(t, "broken-no-signatures.json"), false, "no signatures"},
		{"bundle v0.4", readFixture(t, "broken-bundle-v04.json"), false, "v0.4"},
		{"bundle without content", readFixture(t, "broken-bundle-no-content.json"), false, "missing bundle content"},
		{"bundle payload type", readFixture(t, "broken-bundle-payload-type.json"), false, `payloadType "application/json"`},
		{"envelope with bad signature encoding", []byte(`{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"sig":"***"}]}`), false, "signature 1 is not base64"},
		{"statement type", []byte(`{"payloadType":"application/vnd.in-toto+json","payload":"` +
			b64(`{"_type":"https://example.com/Other","subject":[{"name":"a","digest":{"sha256":"`+strings.Repeat("a", 64)+`"}}],"predicateType":"x","predicate":{}}`) +
			`","signatures":[{"sig":"AA=="}]}`), false, `_type "https://example.com/Other"`},
		{"bad subject digest", []byte(`{"payloadType":"application/vnd.in-toto+json","payload":"` +
			b64(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"abcd"}}],"predicateType":"x","predicate":{}}`) +
			`","signatures":[{"sig":"AA=="}]}`), false, "digest has incorrect length"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(tt.data)
			if err == nil {
				t.Fatal("Read succeeded, want an error")
			}
			if got := errors.Is(err, ErrNotAttestation); got != tt.notThis {
				t.Errorf("errors.Is(err, ErrNotAttestation) = %v, want %v (err: %v)", got, tt.notThis, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestReadFromLimit(t *testing.T) {
	_, err := ReadFrom(strings.NewReader(`{"x":"` + strings.Repeat("a", MaxSize+10) + `"}`))
	if !errors.Is(err, ErrNotAttestation) || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("ReadFrom(huge) = %v", err)
	}
}

func FuzzRead(f *testing.F) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".json") {
			f.Add(readFixture(f, e.Name()))
		}
	}
	f.Add([]byte(`{"payloadType":"","payload":"","signatures":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := Read(data)
		if err != nil {
			return
		}
		if doc.Statement == nil || len(doc.Statement.GetSubject()) == 0 || len(doc.Envelope.Signatures) == 0 {
			t.Fatalf("Read accepted a document without statement, subjects or signatures: %+v", doc)
		}
		if doc.Envelope.PayloadType != PayloadType {
			t.Fatalf("Read accepted payloadType %q", doc.Envelope.PayloadType)
		}
	})
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
