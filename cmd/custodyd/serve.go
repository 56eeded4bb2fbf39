package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/custody-dev/custody/controlplane/ui"
	"github.com/custody-dev/custody/wire"
)

// newHandler is everything custodyd serves: /metrics and the web UI (/ and /ui/, ui.Owns) beside
// the API. It routes by exact path and prefix, not with an http.ServeMux, which would clean
// /v1/runs/../projects and redirect it (307, method and body kept) before the API's own check could
// refuse it: every other path reaches the API, which answers a non-canonical one with 400 (the UI
// does the same for its own).
func newHandler(apiHandler, pages, metrics http.Handler, cfg config) http.Handler {
	site := ui.Beside(apiHandler, pages)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" {
			metrics.ServeHTTP(w, r)
			return
		}
		site.ServeHTTP(w, r)
	})
	return withDeadlines(h, cfg.BodyTimeout, cfg.BodyMinRate, cfg.WriteTimeout)
}

// newServer is custodyd's http.Server. A connection may take ReadHeaderTimeout to send its
// request's headers and stay IdleTimeout between requests; bodies and answers have a minimum rate
// (withDeadlines) rather than a fixed deadline, so a slow but live upload of a large blob finishes.
func newServer(cfg config, h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// writeChunk is the most written to a connection under one write deadline: an answer must go out
// at writeChunk bytes per WriteTimeout or faster.
const writeChunk = 64 << 10

// withDeadlines bounds how slowly a request's body may arrive and its answer may leave.
//
// A body must bring at least minRate×window bytes in every window (a silent one is cut after one
// window): the read deadline is set when the request starts (it also bounds net/http's reading of
// a body the handler left unread) and moves forward each time that much has arrived; once the body
// is read it is lifted (the server then reads ahead on the connection while the handler works, and
// a deadline there would cancel the request). A read past the deadline fails with an error that
// wraps os.ErrDeadlineExceeded; the API answers it 408.
//
// An answer is written in chunks of at most writeChunk bytes, each with window to leave.
func withDeadlines(h http.Handler, window time.Duration, minRate int64, writeWindow time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		_ = rc.SetWriteDeadline(time.Now().Add(writeWindow)) // a deadline left by the previous request is stale
		if r.Body != nil && r.Body != http.NoBody {
			b := &rateBody{ReadCloser: r.Body, rc: rc, window: window, need: int64(float64(minRate) * window.Seconds())}
			b.extend()
			r.Body = b
		}
		h.ServeHTTP(&deadlineWriter{ResponseWriter: w, rc: rc, window: writeWindow}, r)
	})
}

// rateBody is a request body that keeps the connection's read deadline moving while bytes arrive
// at the minimum rate.
type rateBody struct {
	io.ReadCloser
	rc     *http.ResponseController
	window time.Duration
	need   int64 // bytes each window must bring
	got    int64 // bytes since the deadline last moved
	done   bool  // the body ended (or failed): the deadline is no longer this reader's
}

func (b *rateBody) Read(p []byte) (int, error) {
	if b.done {
		return b.ReadCloser.Read(p)
	}
	n, err := b.ReadCloser.Read(p)
	b.got += int64(n)
	if b.got >= b.need {
		b.extend()
	}
	if err != nil {
		b.done = true
		if errors.Is(err, io.EOF) {
			_ = b.rc.SetReadDeadline(time.Time{})
		}
	}
	return n, err
}

func (b *rateBody) extend() {
	b.got = 0
	_ = b.rc.SetReadDeadline(time.Now().Add(b.window))
}

// deadlineWriter gives each chunk of the answer its own write deadline.
type deadlineWriter struct {
	http.ResponseWriter
	rc     *http.ResponseController
	window time.Duration
}

func (w *deadlineWriter) extend() { _ = w.rc.SetWriteDeadline(time.Now().Add(w.window)) }

func (w *deadlineWriter) WriteHeader(code int) {
	w.extend()
	w.ResponseWriter.WriteHeader(code)
}

func (w *deadlineWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		chunk := p[:min(len(p), writeChunk)]
		w.extend()
		n, err := w.ResponseWriter.Write(chunk)
		written += n
		if err != nil {
			return written, err
		}
		p = p[n:]
	}
	return written, nil
}

func (w *deadlineWriter) Flush() {
	w.extend()
	_ = w.rc.Flush()
}

// Unwrap lets http.ResponseController reach the connection through the wrapper.
func (w *deadlineWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// limitListener accepts at most max connections at once. A connection past the cap is answered at
// once with 503 and Retry-After, then closed, rather than left waiting unseen in the kernel's
// backlog: clients retry 503 with backoff.
type limitListener struct {
	net.Listener
	mu      sync.Mutex
	open    int
	limit   int
	refusal []byte
}

func newLimitListener(ln net.Listener, limit int) *limitListener {
	body, _ := json.Marshal(wire.Problem{Type: wire.ProblemType + wire.CodeServiceUnavailable, Title: http.StatusText(http.StatusServiceUnavailable),
		Status: http.StatusServiceUnavailable, Code: wire.CodeServiceUnavailable,
		Detail: fmt.Sprintf("this control plane serves at most %d connections at once: retry later", limit)})
	refusal := fmt.Appendf(nil, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\nRetry-After: 1\r\n"+
		"Connection: close\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	return &limitListener{Listener: ln, limit: limit, refusal: refusal}
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.mu.Lock()
		full := l.open >= l.limit
		if !full {
			l.open++
		}
		l.mu.Unlock()
		if !full {
			return &limitedConn{Conn: c, release: l.release}, nil
		}
		// A fresh connection's send buffer is empty: this write does not wait for the client.
		_ = c.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = c.Write(l.refusal)
		_ = c.Close()
	}
}

func (l *limitListener) release() {
	l.mu.Lock()
	l.open--
	l.mu.Unlock()
}

// limitedConn gives its slot back once, when closed.
type limitedConn struct {
	net.Conn
	release func()
	once    sync.Once
}

// CloseWrite lets the server half-close the connection after an error answer, so the client reads
// the answer before the connection goes.
func (c *limitedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
