// Package scs stubs github.com/alexedwards/scs/v2: New uses an in-memory
// store unless Store is replaced.
package scs

type Store interface {
	Find(token string) ([]byte, bool, error)
}

type SessionManager struct {
	Store Store
}

func New() *SessionManager { return &SessionManager{} }
