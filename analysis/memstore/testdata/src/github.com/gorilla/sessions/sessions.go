// Package sessions stubs github.com/gorilla/sessions.
package sessions

type Store interface{}

type CookieStore struct{}

func NewCookieStore(keyPairs ...[]byte) *CookieStore { return &CookieStore{} }

type FilesystemStore struct{ path string }

func NewFilesystemStore(path string, keyPairs ...[]byte) *FilesystemStore {
	return &FilesystemStore{path: path}
}
