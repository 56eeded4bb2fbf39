package main

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// inproc is custodyd's run() in the test process: the handler, server, listener and limits it
// builds, on SQLite and a filesystem CAS in a temp dir, on a free loopback port.
type inproc struct {
	addr, dataDir, token string
	log                  *lineWriter // JSON log lines
}

func startInProcess(t *testing.T, args ...string) *inproc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d := &inproc{dataDir: t.TempDir(), log: newLineWriter(func(string) {})}
	tokens := make(chan string, 1)
	out := newLineWriter(func(line string) {
		if _, tok, ok := strings.Cut(line, "keep it safe): "); ok {
			tokens <- strings.TrimSpace(tok)
		}
	})
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"--data-dir", d.dataDir, "--listen", "127.0.0.1:0"}, args...), map[string]string{}, out, d.log, ready)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("custodyd: %v", err)
		}
		if t.Failed() {
			t.Logf("custodyd log:\n%s", d.log.String())
		}
	})
	select {
	case d.addr = <-ready:
	case err := <-done:
		t.Fatalf("custodyd ended before serving: %v", err)
	case <-time.After(waitLimit):
		t.Fatalf("custodyd did not serve within %s", waitLimit)
	}
	d.token = <-tokens
	return d
}

func (d *inproc) url() string { return "http://" + d.addr }

// dial opens a raw connection to the server; every read on it fails after waitLimit at most.
func (d *inproc) dial(t *testing.T) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", d.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetReadDeadline(time.Now().Add(waitLimit))
	return c
}

// exchange writes a raw HTTP/1.1 request on a new connection and reads the answer.
func (d *inproc) exchange(t *testing.T, request string) *http.Response {
	t.Helper()
	c := d.dial(t)
	if _, err := c.Write([]byte(request)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("answer to %q: %v", firstLine(request), err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\r\n")
	return line
}

// errorLines returns the log lines at level ERROR.
func (d *inproc) errorLines() []string {
	var out []string
	for _, line := range strings.Split(d.log.String(), "\n") {
		if strings.Contains(line, `"level":"ERROR"`) {
			out = append(out, line)
		}
	}
	return out
}
