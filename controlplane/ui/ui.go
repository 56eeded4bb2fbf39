// Package web is the control plane's web UI: server-rendered HTML (html/template, templates and the
// one stylesheet embedded in the binary, no script), mounted by custodyd beside the API. A person
// signs in once with a custody token and gets a session (see app.SignIn); every page then asks
// controlplane/app as the API does, with the session's principal, so a page shows exactly what the
// token may read through the API.
//
// Security: the session cookie is HttpOnly, SameSite=Strict, Secure behind TLS (or when the external
// URL is https), and expires with the session; every form carries a CSRF token bound to the session
// (the sign-in form one bound to a cookie of its own) and a POST without it is refused 403; every
// answer carries a Content Security Policy of 'self' with no inline script or style, refuses framing,
// sniffing and referrers; and everything shown is escaped by html/template's contextual escaping.
package ui

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/custody-dev/custody/controlplane/app"
)

// Prefix is where the UI's pages are; "/" redirects to it.
const Prefix = "/ui/"

// Owns reports whether custodyd routes a request path to the UI rather than to the API: "/" and
// everything under /ui. The API keeps /v1/, /healthz, /readyz and /metrics.
func Owns(p string) bool {
	return p == "/" || p == "/ui" || strings.HasPrefix(p, Prefix)
}

// Beside serves the UI's paths (Owns) with ui and every other path with api.
func Beside(api, ui http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if Owns(r.URL.Path) {
			ui.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Config wires the UI.
type Config struct {
	App *app.App
	// BaseURL is the control plane's external URL: its scheme decides the cookie's Secure flag
	// (https), and the offline verification commands name it.
	BaseURL string
	// SessionTTL is how long a sign-in lasts (at most the token's life); 0 means app.DefaultSessionTTL.
	SessionTTL time.Duration
	Log        *slog.Logger
}

// Handler serves the UI.
type Handler struct {
	app        *app.App
	baseURL    string
	secure     bool
	sessionTTL time.Duration
	log        *slog.Logger
	pages      *pages
	mux        *http.ServeMux
	cop        *http.CrossOriginProtection
	// routes lists "METHOD /path" of every route, for the authorization matrix test.
	routes []string
}

// New builds the UI.
func New(cfg Config) (*Handler, error) {
	if cfg.App == nil {
		return nil, errors.New("web: an app is required")
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("web: the control plane's URL %q: want http(s)://host", cfg.BaseURL)
	}
	p, err := parsePages()
	if err != nil {
		return nil, err
	}
	h := &Handler{app: cfg.App, baseURL: strings.TrimRight(cfg.BaseURL, "/"), secure: u.Scheme == "https",
		sessionTTL: cfg.SessionTTL, log: cfg.Log, pages: p, mux: http.NewServeMux(), cop: http.NewCrossOriginProtection()}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, nil, &app.Error{Status: http.StatusForbidden, Code: "forbidden", Msg: "a cross-origin request to this form is refused"})
	}))
	h.routesBrowse()
	h.routesAdmin()
	return h, nil
}

// Routes lists every route served, as "METHOD /path/{param}".
func (h *Handler) Routes() []string { return append([]string(nil), h.routes...) }

// headers are sent with every answer of the UI.
var headers = map[string]string{
	"Content-Security-Policy":    "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'",
	"X-Frame-Options":            "DENY",
	"X-Content-Type-Options":     "nosniff",
	"Referrer-Policy":            "no-referrer",
	"Cross-Origin-Opener-Policy": "same-origin",
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for k, v := range headers {
		w.Header().Set(k, v)
	}
	w.Header().Set("Cache-Control", "no-store")
	if !strings.HasPrefix(r.URL.Path, "/") || path.Clean(r.URL.Path) != r.URL.Path && r.URL.Path != Prefix {
		h.fail(w, r, nil, &app.Error{Status: http.StatusBadRequest, Code: "bad_request",
			Msg: fmt.Sprintf("path %q is not canonical: no segment may be empty, '.' or '..'", r.URL.Path)})
		return
	}
	if _, pattern := h.mux.Handler(r); pattern == "" {
		h.fail(w, r, nil, &app.Error{Status: http.StatusNotFound, Code: "not_found", Msg: fmt.Sprintf("no page %s", r.URL.Path)})
		return
	}
	h.cop.Handler(h.mux).ServeHTTP(w, r)
}

// handle registers a route.
func (h *Handler) handle(pattern string, fn http.HandlerFunc) {
	h.routes = append(h.routes, pattern)
	h.mux.HandleFunc(pattern, fn)
}

func (h *Handler) routesBrowse() {
	h.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, Prefix, http.StatusSeeOther) })
	h.mux.HandleFunc("GET /ui", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, Prefix, http.StatusSeeOther) })
	static, _ := fs.Sub(staticFiles, "static")
	h.handle("GET /ui/static/{file}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		http.ServeFileFS(w, r, static, r.PathValue("file"))
	})
	h.handle("GET /ui/signin", h.signInPage)
	h.handle("POST /ui/signin", h.signIn)
	h.handle("POST /ui/signout", h.form(h.signOut))
	h.handle("GET /ui/{$}", h.page(h.home))
	h.handle("GET /ui/projects/{project}", h.page(h.project))
	h.handle("GET /ui/projects/{project}/workflows/{workflow}", h.page(h.workflow))
	h.handle("GET /ui/projects/{project}/workflows/{workflow}/contract", h.page(h.contract))
	h.handle("GET /ui/projects/{project}/workflows/{workflow}/contract/diff", h.page(h.contractDiff))
	h.handle("GET /ui/runs/{id}", h.page(h.run))
	h.handle("GET /ui/attestations/{digest}/bundle", h.page(h.bundle))
	h.handle("GET /ui/blobs/{digest}", h.page(h.blob))
	h.handle("GET /ui/search", h.page(h.search))
}

func (h *Handler) routesAdmin() {
	const wf = "/ui/projects/{project}/workflows/{workflow}"
	h.handle("GET "+wf+"/keys", h.page(h.keys))
	h.handle("GET "+wf+"/keys/{id}/pem", h.page(h.keyPEM))
	h.handle("POST "+wf+"/keys", h.form(h.addKey))
	h.handle("POST "+wf+"/keys/{id}/remove", h.form(h.removeKey))
	h.handle("GET "+wf+"/trust", h.page(h.trust))
	h.handle("POST "+wf+"/trust", h.form(h.addTrust))
	h.handle("POST "+wf+"/trust/{id}/remove", h.form(h.removeTrust))
	h.handle("GET /ui/admin/tokens", h.page(h.tokens))
	h.handle("POST /ui/admin/tokens", h.form(h.createToken))
	h.handle("POST /ui/admin/tokens/{id}/revoke", h.form(h.revokeToken))
}
