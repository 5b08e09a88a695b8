package limits

import (
	"net/http"
	"sync"
	"time"

	"github.com/didip/tollbooth/v7"
	"github.com/ulule/limiter/v3"
	"github.com/ulule/limiter/v3/drivers/store/memory"
	redisstore "github.com/ulule/limiter/v3/drivers/store/redis"
	"golang.org/x/time/rate"
)

type visitor struct {
	limiter  *rate.Limiter
	lastSeen time.Time
}

var visitors = map[string]*visitor{} // want `map visitors of rate.Limiter \(golang.org/x/time/rate\) counts requests in this process: with N replicas a client gets N times the limit`

type Server struct {
	mu       sync.Mutex
	limiters map[string]*rate.Limiter // want `map limiters of rate.Limiter`
	byIP     sync.Map
	global   *rate.Limiter // protects this replica's own resources
}

func (s *Server) allow(ip string) bool {
	l, _ := s.byIP.LoadOrStore(ip, rate.NewLimiter(1, 5)) // want `a sync.Map of rate.Limiter`
	return l.(*rate.Limiter).Allow() && s.global.Allow()
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.allow(r.RemoteAddr) {
		http.Error(w, "slow down", http.StatusTooManyRequests)
	}
}

func Middleware(next http.Handler) http.Handler {
	lmt := tollbooth.NewLimiter(1, nil) // want `tollbooth.NewLimiter \(didip/tollbooth\) counts requests`
	return tollbooth.LimitHandler(lmt, next)
}

func Ulule(client any) (*limiter.Limiter, *limiter.Limiter) {
	mem := memory.NewStore() // want `memory.NewStore \(ulule/limiter\) counts requests`
	shared, _ := redisstore.NewStore(client)
	return limiter.New(mem, limiter.Rate{Limit: 10}), limiter.New(shared, limiter.Rate{Limit: 10})
}

// perRequest builds a map of limiters that dies with the call. memstore
// cannot tell it from a long-lived one, so it carries a suppression.
func perRequest(keys []string) int {
	//statelint:ignore scratch map, dropped when the call returns
	local := map[string]*rate.Limiter{}
	for _, k := range keys {
		local[k] = rate.NewLimiter(1, 1)
	}
	return len(local)
}
