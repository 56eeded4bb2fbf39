package ui

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/custody-dev/custody/controlplane/app"
	"github.com/custody-dev/custody/wire"
)

// Cookies. The session cookie holds the session id only (never the token); the sign-in cookie holds
// the random value the sign-in form must echo, so that form has a CSRF token before any session.
const (
	sessionCookie = "custody_session"
	signInCookie  = "custody_signin"
)

// maxFormBody bounds a form's body: a public key, or a trust policy of 32 claims of 1 KiB, fits.
const maxFormBody = 256 << 10

// pageFunc serves a request of a signed-in session.
type pageFunc func(w http.ResponseWriter, r *http.Request, s *app.Session) error

// session returns the request's open session.
func (h *Handler) session(r *http.Request) (*app.Session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, &app.Error{Status: http.StatusUnauthorized, Code: wire.CodeUnauthenticated, Msg: "not signed in"}
	}
	return h.app.Session(r.Context(), c.Value)
}

// page serves a GET of a signed-in session; a request without one is sent to the sign-in page.
func (h *Handler) page(fn pageFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, err := h.session(r)
		if isCode(err, wire.CodeUnauthenticated) && fromAnotherSite(r) {
			h.render(w, r, nil, http.StatusOK, "continue", "Continue", r.URL.RequestURI())
			return
		}
		if isCode(err, wire.CodeUnauthenticated) {
			http.Redirect(w, r, "/ui/signin?"+url.Values{"next": {r.URL.RequestURI()}}.Encode(), http.StatusSeeOther)
			return
		}
		if err == nil {
			err = fn(w, r, s)
		}
		if err != nil {
			h.fail(w, r, s, err)
		}
	}
}

// form serves a POST of a signed-in session whose form carries the session's CSRF token: without a
// session it is 401, without the token (or with another session's) 403, and nothing is done.
func (h *Handler) form(fn pageFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := parseForm(w, r); err != nil {
			h.fail(w, r, nil, err)
			return
		}
		s, err := h.session(r)
		if err == nil && !hmac.Equal([]byte(r.PostForm.Get("csrf")), []byte(csrfToken(s))) {
			err = &app.Error{Status: http.StatusForbidden, Code: wire.CodeForbidden,
				Msg: "the form's CSRF token is missing or not this session's: reload the page and submit it again"}
		}
		if err == nil {
			err = fn(w, r, s)
		}
		if err != nil {
			h.fail(w, r, s, err)
		}
	}
}

// fromAnotherSite reports whether a request without a session cookie is a navigation from another
// site (a link in a CI log, a chat): a SameSite=Strict cookie is not sent then, even by a browser that
// has a session. The page answers with a navigation of its own to the same page (a meta refresh, no
// script), which sends the cookie; without a session that one goes to the sign-in page, so there is
// no loop.
func fromAnotherSite(r *http.Request) bool {
	if _, err := r.Cookie(sessionCookie); err == nil {
		return false
	}
	site := r.Header.Get("Sec-Fetch-Site")
	return r.Method == http.MethodGet && (site == "cross-site" || site == "same-site")
}

func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return &app.Error{Status: http.StatusRequestEntityTooLarge, Code: wire.CodeTooLarge, Msg: "the form is larger than 256 KiB"}
		}
		return &app.Error{Status: http.StatusBadRequest, Code: wire.CodeBadRequest, Msg: "the form does not parse: " + err.Error()}
	}
	return nil
}

// csrfToken is the CSRF token of a session's forms: an HMAC keyed by the session id, so it is the
// session's alone, needs no storage, and tells nothing of the id.
func csrfToken(s *app.Session) string {
	if s == nil {
		return ""
	}
	m := hmac.New(sha256.New, []byte(s.ID))
	m.Write([]byte("custody ui csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// cookie is a cookie of the UI: HttpOnly, SameSite=Strict, for the whole site, Secure behind TLS.
func (h *Handler) cookie(r *http.Request, name, value string) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: h.secure || r.TLS != nil}
}

type signInView struct {
	Next, Problem string
}

// signInPage shows the sign-in form, with a fresh sign-in CSRF value in a cookie and in the form.
func (h *Handler) signInPage(w http.ResponseWriter, r *http.Request) {
	h.renderSignIn(w, r, http.StatusOK, signInView{Next: localNext(r.URL.Query().Get("next"))})
}

func (h *Handler) renderSignIn(w http.ResponseWriter, r *http.Request, status int, v signInView) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	value := base64.RawURLEncoding.EncodeToString(b)
	c := h.cookie(r, signInCookie, value)
	c.Path = "/ui/signin"
	http.SetCookie(w, c)
	h.render(w, r, nil, status, "signin", "Sign in", v, value)
}

// signIn exchanges a token pasted into the form for a session. The token travels in the POST body
// only: it is never put in a cookie, a URL or the log, and a refused one is not shown back.
func (h *Handler) signIn(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		h.fail(w, r, nil, err)
		return
	}
	next := localNext(r.PostForm.Get("next"))
	c, err := r.Cookie(signInCookie)
	if err != nil || c.Value == "" || !hmac.Equal([]byte(c.Value), []byte(r.PostForm.Get("csrf"))) {
		h.fail(w, r, nil, &app.Error{Status: http.StatusForbidden, Code: wire.CodeForbidden,
			Msg: "the sign-in form's CSRF token is missing or wrong: open the sign-in page again"})
		return
	}
	s, err := h.app.SignIn(r.Context(), strings.TrimSpace(r.PostForm.Get("token")), h.sessionTTL)
	if e, ok := app.AsError(err); ok && e.Status == http.StatusUnauthorized {
		h.renderSignIn(w, r, http.StatusUnauthorized, signInView{Next: next, Problem: "That token was refused: " + e.Msg})
		return
	}
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	sc := h.cookie(r, sessionCookie, s.ID)
	sc.Expires = s.ExpiresAt
	http.SetCookie(w, sc)
	gone := h.cookie(r, signInCookie, "")
	gone.Path, gone.MaxAge = "/ui/signin", -1
	http.SetCookie(w, gone)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// signOut ends the session in the store (on every replica) and drops the cookie.
func (h *Handler) signOut(w http.ResponseWriter, r *http.Request, s *app.Session) error {
	if err := h.app.SignOut(r.Context(), s.ID); err != nil {
		return err
	}
	c := h.cookie(r, sessionCookie, "")
	c.MaxAge = -1
	http.SetCookie(w, c)
	http.Redirect(w, r, "/ui/signin", http.StatusSeeOther)
	return nil
}

// localNext returns where to go after signing in: the page asked for when it is a page of the UI
// (a path under /ui/, so no other site), else the UI's home.
func localNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || !strings.HasPrefix(next, Prefix) || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" ||
		strings.ContainsAny(next, "\\\r\n") {
		return Prefix
	}
	return next
}

func isCode(err error, code string) bool {
	e, ok := app.AsError(err)
	return ok && e.Code == code
}
