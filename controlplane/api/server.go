// Package api serves the control plane's HTTP/JSON API under /v1, described by openapi.yaml beside
// this file. Handlers decode, call controlplane/app, and encode; errors are RFC 9457 problem+json.
package api

import (
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custody-dev/custody/controlplane/app"
	"github.com/custody-dev/custody/controlplane/auth"
	"github.com/custody-dev/custody/internal/budget"
	"github.com/custody-dev/custody/wire"
)

// OpenAPI is the API's description, served at /v1/openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte

// Config wires the API.
type Config struct {
	App *app.App
	Log *slog.Logger
	// MaxBlobSize bounds a CAS upload (413 past it); 0 means 1 GiB.
	MaxBlobSize int64
	// MaxUploads bounds the blob uploads received at once (503 with Retry-After past it); 0 means 64.
	MaxUploads int
	// BodyBudget bounds the bytes of request bodies read whole at once (503 with Retry-After past
	// it); 0 means DefaultBodyBudget.
	BodyBudget int64
	// Registerer receives the metrics; nil means none are registered.
	Registerer prometheus.Registerer
}

// Server is the API's http.Handler.
type Server struct {
	app     *app.App
	log     *slog.Logger
	maxBlob int64
	uploads chan struct{} // a slot per upload being received
	bodies  *budget.Budget
	mux     *http.ServeMux
	metrics *metrics
	// routes lists "METHOD /path" of every route, for the OpenAPI test.
	routes []string
}

// New builds the API.
func New(cfg Config) *Server {
	s := &Server{app: cfg.App, log: cfg.Log, maxBlob: cfg.MaxBlobSize, mux: http.NewServeMux(), metrics: newMetrics(cfg.Registerer)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.maxBlob == 0 {
		s.maxBlob = 1 << 30
	}
	if cfg.MaxUploads == 0 {
		cfg.MaxUploads = 64
	}
	s.uploads = make(chan struct{}, cfg.MaxUploads)
	if cfg.BodyBudget == 0 {
		cfg.BodyBudget = DefaultBodyBudget
	}
	s.bodies = newBodyBudget(cfg.BodyBudget)
	s.routesV1()
	s.routesKeyless()
	s.routesOIDC()
	return s
}

// Routes lists every route served, as "METHOD /path/{param}".
func (s *Server) Routes() []string { return append([]string(nil), s.routes...) }

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !canonical(r.URL.Path) {
		s.refuse(w, r, &app.Error{Status: http.StatusBadRequest, Code: wire.CodeBadRequest,
			Msg: fmt.Sprintf("path %q is not canonical: no segment may be empty, '.' or '..' (escaped or not)", r.URL.Path)})
		return
	}
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = &clientBody{ReadCloser: r.Body}
	}
	if _, pattern := s.mux.Handler(r); pattern != "" {
		s.mux.ServeHTTP(w, r)
		return
	}
	s.unmatched(w, r)
}

// canonical reports whether the (decoded) path has no empty, "." or ".." segment. The mux would
// redirect such a path to its clean form, carrying the request and its token to another route than
// the one the client named; the API refuses it instead.
func canonical(p string) bool {
	return strings.HasPrefix(p, "/") && (p == "/" || path.Clean(p) == p)
}

// unmatched answers a request no route takes with a problem document, like every other refusal.
func (s *Server) unmatched(w http.ResponseWriter, r *http.Request) {
	h, _ := s.mux.Handler(r)
	rec := &headerRecorder{header: http.Header{}}
	h.ServeHTTP(rec, r)
	var err *app.Error
	switch {
	case rec.status == http.StatusMethodNotAllowed:
		w.Header().Set("Allow", rec.header.Get("Allow"))
		err = &app.Error{Status: rec.status, Code: wire.CodeMethodNotAllowed,
			Msg: fmt.Sprintf("%s %s: method not allowed (allowed: %s)", r.Method, r.URL.Path, rec.header.Get("Allow"))}
	default:
		err = &app.Error{Status: http.StatusNotFound, Code: wire.CodeNotFound, Msg: fmt.Sprintf("no route %s %s", r.Method, r.URL.Path)}
	}
	s.refuse(w, r, err)
}

