package ui

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/custody-dev/custody/cas"
	"github.com/custody-dev/custody/controlplane/app"
	"github.com/custody-dev/custody/wire"
)

type homeView struct {
	Projects []wire.Project
	// Scope is the token's own project and workflow, for a token that lists no project.
	Scope wire.WhoAmI
}

// home lists the projects the token may act on; a workflow token, which lists none (as in the API),
// is shown its workflow.
func (h *Handler) home(w http.ResponseWriter, r *http.Request, s *app.Session) error {
	ps, err := h.app.ListProjects(r.Context(), s.Principal)
	if err != nil {
		return err
	}
	h.render(w, r, s, http.StatusOK, "home", "Projects", homeView{Projects: ps, Scope: *h.app.WhoAmI(r.Context(), s.Principal)})
	return nil
}

type projectView struct {
	Project   string
	Workflows []wire.Workflow
}

func (h *Handler) project(w http.ResponseWriter, r *http.Request, s *app.Session) error {
	project := r.PathValue("project")
	ws, err := h.app.ListWorkflows(r.Context(), s.Principal, project)
	if err != nil {
		return err
	}
	h.render(w, r, s, http.StatusOK, "project", project, projectView{Project: project, Workflows: ws})
	return nil
}

type workflowView struct {
	Workflow *wire.Workflow
	Runs     []wire.Run
	// Filter is the runs' filter as the form shows it; Next links the following page, "" at the end.
	Filter runFilter
	Next   string
	States []string
}

// runFilter is the runs list's query: state, runner type, git branch, and the page's cursor.
type runFilter struct {
	State, Runner, Branch, Cursor string
}

func (f runFilter) query() url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"state": f.State, "runner": f.Runner, "branch": f.Branch, "cursor": f.Cursor} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

// workflow shows a workflow and a page of its runs, newest first, filtered by state, runner and
// branch, with a link to the next page.
func (h *Handler) workflow(w http.ResponseWriter, r *http.Request, s *app.Session) error {
	project, name := r.PathValue("project"), r.PathValue("workflow")
	q := r.URL.Query()
	f := runFilter{State: q.Get("state"), Runner: strings.TrimSpace(q.Get("runner")), Branch: strings.TrimSpace(q.Get("branch")), Cursor: q.Get("cursor")}
	wf, err := h.app.GetWorkflow(r.Context(), s.Principal, project, name)
	if err != nil {
		return err
	}
	page, err := h.app.ListRuns(r.Context(), s.Principal, app.RunQuery{Project: project, Workflow: name, State: f.State,
		RunnerType: f.Runner, Branch: f.Branch, Cursor: f.Cursor, Limit: runsPerPage})
	if err != nil {
		return err
	}
	v := workflowView{Workflow: wf, Runs: page.Runs, Filter: f,
		States: []string{"initialized", "succeeded", "failed", "cancelled", "expired"}}
	if page.Next != "" {
		next := f
		next.Cursor = page.Next
		v.Next = "?" + next.query().Encode()
	}
	h.render(w, r, s, http.StatusOK, "workflow", project+"/"+name, v)
	return nil
}

// runsPerPage is the runs a workflow's page lists at once.
const runsPerPage = 50

type searchView struct {
	Digest       string
	Problem      string
	Searched     bool
	Attestations []wire.Attestation
	Next         string
}

// searchPerPage is the attestations a search lists at once.
const searchPerPage = 50

// search finds the attestations the token may read that name a digest (a subject or a material):
// "sha256:<hex>", or the bare hex as sha256sum prints it.
func (h *Handler) search(w http.ResponseWriter, r *http.Request, s *app.Session) error {
	q := r.URL.Query()
	v := searchView{Digest: strings.TrimSpace(q.Get("digest"))}
	status := http.StatusOK
	if v.Digest != "" {
		d := v.Digest
		if !strings.Contains(d, ":") {
			d = "sha256:" + strings.ToLower(d)
		}
		if _, err := cas.ParseDigest(d); err != nil {
			v.Problem, status = err.Error(), http.StatusBadRequest
		} else {
			page, err := h.app.FindByDigest(r.Context(), s.Principal, d, q.Get("cursor"), searchPerPage)
			if err != nil {
				return err
			}
			v.Digest, v.Searched, v.Attestations = d, true, page.Attestations
			if page.Next != "" {
				v.Next = "?" + url.Values{"digest": {d}, "cursor": {page.Next}}.Encode()
			}
		}
	}
	h.render(w, r, s, status, "search", "Search by digest", v)
	return nil
}
