package http

import (
	"net/http"
	"runtime/debug"
)

// recoverPanics turns a panic into a 500 problem document carrying the
// request id, and logs the stack. http.ErrAbortHandler is re-raised: it is
// how a handler asks the server to drop the connection.
func (s *server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.Log.ErrorContext(r.Context(), "panic", "panic", v, "stack", string(debug.Stack()))
			WriteProblem(w, r, http.StatusInternalServerError, "internal error")
		}()
		next.ServeHTTP(w, r)
	})
}
