package sessionapp

import (
	"github.com/alexedwards/scs/redisstore"
	"github.com/alexedwards/scs/v2"
	scsmem "github.com/alexedwards/scs/v2/memstore"
	ginmem "github.com/gin-contrib/sessions/memstore"
	ginredis "github.com/gin-contrib/sessions/redis"
	"github.com/gorilla/sessions"
)

var key = []byte("secret")

func Gorilla() (sessions.Store, sessions.Store) {
	cookies := sessions.NewCookieStore(key)       // the session lives in the client's cookie
	files := sessions.NewFilesystemStore("", key) // want `sessions.NewFilesystemStore \(gorilla/sessions\) keeps sessions in this process: a session exists only on the replica that created it.*external session store`
	return cookies, files
}

func SCSMemory() *scs.SessionManager {
	m := scs.New()
	m.Store = scsmem.New() // want `memstore.New \(alexedwards/scs\) keeps sessions`
	return m
}

func SCSDefault() *scs.SessionManager {
	return scs.New() // want `scs.New without a Store \(alexedwards/scs uses its memstore\) keeps sessions`
}

func SCSRedis(pool any) *scs.SessionManager {
	m := scs.New()
	m.Store = redisstore.New(pool)
	return m
}

func Gin() (ginmem.Store, ginredis.Store) {
	mem := ginmem.NewStore(key) // want `memstore.NewStore \(gin-contrib/sessions\) keeps sessions`
	red, _ := ginredis.NewStore(10, "tcp", "redis:6379", "", "", key)
	return mem, red
}
