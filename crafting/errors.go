package crafting

import (
	"errors"
	"fmt"
	"strings"

	"github.com/custody-dev/custody/contract"
	"github.com/custody-dev/custody/runner"
)

// ErrRunInProgress is returned by Init when a run is in progress and Replace is not set.
var ErrRunInProgress = errors.New("an attestation is already in progress")

// UnsatisfiedError says what the contract demands that the run does not have.
type UnsatisfiedError struct {
	// Op is the step that refused: "init" or "push".
	Op                 string
	Materials          []string // required materials not set
	Annotations        []string // annotations without a value, as "material/annotation" or "annotation"
	Env                []string // allowed env vars the environment does not set
	RunnerWant, Runner string   // the runner type the contract demands, and the one detected
	RunnerMissing      []string // the demanded runner's required variables that are not set
	Problems           []string // any other shortfall of the statement, each naming its material
}

func (e *UnsatisfiedError) Error() string {
	var parts []string
	if len(e.Materials) > 0 {
		parts = append(parts, "required materials not set: "+strings.Join(e.Materials, ", "))
	}
	if len(e.Annotations) > 0 {
		parts = append(parts, "annotations without a value: "+strings.Join(e.Annotations, ", "))
	}
	if len(e.Env) > 0 {
		parts = append(parts, "environment variables not set: "+strings.Join(e.Env, ", "))
	}
	want := contract.RunnerType(e.RunnerWant)
	switch {
	case e.RunnerWant != "" && e.RunnerWant != e.Runner:
		got := "no CI runner"
		if e.Runner != "" {
			got = fmt.Sprintf("%s (%s)", e.Runner, runner.Name(contract.RunnerType(e.Runner)))
		}
		parts = append(parts, fmt.Sprintf("the contract demands runner %s (%s), this is %s: run it on %s, or change the contract's spec.runner",
			e.RunnerWant, runner.Name(want), got, runner.Name(want)))
	case e.RunnerWant != "":
		parts = append(parts, fmt.Sprintf("the contract demands runner %s (%s), whose variables %s are not set here: "+
			"pass them to the step's environment (a container does not inherit them)", e.RunnerWant, runner.Name(want), strings.Join(e.RunnerMissing, ", ")))
	}
	parts = append(parts, e.Problems...)
	return fmt.Sprintf("%s: contract not satisfied: %s", e.Op, strings.Join(parts, "; "))
}

// ConflictError is an add that would overwrite a material already set to something else.
type ConflictError struct {
	Name, Current string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("material %s is already set to %s; start over with `custody attestation reset` to change it", e.Name, e.Current)
}

// InputError is a value or flag the lifecycle refuses, with the reason.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

func inputErrorf(format string, args ...any) error {
	return &InputError{Err: fmt.Errorf(format, args...)}
}
