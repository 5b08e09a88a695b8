package herd

import (
	"context"
	"time"
)

// IdempotentResponse is the first answer to a request sent with an
// Idempotency-Key, stored to be replayed to every retry.
type IdempotentResponse struct {
	Status      int
	ContentType string
	Body        []byte
}

// IdempotencyStore claims Idempotency-Keys and remembers their answers,
// following the IETF httpapi-idempotency-key-header draft.
type IdempotencyStore interface {
	// BeginIdempotent claims key for a request whose method, path and body
	// hash to fingerprint. It returns:
	//   - (nil, nil) when the caller now holds the claim and must call
	//     CompleteIdempotent or ReleaseIdempotent. A claim whose holder
	//     died is taken over once lockTTL has passed since it was made;
	//   - the stored response when the key was completed with the same
	//     fingerprint;
	//   - EMISMATCH when the key was used with another fingerprint;
	//   - ECONFLICT while another claim on the key is held.
	// Of concurrent calls with one key, exactly one gets the claim.
	BeginIdempotent(ctx context.Context, key, fingerprint string, lockTTL time.Duration) (*IdempotentResponse, error)
	// CompleteIdempotent stores the answer of the claimed key, to be
	// replayed until retention has passed.
	CompleteIdempotent(ctx context.Context, key string, r IdempotentResponse, retention time.Duration) error
	// ReleaseIdempotent drops the claim without an answer (the request
	// failed in a way a retry may repair), so a retry acts afresh.
	ReleaseIdempotent(ctx context.Context, key string) error
}
