package api_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
	"github.com/custody-dev/custody/signing"
	"github.com/custody-dev/custody/wire"
)

// signedFor signs a statement satisfying buildContract for run, after mutate changed its predicate.
func signedFor(t *testing.T, signer *signing.KeySigner, run wire.Run, mutate func(*attestation.Predicate)) []byte {
	t.Helper()
	now := time.Date(2026, 11, 27, 10, 4, 0, 0, time.UTC) // fixed: statements of the same content have the same length
	p := &attestation.Predicate{
		Workflow: attestation.Workflow{Name: run.Workflow, Project: run.Project, RunID: run.ID,
			ContractName: "build", ContractRevision: run.ContractRevision},
		Materials: []attestation.Material{
			{Name: "rootfs", Kind: contract.KindArtifact, Value: "rootfs.tar.gz", Digest: digestOf([]byte("rootfs")), Output: true,
				File: &attestation.File{Name: "rootfs.tar.gz", Size: 6}, AddedAt: now},
			{Name: "build-ref", Kind: contract.KindString, Value: "refs/heads/main", AddedAt: now},
		},
		InitializedAt: now, FinishedAt: now,
		Builder: attestation.Builder{ID: "https://custody.dev/cli", Version: "test"},
	}
	if mutate != nil {
		mutate(p)
	}
	st, err := attestation.NewStatement(attestation.SubjectsFrom(p.Materials), p)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := attestation.MarshalStatement(st)
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := signer.Sign(t.Context(), payload)
	if err != nil {
		t.Fatal(err)
	}
	return bundle
}

// TestPushBounds: a push is bounded work. A body past attestation.MaxBundleSize is refused while it
// is read (413), a statement past attestation.MaxStatementSize before it is decoded (413), a
// predicate of more than attestation.MaxMaterials materials by the contract rule (422); each
// message names the bound, and nothing is stored. A statement just within the bounds is stored.
func TestPushBounds(t *testing.T) {
	t.Parallel()
	f := newBadFixture(t)
	// A bundle whose statement is n bytes long (an annotation pads it).
	statementOf := func(n int) []byte {
		pad := func(p *attestation.Predicate) { p.Annotations = map[string]string{"pad": ""} }
		base := signedFor(t, f.signer, f.run.Run, pad)
		var doc struct {
			Envelope struct{ Payload string } `json:"dsseEnvelope"`
		}
		if err := json.Unmarshal(base, &doc); err != nil {
			t.Fatal(err)
		}
		payload, err := base64.StdEncoding.DecodeString(doc.Envelope.Payload)
		if err != nil {
			t.Fatal(err)
		}
		bundle := signedFor(t, f.signer, f.run.Run, func(p *attestation.Predicate) {
			p.Annotations = map[string]string{"pad": strings.Repeat("x", n-len(payload))}
		})
		if err := json.Unmarshal(bundle, &doc); err != nil {
			t.Fatal(err)
		}
		if got, _ := base64.StdEncoding.DecodeString(doc.Envelope.Payload); len(got) != n {
			t.Fatalf("padded statement is %d bytes, want %d", len(got), n)
		}
		return bundle
	}
	tooMany := signedFor(t, f.signer, f.run.Run, func(p *attestation.Predicate) {
		for i := len(p.Materials); i <= attestation.MaxMaterials; i++ {
			p.Materials = append(p.Materials, attestation.Material{Name: fmt.Sprintf("extra-%d", i), Kind: contract.KindString, Value: "x"})
		}
	})
	overStatement := statementOf(attestation.MaxStatementSize + 1)
	if len(overStatement) > attestation.MaxBundleSize {
		t.Fatalf("the bundle of a statement just over its bound is %d bytes, over the bundle bound: the test would not reach the statement check", len(overStatement))
	}

	tests := []struct {
		name   string
		body   []byte
		status int
		code   string
		detail string
	}{
		{"statement over its bound", overStatement, http.StatusRequestEntityTooLarge, wire.CodeTooLarge,
			fmt.Sprintf("in-toto statement is %d bytes, larger than the 1 MiB custody takes", attestation.MaxStatementSize+1)},
		{"materials over their bound", tooMany, http.StatusUnprocessableEntity, wire.CodeContractUnmet,
			fmt.Sprintf("records %d materials, more than the %d an attestation may record", attestation.MaxMaterials+1, attestation.MaxMaterials)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mustRefuse(t, f.srv, raw(http.MethodPost, "/v1/runs/"+f.run.Run.ID+"/attestation", f.token, attestation.BundleMediaType, tc.body),
				tc.status, tc.code, tc.detail)
		})
	}

	// A body declared past the bundle bound is refused before it is read (only its headers are sent).
	resp := headersOnly(t, f.srv.URL, http.MethodPost, "/v1/runs/"+f.run.Run.ID+"/attestation", f.token, attestation.MaxBundleSize+1)
	var p wire.Problem
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil || resp.StatusCode != http.StatusRequestEntityTooLarge ||
		!strings.Contains(p.Detail, strconv.Itoa(attestation.MaxBundleSize)+" bytes") {
		t.Fatalf("a body declared past the bundle bound: %s %+v (%v)", resp.Status, p, err)
	}

	atBound := statementOf(attestation.MaxStatementSize)
	if a := send(t, f.srv, raw(http.MethodPost, "/v1/runs/"+f.run.Run.ID+"/attestation", f.token, attestation.BundleMediaType, atBound)); a.status != http.StatusCreated {
		t.Fatalf("a statement of exactly %d bytes = %s", attestation.MaxStatementSize, a)
	}
}

// TestPushChecksTheSignatureFirst: a payload that is not even JSON, under a signature that does not
// match it, is refused for its signature: the statement is decoded only once it is signed.
func TestPushChecksTheSignatureFirst(t *testing.T) {
	t.Parallel()
	f := newBadFixture(t)
	var doc map[string]any
	if err := json.Unmarshal(signedFor(t, f.signer, f.run.Run, nil), &doc); err != nil {
		t.Fatal(err)
	}
	forged := mutateJSON(t, doc, func(d map[string]any) {
		d["dsseEnvelope"].(map[string]any)["payload"] = base64.StdEncoding.EncodeToString([]byte("{not a statement"))
	})
	a := send(t, f.srv, raw(http.MethodPost, "/v1/runs/"+f.run.Run.ID+"/attestation", f.token, attestation.BundleMediaType, forged))
	mustProblem(t, a, http.StatusUnprocessableEntity, wire.CodeUnverifiable)
	if !strings.Contains(a.problem.Detail, "not verified by any key") {
		t.Errorf("detail %q: want the signature refused before the statement is read", a.problem.Detail)
	}
}
