package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// The argon2id parameters OWASP recommends for a server (Password Storage
// Cheat Sheet): 19 MiB, two passes, one lane.
const (
	argonMemory  = 19 * 1024 // KiB
	argonTime    = 2
	argonThreads = 1
	argonSaltLen = 16
	argonKeyLen  = 32
)

// Bounds on the parameters CheckPassword accepts from a stored hash. A
// tampered or corrupt hash must not make one login allocate gigabytes or spin
// for minutes; the bounds still leave room to raise the cost later (RFC 9106's
// second choice is 64 MiB, t=3, p=4).
const (
	maxArgonMemory  = 64 * 1024 // KiB
	maxArgonTime    = 10
	maxArgonThreads = 8
	minArgonSaltLen = 8
	maxArgonSaltLen = 64
	minArgonKeyLen  = 16
	maxArgonKeyLen  = 64
)

// ErrMalformedHash is wrapped by CheckPassword's error when the stored hash
// is not an argon2id PHC string within the accepted bounds.
var ErrMalformedHash = errors.New("auth: malformed password hash")

var phcB64 = base64.RawStdEncoding

// HashPassword returns password hashed with argon2id under OWASP's
// parameters, as a PHC string:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash> (unpadded standard base64).
// Each call draws a fresh 16-byte salt, so two hashes of one password differ.
func HashPassword(password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemory, argonTime, argonThreads,
		phcB64.EncodeToString(salt), phcB64.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches hash, a PHC string made by
// HashPassword (or by another argon2id implementation with parameters within
// bounds). The comparison takes constant time in the derived key. A hash
// that does not parse, or whose parameters are out of bounds, yields false
// and an error wrapping ErrMalformedHash before any work is done.
func CheckPassword(hash, password string) (bool, error) {
	p, err := parsePHC(hash)
	if err != nil {
		return false, err
	}
	key := argon2.IDKey([]byte(password), p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
	return subtle.ConstantTimeCompare(key, p.key) == 1, nil
}

// dummyHash is an argon2id hash, under HashPassword's parameters, of a random
// password nobody kept. Written out rather than computed so that importing
// the package costs nothing and the first DummyCheck costs what the others do.
const dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$kZZoJXclfVgdKtE3eQQ+yw$DEc5ddkmkdTy+73EzJyUpXeoC1kSNXsPSNJzFflxdrw"

// DummyCheck spends the time of a CheckPassword against a HashPassword hash
// and always fails. Call it when a login names an unknown account, so that
// the response time does not tell which emails are registered.
func DummyCheck(password string) {
	_, _ = CheckPassword(dummyHash, password)
}

type phcParams struct {
	memory    uint32
	time      uint32
	threads   uint8
	salt, key []byte
}

func parsePHC(hash string) (phcParams, error) {
	bad := func(why string) (phcParams, error) {
		return phcParams{}, fmt.Errorf("%w: %s", ErrMalformedHash, why)
	}
	// "", "argon2id", "v=19", "m=…,t=…,p=…", salt, key
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" {
		return bad("not a PHC string")
	}
	if parts[1] != "argon2id" {
		return bad("algorithm is not argon2id")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return bad("unsupported version")
	}
	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return bad("parameters are not m,t,p")
	}
	var m, t, threads uint64
	for i, kv := range params {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name != [...]string{"m", "t", "p"}[i] {
			return bad("parameters are not m,t,p")
		}
		n, err := strconv.ParseUint(value, 10, 32)
		if err != nil {
			return bad("parameter " + name + " is not a number")
		}
		switch name {
		case "m":
			m = n
		case "t":
			t = n
		case "p":
			threads = n
		}
	}
	switch {
	case threads < 1 || threads > maxArgonThreads:
		return bad("p out of bounds")
	case t < 1 || t > maxArgonTime:
		return bad("t out of bounds")
	case m < 8*threads || m > maxArgonMemory:
		return bad("m out of bounds")
	}
	salt, err := phcB64.DecodeString(parts[4])
	if err != nil || len(salt) < minArgonSaltLen || len(salt) > maxArgonSaltLen {
		return bad("bad salt")
	}
	key, err := phcB64.DecodeString(parts[5])
	if err != nil || len(key) < minArgonKeyLen || len(key) > maxArgonKeyLen {
		return bad("bad key")
	}
	return phcParams{memory: uint32(m), time: uint32(t), threads: uint8(threads), salt: salt, key: key}, nil
}
