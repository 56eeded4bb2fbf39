package attestation

import (
	"fmt"

	"github.com/custody-dev/custody/contract"
	"github.com/custody-dev/custody/internal/input"
)

// Bounds of what custody signs and what the control plane stores. A real custody statement is 5 to
// 20 KiB with 5 to 50 materials; the bounds are about a hundred times that, and low enough that a
// push is a bounded amount of work, memory and store time for the control plane (see
// docs/benchmarks.md: the largest push holds SQLite's one writer for tens of milliseconds). Crafting
// refuses to sign past them, the control plane to store past them (413 for sizes, 422 for counts).
const (
	// MaxStatementSize bounds an in-toto statement (the DSSE payload): 1 MiB.
	MaxStatementSize = 1 << 20
	// MaxMaterials bounds the materials of a custody predicate (and of a contract: contract.MaxMaterials).
	MaxMaterials = contract.MaxMaterials
	// MaxBundleSize bounds a Sigstore bundle the control plane takes: the statement in base64 plus
	// 256 KiB for the verification material (certificate chains, timestamps: a few KiB in practice)
	// and the JSON around them.
	MaxBundleSize = MaxStatementSize/3*4 + 256<<10
)

// StatementTooLargeError is a statement past MaxStatementSize.
type StatementTooLargeError struct{ Size int }

func (e *StatementTooLargeError) Error() string {
	return fmt.Sprintf("the in-toto statement is %s, larger than the %s custody takes", input.Size(int64(e.Size)), input.Size(MaxStatementSize))
}

// CheckStatementSize refuses a statement (a DSSE payload) past MaxStatementSize: crafting before it
// signs one, the control plane before it decodes one.
func CheckStatementSize(statement []byte) error {
	if n := len(statement); n > MaxStatementSize {
		return &StatementTooLargeError{Size: n}
	}
	return nil
}
