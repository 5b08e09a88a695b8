// Package auth is the mechanism behind herd's stateless authentication:
// argon2id password hashes, Ed25519 signing keys, EdDSA access tokens (JWTs
// any replica can verify on its own), opaque refresh tokens and random ids.
//
// It keeps no state and calls no store: the caller keeps users, refresh
// token hashes, revocations and the signing key in herd's stores, and passes
// the current time in, so that every replica decides alike.
package auth
