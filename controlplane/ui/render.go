package ui

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/custody-dev/custody/controlplane/app"
	"github.com/custody-dev/custody/wire"
)

// pages are the parsed templates: each page is the layout with its own "content".
type pages struct {
	byName map[string]*template.Template
}

var funcs = template.FuncMap{
	"when": func(t any) string {
		switch t := t.(type) {
		case time.Time:
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format("2006-01-02 15:04:05 UTC")
		case *time.Time:
			if t == nil || t.IsZero() {
				return ""
			}
			return t.UTC().Format("2006-01-02 15:04:05 UTC")
		}
		return fmt.Sprint(t)
	},
	"yesno": func(b bool) string {
		if b {
			return "Yes"
		}
		return "No"
	},
	"short": func(digest string) string {
		if alg, hex, ok := strings.Cut(digest, ":"); ok && len(hex) > 12 {
			return alg + ":" + hex[:12] + "…"
		}
		return digest
	},
	"sorted": func(m map[string]string) []kv {
		out := make([]kv, 0, len(m))
		for k, v := range m {
			out = append(out, kv{k, v})
		}
		sort.Slice(out, func(i, j int) bool { return out[i].K < out[j].K })
		return out
	},
}

// kv is one entry of a map, for templates that list maps in a stable order.
type kv struct{ K, V string }

func parsePages() (*pages, error) {
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	files, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, f := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(f, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFiles, f)
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", f, err)
		}
		p.byName[name] = t
	}
	return p, nil
}

// view is what the layout shows around a page.
type view struct {
	Title string
	// Who is the signed-in token; nil on the sign-in page.
	Who *wire.WhoAmI
	// CSRF is the token the page's forms carry.
	CSRF string
	Data any
}

// render writes a page. A template that fails writes nothing of it: the page is rendered whole
// before the status is sent.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, s *app.Session, status int, name, title string, data any, csrf ...string) {
	v := view{Title: title, Data: data, CSRF: csrfToken(s)}
	if len(csrf) > 0 {
		v.CSRF = csrf[0]
	}
	if s != nil {
		v.Who = h.app.WhoAmI(r.Context(), s.Principal)
	}
	t, ok := h.pages.byName[name]
	var buf bytes.Buffer
	if !ok {
		h.log.Error("web: no template", "name", name)
		http.Error(w, "the control plane failed: its log has the reason", http.StatusInternalServerError)
		return
	}
	if err := t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		h.log.Error("web: render", "page", name, "path", r.URL.Path, "err", err)
		http.Error(w, "the control plane failed: its log has the reason", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

type problemView struct {
	Status  int
	Message string
	SignIn  bool
}

// fail renders an error page: a refusal of the app (its status and message, as the API answers it),
// or a failure of the control plane (500, logged, its reason not shown).
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, s *app.Session, err error) {
	v := problemView{Status: http.StatusInternalServerError, Message: "the control plane failed: its log has the reason"}
	if e, ok := app.AsError(err); ok {
		v.Status, v.Message = e.Status, e.Msg
	} else {
		h.log.Error("web: page failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	v.SignIn = v.Status == http.StatusUnauthorized
	h.render(w, r, s, v.Status, "problem", http.StatusText(v.Status), v)
}
