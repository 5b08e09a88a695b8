package http

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/herdhq/herd"
)

// decodeJSON reads exactly one JSON object of at most limit bytes into dst,
// refusing another content type (415), an oversized body (413), unknown
// fields, wrong types, an empty body and trailing data (400).
func decodeJSON(w http.ResponseWriter, r *http.Request, limit int64, dst any) error {
	if err := requireJSON(r); err != nil {
		return err
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return jsonError(err)
		}
		return herd.Errorf(herd.EINVALID, "the body must hold a single JSON value")
	}
	return nil
}

func requireJSON(r *http.Request) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return herd.Errorf(herd.EUNSUPPORTED, "Content-Type must be application/json")
	}
	return nil
}

func jsonError(err error) error {
	var tooBig *http.MaxBytesError
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooBig):
		return herd.Errorf(herd.ETOOLARGE, "the body is larger than %d bytes", tooBig.Limit)
	case errors.Is(err, io.EOF):
		return herd.Errorf(herd.EINVALID, "the body is empty; a JSON object is required")
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return herd.Errorf(herd.EINVALID, "the body is not valid JSON")
	case errors.As(err, &typ):
		return herd.Errorf(herd.EINVALID, "field %q must be of type %s", typ.Field, typ.Type)
	default:
		// DisallowUnknownFields reports `json: unknown field "x"`; the
		// field name is the caller's own input, so it is safe to echo.
		return herd.Errorf(herd.EINVALID, "the body is invalid: %s", trimJSONPrefix(err.Error()))
	}
}

func trimJSONPrefix(s string) string {
	const p = "json: "
	if len(s) > len(p) && s[:len(p)] == p {
		s = s[len(p):]
	}
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// writeJSON writes v with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
