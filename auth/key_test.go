package auth

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"testing"
	"time"

	"github.com/herdhq/herd"
)

// RFC 8037 Appendix A.3: the thumbprint of the key of A.1.
func TestThumbprintRFC8037(t *testing.T) {
	pub, err := hex.DecodeString("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := Thumbprint(pub), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"; got != want {
		t.Fatalf("Thumbprint = %q, want %q", got, want)
	}
}

func TestKeyPEMRoundTrip(t *testing.T) {
	k := mustKey(t)
	data, err := k.MarshalPEM()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParsePrivateKeyPEM(data)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != k.ID {
		t.Fatalf("parsed ID %q, want %q", got.ID, k.ID)
	}
	if !got.Private.Equal(k.Private) {
		t.Fatal("parsed private key differs")
	}
}

func TestParsePrivateKeyPEMRejects(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalPKCS8PrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	good, err := mustKey(t).MarshalPEM()
	if err != nil {
		t.Fatal(err)
	}
	pubPEM, err := mustKey(t).Public().MarshalPEM()
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"empty":      nil,
		"not PEM":    []byte("hello"),
		"public key": pubPEM,
		"ECDSA":      pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}),
		"garbage":    pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("nope")}),
		"two keys":   append(append([]byte{}, good...), good...),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParsePrivateKeyPEM(data); err == nil {
				t.Fatal("ParsePrivateKeyPEM succeeded")
			}
		})
	}
}

func TestParsePublicKeysPEM(t *testing.T) {
	a, b := mustKey(t), mustKey(t)
	var data []byte
	for _, k := range []Key{a, b} {
		p, err := k.Public().MarshalPEM()
		if err != nil {
			t.Fatal(err)
		}
		data = append(data, p...)
		data = append(data, '\n')
	}
	keys, err := ParsePublicKeysPEM(data)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(keys), 2; got != want {
		t.Fatalf("%d keys, want %d", got, want)
	}
	for i, k := range []Key{a, b} {
		if got, want := keys[i].ID, k.ID; got != want {
			t.Fatalf("key %d ID %q, want %q", i, got, want)
		}
		if !keys[i].Key.Equal(k.Public().Key) {
			t.Fatalf("key %d differs", i)
		}
	}
}

func TestParsePublicKeysPEMRejects(t *testing.T) {
	good, err := mustKey(t).Public().MarshalPEM()
	if err != nil {
		t.Fatal(err)
	}
	priv, err := mustKey(t).MarshalPEM()
	if err != nil {
		t.Fatal(err)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"empty":          nil,
		"blank":          []byte("\n \n"),
		"private key":    priv,
		"ECDSA":          pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: ecDER}),
		"trailing text":  append(append([]byte{}, good...), "junk"...),
		"truncated":      append(append([]byte{}, good...), good[:len(good)/2]...),
		"public+private": append(append([]byte{}, good...), priv...),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParsePublicKeysPEM(data); err == nil {
				t.Fatal("ParsePublicKeysPEM succeeded")
			}
		})
	}
}

func TestSigningKeyRoundTrip(t *testing.T) {
	k := mustKey(t)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	sk, err := k.SigningKey(now)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sk.Algorithm, "EdDSA"; got != want {
		t.Fatalf("Algorithm %q, want %q", got, want)
	}
	if got, want := sk.ID, k.ID; got != want {
		t.Fatalf("ID %q, want %q", got, want)
	}
	if !sk.CreatedAt.Equal(now) {
		t.Fatalf("CreatedAt %v, want %v", sk.CreatedAt, now)
	}
	back, err := KeyFromSigningKey(sk)
	if err != nil {
		t.Fatal(err)
	}
	if back.ID != k.ID || !back.Private.Equal(k.Private) {
		t.Fatal("KeyFromSigningKey(k.SigningKey()) differs from k")
	}

	// The stored id is the one tokens carry, whatever its shape.
	sk.ID = "legacy-1"
	back, err = KeyFromSigningKey(sk)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := back.ID, "legacy-1"; got != want {
		t.Fatalf("ID %q, want the stored %q", got, want)
	}
}

func TestKeyFromSigningKeyRejects(t *testing.T) {
	sk, err := mustKey(t).SigningKey(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(*herd.SigningKey){
		"RS256":  func(sk *herd.SigningKey) { sk.Algorithm = "RS256" },
		"no alg": func(sk *herd.SigningKey) { sk.Algorithm = "" },
		"no id":  func(sk *herd.SigningKey) { sk.ID = "" },
		"no PEM": func(sk *herd.SigningKey) { sk.PrivatePEM = nil },
	} {
		t.Run(name, func(t *testing.T) {
			bad := sk
			bad.PrivatePEM = bytes.Clone(sk.PrivatePEM)
			edit(&bad)
			if _, err := KeyFromSigningKey(bad); err == nil {
				t.Fatal("KeyFromSigningKey succeeded")
			}
		})
	}
}

func TestGenerateKeyIDIsThumbprint(t *testing.T) {
	k := mustKey(t)
	if got, want := k.ID, Thumbprint(k.Private.Public().(ed25519.PublicKey)); got != want {
		t.Fatalf("ID %q, want thumbprint %q", got, want)
	}
	if other := mustKey(t); other.ID == k.ID {
		t.Fatalf("two keys share the ID %q", k.ID)
	}
}

func mustKey(t testing.TB) Key {
	t.Helper()
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}