// refuse answers a request no route took, counted under the route "unmatched".
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, err *app.Error) {
	s.metrics.wrap("unmatched", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.problem(w, r, err) })).ServeHTTP(w, r)
}

// headerRecorder keeps the status and headers the mux's own answer (404, 405) would send.
type headerRecorder struct {
	header http.Header
	status int
}

func (h *headerRecorder) Header() http.Header         { return h.header }
func (h *headerRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (h *headerRecorder) WriteHeader(code int) {
	if h.status == 0 {
		h.status = code
	}
}

// handlerFunc is a handler that returns an error to render as a problem.
type handlerFunc func(w http.ResponseWriter, r *http.Request, p auth.Principal) error

// public registers a route needing no token.
func (s *Server) public(pattern string, h http.HandlerFunc) {
	s.routes = append(s.routes, pattern)
	s.mux.Handle(pattern, s.metrics.wrap(pattern, h))
}

// authed registers a route that authenticates its bearer token first.
func (s *Server) authed(pattern string, h handlerFunc) {
	s.routes = append(s.routes, pattern)
	s.mux.Handle(pattern, s.metrics.wrap(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, err := bearer(r)
		var p auth.Principal
		if err == nil {
			p, err = s.app.Authenticate(r.Context(), token)
		}
		if err == nil {
			err = h(w, r, p)
		}
		if err != nil {
			s.problem(w, r, err)
		}
	})))
}

// bearer reads the Authorization: Bearer token ("" when there is no Authorization header). The
// scheme is case-insensitive (RFC 9110); any other scheme, or a token without one, is refused rather
// than taken for no token. Two Authorization headers are refused: which one a proxy or a server
// takes is not defined, so none is.
func bearer(r *http.Request) (string, error) {
	if vs := r.Header.Values("Authorization"); len(vs) > 1 {
		return "", &app.Error{Status: http.StatusBadRequest, Code: wire.CodeBadRequest,
			Msg: fmt.Sprintf("%d Authorization headers: send one", len(vs))}
	}
	v := r.Header.Get("Authorization")
	if v == "" {
		return "", nil
	}
	scheme, token, _ := strings.Cut(strings.TrimSpace(v), " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return "", &app.Error{Status: http.StatusUnauthorized, Code: wire.CodeUnauthenticated,
			Msg: "Authorization header: want \"Bearer <token>\""}
	}
	return strings.TrimSpace(token), nil
}

// clientBody turns a failure to read the request body into the client's error: a body cut short
// (the connection closed before Content-Length or the last chunk) or malformed is a 400, one that
// arrived too slowly (custodyd cuts a body below its minimum rate) a 408. Neither is the server's
// failure, so neither is logged as one. It also tells whether the body was read to its end.
type clientBody struct {
	io.ReadCloser
	eof bool
}

// unread reports whether r has a body the handler did not read to its end.
func unread(r *http.Request) bool {
	b, ok := r.Body.(*clientBody)
	return ok && !b.eof
}

func (b *clientBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.eof = b.eof || err == io.EOF
	switch {
	case err == nil || err == io.EOF:
	case errors.Is(err, os.ErrDeadlineExceeded):
		err = &app.Error{Status: http.StatusRequestTimeout, Code: wire.CodeRequestTimeout,
			Msg: "the request body arrived too slowly: this control plane cuts a body that stalls or trickles below its minimum rate; nothing was stored"}
	default:
		err = &app.Error{Status: http.StatusBadRequest, Code: wire.CodeBadRequest,
			Msg: fmt.Sprintf("reading the request body: %v: it was cut short or malformed; nothing was stored", err)}
	}
	return n, err
}
