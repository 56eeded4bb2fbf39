package ui

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/custody-dev/custody/controlplane/app"
	"github.com/custody-dev/custody/wire"
)

// The admin pages call the app as the API's management routes do, so the app decides who may: a
// page or form a token may not use answers as the API would (404 for what it may not see, 403 for
// what it sees but may not do).

type tokensView struct {
	Tokens []wire.Token
	// Created is a token just created: its secret is shown on this answer only, never again.
	Created *wire.CreatedToken
	Problem string
	Form    wire.CreateToken
}

func (h *Handler) tokens(w http.ResponseWriter, r *http.Request, s *app.Session) error {
	return h.renderTokens(w, r, s, http.StatusOK, tokensView{})
}

func (h *Handler) renderTokens(w http.ResponseWriter, r *http.Request, s *app.Session, status int, v tokensView) error {
	ts, err := h.app.ListTokens(r.Context(), s.Principal)
	if err != nil {
		return err
	}
	v.Tokens = ts
	h.render(w, r, s, status, "tokens", "Tokens", v)
	return nil
}

// createToken creates a token and shows its secret in this answer, which is never cached (no-store)
// and never redirected to: the secret is in no URL and shown once.
func (h *Handler) createToken(w http.ResponseWriter, r *http.Request, s *app.Session) error {
	f := r.PostForm
	req := wire.CreateToken{Name: strings.TrimSpace(f.Get("name")), Project: strings.TrimSpace(f.Get("project")),
		Workflow: strings.TrimSpace(f.Get("workflow")), Admin: f.Get("admin") == "on", ExpiresIn: strings.TrimSpace(f.Get("expiresIn"))}
	created, err := h.app.CreateToken(r.Context(), s.Principal, req)
	if e, ok := app.AsError(err); ok && e.Status == http.StatusBadRequest {
		return h.renderTokens(w, r, s, e.Status, tokensView{Problem: e.Msg, Form: req})
	}
	if err != nil {
		return err
	}
	return h.renderTokens(w, r, s, http.StatusCreated, tokensView{Created: created})
}

func (h *Handler) revokeToken(w http.ResponseWriter, r *http.Request, s *app.Session) error {
	if err := h.app.RevokeToken(r.Context(), s.Principal, r.PathValue("id")); err != nil {
		return err
	}
	http.Redirect(w, r, "/ui/admin/tokens", http.StatusSeeOther)
	return nil
}

type keysView struct {
	Project, Workflow string
	Keys              []wire.PublicKey
	Problem, PEM      string
}

func (h *Handler) keys(w http.ResponseWriter, r *http.Request, s *app.Session) error {
	return h.renderKeys(w, r, s, http.StatusOK, keysView{})
}

func (h *Handler) renderKeys(w http.ResponseWriter, r *http.Request, s *app.Session, status int, v keysView) error {
	v.Project, v.Workflow = r.PathValue("project"), r.PathValue("workflow")
	ks, err := h.app.ListKeys(r.Context(), s.Principal, v.Project, v.Workflow)
	if err != nil {
		return err
	}
	v.Keys = ks
	h.render(w, r, s, status, "keys", fmt.Sprintf("%s/%s trusted keys", v.Project, v.Workflow), v)
	return nil
}

func (h *Handler) addKey(w http.ResponseWriter, r *http.Request, s *app.Session) error {
	pem := r.PostForm.Get("pem")
	_, err := h.app.AddKey(r.Context(), s.Principal, r.PathValue("project"), r.PathValue("workflow"), wire.AddPublicKey{PEM: pem})
	if e, ok := app.AsError(err); ok && (e.Status == http.StatusBadRequest || e.Status == http.StatusConflict) {
		return h.renderKeys(w, r, s, e.Status, keysView{Problem: e.Msg, PEM: pem})
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, r.URL.Path, http.StatusSeeOther)
	return nil
}

func (h *Handler) removeKey(w http.ResponseWriter, r *http.Request, s *app.Session) error {
	project, workflow := r.PathValue("project"), r.PathValue("workflow")
	if _, err := h.app.RemoveKey(r.Context(), s.Principal, project, workflow, r.PathValue("id")); err != nil {
		return err
	}
	http.Redirect(w, r, "/ui/projects/"+project+"/workflows/"+workflow+"/keys", http.StatusSeeOther)
	return nil
}

