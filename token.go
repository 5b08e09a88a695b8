package herd

import (
	"context"
	"time"
)

// RefreshToken is the stored form of an opaque refresh token. The token
// itself never reaches a store: only its hash does.
type RefreshToken struct {
	Hash      string // hex SHA-256 of the token
	FamilyID  string // one family per login; every rotation stays in it
	UserID    string
	ExpiresAt time.Time
}

// RefreshTokenStore keeps refresh tokens, each usable once.
type RefreshTokenStore interface {
	// CreateRefreshToken stores t as unspent.
	CreateRefreshToken(ctx context.Context, t RefreshToken) error
	// SpendRefreshToken marks the token with this hash spent and returns it,
	// atomically: of concurrent calls with one hash, exactly one succeeds.
	// It returns EUNAUTHORIZED when the hash is unknown, expired or its
	// family is revoked. Presenting a token that was spent already is
	// theft or a replay: the store revokes the whole family and returns an
	// *Error with code EUNAUTHORIZED wrapping ErrRefreshReused, together
	// with the token (so the caller can revoke the family's access tokens).
	SpendRefreshToken(ctx context.Context, hash string) (RefreshToken, error)
	// RevokeRefreshFamily makes every token of the family unusable. It is
	// idempotent, and succeeds for an unknown family.
	RevokeRefreshFamily(ctx context.Context, familyID string) error
}

// ErrRefreshReused is wrapped by SpendRefreshToken's error when a spent
// token is presented again.
var ErrRefreshReused = &Error{Code: EUNAUTHORIZED, Message: "refresh token reused"}

// RevocationStore remembers revoked access tokens until they expire.
type RevocationStore interface {
	// RevokeAccessToken revokes the access token jti until its expiry.
	RevokeAccessToken(ctx context.Context, familyID, jti string, until time.Time) error
	// RevokeFamily revokes every access token issued to the login familyID
	// until the given time (the longest an access token of it can live).
	RevokeFamily(ctx context.Context, familyID string, until time.Time) error
	// IsRevoked reports whether the access token jti of familyID was revoked
	// by either method, in one round trip. Entries may be forgotten once
	// their until has passed.
	IsRevoked(ctx context.Context, familyID, jti string) (bool, error)
}
