package blob_test

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herdhq/herd"
	"github.com/herdhq/herd/blob"
	"github.com/herdhq/herd/internal/testenv"
)

// callTimeout bounds every call to a store, so a store that hangs fails the
// test instead of stalling it.
const callTimeout = 60 * time.Second

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), callTimeout)
	t.Cleanup(cancel)
	return ctx
}

// newKey returns a valid herd key that no other run produces, so runs can
// share one bucket.
func newKey(name string) string {
	return "t-" + strings.ToLower(crand.Text()) + "-" + name
}

func TestDir(t *testing.T) {
	runStore(t, func(t *testing.T) *blob.Store {
		s, err := blob.OpenDir(testContext(t), filepath.Join(t.TempDir(), "files"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestFileURL(t *testing.T) {
	runStore(t, func(t *testing.T) *blob.Store {
		dir := filepath.Join(t.TempDir(), "files")
		s, err := blob.Open(testContext(t), "file://"+filepath.ToSlash(dir)+"?create_dir=true")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestS3(t *testing.T) {
	runStore(t, func(t *testing.T) *blob.Store {
		s, err := blob.Open(testContext(t), testenv.S3URL(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// runStore is the behaviour every backend must show, run against each.
func runStore(t *testing.T, open func(t *testing.T) *blob.Store) {
	s := open(t)

	t.Run("Ping", func(t *testing.T) {
		if err := s.Ping(testContext(t)); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("RoundTrip", func(t *testing.T) {
		key := newKey("hello.txt")
		data := []byte("héllo, herd\n")
		obj := mustPut(t, s, key, "text/plain; charset=utf-8", data)
		if got, want := obj.ETag, sha256Hex(data); got != want {
			t.Fatalf("ETag %q, want %q (hex SHA-256)", got, want)
		}
		if got, want := obj.Key, key; got != want {
			t.Fatalf("Key %q, want %q", got, want)
		}
		wantObject(t, s, key, "text/plain; charset=utf-8", data)
	})

	t.Run("DefaultContentType", func(t *testing.T) {
		key := newKey("bytes")
		data := []byte("<html>not sniffed</html>")
		obj := mustPut(t, s, key, "", data)
		if got, want := obj.ContentType, blob.DefaultContentType; got != want {
			t.Fatalf("ContentType %q, want %q", got, want)
		}
		wantObject(t, s, key, blob.DefaultContentType, data)
	})

	t.Run("Empty", func(t *testing.T) {
		key := newKey("empty")
		obj := mustPut(t, s, key, "application/octet-stream", nil)
		if got, want := obj.ETag, sha256Hex(nil); got != want {
			t.Fatalf("ETag %q, want %q", got, want)
		}
		wantObject(t, s, key, "application/octet-stream", nil)
	})

	// Keys that name fileblob's own files when stored under their names.
	t.Run("KeysLikeSidecarsAndTemporaries", func(t *testing.T) {
		base := newKey("x")
		for i, key := range []string{base, base + ".attrs", base + ".blob", base + ".blob.attrs", base + ".17f0a.tmp", base + ".blob.17f0a.tmp"} {
			mustPut(t, s, key, "text/plain", []byte(key))
			if i == 0 {
				continue
			}
			wantObject(t, s, key, "text/plain", []byte(key))
		}
		wantObject(t, s, base, "text/plain", []byte(base))
	})

	t.Run("NotFound", func(t *testing.T) {
		r, _, err := s.Get(testContext(t), newKey("missing"))
		if err == nil {
			r.Close()
		}
		wantCode(t, err, herd.ENOTFOUND, "Get of a missing key")
	})

	t.Run("Overwrite", func(t *testing.T) {
		key := newKey("doc")
		mustPut(t, s, key, "text/plain", []byte("version one, longer than two"))
		mustPut(t, s, key, "application/json", []byte(`{"v":2}`))
		wantObject(t, s, key, "application/json", []byte(`{"v":2}`))
	})

	t.Run("TooLarge", func(t *testing.T) {
		ctx := testContext(t)
		const max = 1 << 10

		atMax := bytes.Repeat([]byte("a"), max)
		mustPutMax(t, s, newKey("at-max"), atMax, max)

		kept := newKey("kept")
		mustPut(t, s, kept, "text/plain", []byte("the first version"))
		_, err := s.Put(ctx, kept, "text/plain", bytes.NewReader(bytes.Repeat([]byte("b"), max+1)), max)
		wantCode(t, err, herd.ETOOLARGE, "Put of maxSize+1 bytes")
		wantObject(t, s, kept, "text/plain", []byte("the first version"))

		fresh := newKey("fresh")
		_, err = s.Put(ctx, fresh, "text/plain", bytes.NewReader(bytes.Repeat([]byte("c"), 3*max)), max)
		wantCode(t, err, herd.ETOOLARGE, "Put of 3*maxSize bytes")
		wantMissing(t, s, fresh)
	})

	// An endless body: Put must stop reading right past maxSize instead of
	// taking the whole body first.
	t.Run("TooLargeStopsReading", func(t *testing.T) {
		const max = 2 << 20 // several reads and, on S3, past part boundaries
		key := newKey("endless")
		body := &endless{}
		_, err := s.Put(testContext(t), key, "application/octet-stream", body, max)
		wantCode(t, err, herd.ETOOLARGE, "Put of an endless body")
		if got, want := body.n, int64(max+1); got != want {
			t.Fatalf("Put read %d bytes of an endless body, want %d (maxSize+1)", got, want)
		}
		wantMissing(t, s, key)
	})

	t.Run("BrokenBody", func(t *testing.T) {
		key := newKey("broken")
		mustPut(t, s, key, "text/plain", []byte("intact"))
		body := io.MultiReader(strings.NewReader("half a bo"), errReader{errors.New("connection reset")})
		_, err := s.Put(testContext(t), key, "text/plain", body, 1<<20)
		wantCode(t, err, herd.EINVALID, "Put of a body that breaks off")
		wantObject(t, s, key, "text/plain", []byte("intact"))
	})

	t.Run("InvalidContentType", func(t *testing.T) {
		_, err := s.Put(testContext(t), newKey("ct"), "not a/content type;;", strings.NewReader("x"), 10)
		wantCode(t, err, herd.EINVALID, "Put with an unparsable content type")
	})

	t.Run("InvalidKeys", func(t *testing.T) {
		for _, key := range []string{"", "..", "a/b", "../escape", strings.Repeat("k", herd.MaxIDLength+1)} {
			_, err := s.Put(testContext(t), key, "text/plain", strings.NewReader("x"), 10)
			wantCode(t, err, herd.EINVALID, "Put with key "+key)
			r, _, err := s.Get(testContext(t), key)
			if err == nil {
				r.Close()
			}
			wantCode(t, err, herd.EINVALID, "Get with key "+key)
		}
	})

	t.Run("Streaming5MiB", func(t *testing.T) {
		const size = 5<<20 + 7 // past S3's 5 MiB part size: a multipart upload
		key := newKey("large.bin")
		hash := sha256.New()
		// Generated as read and hashed on the side: the test holds no copy
		// of the body either.
		body := io.TeeReader(io.LimitReader(&pseudoRandom{r: rand.New(rand.NewPCG(1, 2))}, size), hash)
		obj, err := s.Put(testContext(t), key, "application/octet-stream", body, size)
		if err != nil {
			t.Fatal(err)
		}
		want := hex.EncodeToString(hash.Sum(nil))
		if got := obj.ETag; got != want {
			t.Fatalf("ETag %q, want %q", got, want)
		}
		if got, want := obj.Size, int64(size); got != want {
			t.Fatalf("Size %d, want %d", got, want)
		}
		r, got, err := s.Get(testContext(t), key)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if got, want := got.Size, int64(size); got != want {
			t.Fatalf("Get: Size %d, want %d", got, want)
		}
		readHash := sha256.New()
		if _, err := io.Copy(readHash, r); err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(readHash.Sum(nil)); got != want {
			t.Fatalf("read back bytes hashing to %s, want %s", got, want)
		}
	})

	t.Run("ConcurrentPuts", func(t *testing.T) {
		const n = 8
		keys := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			keys[i] = newKey("c")
			wg.Go(func() {
				_, errs[i] = s.Put(testContext(t), keys[i], "text/plain", strings.NewReader(keys[i]+strings.Repeat("!", i*1000)), 1<<20)
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("Put %s: %v", keys[i], err)
			}
			wantObject(t, s, keys[i], "text/plain", []byte(keys[i]+strings.Repeat("!", i*1000)))
		}
	})
}

// A folder must hold nothing but complete objects and their sidecars after
// writes that failed.
func TestDirLeavesNoTemporaries(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "files")
	s, err := blob.OpenDir(testContext(t), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := testContext(t)
	mustPut(t, s, "ok", "text/plain", []byte("fine"))
	if _, err := s.Put(ctx, "big", "text/plain", &endless{}, 1<<16); herd.ErrorCode(err) != herd.ETOOLARGE {
		t.Fatalf("Put of an endless body: %v, want ETOOLARGE", err)
	}
	body := io.MultiReader(strings.NewReader("half"), errReader{errors.New("reset")})
	if _, err := s.Put(ctx, "broken", "text/plain", body, 1<<16); herd.ErrorCode(err) != herd.EINVALID {
		t.Fatalf("Put of a broken body: %v, want EINVALID", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if got, want := strings.Join(names, " "), "ok.blob ok.blob.attrs"; got != want {
		t.Fatalf("folder holds %q, want %q", got, want)
	}
}

// A store that cannot be reached answers EUNAVAILABLE, with a message that
// does not leak the driver's text.
func TestS3Unreachable(t *testing.T) {
	testenv.S3URL(t) // sets the gateway's credentials, or skips
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	s, err := blob.Open(testContext(t), "s3://herd-test?endpoint=http://"+addr+"&region=us-east-1&use_path_style=true")
	if err != nil {
		t.Fatalf("Open must not contact the store: %v", err)
	}
	defer s.Close()
	ctx := testContext(t)
	calls := map[string]func() error{
		"Ping": func() error { return s.Ping(ctx) },
		"Put": func() error {
			_, err := s.Put(ctx, "k", "text/plain", strings.NewReader("x"), 10)
			return err
		},
		"Get": func() error {
			r, _, err := s.Get(ctx, "k")
			if err == nil {
				r.Close()
			}
			return err
		},
	}
	for name, call := range calls {
		err := call()
		wantCode(t, err, herd.EUNAVAILABLE, name)
		if got, want := herd.ErrorMessage(err), "storage is unavailable"; got != want {
			t.Fatalf("%s: message %q, want %q", name, got, want)
		}
	}
}

func mustPut(t *testing.T, s *blob.Store, key, contentType string, data []byte) blob.Object {
	t.Helper()
	obj, err := s.Put(testContext(t), key, contentType, bytes.NewReader(data), 1<<20)
	if err != nil {
		t.Fatalf("Put %s: %v", key, err)
	}
	if got, want := obj.Size, int64(len(data)); got != want {
		t.Fatalf("Put %s: Size %d, want %d", key, got, want)
	}
	return obj
}

func mustPutMax(t *testing.T, s *blob.Store, key string, data []byte, max int64) {
	t.Helper()
	if _, err := s.Put(testContext(t), key, "text/plain", bytes.NewReader(data), max); err != nil {
		t.Fatalf("Put of exactly maxSize bytes: %v", err)
	}
	wantObject(t, s, key, "text/plain", data)
}

func wantObject(t *testing.T, s *blob.Store, key, contentType string, data []byte) {
	t.Helper()
	r, obj, err := s.Get(testContext(t), key)
	if err != nil {
		t.Fatalf("Get %s: %v", key, err)
	}
	defer r.Close()
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("Get %s: %v", key, err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("Get %s: %q, want %q", key, got, data)
	}
	if obj.Key != key || obj.Size != int64(len(data)) || obj.ContentType != contentType {
		t.Fatalf("Get %s: %+v, want size %d and content type %q", key, obj, len(data), contentType)
	}
}

func wantMissing(t *testing.T, s *blob.Store, key string) {
	t.Helper()
	r, _, err := s.Get(testContext(t), key)
	if err == nil {
		r.Close()
	}
	wantCode(t, err, herd.ENOTFOUND, "Get of a key whose Put failed")
}

func wantCode(t *testing.T, err error, want, what string) {
	t.Helper()
	if got := herd.ErrorCode(err); got != want {
		t.Fatalf("%s: error code %q (%v), want %q", what, got, err, want)
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// endless is a body that never ends; n counts the bytes taken from it.
type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'z'
	}
	e.n += int64(len(p))
	return len(p), nil
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// pseudoRandom yields reproducible bytes that no store can compress away.
type pseudoRandom struct{ r *rand.Rand }

func (p *pseudoRandom) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = byte(p.r.Uint32())
	}
	return len(b), nil
}
