package auth

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"github.com/herdhq/herd"
)

// Algorithm is the JWS algorithm of every key in this package, as stored in
// herd.SigningKey.Algorithm and sent in the "alg" header.
const Algorithm = "EdDSA"

// Key is an Ed25519 signing key and its key id, the JWT "kid".
type Key struct {
	ID      string
	Private ed25519.PrivateKey
}

// PublicKey is a verification key: the public half of a current or earlier
// signing key, under the same id.
type PublicKey struct {
	ID  string
	Key ed25519.PublicKey
}

// GenerateKey returns a new Ed25519 key whose ID is its RFC 7638 JWK
// thumbprint, so that one key has one id wherever it is loaded.
func GenerateKey() (Key, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return Key{}, fmt.Errorf("auth: generate key: %w", err)
	}
	return Key{ID: Thumbprint(pub), Private: priv}, nil
}

// Thumbprint returns the RFC 7638 JWK thumbprint of an Ed25519 public key
// (SHA-256, base64url without padding): the key id this package gives it.
func Thumbprint(pub ed25519.PublicKey) string {
	// RFC 8037 §2: the required members of an OKP key, in lexical order,
	// without whitespace.
	jwk := `{"crv":"Ed25519","kty":"OKP","x":"` + base64.RawURLEncoding.EncodeToString(pub) + `"}`
	sum := sha256.Sum256([]byte(jwk))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Public returns the verification half of k.
func (k Key) Public() PublicKey {
	return PublicKey{ID: k.ID, Key: k.Private.Public().(ed25519.PublicKey)}
}

// MarshalPEM returns k's private key as a PKCS #8 "PRIVATE KEY" PEM block.
// The id is not stored: ParsePrivateKeyPEM derives it again.
func (k Key) MarshalPEM() ([]byte, error) {
	if len(k.Private) != ed25519.PrivateKeySize {
		return nil, errors.New("auth: not an Ed25519 private key")
	}
	der, err := x509.MarshalPKCS8PrivateKey(k.Private)
	if err != nil {
		return nil, fmt.Errorf("auth: marshal key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParsePrivateKeyPEM parses one PKCS #8 "PRIVATE KEY" PEM block holding an
// Ed25519 key, as MarshalPEM or `openssl genpkey -algorithm ed25519` write
// it. The key's ID is its thumbprint.
func ParsePrivateKeyPEM(data []byte) (Key, error) {
	block, rest := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return Key{}, errors.New("auth: no PRIVATE KEY PEM block")
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return Key{}, errors.New("auth: more than one PEM block in the private key")
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return Key{}, fmt.Errorf("auth: parse private key: %w", err)
	}
	priv, ok := parsed.(ed25519.PrivateKey)
	if !ok {
		return Key{}, fmt.Errorf("auth: private key is %T, not Ed25519", parsed)
	}
	return Key{ID: Thumbprint(priv.Public().(ed25519.PublicKey)), Private: priv}, nil
}

// MarshalPEM returns k as a PKIX "PUBLIC KEY" PEM block. Concatenated, such
// blocks are what ParsePublicKeysPEM reads.
func (k PublicKey) MarshalPEM() ([]byte, error) {
	if len(k.Key) != ed25519.PublicKeySize {
		return nil, errors.New("auth: not an Ed25519 public key")
	}
	der, err := x509.MarshalPKIXPublicKey(k.Key)
	if err != nil {
		return nil, fmt.Errorf("auth: marshal public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// ParsePublicKeysPEM parses one or more PKIX "PUBLIC KEY" PEM blocks holding
// Ed25519 keys — the keys that signed tokens before the last rotation —
// each with its thumbprint as ID. Data that holds no block, another kind of
// block or text after the last block is an error, so that a truncated file
// is not taken for fewer keys.
func ParsePublicKeysPEM(data []byte) ([]PublicKey, error) {
	var keys []PublicKey
	rest := data
	for len(bytes.TrimSpace(rest)) != 0 {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("auth: text that is not a PEM block among the public keys")
		}
		if block.Type != "PUBLIC KEY" {
			return nil, fmt.Errorf("auth: %s PEM block among the public keys", block.Type)
		}
		parsed, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("auth: parse public key: %w", err)
		}
		pub, ok := parsed.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("auth: public key is %T, not Ed25519", parsed)
		}
		keys = append(keys, PublicKey{ID: Thumbprint(pub), Key: pub})
	}
	if len(keys) == 0 {
		return nil, errors.New("auth: no PUBLIC KEY PEM block")
	}
	return keys, nil
}

// SigningKey returns k in the form herd.SigningKeyStore keeps, created at
// now.
func (k Key) SigningKey(now time.Time) (herd.SigningKey, error) {
	data, err := k.MarshalPEM()
	if err != nil {
		return herd.SigningKey{}, err
	}
	return herd.SigningKey{ID: k.ID, Algorithm: Algorithm, PrivatePEM: data, CreatedAt: now}, nil
}

// KeyFromSigningKey returns the key a herd.SigningKeyStore returned. It
// keeps the stored ID, which tokens already carry, and refuses any
// algorithm but EdDSA.
func KeyFromSigningKey(sk herd.SigningKey) (Key, error) {
	if sk.Algorithm != Algorithm {
		return Key{}, fmt.Errorf("auth: signing key %q is %q, not %s", sk.ID, sk.Algorithm, Algorithm)
	}
	if sk.ID == "" {
		return Key{}, errors.New("auth: signing key has no id")
	}
	k, err := ParsePrivateKeyPEM(sk.PrivatePEM)
	if err != nil {
		return Key{}, err
	}
	k.ID = sk.ID
	return k, nil
}

// SharedKey returns the signing key every replica shares through store:
// the one stored already, or else a new one that this call stores. Of
// replicas that start together, all get the same key.
func SharedKey(ctx context.Context, store herd.SigningKeyStore) (Key, error) {
	candidate, err := GenerateKey()
	if err != nil {
		return Key{}, err
	}
	sk, err := candidate.SigningKey(time.Now())
	if err != nil {
		return Key{}, err
	}
	stored, err := store.EnsureSigningKey(ctx, sk)
	if err != nil {
		return Key{}, err
	}
	return KeyFromSigningKey(stored)
}
