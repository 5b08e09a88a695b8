package auth

import (
	"errors"
	"strings"
	"testing"
)

func TestPasswordRoundTrip(t *testing.T) {
	hash, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$"), true; got != want {
		t.Fatalf("hash %q: PHC prefix %v, want %v", hash, got, want)
	}
	ok, err := CheckPassword(hash, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ok, true; got != want {
		t.Fatalf("right password: %v, want %v", got, want)
	}
	ok, err = CheckPassword(hash, "correct horse battery stapler")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ok, false; got != want {
		t.Fatalf("wrong password: %v, want %v", got, want)
	}
}

func TestHashPasswordSalts(t *testing.T) {
	a, err := HashPassword("hunter22")
	if err != nil {
		t.Fatal(err)
	}
	b, err := HashPassword("hunter22")
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatalf("two hashes of one password are equal: %q", a)
	}
}

// A hash from another argon2id implementation, with other parameters, must
// check: this is a test vector of golang.org/x/crypto/argon2, made with the
// reference CLI (phc-winner-argon2), written as a PHC string.
func TestCheckPasswordReferenceHash(t *testing.T) {
	const hash = "$argon2id$v=19$m=4096,t=4,p=4$c29tZXNhbHQ$FF25czqfTuQ+3zPFCb6WuTTVBaTvszxa"
	ok, err := CheckPassword(hash, "password")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ok, true; got != want {
		t.Fatalf("reference hash: %v, want %v", got, want)
	}
}

func TestCheckPasswordRejectsTamperedHash(t *testing.T) {
	const salt, key = "Vm0bqVhzr7x5I3Ez27ZVfQ", "DEc5ddkmkdTy+73EzJyUpXeoC1kSNXsPSNJzFflxdrw"
	for name, hash := range map[string]string{
		"empty":            "",
		"bcrypt":           "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"argon2i":          "$argon2i$v=19$m=19456,t=2,p=1$" + salt + "$" + key,
		"old version":      "$argon2id$v=16$m=19456,t=2,p=1$" + salt + "$" + key,
		"huge memory":      "$argon2id$v=19$m=4194304,t=2,p=1$" + salt + "$" + key,
		"memory overflow":  "$argon2id$v=19$m=99999999999,t=2,p=1$" + salt + "$" + key,
		"many passes":      "$argon2id$v=19$m=19456,t=1000000,p=1$" + salt + "$" + key,
		"zero passes":      "$argon2id$v=19$m=19456,t=0,p=1$" + salt + "$" + key,
		"many lanes":       "$argon2id$v=19$m=19456,t=2,p=255$" + salt + "$" + key,
		"zero lanes":       "$argon2id$v=19$m=19456,t=2,p=0$" + salt + "$" + key,
		"negative":         "$argon2id$v=19$m=-1,t=2,p=1$" + salt + "$" + key,
		"params reordered": "$argon2id$v=19$t=2,m=19456,p=1$" + salt + "$" + key,
		"param missing":    "$argon2id$v=19$m=19456,t=2$" + salt + "$" + key,
		"extra param":      "$argon2id$v=19$m=19456,t=2,p=1,k=3$" + salt + "$" + key,
		"short salt":       "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$" + key,
		"bad salt":         "$argon2id$v=19$m=19456,t=2,p=1$!!!$" + key,
		"huge key":         "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + strings.Repeat("A", 200),
		"short key":        "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$AAAA",
		"extra field":      "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key + "$x",
	} {
		t.Run(name, func(t *testing.T) {
			ok, err := CheckPassword(hash, "password")
			if got, want := errors.Is(err, ErrMalformedHash), true; got != want {
				t.Fatalf("CheckPassword error %v: is ErrMalformedHash %v, want %v", err, got, want)
			}
			if ok {
				t.Fatal("CheckPassword accepted a malformed hash")
			}
		})
	}
}

func TestDummyHashChecksLikeARealOne(t *testing.T) {
	// DummyCheck hides unknown accounts only if it does the work of a real
	// check: its hash must parse, under HashPassword's parameters.
	p, err := parsePHC(dummyHash)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := [3]uint32{p.memory, p.time, uint32(p.threads)}, [3]uint32{argonMemory, argonTime, argonThreads}; got != want {
		t.Fatalf("dummy hash m,t,p = %v, want %v", got, want)
	}
	if got, want := len(p.key), argonKeyLen; got != want {
		t.Fatalf("dummy hash key length %d, want %d", got, want)
	}
	if got, want := len(p.salt), argonSaltLen; got != want {
		t.Fatalf("dummy hash salt length %d, want %d", got, want)
	}
	DummyCheck("password")
}

func BenchmarkHashPassword(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := HashPassword("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckPassword(b *testing.B) {
	hash, err := HashPassword("correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := CheckPassword(hash, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}
