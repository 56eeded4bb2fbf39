// Package client is the typed HTTP client of the control plane's API (/v1). Transient failures
// (connection refused, 502, 503, 504) are retried with exponential backoff until a deadline.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/custody-dev/custody/wire"
)

// Client talks to one control plane with one token.
type Client struct {
	base   *url.URL
	http   *http.Client
	retry  Retry
	notify func(Retrying)
	clock  Clock

	mu        sync.Mutex // guards token while tokenFunc runs
	token     string
	tokenFunc func(context.Context) (string, error)
}

// Clock tells the time and waits; the retry loop uses it, so a test can run it without waiting.
type Clock interface {
	Now() time.Time
	// Sleep waits d, or until ctx is done (then it returns ctx's error).
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Retrying describes a failed attempt the client is about to retry.
type Retrying struct {
	// Method and Path name the call.
	Method, Path string
	// Attempt is the number of the attempt that failed, from 1.
	Attempt int
	// Err is what failed: the connection, or the control plane's answer.
	Err error
	// Wait is the time until the next attempt.
	Wait time.Duration
	// Deadline is when the client stops retrying the call.
	Deadline time.Time
}

// Retry is the retry policy of transient failures.
type Retry struct {
	// Deadline bounds the time spent retrying one call; 0 disables retries.
	Deadline time.Duration
	// Min and Max bound the backoff between attempts, doubling from Min (0: DefaultRetry.Min);
	// a Max of 0 does not cap it.
	Min, Max time.Duration
}

// DefaultRetry retries for up to a minute, backing off from 200ms to 5s.
var DefaultRetry = Retry{Deadline: time.Minute, Min: 200 * time.Millisecond, Max: 5 * time.Second}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (transport, timeouts).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithRetry sets the retry policy.
func WithRetry(r Retry) Option { return func(c *Client) { c.retry = r } }

// WithClock sets the clock of the retry loop (the real one by default).
func WithClock(c Clock) Option { return func(cl *Client) { cl.clock = c } }

// WithRetryNotify calls notify before each retry, so a user waiting on a control plane that does
// not answer is told what failed and until when the client tries again.
func WithRetryNotify(notify func(Retrying)) Option { return func(c *Client) { c.notify = notify } }

// WithTokenFunc makes the client ask f for its token at the first call that sends one (f runs once,
// or again after it failed), so a credential that costs a call of its own (an OIDC exchange) is had
// only by a command that talks to the control plane. It replaces New's token.
func WithTokenFunc(f func(ctx context.Context) (string, error)) Option {
	return func(c *Client) { c.tokenFunc = f }
}

// New returns a client of the control plane at baseURL (http or https), authenticating with token.
func New(baseURL, token string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("control plane URL %q: want http(s)://host[:port]", baseURL)
	}
	c := &Client{base: u, token: token, http: &http.Client{}, retry: DefaultRetry, clock: realClock{}}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// BaseURL is the control plane's URL.
func (c *Client) BaseURL() string { return c.base.String() }

// Error is a refusal from the control plane: its problem document.
type Error struct {
	Problem wire.Problem
}

func (e *Error) Error() string {
	if e.Problem.Detail != "" {
		return fmt.Sprintf("control plane: %s (%d %s)", e.Problem.Detail, e.Problem.Status, e.Problem.Code)
	}
	return fmt.Sprintf("control plane: %d %s", e.Problem.Status, e.Problem.Code)
}

// Code returns the problem code of err, or "".
func Code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Problem.Code
	}
	return ""
}

// Status returns the HTTP status of err, or 0.
func Status(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Problem.Status
	}
	return 0
}

// UnavailableError is a control plane that could not be reached (its host does not resolve, or
// nothing answered) before the retry deadline.
type UnavailableError struct{ Err error }

func (e *UnavailableError) Error() string { return "control plane unavailable: " + e.Err.Error() }
func (e *UnavailableError) Unwrap() error { return e.Err }

// request describes one call.
type request struct {
	method, path string
	query        url.Values
	// body returns a fresh body for each attempt; nil for none.
	body        func() (io.Reader, error)
	contentType string
	header      http.Header
	trailer     func() http.Header
	// public calls send no token (a public route, or one that takes credentials in its body).
	public bool
}

// do sends req, retrying transient failures, and returns the response of the last attempt.
func (c *Client) do(ctx context.Context, req request) (*http.Response, error) {
	var token string
	if !req.public {
		var err error
		if token, err = c.bearer(ctx); err != nil {
			return nil, err
		}
	}
	start := c.clock.Now()
	backoff := c.retry.Min
	if backoff <= 0 {
		backoff = DefaultRetry.Min // never a busy loop
	}
	for attempt := 1; ; attempt++ {
		resp, err := c.once(ctx, req, token)
		transient := err != nil && isTransient(err) || err == nil && retryableStatus(resp.StatusCode)
		wait := backoff
		if transient && resp != nil {
			wait = max(wait, retryAfter(resp.Header.Get("Retry-After"), c.clock.Now()))
		}
		if !transient || c.retry.Deadline == 0 || c.clock.Now().Sub(start)+wait > c.retry.Deadline {
			if err != nil {
				if isTransient(err) || unreachable(err) {
					return nil, &UnavailableError{Err: fmt.Errorf("%s %s after %d attempts: %w", req.method, req.path, attempt, err)}
				}
				return nil, fmt.Errorf("%s %s: %w", req.method, req.path, err)
			}
			return resp, nil
		}
		failure := err
		if resp != nil {
			failure = fmt.Errorf("%s", resp.Status)
			// Enough to reuse the connection after a short answer; one that goes on is cut.
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrained))
			resp.Body.Close()
		}
		if c.notify != nil {
			c.notify(Retrying{Method: req.method, Path: req.path, Attempt: attempt, Err: failure, Wait: wait,
				Deadline: start.Add(c.retry.Deadline)})
		}
		if err := c.clock.Sleep(ctx, wait); err != nil {
			return nil, err
		}
		if backoff *= 2; c.retry.Max > 0 {
			backoff = min(backoff, c.retry.Max)
		}
	}
}