// keyPEM downloads a trusted key as cosign.pub, for the commands that verify key-signed bundles.
func (h *Handler) keyPEM(w http.ResponseWriter, r *http.Request, s *app.Session) error {
	project, workflow, id := r.PathValue("project"), r.PathValue("workflow"), r.PathValue("id")
	ks, err := h.app.ListKeys(r.Context(), s.Principal, project, workflow)
	if err != nil {
		return err
	}
	for _, k := range ks {
		if k.ID == id {
			download(w, "application/x-pem-file", "cosign.pub", int64(len(k.PEM)))
			_, _ = w.Write([]byte(k.PEM))
			return nil
		}
	}
	return &app.Error{Status: http.StatusNotFound, Code: wire.CodeNotFound, Msg: fmt.Sprintf("workflow %s/%s trusts no key %s", project, workflow, id)}
}

type trustView struct {
	Project, Workflow string
	Policies          []trustRow
	Problem           string
	Issuer, Claims    string
}

type trustRow struct {
	wire.TrustPolicy
	Number int
	Claims []kv
}

func (h *Handler) trust(w http.ResponseWriter, r *http.Request, s *app.Session) error {
	return h.renderTrust(w, r, s, http.StatusOK, trustView{})
}

func (h *Handler) renderTrust(w http.ResponseWriter, r *http.Request, s *app.Session, status int, v trustView) error {
	v.Project, v.Workflow = r.PathValue("project"), r.PathValue("workflow")
	ps, err := h.app.ListTrustPolicies(r.Context(), s.Principal, v.Project, v.Workflow)
	if err != nil {
		return err
	}
	for i, p := range ps {
		v.Policies = append(v.Policies, trustRow{TrustPolicy: p, Number: i + 1, Claims: sortedKV(p.Claims)})
	}
	h.render(w, r, s, status, "trust", fmt.Sprintf("%s/%s trust policies", v.Project, v.Workflow), v)
	return nil
}

// addTrust adds a trust policy from the form: the issuer, and one claim=value per line.
func (h *Handler) addTrust(w http.ResponseWriter, r *http.Request, s *app.Session) error {
	issuer, text := strings.TrimSpace(r.PostForm.Get("issuer")), r.PostForm.Get("claims")
	claims, err := parseClaims(text)
	if err == nil {
		_, err = h.app.AddTrustPolicy(r.Context(), s.Principal, r.PathValue("project"), r.PathValue("workflow"),
			wire.TrustPolicy{Issuer: issuer, Claims: claims})
	}
	if e, ok := app.AsError(err); ok && (e.Status == http.StatusBadRequest || e.Status == http.StatusConflict) {
		return h.renderTrust(w, r, s, e.Status, trustView{Problem: e.Msg, Issuer: issuer, Claims: text})
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, r.URL.Path, http.StatusSeeOther)
	return nil
}

// parseClaims reads name=value lines (blank lines skipped), as `custody workflow trust add --claim`
// takes them.
func parseClaims(text string) (map[string]string, error) {
	claims := map[string]string{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, &app.Error{Status: http.StatusBadRequest, Code: wire.CodeBadRequest,
				Msg: fmt.Sprintf("claims, line %d: want name=value, such as repository=acme/app", i+1)}
		}
		name = strings.TrimSpace(name)
		if _, dup := claims[name]; dup {
			return nil, &app.Error{Status: http.StatusBadRequest, Code: wire.CodeBadRequest,
				Msg: fmt.Sprintf("claims, line %d: claim %s given twice", i+1, name)}
		}
		claims[name] = strings.TrimSpace(value)
	}
	return claims, nil
}

func (h *Handler) removeTrust(w http.ResponseWriter, r *http.Request, s *app.Session) error {
	project, workflow := r.PathValue("project"), r.PathValue("workflow")
	if _, err := h.app.RemoveTrustPolicy(r.Context(), s.Principal, project, workflow, r.PathValue("id")); err != nil {
		return err
	}
	http.Redirect(w, r, "/ui/projects/"+project+"/workflows/"+workflow+"/trust", http.StatusSeeOther)
	return nil
}
