package ui_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/controlplane/ui"
	"github.com/custody-dev/custody/internal/cptest"
	"github.com/custody-dev/custody/wire"
)

// Attacker-controlled text a bundle carries: every one must be shown as text, never run.
var xss = map[string]string{
	"subject":             `<script>alert("subject")</script>.tgz`,
	"value":               `</td><script>alert('value')</script>`,
	"material annotation": `<img src=x onerror=alert(1)>`,
	"annotation":          `"><svg onload=alert(2)>`,
	"validated":           `<iframe src="javascript:alert(3)">`,
	"environment":         `<style>body{display:none}</style>`,
	"git message":         `<a href="javascript:alert(4)">click</a>`,
}

// TestXSS: a bundle whose subject names, material values, annotations, validation summary, runner
// environment and git message hold HTML and script is shown as text on the run page: each value
// appears escaped, none raw, a javascript: runner URL is no link, and every page (this one, the
// search, an error, the sign-in page, a download) carries the Content Security Policy.
func TestXSS(t *testing.T) {
	t.Parallel()
	srv := cptest.New(t, cptest.Options{})
	token := srv.Workflow(t, "alpha", "build", buildContract, nil)
	p := pushKeyless(t, srv, token, "alpha", "build", "rootfs", func(p *attestation.Predicate) {
		rootfs := &p.Materials[0]
		rootfs.Value, rootfs.File.Name = xss["subject"], xss["subject"]
		rootfs.Annotations = map[string]string{"note": xss["material annotation"]}
		rootfs.Validated = map[string]string{"format": xss["validated"]}
		p.Materials[1].Value = xss["value"]
		p.Annotations = map[string]string{"release": xss["annotation"]}
		p.Runner = &attestation.Runner{Type: "GITHUB_ACTION", URL: "javascript:alert(5)", Environment: map[string]string{"GITHUB_REF": xss["environment"]}}
		p.Git = &attestation.Git{Commit: "80e461e9b385c6986cdb8096c9dc99928943d667", Message: xss["git message"]}
	})
	b := newBrowser(t, srv).mustSignIn(token)
	run := b.get("/ui/runs/" + p.run.ID)
	if run.status != http.StatusOK {
		t.Fatalf("run page: %d\n%s", run.status, run.body)
	}
	for what, v := range xss {
		if strings.Contains(run.body, v) {
			t.Errorf("the %s is in the page as HTML: %s", what, v)
		}
		if !strings.Contains(run.body, html.EscapeString(v)) && !strings.Contains(run.body, escapedLikeTemplate(v)) {
			t.Errorf("the %s is not shown as text (escaped): %s", what, v)
		}
	}
	if strings.Contains(run.body, `href="javascript:`) {
		t.Errorf("a javascript: URL from the bundle is a link")
	}
	if !strings.Contains(run.body, "Verified") {
		t.Errorf("the run page shows no verdict")
	}
	for _, path := range []string{"/ui/runs/" + p.run.ID, "/ui/search?digest=" + url.QueryEscape(p.run.ID), "/ui/runs/nope",
		"/ui/signin", "/ui/attestations/" + p.digest + "/bundle", "/ui/static/style.css", "/", "/ui/no-such-page"} {
		got := b.get(path)
		for k, want := range map[string]string{
			"Content-Security-Policy": "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'",
			"X-Frame-Options":         "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
		} {
			if v := got.header.Get(k); v != want {
				t.Errorf("%s (%d): %s %q, want %q", path, got.status, k, v, want)
			}
		}
	}
}

// escapedLikeTemplate is v as html/template writes it in text: < > & ' " and + as entities.
func escapedLikeTemplate(v string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;", "+", "&#43;").Replace(v)
}