// bearer is the client's token, asked of its token function on first use.
func (c *Client) bearer(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" || c.tokenFunc == nil {
		return c.token, nil
	}
	token, err := c.tokenFunc(ctx)
	if err != nil {
		return "", err
	}
	c.token = token
	return token, nil
}

func (c *Client) once(ctx context.Context, req request, token string) (*http.Response, error) {
	u := *c.base
	u.Path += req.path
	u.RawQuery = req.query.Encode()
	var body io.Reader
	if req.body != nil {
		b, err := req.body()
		if err != nil {
			return nil, err
		}
		body = b
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, u.String(), body)
	if err != nil {
		return nil, err
	}
	for k, v := range req.header {
		hr.Header[k] = v
	}
	if req.contentType != "" {
		hr.Header.Set("Content-Type", req.contentType)
	}
	if token != "" {
		hr.Header.Set("Authorization", "Bearer "+token)
	}
	if req.trailer != nil {
		hr.ContentLength = -1
		hr.Trailer = req.trailer()
	}
	return c.http.Do(hr)
}

// isTransient reports a failure worth retrying: the control plane could not be reached, or the
// connection broke. net/http does not export the error of a connection closed before any answer
// ("server closed idle connection"), so it is recognised by its text.
func isTransient(err error) bool {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return dns.IsTemporary || dns.IsTimeout // a name that does not exist will not appear in a minute
	}
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, net.ErrClosed) || // the connection died under a request (the server was killed)
		strings.Contains(err.Error(), "server closed idle connection")
}

// unreachable reports a control plane that cannot be reached at all: its host name does not resolve.
func unreachable(err error) bool {
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// retryableStatus reports an answer worth retrying: the control plane or a proxy in front of it is
// unavailable or overloaded (502, 503, 504), or the request's body arrived too slowly (408): the same
// request again may pass. Every call the client retries is safe to repeat.
func retryableStatus(code int) bool {
	return code == http.StatusBadGateway || code == http.StatusServiceUnavailable || code == http.StatusGatewayTimeout ||
		code == http.StatusRequestTimeout
}

// maxRetryAfter bounds the wait a Retry-After header may ask for: a broken or hostile server does not
// park the client for a day (the retry deadline bounds it anyway).
const maxRetryAfter = time.Minute

// retryAfter reads a Retry-After header (RFC 9110: seconds, or an HTTP date) as a wait from now;
// 0 when there is none or it cannot be read.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.Atoi(v); err == nil {
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

// call sends req and decodes a 2xx JSON answer into out (when not nil), or returns the problem.
func (c *Client) call(ctx context.Context, req request, out any) error {
	resp, err := c.do(ctx, req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return problemOf(resp)
	}
	if out == nil {
		return nil
	}
	if err := decodeAnswer(resp, out); err != nil {
		return fmt.Errorf("%s %s: %w", req.method, req.path, err)
	}
	return nil
}

// decodeAnswer decodes a JSON answer of at most MaxAnswerSize bytes into out.
func decodeAnswer(resp *http.Response, out any) error {
	if err := json.NewDecoder(&boundedBody{r: resp.Body, left: MaxAnswerSize}).Decode(out); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return nil
}

// maxDrained bounds what the client reads of an answer it retries, to reuse the connection.
const maxDrained = 64 << 10

// MaxAnswerSize bounds a JSON answer the client decodes: 64 MiB, far above the largest the control
// plane sends (a remote state, at most its 8 MiB request bound in base64).
const MaxAnswerSize = 64 << 20

// boundedBody fails a read past its bound, naming it, rather than cutting the answer short.
type boundedBody struct {
	r    io.Reader
	left int64
}

func (b *boundedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p[:min(int64(len(p)), b.left+1)])
	if int64(n) > b.left {
		return 0, fmt.Errorf("the answer is larger than %d MiB", MaxAnswerSize>>20)
	}
	b.left -= int64(n)
	return n, err
}

func problemOf(resp *http.Response) error {
	var p wire.Problem
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err := json.Unmarshal(b, &p); err != nil || p.Code == "" {
		p = wire.Problem{Status: resp.StatusCode, Code: http.StatusText(resp.StatusCode), Detail: strings.TrimSpace(string(b))}
	}
	p.Status = resp.StatusCode
	return &Error{Problem: p}
}

// jsonBody encodes v once and replays it on every attempt.
func jsonBody(v any) (func() (io.Reader, error), error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	return func() (io.Reader, error) { return bytes.NewReader(b), nil }, nil
}

func (c *Client) getJSON(ctx context.Context, path string, query url.Values, out any) error {
	return c.call(ctx, request{method: http.MethodGet, path: path, query: query}, out)
}

func (c *Client) sendJSON(ctx context.Context, method, path string, in, out any) error {
	body, err := jsonBody(in)
	if err != nil {
		return err
	}
	return c.call(ctx, request{method: method, path: path, body: body, contentType: "application/json"}, out)
}
