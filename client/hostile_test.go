package client_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/custody-dev/custody/client"
)

// endless writes chunks of s until the client stops reading or limit bytes are out, and counts what
// the connection took.
func endless(w http.ResponseWriter, s string, limit int64, written *atomic.Int64) {
	chunk := []byte(strings.Repeat(s, (64<<10)/len(s)))
	for written.Load() < limit {
		n, err := w.Write(chunk)
		written.Add(int64(n))
		if err != nil {
			return
		}
	}
}

// TestStreamedCallsAnswerIsBounded: a control plane (hostile, or broken) that answers an upload or a
// push with a JSON document that does not end fails the call at the client's answer bound, instead
// of growing the client's memory until the kernel kills it.
func TestStreamedCallsAnswerIsBounded(t *testing.T) {
	t.Parallel()
	url := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"digest":"`)
		var written atomic.Int64
		endless(w, "a", client.MaxAnswerSize+1<<20, &written) // a bound past it, so a test without the fix ends
	}))
	c := newClient(t, url, client.Retry{})
	for name, call := range map[string]func() error{
		"upload": func() error {
			_, err := c.UploadBlob(context.Background(), func() (io.Reader, error) { return strings.NewReader("content"), nil })
			return err
		},
		"push": func() error {
			_, err := c.Push(context.Background(), "0b5e6c4e-8f0a-4f6e-9d43-1a2b3c4d5e6f", []byte("{}"))
			return err
		},
	} {
		if err := call(); err == nil || !strings.Contains(err.Error(), "larger than 64 MiB") {
			t.Errorf("%s: error = %v, want the answer refused at its 64 MiB bound", name, err)
		}
	}
}

// TestRetryDrainIsBounded: the body of an answer the client retries (503 and the like) is read only
// up to a small bound before the next attempt: one that does not end does not hold the client past
// its retry deadline, or forever.
func TestRetryDrainIsBounded(t *testing.T) {
	t.Parallel()
	const served = 256 << 20 // what the server would send to a client that reads everything
	var written atomic.Int64
	var attempts atomic.Int32
	url := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if attempts.Add(1) > 1 {
			whoami(w, r)
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		endless(w, "unavailable ", served, &written)
	}))
	if _, err := newClient(t, url, fast).WhoAmI(context.Background()); err != nil {
		t.Fatalf("whoami after a retry: %v", err)
	}
	if n := written.Load(); n >= 64<<20 {
		t.Errorf("the client read %d MiB of a 503's body before retrying, want at most a few KiB (socket buffers aside)", n>>20)
	}
}
