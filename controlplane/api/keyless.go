package api

import (
	"mime"
	"net/http"

	"github.com/custody-dev/custody/controlplane/app"
	"github.com/custody-dev/custody/controlplane/auth"
	"github.com/custody-dev/custody/wire"
)

// Bounds of the keyless routes' bodies: a CSR of the largest key issued for (P-384) is under 1 KiB in
// PEM, a timestamp request under 200 bytes. 16 KiB leaves room and holds nothing large.
const (
	maxCertificateBody = 16 << 10
	maxTimestampBody   = 16 << 10
)

// routesKeyless mounts the certificate authority and the timestamp authority (issue 7).
func (s *Server) routesKeyless() {
	s.public("GET /v1/trusted-root", func(w http.ResponseWriter, r *http.Request) {
		b, err := s.app.TrustedRoot()
		if err != nil {
			s.problem(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	})
	s.authed("POST /v1/runs/{id}/certificate", func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		var req wire.CertificateRequest
		if err := s.decode(w, r, &req, maxCertificateBody); err != nil {
			return err
		}
		return created(w)(s.app.IssueCertificate(r.Context(), p, r.PathValue("id"), req))
	})
	s.authed("POST /v1/timestamp", func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != wire.TimestampQueryType {
			return &app.Error{Status: http.StatusUnsupportedMediaType, Code: wire.CodeUnsupportedMedia,
				Msg: "Content-Type " + r.Header.Get("Content-Type") + ": want " + wire.TimestampQueryType}
		}
		req, err := s.readAll(w, r, maxTimestampBody)
		if err != nil {
			return err
		}
		reply, err := s.app.Timestamp(r.Context(), p, req)
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", wire.TimestampReplyType)
		_, err = w.Write(reply)
		return err
	})
}
