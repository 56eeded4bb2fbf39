package client_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custody-dev/custody/client"
	"github.com/custody-dev/custody/wire"
)

// fast retries quickly: the tests count attempts, they do not time them.
var fast = client.Retry{Deadline: 10 * time.Second, Min: time.Millisecond, Max: 2 * time.Millisecond}

// flaky answers status to the first failures requests, then calls ok. It counts the requests and
// shows each to seen (when set) first.
type flaky struct {
	failures int
	status   int
	ok       http.HandlerFunc
	seen     func(*http.Request)
	attempts atomic.Int32
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := int(f.attempts.Add(1))
	if f.seen != nil {
		f.seen(r)
	}
	if n <= f.failures {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(f.status)
		_ = json.NewEncoder(w).Encode(wire.Problem{Status: f.status, Code: "code_" + strconv.Itoa(f.status), Detail: "try again"})
		return
	}
	f.ok(w, r)
}

func whoami(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(wire.WhoAmI{Token: wire.Token{ID: "t1"}, Org: "default"})
}

// stepClock is a clock whose Sleep moves it on at once, and remembers each wait.
type stepClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.slept = append(c.slept, d)
	return ctx.Err()
}

func scale(ns []time.Duration, unit time.Duration) []time.Duration {
	out := make([]time.Duration, len(ns))
	for i, n := range ns {
		out[i] = n * unit
	}
	return out
}

