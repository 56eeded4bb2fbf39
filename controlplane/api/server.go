// Package api serves the control plane's HTTP/JSON API under /v1, described by openapi.yaml beside
// this file. Handlers decode, call controlplane/app, and encode; errors are RFC 9457 problem+json.
package api

import (
	_ "embed"
	"log/slog"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custody-dev/custody/controlplane/app"
	"github.com/custody-dev/custody/controlplane/auth"
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
	// Registerer receives the metrics; nil means none are registered.
	Registerer prometheus.Registerer
}

// Server is the API's http.Handler.
type Server struct {
	app     *app.App
	log     *slog.Logger
	maxBlob int64
	mux     *http.ServeMux
	metrics *metrics
	// routes lists "METHOD /path" of every route, for the OpenAPI test.
	routes []string
}

// maxJSONBody bounds every JSON request body (contracts, keys, state, bundles).
const maxJSONBody = 8 << 20

// New builds the API.
func New(cfg Config) *Server {
	s := &Server{app: cfg.App, log: cfg.Log, maxBlob: cfg.MaxBlobSize, mux: http.NewServeMux(), metrics: newMetrics(cfg.Registerer)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.maxBlob == 0 {
		s.maxBlob = 1 << 30
	}
	s.routesV1()
	return s
}

// Routes lists every route served, as "METHOD /path/{param}".
func (s *Server) Routes() []string { return append([]string(nil), s.routes...) }

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

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
		p, err := s.app.Authenticate(r.Context(), bearer(r))
		if err == nil {
			err = h(w, r, p)
		}
		if err != nil {
			s.problem(w, r, err)
		}
	})))
}

// bearer reads the Authorization: Bearer token.
func bearer(r *http.Request) string {
	v := r.Header.Get("Authorization")
	if t, ok := strings.CutPrefix(v, "Bearer "); ok {
		return strings.TrimSpace(t)
	}
	return ""
}