// TestCSRF: a form posted without the session's CSRF token, with another session's, or from
// another origin is refused 403 and does nothing; with it, it works. The sign-in form needs the
// value of its own cookie.
func TestCSRF(t *testing.T) {
	t.Parallel()
	srv := cptest.New(t, cptest.Options{})
	b := newBrowser(t, srv).mustSignIn(srv.AdminToken)
	other := newBrowser(t, srv).mustSignIn(srv.AdminToken)
	count := func() int {
		ts, err := srv.Admin(t).ListTokens(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return len(ts)
	}
	before := count()
	for name, form := range map[string]url.Values{
		"no token":              {"name": {"x"}},
		"an empty token":        {"name": {"x"}, "csrf": {""}},
		"another session's":     {"name": {"x"}, "csrf": {other.csrf}},
		"the session id itself": {"name": {"x"}, "csrf": {b.cookie("custody_session")}},
	} {
		if p := b.do(http.MethodPost, "/ui/admin/tokens", form); p.status != http.StatusForbidden || !strings.Contains(p.body, "CSRF") {
			t.Errorf("%s: %d, want 403 naming the CSRF token\n%s", name, p.status, p.body)
		}
	}
	if p := b.post("/ui/signout", url.Values{"csrf": {other.csrf}}); p.status != http.StatusForbidden {
		t.Errorf("sign out with another session's token: %d, want 403", p.status)
	}
	// A browser sends Sec-Fetch-Site with a cross-site form: refused whatever the form holds.
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/ui/admin/tokens", strings.NewReader(url.Values{"csrf": {b.csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a cross-site form: %d, want 403", resp.StatusCode)
	}
	if n := count(); n != before {
		t.Fatalf("refused forms created %d tokens", n-before)
	}
	if p := b.post("/ui/admin/tokens", url.Values{"name": {"ok"}}); p.status != http.StatusCreated {
		t.Fatalf("with the token: %d\n%s", p.status, p.body)
	}

	// The sign-in form: its CSRF value must be its cookie's.
	fresh := newBrowser(t, srv)
	fresh.get("/ui/signin")
	for name, form := range map[string]url.Values{
		"no token":          {"token": {srv.AdminToken}},
		"another browser's": {"token": {srv.AdminToken}, "csrf": {newBrowser(t, srv).get("/ui/signin").csrfValue()}},
	} {
		if p := fresh.do(http.MethodPost, "/ui/signin", form); p.status != http.StatusForbidden || fresh.cookie("custody_session") != "" {
			t.Errorf("sign in with %s: %d, want 403 and no session", name, p.status)
		}
	}
}

func (p page) csrfValue() string {
	if m := csrfField.FindStringSubmatch(p.body); m != nil {
		return m[1]
	}
	return ""
}

