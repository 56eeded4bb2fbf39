package api

import (
	"fmt"
	"net/http"

	"github.com/custody-dev/custody/contract"
	"github.com/custody-dev/custody/controlplane/app"
	"github.com/custody-dev/custody/internal/budget"
	"github.com/custody-dev/custody/wire"
)

// Bounds of the request bodies the API reads whole (a blob is streamed to the CAS instead). Each
// route takes the smallest that fits what it carries, so a body is refused (413) as soon as it is
// larger than its route could use, whoever sends it.
const (
	// maxSmallBody bounds a body of names and short text (tokens, keys, projects, resets): its longest
	// field, a reset's reason of 64 KiB, each byte of which JSON may escape to six, and the rest.
	maxSmallBody = 6*64<<10 + 64<<10
	// maxContractBody bounds a body that may carry a contract (at most contract.MaxSize bytes, each
	// of which JSON may escape to six), and what comes with it.
	maxContractBody = 6*contract.MaxSize + 64<<10
	// maxStateBody bounds a remote state write.
	maxStateBody = 8 << 20
)

// DefaultBodyBudget is the bytes of request bodies the API holds at once by default: eight of the
// largest (a remote state), or forty of the largest bundles.
const DefaultBodyBudget = 64 << 20

// declaredTooLarge refuses a body whose Content-Length is past its route's limit, before reading it.
func declaredTooLarge(r *http.Request, limit int64) error {
	return &app.Error{Status: http.StatusRequestEntityTooLarge, Code: wire.CodeTooLarge,
		Msg: fmt.Sprintf("the request body is %d bytes, larger than the %s %s %s accepts", r.ContentLength, bytesLimit(limit), r.Method, r.URL.Path)}
}

// newBodyBudget bounds the memory of request bodies being received. A body holds its Content-Length,
// or its route's bound when it has none (chunked), from its first byte to its last; past the budget
// a request is answered 503 with Retry-After before its body is read, so slow senders cannot make
// the control plane hold more than the budget, however many connections they open.
func newBodyBudget(total int64) *budget.Budget { return budget.New(total, 0) }

// reserveBody takes the budget for r's body, which its route bounds at limit: 413 when the declared
// length is past the bound, 503 when the budget is spent. release gives it back once the body is read.
func reserveBody(b *budget.Budget, w http.ResponseWriter, r *http.Request, limit int64) (release func(), err error) {
	n := limit
	switch {
	case r.ContentLength > limit:
		return nil, declaredTooLarge(r, limit)
	case r.ContentLength >= 0:
		n = r.ContentLength
	}
	if !b.TryAcquire(n) {
		w.Header().Set("Retry-After", "1")
		return nil, &app.Error{Status: http.StatusServiceUnavailable, Code: wire.CodeServiceUnavailable,
			Msg: fmt.Sprintf("this control plane holds at most %s of request bodies at once: retry later", bytesLimit(b.Total()))}
	}
	return func() { b.Release(n) }, nil
}
