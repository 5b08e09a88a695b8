package auth

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"testing"

	"github.com/herdhq/herd"
)

func TestNewRefreshToken(t *testing.T) {
	token, hash, err := NewRefreshToken()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		t.Fatalf("token %q is not base64url: %v", token, err)
	}
	if got, want := len(raw), 32; got != want {
		t.Fatalf("token has %d random bytes, want %d", got, want)
	}
	sum := sha256.Sum256([]byte(token))
	if got, want := hash, hex.EncodeToString(sum[:]); got != want {
		t.Fatalf("hash %q, want %q", got, want)
	}
	if got, want := HashRefreshToken(token), hash; got != want {
		t.Fatalf("HashRefreshToken %q, want %q", got, want)
	}
	other, _, err := NewRefreshToken()
	if err != nil {
		t.Fatal(err)
	}
	if other == token {
		t.Fatal("two refresh tokens are equal")
	}
}

func TestIDs(t *testing.T) {
	for _, tc := range []struct {
		name  string
		new   func() string
		bytes int
	}{
		{"NewID", NewID, 16},
		{"NewSessionID", NewSessionID, 32},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := tc.new()
			raw, err := base64.RawURLEncoding.DecodeString(id)
			if err != nil {
				t.Fatalf("%q is not base64url: %v", id, err)
			}
			if got, want := len(raw), tc.bytes; got != want {
				t.Fatalf("%d random bytes, want %d", got, want)
			}
			if !herd.ValidID(id) {
				t.Fatalf("%q is not a herd.ValidID", id)
			}
			if tc.new() == id {
				t.Fatal("two ids are equal")
			}
		})
	}
}
