package web

import (
	"net/http"
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
}

// workflow shows a workflow and its runs, newest first.
func (h *Handler) workflow(w http.ResponseWriter, r *http.Request, s *app.Session) error {
	project, name := r.PathValue("project"), r.PathValue("workflow")
	wf, err := h.app.GetWorkflow(r.Context(), s.Principal, project, name)
	if err != nil {
		return err
	}
	runs, err := h.app.ListRuns(r.Context(), s.Principal, project, name, runsPerPage)
	if err != nil {
		return err
	}
	h.render(w, r, s, http.StatusOK, "workflow", project+"/"+name, workflowView{Workflow: wf, Runs: runs})
	return nil
}

// runsPerPage is the runs a workflow's page lists at once.
const runsPerPage = 50

type searchView struct {
	Digest       string
	Problem      string
	Searched     bool
	Attestations []wire.Attestation
}

// searchLimit bounds the attestations a search lists.
const searchLimit = 100

// search finds the attestations the token may read that name a digest (a subject or a material):
// "sha256:<hex>", or the bare hex as sha256sum prints it.
func (h *Handler) search(w http.ResponseWriter, r *http.Request, s *app.Session) error {
	v := searchView{Digest: strings.TrimSpace(r.URL.Query().Get("digest"))}
	status := http.StatusOK
	if v.Digest != "" {
		d := v.Digest
		if !strings.Contains(d, ":") {
			d = "sha256:" + strings.ToLower(d)
		}
		if _, err := cas.ParseDigest(d); err != nil {
			v.Problem, status = err.Error(), http.StatusBadRequest
		} else {
			atts, err := h.app.ListAttestations(r.Context(), s.Principal, "", "", d, searchLimit)
			if err != nil {
				return err
			}
			v.Digest, v.Searched, v.Attestations = d, true, atts
		}
	}
	h.render(w, r, s, status, "search", "Search by digest", v)
	return nil
}
