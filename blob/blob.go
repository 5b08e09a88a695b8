// Package blob keeps herd's files in object storage through gocloud.dev/blob:
// S3 and S3-compatible stores (s3://), Google Cloud Storage (gs://), Azure
// Blob Storage (azblob://), or a local folder (file://) for the embedded
// default. Each driver is registered here, so a caller needs only Open.
//
// A Put streams: the body goes to the store as it arrives, is never held
// whole in memory, and the object appears only once it is complete.
package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/url"
	"os"
	"path/filepath"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/azureblob" // azblob://
	"gocloud.dev/blob/fileblob"    // file://
	_ "gocloud.dev/blob/gcsblob"   // gs://
	_ "gocloud.dev/blob/s3blob"    // s3://
	"gocloud.dev/gcerrors"

	"github.com/herdhq/herd"
)

// DefaultContentType is stored for a Put without a content type.
const DefaultContentType = "application/octet-stream"

// fileSuffix ends the name of every object in a folder (file://). fileblob
// keeps its own files next to the objects: a metadata sidecar "<name>.attrs"
// for each object, and "<name>.<hex>.tmp" while one is written. It refuses
// keys ending in ".attrs" (a valid herd key), and a key such as
// "x.17f0.tmp" could name another write's temporary file. With the suffix no
// herd key can name either: neither ends in ".blob".
const fileSuffix = ".blob"

// Object describes a stored object.
type Object struct {
	Key         string
	Size        int64
	ETag        string // hex SHA-256 of the bytes, unquoted; see Get
	ContentType string
}

// Store is a bucket of objects named by herd keys (herd.ValidID; Put and
// Get refuse any other key with EINVALID). It is safe for concurrent use.
type Store struct {
	bucket *blob.Bucket
	suffix string // appended to keys to name objects; see fileSuffix
}

// Open opens the bucket at a gocloud.dev/blob URL, e.g.
//
//	s3://bucket?region=eu-west-1
//	s3://bucket?endpoint=http://127.0.0.1:7070&region=us-east-1&use_path_style=true
//	gs://bucket
//	azblob://container
//	file:///var/lib/herd/files?create_dir=true
//
// Credentials come from each cloud's usual environment. A file:// folder
// keeps temporary files next to the objects (no_tmp_dir), so that
// completing a write is a rename within one filesystem.
//
// Open does not contact the store; Ping does.
func Open(ctx context.Context, rawURL string) (*Store, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, errors.New("blob: invalid URL")
	}
	suffix := ""
	if u.Scheme == "file" {
		q := u.Query()
		if !q.Has("no_tmp_dir") {
			q.Set("no_tmp_dir", "true")
			u.RawQuery = q.Encode()
		}
		suffix = fileSuffix
	}
	b, err := blob.OpenBucket(ctx, u.String())
	if err != nil {
		return nil, fmt.Errorf("blob: open %s bucket: %w", u.Scheme, err)
	}
	return &Store{bucket: b, suffix: suffix}, nil
}

// OpenDir opens the folder dir as a bucket, creating it if needed: the
// embedded default, for a single machine or for tests.
func OpenDir(ctx context.Context, dir string) (*Store, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	b, err := fileblob.OpenBucket(dir, &fileblob.Options{NoTempDir: true})
	if err != nil {
		return nil, fmt.Errorf("blob: open %s: %w", dir, err)
	}
	return &Store{bucket: b, suffix: fileSuffix}, nil
}

// Close releases the bucket.
func (s *Store) Close() error { return s.bucket.Close() }

// Ping reports whether the bucket answers and exists.
func (s *Store) Ping(ctx context.Context) error {
	ok, err := s.bucket.IsAccessible(ctx)
	if err != nil {
		return s.fail(err)
	}
	if !ok {
		return herd.Unavailable("storage", errors.New("blob: the bucket does not exist"))
	}
	return nil
}

func (s *Store) name(key string) string { return key + s.suffix }

