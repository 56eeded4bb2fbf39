package ui

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"

	"gopkg.in/yaml.v3"

	"github.com/custody-dev/custody/controlplane/app"
	"github.com/custody-dev/custody/wire"
)

type contractView struct {
	Workflow *wire.Workflow
	Revision *wire.ContractRevision
	// YAML is the revision as YAML: as uploaded, or converted from the JSON it was uploaded as.
	YAML      string
	Converted bool
	Revisions []int
}

// contract shows a revision of a workflow's contract (?revision=N, the latest by default) as YAML,
// with the other revisions and a form to compare two.
func (h *Handler) contract(w http.ResponseWriter, r *http.Request, s *app.Session) error {
	project, name := r.PathValue("project"), r.PathValue("workflow")
	n, err := revisionParam(r, "revision", false)
	if err != nil {
		return err
	}
	wf, err := h.app.GetWorkflow(r.Context(), s.Principal, project, name)
	if err != nil {
		return err
	}
	rev, err := h.app.GetContract(r.Context(), s.Principal, project, name, n)
	if err != nil {
		return err
	}
	text, converted := asYAML([]byte(rev.Contract))
	v := contractView{Workflow: wf, Revision: rev, YAML: text, Converted: converted}
	for i := wf.LatestRevision; i >= 1; i-- {
		v.Revisions = append(v.Revisions, i)
	}
	h.render(w, r, s, http.StatusOK, "contract", fmt.Sprintf("%s/%s contract revision %d", project, name, rev.Revision), v)
	return nil
}

type diffView struct {
	Workflow  *wire.Workflow
	From, To  *wire.ContractRevision
	Lines     []diffLine
	Whole     bool
	Revisions []int
}

// contractDiff compares two revisions of a workflow's contract (?from=A&to=B), line by line, as YAML.
func (h *Handler) contractDiff(w http.ResponseWriter, r *http.Request, s *app.Session) error {
	project, name := r.PathValue("project"), r.PathValue("workflow")
	from, err := revisionParam(r, "from", true)
	if err != nil {
		return err
	}
	to, err := revisionParam(r, "to", true)
	if err != nil {
		return err
	}
	wf, err := h.app.GetWorkflow(r.Context(), s.Principal, project, name)
	if err != nil {
		return err
	}
	v := diffView{Workflow: wf}
	if v.From, err = h.app.GetContract(r.Context(), s.Principal, project, name, from); err != nil {
		return err
	}
	if v.To, err = h.app.GetContract(r.Context(), s.Principal, project, name, to); err != nil {
		return err
	}
	a, _ := asYAML([]byte(v.From.Contract))
	b, _ := asYAML([]byte(v.To.Contract))
	v.Lines, v.Whole = lineDiff(a, b)
	for i := wf.LatestRevision; i >= 1; i-- {
		v.Revisions = append(v.Revisions, i)
	}
	h.render(w, r, s, http.StatusOK, "diff", fmt.Sprintf("%s/%s contract: revision %d to %d", project, name, from, to), v)
	return nil
}

// revisionParam reads a revision number of the query: 1 or more, or absent (0: the latest) unless
// required.
func revisionParam(r *http.Request, name string, required bool) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" && !required {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, &app.Error{Status: http.StatusBadRequest, Code: wire.CodeBadRequest, Msg: fmt.Sprintf("%s %q: want a revision number, 1 or more", name, v)}
	}
	return n, nil
}

// asYAML returns a contract body as YAML: a YAML body as it was uploaded, a JSON one (JSON is YAML
// in flow style) re-written in block style with its keys in their order. converted tells which.
func asYAML(body []byte) (string, bool) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return string(body), false
	}
	var n yaml.Node
	if err := yaml.Unmarshal(body, &n); err != nil {
		return string(body), false
	}
	blockStyle(&n)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return string(body), false
	}
	return buf.String(), true
}

// blockStyle drops the flow and quoting styles JSON gave the nodes, so they encode as plain YAML
// (the encoder still quotes a string that would read as another type).
func blockStyle(n *yaml.Node) {
	n.Style = 0
	for _, c := range n.Content {
		blockStyle(c)
	}
}
