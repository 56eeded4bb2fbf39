package api

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/cas"
	"github.com/custody-dev/custody/controlplane/app"
	"github.com/custody-dev/custody/controlplane/auth"
	"github.com/custody-dev/custody/wire"
)

func (s *Server) routesV1() {
	s.public("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_ = writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.public("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := s.app.Ready(r.Context()); err != nil {
			s.log.Warn("not ready", "err", err)
			writeProblem(w, wire.Problem{Type: wire.ProblemType + wire.CodeServiceUnavailable, Title: "not ready",
				Status: http.StatusServiceUnavailable, Code: wire.CodeServiceUnavailable, Detail: err.Error()})
			return
		}
		_ = writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	s.public("GET /v1/openapi.yaml", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(OpenAPI)
	})

	s.authed("GET /v1/whoami", func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		return writeJSON(w, http.StatusOK, s.app.WhoAmI(r.Context(), p))
	})
	s.authed("POST /v1/projects", func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		var req wire.CreateProject
		if err := s.decode(w, r, &req, maxSmallBody); err != nil {
			return err
		}
		return created(w)(s.app.CreateProject(r.Context(), p, req))
	})
	s.authed("GET /v1/projects", func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		return ok(w)(s.app.ListProjects(r.Context(), p))
	})
	s.authed("POST /v1/projects/{project}/workflows", func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		var req wire.CreateWorkflow
		if err := s.decode(w, r, &req, maxContractBody); err != nil {
			return err
		}
		return created(w)(s.app.CreateWorkflow(r.Context(), p, r.PathValue("project"), req))
	})
	s.authed("GET /v1/projects/{project}/workflows", func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		return ok(w)(s.app.ListWorkflows(r.Context(), p, r.PathValue("project")))
	})
	s.authed("GET /v1/projects/{project}/workflows/{workflow}", func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		return ok(w)(s.app.GetWorkflow(r.Context(), p, r.PathValue("project"), r.PathValue("workflow")))
	})
	s.authed("GET /v1/projects/{project}/workflows/{workflow}/contract", func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		n, err := intParam(r, "revision")
		if err != nil {
			return err
		}
		return ok(w)(s.app.GetContract(r.Context(), p, r.PathValue("project"), r.PathValue("workflow"), n))
	})
	s.authed("POST /v1/projects/{project}/workflows/{workflow}/contract", func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		var req wire.UpdateContract
		if err := s.decode(w, r, &req, maxContractBody); err != nil {
			return err
		}
		return created(w)(s.app.UpdateContract(r.Context(), p, r.PathValue("project"), r.PathValue("workflow"), req))
	})
	s.authed("GET /v1/projects/{project}/workflows/{workflow}/keys", func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		return ok(w)(s.app.ListKeys(r.Context(), p, r.PathValue("project"), r.PathValue("workflow")))
	})
	s.authed("POST /v1/projects/{project}/workflows/{workflow}/keys", func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		var req wire.AddPublicKey
		if err := s.decode(w, r, &req, maxSmallBody); err != nil {
			return err
		}
		return created(w)(s.app.AddKey(r.Context(), p, r.PathValue("project"), r.PathValue("workflow"), req))
	})
	s.authed("DELETE /v1/projects/{project}/workflows/{workflow}/keys/{id}", func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		if _, err := s.app.RemoveKey(r.Context(), p, r.PathValue("project"), r.PathValue("workflow"), r.PathValue("id")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
	s.authed("GET /v1/projects/{project}/workflows/{workflow}/runs", func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		return s.listRuns(w, r, p, r.PathValue("project"), r.PathValue("workflow"))
	})

	s.authed("POST /v1/tokens", func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		var req wire.CreateToken
		if err := s.decode(w, r, &req, maxSmallBody); err != nil {
			return err
		}
		return created(w)(s.app.CreateToken(r.Context(), p, req))
	})
	s.authed("GET /v1/tokens", func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		return ok(w)(s.app.ListTokens(r.Context(), p))
	})
	s.authed("DELETE /v1/tokens/{id}", func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		if err := s.app.RevokeToken(r.Context(), p, r.PathValue("id")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})

	s.authed("POST /v1/runs", func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		var req wire.InitRun
		if err := s.decode(w, r, &req, maxContractBody); err != nil {
			return err
		}
		return created(w)(s.app.InitRun(r.Context(), p, req))
	})
	s.authed("GET /v1/runs", func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		q := r.URL.Query()
		return s.listRuns(w, r, p, q.Get("project"), q.Get("workflow"))
	})
	s.authed("GET /v1/runs/{id}", func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		return ok(w)(s.app.GetRun(r.Context(), p, r.PathValue("id")))
	})
	s.authed("POST /v1/runs/{id}/reset", func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		var req wire.FinishRun
		if err := s.decode(w, r, &req, maxSmallBody); err != nil {
			return err
		}
		return ok(w)(s.app.ResetRun(r.Context(), p, r.PathValue("id"), req))
	})
	s.authed("GET /v1/runs/{id}/state", func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		return ok(w)(s.app.GetState(r.Context(), p, r.PathValue("id")))
	})
	s.authed("PUT /v1/runs/{id}/state", func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		var req wire.PutRemoteState
		if err := s.decode(w, r, &req, maxStateBody); err != nil {
			return err
		}
		return ok(w)(s.app.PutState(r.Context(), p, r.PathValue("id"), req))
	})
	s.authed("POST /v1/runs/{id}/attestation", func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		bundle, err := s.readAll(w, r, attestation.MaxBundleSize)
		if err != nil {
			return err
		}
		res, err := s.app.Push(r.Context(), p, r.PathValue("id"), bundle)
		if err != nil {
			return err
		}
		status := http.StatusCreated
		if !res.Created {
			status = http.StatusOK
		}
		return writeJSON(w, status, res)
	})

	s.authed("GET /v1/attestations", func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		limit, err := limitParam(r)
		if err != nil {
			return err
		}
		q := r.URL.Query()
		if d := q.Get("digest"); d != "" {
			if err := digestParam("digest", d); err != nil {
				return err
			}
		}
		page, err := s.app.ListAttestations(r.Context(), p, app.AttestationQuery{Project: q.Get("project"), Workflow: q.Get("workflow"),
			Digest: q.Get("digest"), Cursor: q.Get("cursor"), Limit: limit})
		if err != nil {
			return err
		}
		return writePage(w, r, page.Attestations, page.Next)
	})
	s.authed("GET /v1/attestations/{digest}", func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		if err := digestParam("attestation digest", r.PathValue("digest")); err != nil {
			return err
		}
		att, _, err := s.app.GetAttestation(r.Context(), p, r.PathValue("digest"))
		return ok(w)(att, err)
	})
	s.authed("GET /v1/attestations/{digest}/bundle", func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		if err := digestParam("attestation digest", r.PathValue("digest")); err != nil {
			return err
		}
		_, bundle, err := s.app.GetAttestation(r.Context(), p, r.PathValue("digest"))
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", attestation.BundleMediaType)
		_, err = w.Write(bundle)
		return err
	})

	s.authed("POST /v1/blobs", s.putBlob)
	s.authed("GET /v1/blobs/{digest}", s.getBlob)
}

