package app

import "github.com/custody-dev/custody/internal/budget"

// minPushWeight is what a push holds of the push budget at least: the fixed memory of a push (the
// parsed bundle, the verifier's buffers), so that many tiny pushes still count.
const minPushWeight = 64 << 10

// newPushBudget bounds the bundle bytes verified and stored at once. A push holds its bundle's size
// (at least minPushWeight, at most the whole budget): small pushes run side by side, the largest
// take their turns, and the memory of pushes under way stays a small multiple of the budget.
func newPushBudget(total int64) *budget.Budget { return budget.New(total, minPushWeight) }
