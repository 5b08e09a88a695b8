package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

// randomString returns n bytes from crypto/rand, base64url without padding.
// crypto/rand.Read never fails (since Go 1.24 it crashes the program rather
// than return short), so neither does this.
func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// NewRefreshToken returns a new opaque refresh token (32 random bytes,
// base64url) and its hash, HashRefreshToken(token), which is all a store
// keeps. The error is always nil; it stays in the signature so that a
// future source of randomness that can fail needs no new API.
func NewRefreshToken() (token, hash string, err error) {
	token = randomString(32)
	return token, HashRefreshToken(token), nil
}

// HashRefreshToken returns the hex SHA-256 of token, the form
// herd.RefreshToken.Hash takes. A plain hash suffices: the token has 256
// random bits, so there is nothing to guess from it.
func HashRefreshToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// NewID returns 128 random bits, base64url (22 characters), for user ids,
// refresh families and token ids. It always satisfies herd.ValidID.
func NewID() string {
	return randomString(16)
}

// NewSessionID returns 256 random bits, base64url (43 characters), for a
// session cookie, where the id alone is the credential.
func NewSessionID() string {
	return randomString(32)
}