// listRuns answers a runs list: the runs of the query's filters, a page at a time.
func (s *Server) listRuns(w http.ResponseWriter, r *http.Request, p auth.Principal, project, workflow string) error {
	limit, err := limitParam(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	page, err := s.app.ListRuns(r.Context(), p, app.RunQuery{Project: project, Workflow: workflow, State: q.Get("state"),
		RunnerType: q.Get("runner"), Branch: q.Get("branch"), Cursor: q.Get("cursor"), Limit: limit})
	if err != nil {
		return err
	}
	return writePage(w, r, page.Runs, page.Next)
}

// writePage answers a page of a list: its rows as a JSON array (what the list answered before it
// paged), and, when more follow, a Link header to the next page (RFC 8288, rel="next", as GitHub's
// API pages): the request's path and query with cursor= set to next.
func writePage[T any](w http.ResponseWriter, r *http.Request, rows []T, next string) error {
	if next != "" {
		q := r.URL.Query()
		q.Set("cursor", next)
		w.Header().Set("Link", "<"+(&url.URL{Path: r.URL.Path, RawQuery: q.Encode()}).String()+`>; rel="next"`)
	}
	return writeJSON(w, http.StatusOK, rows)
}

// ok and created write a use case's result, or pass its error on.
func ok(w http.ResponseWriter) func(any, error) error { return respond(w, http.StatusOK) }

func created(w http.ResponseWriter) func(any, error) error { return respond(w, http.StatusCreated) }

func respond(w http.ResponseWriter, status int) func(any, error) error {
	return func(v any, err error) error {
		if err != nil {
			return err
		}
		return writeJSON(w, status, v)
	}
}

func intParam(r *http.Request, name string) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, &app.Error{Status: http.StatusBadRequest, Code: wire.CodeBadRequest, Msg: fmt.Sprintf("%s %q: want a non-negative integer", name, v)}
	}
	return n, nil
}

