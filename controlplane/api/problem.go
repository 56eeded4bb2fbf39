package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"

	"github.com/custody-dev/custody/controlplane/app"
	"github.com/custody-dev/custody/wire"
)

// problem renders err as application/problem+json. Errors the app did not classify are 500s whose
// detail stays in the log.
func (s *Server) problem(w http.ResponseWriter, r *http.Request, err error) {
	p := wire.Problem{Status: http.StatusInternalServerError, Code: wire.CodeInternal, Title: "internal error",
		Detail: "the control plane failed; its log has the reason"}
	var tooBig *http.MaxBytesError
	if e, ok := app.AsError(err); ok {
		p.Status, p.Code, p.Detail = e.Status, e.Code, e.Msg
		p.Title = http.StatusText(e.Status)
	} else if errors.As(err, &tooBig) {
		p.Status, p.Code, p.Title = http.StatusRequestEntityTooLarge, wire.CodeTooLarge, http.StatusText(http.StatusRequestEntityTooLarge)
		p.Detail = fmt.Sprintf("the request body is larger than the %s %s %s accepts", bytesLimit(tooBig.Limit), r.Method, r.URL.Path)
	} else if errors.Is(err, r.Context().Err()) && r.Context().Err() != nil {
		return // the client went away
	} else {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	p.Type = wire.ProblemType + p.Code
	if p.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="custody"`)
	}
	writeProblem(w, p)
}

func writeProblem(w http.ResponseWriter, p wire.Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// decode reads a JSON body strictly into v.
// bytesLimit says a size limit as people write it: 8 MiB, 1024 bytes.
func bytesLimit(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	if n >= 1<<20 {
		return fmt.Sprintf("%.1f MiB (%d bytes)", float64(n)/(1<<20), n)
	}
	return fmt.Sprintf("%d bytes", n)
}

// readAll reads a body of at most limit bytes (413 past it) into one buffer, sized by the
// Content-Length when there is one, so a large body is not copied while it is read.
func readAll(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	var buf bytes.Buffer
	if n := r.ContentLength; n > 0 && n <= limit {
		buf.Grow(int(n) + bytes.MinRead) // room for the read that sees the end, without growing
	}
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, limit)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func decode(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		// Parameters (charset=utf-8) are fine; another media type is not.
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return &app.Error{Status: http.StatusUnsupportedMediaType, Code: wire.CodeUnsupportedMedia,
				Msg: "Content-Type " + ct + ": want application/json"}
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return err
		}
		return &app.Error{Status: http.StatusBadRequest, Code: wire.CodeBadRequest, Msg: "invalid JSON body: " + err.Error()}
	}
	if dec.More() {
		return &app.Error{Status: http.StatusBadRequest, Code: wire.CodeBadRequest, Msg: "invalid JSON body: more than one value"}
	}
	return nil
}
