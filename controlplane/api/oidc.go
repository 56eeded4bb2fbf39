package api

import (
	"net/http"

	"github.com/custody-dev/custody/controlplane/auth"
	"github.com/custody-dev/custody/wire"
)

// maxExchangeBody bounds the body of an OIDC exchange: an ID token of at most oidc.MaxTokenSize
// (16 KiB; GitHub's and GitLab's are 1 to 2 KiB) and two names.
const maxExchangeBody = 20 << 10

// routesOIDC mounts the exchange of CI ID tokens and the trust policies that decide it (issue 8).
func (s *Server) routesOIDC() {
	s.public("POST /v1/auth/oidc", func(w http.ResponseWriter, r *http.Request) {
		var req wire.ExchangeOIDC
		err := s.decode(w, r, &req, maxExchangeBody)
		if err == nil {
			err = created(w)(s.app.ExchangeOIDC(r.Context(), req))
		}
		if err != nil {
			s.problem(w, r, err)
		}
	})
	const trust = "/v1/projects/{project}/workflows/{workflow}/trust"
	s.authed("GET "+trust, func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		return ok(w)(s.app.ListTrustPolicies(r.Context(), p, r.PathValue("project"), r.PathValue("workflow")))
	})
	s.authed("POST "+trust, func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		var req wire.TrustPolicy
		if err := s.decode(w, r, &req, maxSmallBody); err != nil {
			return err
		}
		return created(w)(s.app.AddTrustPolicy(r.Context(), p, r.PathValue("project"), r.PathValue("workflow"), req))
	})
	s.authed("DELETE "+trust+"/{id}", func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		if _, err := s.app.RemoveTrustPolicy(r.Context(), p, r.PathValue("project"), r.PathValue("workflow"), r.PathValue("id")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}
