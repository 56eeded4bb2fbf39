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
	} else if r.Context().Err() != nil {
		// The client went away, or half-closed its connection, and the request was cancelled: what
		// it asked may not have happened. Answer nothing rather than net/http's implicit 200.
		panic(http.ErrAbortHandler)
	} else {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	p.Type = wire.ProblemType + p.Code
	if unread(r) {
		// Refused before its body was read: close the connection after the answer rather than read
		// (net/http would, up to 256 KiB, before answering) a body that is not wanted, or not coming.
		w.Header().Set("Connection", "close")
	}
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
// Content-Length when there is one, so a large body is not copied while it is read; the body
// budget holds its size while it arrives.
func (s *Server) readAll(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	release, err := reserveBody(s.bodies, w, r, limit)
	if err != nil {
		return nil, err
	}
	defer release()
	var buf bytes.Buffer
	if n := r.ContentLength; n > 0 && n <= limit {
		buf.Grow(int(n) + bytes.MinRead) // room for the read that sees the end, without growing
	}
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, limit)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// decode reads a JSON body of at most limit bytes strictly into v; the body budget holds its size
// while it arrives.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any, limit int64) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		// Parameters (charset=utf-8) are fine; another media type is not.
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return &app.Error{Status: http.StatusUnsupportedMediaType, Code: wire.CodeUnsupportedMedia,
				Msg: "Content-Type " + ct + ": want application/json"}
		}
	}
	release, err := reserveBody(s.bodies, w, r, limit)
	if err != nil {
		return err
	}
	defer release()
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if _, ok := app.AsError(err); ok || errors.As(err, &tooBig) {
			return err
		}
		return &app.Error{Status: http.StatusBadRequest, Code: wire.CodeBadRequest, Msg: "invalid JSON body: " + err.Error()}
	}
	if dec.More() {
		return &app.Error{Status: http.StatusBadRequest, Code: wire.CodeBadRequest, Msg: "invalid JSON body: more than one value"}
	}
	return nil
}
