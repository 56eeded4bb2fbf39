package cli

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/attestation/satisfy"
	"github.com/custody-dev/custody/contract"
	"github.com/custody-dev/custody/internal/input"
)

// verifyBatch verifies bundles with one verifier, artifact and contract.
type verifyBatch struct {
	verifier *attestation.Verifier
	digests  []attestation.ArtifactDigest
	contract *contract.Contract
}

// verdict is the outcome of one bundle.
type verdict struct {
	Bundle   string `json:"bundle"`
	Verified bool   `json:"verified"`
	// Reason is the code of the failure's kind (attestation.ReasonCode, or contract-not-satisfied,
	// unreadable, invalid); Error says it in words.
	Reason        string         `json:"reason,omitempty"`
	Error         string         `json:"error,omitempty"`
	PredicateType string         `json:"predicateType,omitempty"`
	Workflow      string         `json:"workflow,omitempty"`
	Project       string         `json:"project,omitempty"`
	RunID         string         `json:"runID,omitempty"`
	KeyHint       string         `json:"keyHint,omitempty"`
	Signer        *verdictSigner `json:"signer,omitempty"`
	Subjects      []string       `json:"subjects,omitempty"`
}

type verdictSigner struct {
	SAN        string      `json:"san"`
	Issuer     string      `json:"issuer"`
	Timestamps []time.Time `json:"timestamps"`
}

// run verifies every bundle, GOMAXPROCS at a time, and prints the verdicts in the order of paths as
// they are known (all at the end with -o json). It returns a VerificationError if any failed.
func (b *verifyBatch) run(ctx context.Context, g *globals, paths []string) error {
	verdicts := make([]verdict, len(paths))
	done := make([]chan struct{}, len(paths))
	for i := range done {
		done[i] = make(chan struct{})
	}
	next := make(chan int)
	go func() {
		defer close(next)
		for i := range paths {
			next <- i
		}
	}()
	for range min(runtime.GOMAXPROCS(0), len(paths)) {
		go func() {
			for i := range next {
				verdicts[i] = b.verify(ctx, paths[i])
				close(done[i])
			}
		}()
	}
	failed := 0
	for i := range paths {
		<-done[i]
		if !verdicts[i].Verified {
			failed++
		}
		if !g.json() {
			printVerdict(g, verdicts[i])
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if g.json() {
		if err := writeJSON(g.env.Stdout, verdicts); err != nil {
			return err
		}
	}
	if failed > 0 {
		return &VerificationError{Failed: failed, Total: len(paths)}
	}
	return nil
}

// verify reads one bundle (at most attestation.MaxSize bytes) and verifies it.
func (b *verifyBatch) verify(ctx context.Context, path string) verdict {
	vd := verdict{Bundle: path}
	data, err := input.ReadFile(ctx, path, attestation.MaxSize)
	if err != nil {
		return vd.fail("unreadable", err)
	}
	doc, err := attestation.Read(data)
	if err != nil {
		return vd.fail(attestation.ReasonCode(err), fmt.Errorf("verify: %w", err))
	}
	res, err := b.verifier.VerifyDigests(ctx, doc, b.digests)
	if err != nil {
		return vd.fail(attestation.ReasonCode(err), err)
	}
	if b.contract != nil {
		p := res.Predicate
		if p == nil {
			return vd.fail("contract-not-satisfied", errors.New("verify: the statement has no custody predicate to check the contract against"))
		}
		if err := satisfy.Check(b.contract, p.Workflow.ContractRevision, res.Subjects, p); err != nil {
			return vd.fail("contract-not-satisfied", fmt.Errorf("verify: contract %s not satisfied at revision %d: %w",
				b.contract.Metadata.Name, p.Workflow.ContractRevision, err))
		}
	}
	vd.Verified = true
	vd.PredicateType = res.Statement.GetPredicateType()
	if p := res.Predicate; p != nil {
		vd.Workflow, vd.Project, vd.RunID = p.Workflow.Name, p.Workflow.Project, p.Workflow.RunID
	}
	vd.KeyHint = res.KeyHint
	if s := res.Signer; s != nil {
		vd.Signer = &verdictSigner{SAN: s.SAN, Issuer: s.Issuer, Timestamps: s.Timestamps}
	}
	for _, s := range res.Subjects {
		vd.Subjects = append(vd.Subjects, s.String())
	}
	return vd
}

// fail records err, on one line, as the verdict's reason.
func (vd verdict) fail(code string, err error) verdict {
	if code == "" {
		code = "invalid"
	}
	vd.Reason, vd.Error = code, strings.Join(strings.Fields(err.Error()), " ")
	return vd
}

// maxSubjectsShown bounds the subjects a line lists; -o json lists them all.
const maxSubjectsShown = 3

// printVerdict prints one line: OK with what was verified, or FAIL with the reason.
func printVerdict(g *globals, vd verdict) {
	if !vd.Verified {
		printLine(g.env.Stdout, "FAIL %s: %s", vd.Bundle, vd.Error)
		return
	}
	what := fmt.Sprintf("predicate %s", vd.PredicateType)
	if vd.Workflow != "" || vd.Project != "" {
		what = fmt.Sprintf("workflow %s, project %s, run %s", vd.Workflow, vd.Project, vd.RunID)
	}
	by := fmt.Sprintf("key %s", vd.KeyHint)
	if s := vd.Signer; s != nil {
		stamps := make([]string, 0, len(s.Timestamps))
		for _, t := range s.Timestamps {
			stamps = append(stamps, t.UTC().Format(time.RFC3339))
		}
		by = fmt.Sprintf("%s (issuer %s) at %s", s.SAN, s.Issuer, strings.Join(stamps, ", "))
	}
	subjects := vd.Subjects
	if n := len(subjects); n > maxSubjectsShown {
		subjects = append(subjects[:maxSubjectsShown:maxSubjectsShown], fmt.Sprintf("and %d more", n-maxSubjectsShown))
	}
	printLine(g.env.Stdout, "OK   %s: Verified OK (%s); signed by %s; subjects %s", vd.Bundle, what, by, strings.Join(subjects, ", "))
}
