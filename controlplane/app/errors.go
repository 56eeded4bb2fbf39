package app

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/custody-dev/custody/wire"
)

// Error is a refusal the API turns into a problem document: a stable code, an HTTP status, a message.
type Error struct {
	Status int
	Code   string
	Msg    string
}

func (e *Error) Error() string { return e.Msg }

func newError(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Msg: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) error {
	return newError(http.StatusBadRequest, wire.CodeBadRequest, format, args...)
}

func unauthenticated(msg string) error {
	return newError(http.StatusUnauthorized, wire.CodeUnauthenticated, "%s", msg)
}

func forbidden(format string, args ...any) error {
	return newError(http.StatusForbidden, wire.CodeForbidden, format, args...)
}

func notFound(format string, args ...any) error {
	return newError(http.StatusNotFound, wire.CodeNotFound, format, args...)
}

func conflict(code, format string, args ...any) error {
	return newError(http.StatusConflict, code, format, args...)
}

func unprocessable(code, format string, args ...any) error {
	return newError(http.StatusUnprocessableEntity, code, format, args...)
}

// AsError returns the Error inside err, if there is one.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
