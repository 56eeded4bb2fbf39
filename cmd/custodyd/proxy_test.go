package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
)

// tcpProxy forwards loopback TCP connections to the current custodyd, so clients keep one address
// while the server behind it is killed and restarted. It can close connections at once (a server
// down, or the first K connections) and hold a connection's upload after N bytes (a gate).
type tcpProxy struct {
	ln net.Listener

	mu     sync.Mutex
	target string // host:port; "" closes every connection at once
	refuse int    // close this many of the next connections at once
	gate   *gate
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

// gate holds client→server bytes once a connection has sent after bytes, until released.
type gate struct {
	after   int64
	reached chan struct{}
	release chan struct{}
	hit     sync.Once // the first connection past after bytes is held, once
	once    sync.Once
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *tcpProxy) url() string { return "http://" + p.ln.Addr().String() }

// setTarget points the proxy at a server; "" makes it close connections at once, like a server down.
func (p *tcpProxy) setTarget(addr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.target = addr
}

// refuseNext closes the next n connections at once.
func (p *tcpProxy) refuseNext(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refuse = n
}

// holdAfter arms a gate: the first connection to send after bytes towards the server is held there.
func (p *tcpProxy) holdAfter(after int64) *gate {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gate = &gate{after: after, reached: make(chan struct{}), release: make(chan struct{})}
	return p.gate
}

func (g *gate) open() { g.once.Do(func() { close(g.release) }) }

// dropAll closes every connection in flight, both sides.
func (p *tcpProxy) dropAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

func (p *tcpProxy) close() {
	p.ln.Close()
	p.dropAll()
	p.mu.Lock()
	if p.gate != nil {
		p.gate.open()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *tcpProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.serve(c)
		}()
	}
}

func (p *tcpProxy) serve(c net.Conn) {
	p.mu.Lock()
	target, g := p.target, p.gate
	refused := target == "" || p.refuse > 0
	if p.refuse > 0 {
		p.refuse--
	}
	p.mu.Unlock()
	if refused {
		c.Close()
		return
	}
	s, err := net.Dial("tcp", target)
	if err != nil {
		c.Close()
		return
	}
	p.track(c, s)
	defer p.untrack(c, s)
	done := make(chan struct{}, 2)
	closed := make(chan struct{})
	go func() { copyHeld(s, c, g, closed); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, s); done <- struct{}{} }()
	<-done
	// One direction ended: a server gone or a client gone ends the connection.
	close(closed)
	c.Close()
	s.Close()
	<-done
}

func (p *tcpProxy) track(conns ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range conns {
		p.conns[c] = struct{}{}
	}
}

func (p *tcpProxy) untrack(conns ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range conns {
		delete(p.conns, c)
	}
}

// copyHeld copies src to dst; with a gate, it stops once after bytes went through, signals, and
// waits for the gate to open (or the connection to end) before going on.
func copyHeld(dst, src net.Conn, g *gate, closed <-chan struct{}) {
	buf := make([]byte, 64<<10)
	var sent int64
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
			sent += int64(n)
			if g != nil && sent >= g.after {
				first := false
				g.hit.Do(func() { first = true; close(g.reached) })
				if first {
					select {
					case <-g.release:
					case <-closed:
						return
					}
				}
			}
		}
		if err != nil {
			return
		}
	}
}

// front is an HTTP reverse proxy before custodyd, as a load balancer would be: it answers 502 while
// no server is behind it, can answer given statuses first, and lets a test intercept requests.
type front struct {
	srv *httptest.Server

	mu        sync.Mutex
	target    string // host:port; "" answers 502
	statuses  []int  // answered first, one per request
	intercept func(w http.ResponseWriter, r *http.Request) bool
	seen      int // requests received
}

func newFront(t *testing.T, target string) *front {
	t.Helper()
	f := &front{target: target}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			f.mu.Lock()
			target := f.target
			f.mu.Unlock()
			r.SetURL(&url.URL{Scheme: "http", Host: target})
		},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) },
	}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.seen++
		target, intercept := f.target, f.intercept
		var status int
		if len(f.statuses) > 0 {
			status, f.statuses = f.statuses[0], f.statuses[1:]
		}
		f.mu.Unlock()
		switch {
		case status != 0:
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(status)
		case intercept != nil && intercept(w, r):
		case target == "":
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusBadGateway)
		default:
			rp.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *front) url() string { return f.srv.URL }

func (f *front) set(target string, intercept func(http.ResponseWriter, *http.Request) bool, statuses ...int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.target, f.intercept, f.statuses = target, intercept, statuses
}

func (f *front) requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seen
}

// hangUp closes the client's connection without an answer, as a server that died would.
func hangUp(t *testing.T, w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return
	}
	conn.Close()
}
