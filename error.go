// Package herd names the things a stateless service keeps outside its
// process — users, sessions, counters, items, tokens, idempotency records —
// and the store interfaces that hold them. Each interface's doc comment is
// its contract; internal/storetest checks every backend against it.
//
// The package imports no outside system: backends (sqlite, postgres, redis,
// blob) implement these interfaces, and the http package consumes them.
package herd

import (
	"errors"
	"fmt"
)

// Error codes. The http package turns each into one HTTP status.
const (
	ECONFLICT     = "conflict"     // 409: the thing exists already, or is busy
	EINTERNAL     = "internal"     // 500: a bug
	EINVALID      = "invalid"      // 400: the request is malformed
	EMISMATCH     = "mismatch"     // 422: an idempotency key reused with another request
	ENOTFOUND     = "not_found"    // 404
	ETOOLARGE     = "too_large"    // 413
	EUNAUTHORIZED = "unauthorized" // 401
	EUNAVAILABLE  = "unavailable"  // 503: a dependency is down or too slow
	EUNSUPPORTED  = "unsupported"  // 415
)

// Error is herd's one error type. Message is safe to show a client; the
// wrapped Err is for logs only and never reaches a response.
type Error struct {
	Code    string
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("herd %s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("herd %s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a client-safe message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Unavailable wraps a driver error (a refused connection, a timeout, a pool
// that cannot hand out a connection) so that callers answer 503 instead of
// 500 while the dependency is away. what names the dependency for the client,
// e.g. "database" or "cache".
func Unavailable(what string, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{Code: EUNAVAILABLE, Message: what + " is unavailable", Err: err}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the client-safe message of err.
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Message
	default:
		return "internal error"
	}
}
