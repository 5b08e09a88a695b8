// Package redis stubs github.com/gin-contrib/sessions/redis.
package redis

type Store interface{}

func NewStore(size int, network, address, username, password string, keyPairs ...[]byte) (Store, error) {
	return nil, nil
}