// checkKey refuses keys outside herd.ValidID: the http package checks them
// already, but object names built from anything else (a "/", "..") would
// mean folders and paths to some stores.
func checkKey(key string) error {
	if !herd.ValidID(key) {
		return herd.Errorf(herd.EINVALID, "invalid file key")
	}
	return nil
}

// Put stores the bytes of r under key. It streams them to the store while
// counting and hashing them, so it never holds the body in memory. When r
// yields more than maxSize bytes it aborts the write and returns ETOOLARGE:
// nothing is stored and an object already under key is left as it was.
// Readers see either the previous object or the whole new one, never a part.
//
// contentType defaults to DefaultContentType; an unparsable one is EINVALID.
// A failure to read r is EINVALID too (the client's body broke off).
func (s *Store) Put(ctx context.Context, key, contentType string, r io.Reader, maxSize int64) (Object, error) {
	if maxSize <= 0 {
		return Object{}, fmt.Errorf("blob: Put with maxSize %d, want a positive limit", maxSize)
	}
	if err := checkKey(key); err != nil {
		return Object{}, err
	}
	if contentType == "" {
		contentType = DefaultContentType
	}
	if _, _, err := mime.ParseMediaType(contentType); err != nil {
		return Object{}, &herd.Error{Code: herd.EINVALID, Message: "invalid content type", Err: err}
	}
	// Cancelling the writer's context before Close discards the write: that
	// is how a too-large or broken upload leaves nothing behind.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := s.bucket.NewWriter(wctx, s.name(key), &blob.WriterOptions{
		ContentType:                 contentType,
		DisableContentTypeDetection: true,
	})
	if err != nil {
		return Object{}, s.fail(err)
	}
	abort := func(err error) (Object, error) {
		cancel()
		w.Close() // reports the cancellation; err says why it happened
		return Object{}, err
	}

	hash := sha256.New()
	body := &bodyReader{r: io.LimitReader(r, maxSize+1)}
	n, err := io.Copy(w, io.TeeReader(body, hash))
	switch {
	case body.err != nil:
		return abort(&herd.Error{Code: herd.EINVALID, Message: "the body could not be read", Err: body.err})
	case err != nil:
		return abort(s.fail(err))
	case n > maxSize:
		return abort(herd.Errorf(herd.ETOOLARGE, "the body is larger than %d bytes", maxSize))
	}
	if err := w.Close(); err != nil {
		return Object{}, s.fail(err)
	}
	return Object{Key: key, Size: n, ETag: hex.EncodeToString(hash.Sum(nil)), ContentType: contentType}, nil
}

// bodyReader remembers a read error of the body, to tell it from a write
// error of the store once io.Copy has returned.
type bodyReader struct {
	r   io.Reader
	err error
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

// Get opens the object under key; the caller must close the reader. It
// returns ENOTFOUND when there is none.
//
// The returned Object has Key, Size and ContentType but no ETag: Put learns
// the hash only once the last byte has gone to the store, after the
// object's metadata, and stores keep no hash of their own that is the same
// everywhere.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, Object, error) {
	if err := checkKey(key); err != nil {
		return nil, Object{}, err
	}
	r, err := s.bucket.NewReader(ctx, s.name(key), nil)
	if err != nil {
		return nil, Object{}, s.fail(err)
	}
	return r, Object{Key: key, Size: r.Size(), ContentType: r.ContentType()}, nil
}

// fail turns a gocloud error into herd's vocabulary: ENOTFOUND for a missing
// object, EUNAVAILABLE for anything else the store did (unreachable, too
// slow, refusing our credentials). Driver text stays in the wrapped error.
func (s *Store) fail(err error) error {
	if err == nil {
		return nil
	}
	var he *herd.Error
	if errors.As(err, &he) {
		return err
	}
	if gcerrors.Code(err) == gcerrors.NotFound {
		return &herd.Error{Code: herd.ENOTFOUND, Message: "file not found", Err: err}
	}
	return herd.Unavailable("storage", err)
}
