// Package memstore stubs github.com/alexedwards/scs/v2/memstore.
package memstore

type MemStore struct{ items map[string][]byte }

func New() *MemStore                                        { return &MemStore{} }
func (m *MemStore) Find(token string) ([]byte, bool, error) { return nil, false, nil }
