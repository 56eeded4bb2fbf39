package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/custody-dev/custody/controlplane/app"
)

// TestBodyBudgetReserve: a body holds its declared length, or its route's bound without one (at most
// the whole budget); past the budget reserve answers 503 with Retry-After, past the route's bound
// 413; release gives the share back.
func TestBodyBudgetReserve(t *testing.T) {
	t.Parallel()
	b := newBodyBudget(300)
	req := func(length int64) *http.Request {
		r := httptest.NewRequest(http.MethodPut, "/v1/runs/x/state", strings.NewReader(""))
		r.ContentLength = length
		return r
	}
	status := func(err error) int {
		if e, ok := app.AsError(err); ok {
			return e.Status
		}
		return http.StatusOK
	}
	w := httptest.NewRecorder()
	release200, err := reserveBody(b, w, req(200), 1000)
	if err != nil {
		t.Fatalf("200 of 300: %v", err)
	}
	if _, err := reserveBody(b, w, req(101), 1000); status(err) != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "1" {
		t.Fatalf("101 more with 100 left = %v (Retry-After %q), want 503 with Retry-After", err, w.Header().Get("Retry-After"))
	}
	release100, err := reserveBody(b, httptest.NewRecorder(), req(100), 1000)
	if err != nil {
		t.Fatalf("the last 100: %v", err)
	}
	if _, err := reserveBody(b, httptest.NewRecorder(), req(1001), 1000); status(err) != http.StatusRequestEntityTooLarge {
		t.Fatalf("a declared length past the route's bound = %v, want 413", err)
	}
	release200()
	release100()
	// Chunked (no length): the route's bound, at most the whole budget.
	releaseAll, err := reserveBody(b, httptest.NewRecorder(), req(-1), 1<<30)
	if err != nil {
		t.Fatalf("a chunked body with the budget free: %v", err)
	}
	if _, err := reserveBody(b, httptest.NewRecorder(), req(1), 1000); status(err) != http.StatusServiceUnavailable {
		t.Fatalf("a 1-byte body beside one holding the whole budget = %v, want 503", err)
	}
	releaseAll()
}