// TestAnswerIsBounded: an answer that does not end (a broken or hostile server) fails at the bound
// with an error naming it, instead of growing the client's memory until the kernel kills it.
func TestAnswerIsBounded(t *testing.T) {
	t.Parallel()
	chunk := []byte(strings.Repeat(`"xxxxxxxxxxxxxxx",`, 1<<12))
	url := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"t1","org":"default","padding":[`)
		for sent := 0; sent <= client.MaxAnswerSize; sent += len(chunk) { // one chunk past the bound, then it stops
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	_, err := newClient(t, url, client.Retry{}).WhoAmI(context.Background())
	if err == nil || !strings.Contains(err.Error(), "larger than 64 MiB") {
		t.Fatalf("error = %v, want the answer refused at its 64 MiB bound", err)
	}
}

func newClient(t *testing.T, url string, retry client.Retry) *client.Client {
	t.Helper()
	c, err := client.New(url, "cst_test", client.WithRetry(retry))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestRetriesTransientStatuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status   int
		attempts int32
		ok       bool
	}{
		{http.StatusBadGateway, 3, true},
		{http.StatusServiceUnavailable, 3, true},
		{http.StatusGatewayTimeout, 3, true},
		// Refusals and server errors are answers: retrying would not change them.
		{http.StatusBadRequest, 1, false},
		{http.StatusUnauthorized, 1, false},
		{http.StatusForbidden, 1, false},
		{http.StatusNotFound, 1, false},
		{http.StatusConflict, 1, false},
		{http.StatusRequestEntityTooLarge, 1, false},
		{http.StatusUnprocessableEntity, 1, false},
		{http.StatusTooManyRequests, 1, false},
		{http.StatusInternalServerError, 1, false},
		{http.StatusNotImplemented, 1, false},
	} {
		t.Run(strconv.Itoa(tc.status), func(t *testing.T) {
			t.Parallel()
			f := &flaky{failures: 2, status: tc.status, ok: whoami}
			me, err := newClient(t, serve(t, f), fast).WhoAmI(context.Background())
			if got := f.attempts.Load(); got != tc.attempts {
				t.Errorf("%d attempts, want %d", got, tc.attempts)
			}
			switch {
			case tc.ok && (err != nil || me.ID != "t1"):
				t.Fatalf("whoami = %+v, %v", me, err)
			case !tc.ok && (client.Status(err) != tc.status || client.Code(err) != "code_"+strconv.Itoa(tc.status)):
				t.Fatalf("error = %v, want the %d problem", err, tc.status)
			}
		})
	}
}

func TestNoRetriesWithoutDeadline(t *testing.T) {
	t.Parallel()
	f := &flaky{failures: 2, status: http.StatusServiceUnavailable, ok: whoami}
	_, err := newClient(t, serve(t, f), client.Retry{}).WhoAmI(context.Background())
	if f.attempts.Load() != 1 || client.Status(err) != http.StatusServiceUnavailable {
		t.Fatalf("%d attempts, %v; want one 503", f.attempts.Load(), err)
	}
}

// TestRetryReplaysTheBody: every attempt sends the whole request again, JSON and streamed blob
// (with its digest trailer) alike.
func TestRetryReplaysTheBody(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var bodies, trailers []string
	record := func(r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		bodies = append(bodies, string(b))
		trailers = append(trailers, r.Trailer.Get(wire.DigestHeader))
	}
	content := strings.Repeat("blob bytes ", 10_000)
	sum := sha256.Sum256([]byte(content))
	digest := "sha256:" + hex.EncodeToString(sum[:])
	mux := http.NewServeMux()
	mux.Handle("POST /v1/projects", &flaky{failures: 2, status: http.StatusServiceUnavailable, seen: record,
		ok: func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusCreated)
			_ = json.NewEncoder(w).Encode(wire.Project{Name: "alpha"})
		}})
	mux.Handle("POST /v1/blobs", &flaky{failures: 2, status: http.StatusBadGateway, seen: record,
		ok: func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusCreated)
			_ = json.NewEncoder(w).Encode(wire.Blob{Digest: digest, Size: int64(len(content))})
		}})
	c := newClient(t, serve(t, mux), fast)

	if _, err := c.CreateProject(context.Background(), "alpha"); err != nil {
		t.Fatal(err)
	}
	if len(bodies) != 3 || bodies[0] != `{"name":"alpha"}` || bodies[1] != bodies[0] || bodies[2] != bodies[0] {
		t.Fatalf("JSON bodies sent = %q", bodies)
	}
	mu.Lock()
	bodies, trailers = nil, nil
	mu.Unlock()
	opened := 0
	got, err := c.UploadBlob(context.Background(), func() (io.Reader, error) {
		opened++
		return strings.NewReader(content), nil
	})
	if err != nil || string(got.Digest) != digest {
		t.Fatalf("upload = %+v, %v", got, err)
	}
	if opened != 3 || len(bodies) != 3 {
		t.Fatalf("body opened %d times, %d bodies received; want 3", opened, len(bodies))
	}
	for i := range bodies {
		if bodies[i] != content || trailers[i] != digest {
			t.Errorf("attempt %d: %d bytes, trailer %q", i+1, len(bodies[i]), trailers[i])
		}
	}
}

// TestUnreachable: a port nobody listens on is retried with backoff until the deadline, then
// reported as unavailable.
func TestUnreachable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()

	clk := &stepClock{now: time.Unix(1e9, 0)}
	c, err := client.New(url, "cst_test", client.WithRetry(client.Retry{Deadline: 300 * time.Millisecond, Min: 10 * time.Millisecond}),
		client.WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.WhoAmI(context.Background())
	var unavailable *client.UnavailableError
	if !errors.As(err, &unavailable) {
		t.Fatalf("error = %v, want UnavailableError", err)
	}
	// Backing off from 10ms, doubling, within 300ms: waits of 10, 20, 40 and 80ms (150ms in all);
	// the next, 160ms, would end past the deadline. Five attempts, however fast the machine.
	m := regexp.MustCompile(`after (\d+) attempts`).FindStringSubmatch(err.Error())
	if m == nil {
		t.Fatalf("error %q does not count its attempts", err)
	}
	if n, _ := strconv.Atoi(m[1]); n != 5 {
		t.Errorf("%d attempts in 300ms backing off from 10ms, want 5", n)
	}
	if want := []time.Duration{10, 20, 40, 80}; !slices.Equal(clk.slept, scale(want, time.Millisecond)) {
		t.Errorf("waits = %v, want %v ms", clk.slept, want)
	}

	// Without retries: one attempt, still unavailable (not a generic error).
	_, err = newClient(t, url, client.Retry{}).WhoAmI(context.Background())
	if !errors.As(err, &unavailable) || !strings.Contains(err.Error(), "after 1 attempts") {
		t.Fatalf("error without retries = %v", err)
	}
}

// TestRetryStopsWithTheContext: a cancelled call stops retrying at once.
func TestRetryStopsWithTheContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := &flaky{failures: 1 << 30, status: http.StatusServiceUnavailable}
	url := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cancel()
		f.ServeHTTP(w, r)
	}))
	// The first wait (an hour) fits in the deadline: the call would wait, but the context ends it.
	_, err := newClient(t, url, client.Retry{Deadline: 2 * time.Hour, Min: time.Hour}).WhoAmI(ctx)
	if !errors.Is(err, context.Canceled) || f.attempts.Load() != 1 {
		t.Fatalf("%d attempts, %v; want 1 and context.Canceled", f.attempts.Load(), err)
	}
}

// TestRetryNotifies: every retry is told before it waits: the call, the attempt that failed and
// why, the wait and the deadline of the call.
func TestRetryNotifies(t *testing.T) {
	t.Parallel()
	f := &flaky{failures: 2, status: http.StatusServiceUnavailable, ok: whoami}
	var notices []client.Retrying
	c, err := client.New(serve(t, f), "cst_test", client.WithRetry(fast),
		client.WithRetryNotify(func(r client.Retrying) { notices = append(notices, r) }))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WhoAmI(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(notices) != 2 {
		t.Fatalf("%d notices for 2 retries: %+v", len(notices), notices)
	}
	for i, n := range notices {
		if n.Method != http.MethodGet || n.Path != "/v1/whoami" || n.Attempt != i+1 || !strings.Contains(n.Err.Error(), "503 Service Unavailable") {
			t.Errorf("notice %d = %+v", i+1, n)
		}
		if want := fast.Min << i; n.Wait != want {
			t.Errorf("notice %d waits %v, want %v", i+1, n.Wait, want)
		}
		if n.Deadline.IsZero() || !n.Deadline.Equal(notices[0].Deadline) {
			t.Errorf("notice %d deadline %v, want the call's one deadline %v", i+1, n.Deadline, notices[0].Deadline)
		}
	}
}

// TestUnresolvableHost: a host name that does not resolve is a control plane that could not be
// reached, not an unexpected error; a name that does not exist is not retried.
func TestUnresolvableHost(t *testing.T) {
	t.Parallel()
	retried := 0
	c, err := client.New("http://custody-test.invalid", "cst_test", client.WithRetry(client.Retry{Deadline: time.Second, Min: 10 * time.Millisecond}),
		client.WithRetryNotify(func(client.Retrying) { retried++ }))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.WhoAmI(context.Background())
	var unavailable *client.UnavailableError
	var dns *net.DNSError
	if !errors.As(err, &unavailable) || !errors.As(err, &dns) || !strings.Contains(err.Error(), "custody-test.invalid") {
		t.Fatalf("error = %v, want an UnavailableError naming the host", err)
	}
	if dns.IsNotFound && retried != 0 {
		t.Errorf("a host that does not exist was retried %d times", retried)
	}
}

// TestRetryAfter: a 503 or 408 that says when to come back is retried then, not sooner (bounded by a
// minute and by the deadline); one without the header backs off as usual.
func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Unix(1e9, 0)
	tests := []struct {
		name       string
		status     int
		retryAfter string
		want       time.Duration
	}{
		{"seconds", http.StatusServiceUnavailable, "3", 3 * time.Second},
		{"an HTTP date", http.StatusServiceUnavailable, now.Add(7 * time.Second).UTC().Format(http.TimeFormat), 7 * time.Second},
		{"shorter than the backoff", http.StatusServiceUnavailable, "0", 10 * time.Millisecond},
		{"a day, capped", http.StatusServiceUnavailable, "86400", time.Minute},
		{"unreadable", http.StatusServiceUnavailable, "soon", 10 * time.Millisecond},
		{"a body that came too slowly", http.StatusRequestTimeout, "", 10 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := &flaky{failures: 1, status: tc.status, ok: whoami}
			url := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.retryAfter != "" && f.attempts.Load() == 0 {
					w.Header().Set("Retry-After", tc.retryAfter)
				}
				f.ServeHTTP(w, r)
			}))
			clk := &stepClock{now: now}
			c, err := client.New(url, "cst_test", client.WithRetry(client.Retry{Deadline: 2 * time.Minute, Min: 10 * time.Millisecond}), client.WithClock(clk))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.WhoAmI(context.Background()); err != nil {
				t.Fatalf("whoami after one %d: %v", tc.status, err)
			}
			if !slices.Equal(clk.slept, []time.Duration{tc.want}) {
				t.Errorf("waits = %v, want [%v]", clk.slept, tc.want)
			}
		})
	}
}
