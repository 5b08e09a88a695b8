package herd

import (
	"context"
	"time"
)

// SigningKey is a private key for access tokens, kept in the record store
// when the configuration names none, so that every replica signs alike.
type SigningKey struct {
	ID         string // the JWT "kid"
	Algorithm  string // e.g. "EdDSA"
	PrivatePEM []byte // PKCS #8
	CreatedAt  time.Time
}

// SigningKeyStore keeps the generated signing key.
type SigningKeyStore interface {
	// EnsureSigningKey stores candidate as the signing key unless one is
	// stored already, and returns the stored one, atomically: replicas that
	// start together all get the same key.
	EnsureSigningKey(ctx context.Context, candidate SigningKey) (SigningKey, error)
}

// Pinger checks that a dependency answers. Backends implement it for the
// readiness probe.
type Pinger interface {
	Ping(ctx context.Context) error
}
