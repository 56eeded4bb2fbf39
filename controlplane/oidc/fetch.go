package oidc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// FetchError is a document of an issuer (its discovery document or key set) that could not be
// fetched: the issuer did not answer, answered another status than 200, or sent more than
// MaxDocumentSize bytes. It is the issuer's failure, not the token's.
type FetchError struct {
	URL    string
	Status int // the status answered, 0 when there was no answer
	Err    error
}

func (e *FetchError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("GET %s: %d %s", e.URL, e.Status, http.StatusText(e.Status))
	}
	return fmt.Sprintf("GET %s: %v", e.URL, e.Err)
}

func (e *FetchError) Unwrap() error { return e.Err }

// fetcher is the transport under go-oidc's HTTP calls. It bounds what an issuer may send, and serves
// each URL's last outcome (answer or failure) from memory for refetch after fetching it: go-oidc
// fetches an issuer's key set again for every token naming a key ID it has not seen, so without
// this anyone could make the control plane fetch GitHub's keys once per request.
type fetcher struct {
	next    http.RoundTripper
	now     func() time.Time
	refetch time.Duration
	max     int64

	mu   sync.Mutex
	last map[string]*fetched
}

// fetched is one URL's last outcome.
type fetched struct {
	at     time.Time
	header http.Header
	body   []byte
	err    error
}

func (f *fetcher) RoundTrip(req *http.Request) (*http.Response, error) {
	key := req.Method + " " + req.URL.String()
	f.mu.Lock()
	e := f.last[key]
	f.mu.Unlock()
	if e != nil && f.now().Sub(e.at) < f.refetch {
		return e.response(req)
	}
	e = &fetched{at: f.now()}
	resp, err := f.next.RoundTrip(req)
	switch {
	case err != nil && req.Context().Err() != nil:
		return nil, err // the caller gave up: nothing is learned of the issuer
	case err != nil:
		e.err = &FetchError{URL: req.URL.String(), Err: err}
	default:
		e.body, e.err = f.read(req, resp)
		e.header = resp.Header
		if e.err != nil && req.Context().Err() != nil {
			return nil, e.err
		}
	}
	f.mu.Lock()
	f.last[key] = e
	f.mu.Unlock()
	return e.response(req)
}

// read reads a 200 answer of at most max bytes.
func (f *fetcher) read(req *http.Request, resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &FetchError{URL: req.URL.String(), Status: resp.StatusCode}
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, f.max+1))
	switch {
	case err != nil:
		return nil, &FetchError{URL: req.URL.String(), Err: err}
	case int64(len(b)) > f.max:
		return nil, &FetchError{URL: req.URL.String(), Err: fmt.Errorf("the answer is larger than %d bytes", f.max)}
	}
	return b, nil
}

// response replays the outcome for req.
func (e *fetched) response(req *http.Request) (*http.Response, error) {
	if e.err != nil {
		return nil, e.err
	}
	return &http.Response{Status: "200 OK", StatusCode: http.StatusOK, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: e.header.Clone(), Body: io.NopCloser(bytes.NewReader(e.body)), ContentLength: int64(len(e.body)), Request: req}, nil
}

// fetchFailed reports whether err is (or wraps) a FetchError.
func fetchFailed(err error) bool {
	var fe *FetchError
	return errors.As(err, &fe)
}
