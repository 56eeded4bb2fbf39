package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestCLIRetriesTransientFailures runs CLI commands through fronts that fail the first attempts the
// way networks and load balancers do: each command succeeds, exactly once.
func TestCLIRetriesTransientFailures(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// via puts a faulty hop before the server and returns its URL and how many requests it saw
		// (-1: not counted).
		via  func(t *testing.T, addr string) (url string, seen func() int)
		want int // requests the front saw
	}{
		{"first 3 connections closed at once", func(t *testing.T, addr string) (string, func() int) {
			px := newTCPProxy(t, addr)
			px.refuseNext(3)
			return px.url(), func() int { return -1 }
		}, -1},
		{"502 twice", statusesFirst(http.StatusBadGateway, http.StatusBadGateway), 3},
		{"503 twice", statusesFirst(http.StatusServiceUnavailable, http.StatusServiceUnavailable), 3},
		{"504 twice", statusesFirst(http.StatusGatewayTimeout, http.StatusGatewayTimeout), 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			d := startDaemon(t, t.TempDir())
			p := bootstrap(t, d.url(), d.bootstrapToken(), contractArtifactAndString)
			url, seen := tc.via(t, d.addr)
			ws := p.pipeline(t, url, "CUSTODY_RETRY_DEADLINE=100s")
			ws.ok("attestation", "init", "--workflow", p.workflow, "--project", p.name)
			if got := seen(); got != tc.want {
				t.Errorf("the front saw %d requests, want %d (two refused, one through)", got, tc.want)
			}
			runs, err := p.apiClient(t, d.url()).ListRuns(ctx, p.name, p.workflow, 0)
			if err != nil || len(runs) != 1 {
				t.Fatalf("runs after a retried init: %+v, %v; want exactly one", runs, err)
			}
		})
	}
}

func statusesFirst(statuses ...int) func(t *testing.T, addr string) (string, func() int) {
	return func(t *testing.T, addr string) (string, func() int) {
		f := newFront(t, addr)
		f.set(addr, nil, statuses...)
		return f.url(), f.requests
	}
}

// TestCLIRetriesUpload answers the artifact upload with 503 twice: the CLI starts the upload over
// from the file, and the CAS gets the exact bytes.
func TestCLIRetriesUpload(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := startDaemon(t, t.TempDir())
	p := bootstrap(t, d.url(), d.bootstrapToken(), contractArtifactAndString)
	f := newFront(t, d.addr)
	var (
		mu      sync.Mutex
		refused int
	)
	f.set(d.addr, func(w http.ResponseWriter, r *http.Request) bool {
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path != "/v1/blobs" || refused == 2 {
			return false
		}
		refused++
		_, _ = io.CopyN(io.Discard, r.Body, 256<<10) // part of the upload, then the refusal
		w.Header().Set("Connection", "close")
		w.WriteHeader(http.StatusServiceUnavailable)
		return true
	})
	ws := p.pipeline(t, f.url(), "CUSTODY_RETRY_DEADLINE=100s")
	digest := ws.writeRandom("rootfs.bin", 4<<20, 3)
	ws.ok("attestation", "init", "--workflow", p.workflow, "--project", p.name)
	ws.ok("attestation", "add", "--name", "artifact", "--value", "rootfs.bin")
	mu.Lock()
	if refused != 2 {
		t.Errorf("uploads refused: %d, want 2", refused)
	}
	mu.Unlock()
	if got, err := download(ctx, p.apiClient(t, d.url()), digest); err != nil || got != digest {
		t.Fatalf("download: %s, %v; want %s", got, err, digest)
	}
}

// TestCLIUnavailable: a control plane that stays unreachable (or failing) past the retry deadline
// ends the command with exit code 10, "unavailable".
func TestCLIUnavailable(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		deadline string
		via      func(t *testing.T) (url string, seen func() int)
		// minSeen and maxSeen bound the requests the front saw (-1: not counted).
		minSeen, maxSeen int
	}{
		{"nothing listening", "1s", func(t *testing.T) (string, func() int) {
			return "http://" + closedPort(t), func() int { return -1 }
		}, -1, -1},
		{"connections closed at once", "1s", func(t *testing.T) (string, func() int) {
			return newTCPProxy(t, "").url(), func() int { return -1 }
		}, -1, -1},
		{"503 until the deadline", "1s", func(t *testing.T) (string, func() int) {
			f := newFront(t, "")
			f.set("", func(w http.ResponseWriter, _ *http.Request) bool {
				w.WriteHeader(http.StatusServiceUnavailable)
				return true
			})
			return f.url(), f.requests
		}, 2, 1 << 20},
		{"retries disabled: one 503 is final", "0", func(t *testing.T) (string, func() int) {
			f := newFront(t, "")
			f.set("", nil, http.StatusServiceUnavailable)
			return f.url(), f.requests
		}, 1, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			url, seen := tc.via(t)
			p := &project{name: "skynet", workflow: "build-and-test", token: "cst_never-checked"}
			ws := p.pipeline(t, url, "CUSTODY_RETRY_DEADLINE="+tc.deadline)
			r := ws.run("attestation", "init", "--workflow", p.workflow, "--project", p.name)
			if r.code != 10 {
				t.Fatalf("exit %d, want 10 (unavailable)\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, "unavailable") && !strings.Contains(r.stderr, "503") {
				t.Errorf("stderr does not say the control plane is unavailable:\n%s", r.stderr)
			}
			if n := seen(); n < tc.minSeen || n > tc.maxSeen {
				t.Errorf("the front saw %d requests, want %d to %d", n, tc.minSeen, tc.maxSeen)
			}
		})
	}
}

// TestCLIRetryDeadlineInvalid: a malformed CUSTODY_RETRY_DEADLINE is a usage error.
func TestCLIRetryDeadlineInvalid(t *testing.T) {
	t.Parallel()
	p := &project{name: "skynet", workflow: "build-and-test", token: "cst_never-checked"}
	ws := p.pipeline(t, "http://"+closedPort(t), "CUSTODY_RETRY_DEADLINE=soon")
	r := ws.run("attestation", "init", "--workflow", p.workflow, "--project", p.name)
	if r.code != 2 || !strings.Contains(r.stderr, "CUSTODY_RETRY_DEADLINE") {
		t.Fatalf("exit %d, want 2 naming CUSTODY_RETRY_DEADLINE\nstderr: %s", r.code, r.stderr)
	}
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