// maxLimit bounds the page a list may ask for (?limit=): what one request makes the store read.
const maxLimit = 1000

// limitParam reads ?limit=, 0 (the default page) to maxLimit.
func limitParam(r *http.Request) (int, error) {
	n, err := intParam(r, "limit")
	if err == nil && n > maxLimit {
		err = &app.Error{Status: http.StatusBadRequest, Code: wire.CodeBadRequest, Msg: fmt.Sprintf("limit %d: at most %d", n, maxLimit)}
	}
	return n, err
}

// digestParam checks a digest a request names (every digest custody keeps is sha256:<hex>).
func digestParam(what, v string) error {
	if _, err := cas.ParseDigest(v); err != nil {
		return &app.Error{Status: http.StatusBadRequest, Code: wire.CodeBadRequest, Msg: fmt.Sprintf("%s: %v", what, err)}
	}
	return nil
}

// putBlob streams the body into the CAS. The digest comes in the Custody-Digest header, or in a
// trailer of that name from a client that hashes while it uploads. A malformed header is refused
// before the body is read; a malformed trailer, or one that disagrees with the header, when the body
// ends, before anything is stored.
func (s *Server) putBlob(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if r.ContentLength > s.maxBlob {
		return declaredTooLarge(r, s.maxBlob)
	}
	header, err := digestField(r.Header, "header")
	if err != nil {
		return err
	}
	select {
	case s.uploads <- struct{}{}:
		defer func() { <-s.uploads }()
	default:
		w.Header().Set("Retry-After", "1")
		return &app.Error{Status: http.StatusServiceUnavailable, Code: wire.CodeServiceUnavailable,
			Msg: fmt.Sprintf("this control plane receives at most %d uploads at once: retry later", cap(s.uploads))}
	}
	body := &claimedBody{r: http.MaxBytesReader(w, r.Body, s.maxBlob), req: r, claim: header}
	blob, err := s.app.PutBlob(r.Context(), p, body, func() string { return body.claim })
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, blob)
}

// digestField reads the Custody-Digest header or trailer: "" when absent, else a well-formed digest.
func digestField(h http.Header, what string) (string, error) {
	vs := h.Values(wire.DigestHeader)
	switch {
	case len(vs) == 0 || len(vs) == 1 && vs[0] == "":
		return "", nil
	case len(vs) > 1:
		return "", &app.Error{Status: http.StatusBadRequest, Code: wire.CodeBadRequest,
			Msg: fmt.Sprintf("%d %s %ss: send one", len(vs), wire.DigestHeader, what)}
	}
	if err := digestParam(wire.DigestHeader+" "+what, vs[0]); err != nil {
		return "", err
	}
	return vs[0], nil
}

// claimedBody is an upload's body that, at its end, takes the Custody-Digest trailer as the claim
// (or checks it against the header's): a read error then keeps the blob from being stored.
type claimedBody struct {
	r     io.Reader
	req   *http.Request
	claim string
}

func (b *claimedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != io.EOF {
		return n, err
	}
	trailer, terr := digestField(b.req.Trailer, "trailer")
	switch {
	case terr != nil:
		return n, terr
	case trailer != "" && b.claim != "" && trailer != b.claim:
		return n, &app.Error{Status: http.StatusBadRequest, Code: wire.CodeBadRequest,
			Msg: fmt.Sprintf("the %s header says %s, the trailer %s: send one digest; nothing was stored", wire.DigestHeader, b.claim, trailer)}
	case trailer != "":
		b.claim = trailer
	}
	return n, err
}

func (s *Server) getBlob(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	rc, size, err := s.app.OpenBlob(r.Context(), p, r.PathValue("digest"))
	if err != nil {
		return err
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	w.Header().Set(wire.DigestHeader, r.PathValue("digest"))
	if r.Method == http.MethodHead {
		return nil
	}
	_, _ = io.Copy(w, rc) // headers are sent: a failure mid-stream shows as a short body
	return nil
}