// TestSessionCookie: signing in sets a session cookie holding a random id, never the token: HttpOnly,
// SameSite=Strict, expiring, Secure behind TLS or when the external URL is https; the token is in no
// URL, cookie or log line; a refused token is not shown back.
func TestSessionCookie(t *testing.T) {
	t.Parallel()
	var log syncBuffer
	srv := cptest.New(t, cptest.Options{Logger: slog.New(slog.NewJSONHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	for _, tc := range []struct {
		name   string
		url    func(t *testing.T) string
		secure bool
	}{
		{"plain HTTP", func(*testing.T) string { return srv.URL }, false},
		{"external URL https", func(t *testing.T) string { return serveUI(t, srv, "https://custody.example", false) }, true},
		{"TLS", func(t *testing.T) string { return serveUI(t, srv, "http://custody.example", true) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := tc.url(t)
			b := &browser{t: t, base: base, c: tlsClient(newBrowser(t, srv).c)}
			signin := b.get("/ui/signin")
			if c := setCookie(t, signin.header, "custody_signin"); !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure != tc.secure {
				t.Errorf("sign-in cookie %s", c)
			}
			p := b.post("/ui/signin", url.Values{"token": {srv.AdminToken}, "next": {"/ui/search?digest=x"}})
			if p.status != http.StatusSeeOther || p.header.Get("Location") != "/ui/search?digest=x" {
				t.Fatalf("sign in: %d to %q", p.status, p.header.Get("Location"))
			}
			c := setCookie(t, p.header, "custody_session")
			switch {
			case !c.HttpOnly, c.SameSite != http.SameSiteStrictMode, c.Path != "/", c.Expires.IsZero(), c.Secure != tc.secure:
				t.Errorf("session cookie %s: want HttpOnly, SameSite=Strict, Path=/, an expiry, Secure=%v", c, tc.secure)
			case strings.Contains(c.Value, strings.TrimPrefix(srv.AdminToken, wire.TokenPrefix)[:16]) || len(c.Value) != 43:
				t.Errorf("session cookie %q: want a random id, not the token", c.Value)
			}
			for _, h := range p.header.Values("Set-Cookie") {
				if strings.Contains(h, srv.AdminToken) {
					t.Errorf("a cookie holds the token: %s", h)
				}
			}
		})
	}
	b := newBrowser(t, srv)
	b.get("/ui/signin")
	refused := "cst_" + strings.Repeat("x", 43)
	if p := b.post("/ui/signin", url.Values{"token": {refused}}); p.status != http.StatusUnauthorized || strings.Contains(p.body, refused) {
		t.Errorf("a refused token: %d, or shown back\n%s", p.status, p.body)
	}
	if strings.Contains(log.String(), srv.AdminToken) || strings.Contains(log.String(), refused) {
		t.Errorf("the log holds a token:\n%s", log.String())
	}
	if !strings.Contains(log.String(), `"msg":"signed in"`) {
		t.Errorf("sign-ins are not logged:\n%s", log.String())
	}
}

// serveUI serves the UI of srv's app under baseURL, on a new loopback server (TLS or not).
func serveUI(t *testing.T, srv *cptest.Server, baseURL string, useTLS bool) string {
	t.Helper()
	h, err := ui.New(ui.Config{App: srv.App, BaseURL: baseURL})
	if err != nil {
		t.Fatal(err)
	}
	s := httptest.NewUnstartedServer(h)
	if useTLS {
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s.URL
}

func tlsClient(c *http.Client) *http.Client {
	c.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} // the test server's own certificate
	return c
}

func setCookie(t *testing.T, h http.Header, name string) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no %s cookie set: %v", name, h.Values("Set-Cookie"))
	return nil
}

// TestSessionsAcrossReplicas: two control planes on one store (replicas) share sessions: a session
// opened on one serves on the other, and signing out on one ends it on both.
func TestSessionsAcrossReplicas(t *testing.T) {
	t.Parallel()
	one := cptest.New(t, cptest.Options{})
	two := cptest.New(t, cptest.Options{Store: one.Store})
	b := newBrowser(t, one).mustSignIn(one.AdminToken)
	cookie := b.cookie("custody_session")
	onTwo := newBrowser(t, two)
	u, _ := url.Parse(two.URL + "/ui/")
	onTwo.c.Jar.SetCookies(u, []*http.Cookie{{Name: "custody_session", Value: cookie, Path: "/"}})
	if p := onTwo.get("/ui/"); p.status != http.StatusOK {
		t.Fatalf("the session on the other replica: %d", p.status)
	}
	if p := onTwo.post("/ui/signout", nil); p.status != http.StatusSeeOther {
		t.Fatalf("sign out on the other replica: %d", p.status)
	}
	if p := b.get("/ui/"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/ui/signin") {
		t.Errorf("the signed-out session on the first replica: %d to %q, want 303 to sign in", p.status, p.header.Get("Location"))
	}
}

// TestPathsAndRedirects: the UI refuses paths that are not canonical (as the API does) and sends a
// person back only to a page of the UI after signing in.
func TestPathsAndRedirects(t *testing.T) {
	t.Parallel()
	srv := cptest.New(t, cptest.Options{})
	b := newBrowser(t, srv)
	for path, status := range map[string]int{
		"/ui/../v1/projects": 400, "/ui/projects/alpha/": 400, "/ui/%2e%2e/v1/projects": 400, "/ui": 303, "/": 303, "/ui/nope": 404,
	} {
		if p := b.get(path); p.status != status {
			t.Errorf("GET %s: %d, want %d", path, p.status, status)
		}
	}
	for next, want := range map[string]string{
		"/ui/runs/x":               "/ui/runs/x",
		"https://evil.example/ui/": "/ui/",
		"//evil.example/ui/":       "/ui/",
		"/v1/projects":             "/ui/",
		"/ui/\\evil":               "/ui/",
		"":                         "/ui/",
	} {
		b := newBrowser(t, srv)
		b.get("/ui/signin")
		if p := b.post("/ui/signin", url.Values{"token": {srv.AdminToken}, "next": {next}}); p.header.Get("Location") != want {
			t.Errorf("next %q: to %q, want %q", next, p.header.Get("Location"), want)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the log's concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestLinkFromAnotherSite: a link to a page followed from another site arrives without the
// SameSite=Strict session cookie; the page answers with a meta refresh to itself (a navigation of
// this site, which carries the cookie), and that one, still without a session, goes to sign in.
func TestLinkFromAnotherSite(t *testing.T) {
	t.Parallel()
	srv := cptest.New(t, cptest.Options{})
	for site, want := range map[string]int{"cross-site": 200, "same-site": 200, "same-origin": 303, "none": 303, "": 303} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/ui/runs/x?y=1", nil)
		if site != "" {
			req.Header.Set("Sec-Fetch-Site", site)
		}
		resp, err := newBrowser(t, srv).c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Sec-Fetch-Site %q: %d, want %d", site, resp.StatusCode, want)
		}
		if want == 200 && !strings.Contains(string(body), `<meta http-equiv="refresh" content="0; url=/ui/runs/x?y=1">`) {
			t.Errorf("Sec-Fetch-Site %q: no refresh to the page\n%s", site, body)
		}
	}
}
