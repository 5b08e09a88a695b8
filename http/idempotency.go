package http

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"

	"github.com/herdhq/herd"
)

// maxIdempotencyKey bounds the Idempotency-Key header.
const maxIdempotencyKey = 255

type idempotencyKey struct{}

// opID returns the scoped Idempotency-Key of the request, or "".
func opID(ctx context.Context) string {
	id, _ := ctx.Value(idempotencyKey{}).(string)
	return id
}

// idempotent makes a POST with an Idempotency-Key act once, following the
// IETF draft: a retry gets the first answer replayed, the same key with
// another request is 422, and a retry while the first is still running is
// 409. Keys are scoped to the caller, so two users cannot collide.
func (s *server) idempotent(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		if key == "" {
			next.ServeHTTP(w, r)
			return
		}
		if len(key) > maxIdempotencyKey {
			WriteProblem(w, r, http.StatusBadRequest, "Idempotency-Key is longer than 255 characters")
			return
		}
		ctx := r.Context()
		scope := "anonymous"
		if c := claims(ctx); c.Subject != "" {
			scope = "user:" + c.Subject
		}
		// The fingerprint covers the body, so the body is read here, within
		// the same limit the handler applies.
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAuthBody))
		if err != nil {
			Error(w, r, s.Log, jsonError(err))
			return
		}
		sum := sha256.New()
		io.WriteString(sum, r.Method+" "+r.URL.Path+"\n")
		sum.Write(body)
		fingerprint := hex.EncodeToString(sum.Sum(nil))
		scoped := scope + ":" + key

		start := s.now()
		first, err := s.Idempotency.BeginIdempotent(ctx, scoped, fingerprint, s.Limits.IdempotencyLockTTL)
		s.Metrics.observeStore("idempotency.begin", start, err)
		switch {
		case herd.ErrorCode(err) == herd.ECONFLICT:
			w.Header().Set("Retry-After", "1")
			WriteProblem(w, r, http.StatusConflict, "a request with this Idempotency-Key is still in progress")
			return
		case herd.ErrorCode(err) == herd.EMISMATCH:
			WriteProblem(w, r, http.StatusUnprocessableEntity, "this Idempotency-Key was used with a different request")
			return
		case err != nil:
			Error(w, r, s.Log, err)
			return
		case first != nil:
			w.Header().Set("Content-Type", first.ContentType)
			w.Header().Set("Idempotent-Replayed", "true")
			w.WriteHeader(first.Status)
			w.Write(first.Body)
			return
		}

		rec := &recorder{ResponseWriter: w}
		r.Body = io.NopCloser(bytes.NewReader(body))
		// Recording must survive the request's deadline and a client that
		// hung up: the action has happened, its answer must be kept.
		finish := context.WithoutCancel(ctx)
		defer func() {
			fctx, cancel := context.WithTimeout(finish, s.Limits.RequestTimeout)
			defer cancel()
			var err error
			if rec.status >= 500 || rec.status == 0 {
				// A failure a retry may mend: let the retry act afresh.
				err = s.Idempotency.ReleaseIdempotent(fctx, scoped)
			} else {
				err = s.Idempotency.CompleteIdempotent(fctx, scoped, herd.IdempotentResponse{
					Status: rec.status, ContentType: rec.Header().Get("Content-Type"), Body: rec.body.Bytes(),
				}, s.Limits.IdempotencyRetained)
			}
			if err != nil {
				s.Log.WarnContext(ctx, "idempotency record not kept; a retry within the lock TTL gets 409", "err", err)
			}
		}()
		next.ServeHTTP(rec, r.WithContext(context.WithValue(ctx, idempotencyKey{}, scoped)))
	})
}

// recorder passes a response through and keeps a copy for replay.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}
