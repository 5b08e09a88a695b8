package globals

import (
	"regexp"
	"sort"
	"sync"
	"sync/atomic"
)

// Positives: state written while the program runs.

var cache = map[string]string{}

func Put(k, v string) {
	cache[k] = v // want `package-level map cache is written after init: each replica keeps its own copy`
}

func Forget(k string) {
	delete(cache, k) // want `package-level map cache is written after init`
}

var hits int

func Hit() {
	hits++ // want `package-level counter hits is incremented after init: each replica keeps its own count`
}

func HitBy(n int) {
	hits += n       // want `package-level counter hits is incremented`
	hits = hits + 1 // want `package-level counter hits is incremented`
}

var requests int64

func Request() {
	atomic.AddInt64(&requests, 1) // want `package-level counter requests is incremented`
}

var served atomic.Int64

func Serve() {
	served.Add(1) // want `package-level atomic served is incremented after init: each replica keeps its own count`
}

var recent []string

func Remember(s string) {
	recent = append(recent, s) // want `package-level slice recent is written after init`
}

var sessions sync.Map

func Login(id string) {
	sessions.Store(id, true) // want `package-level sync.Map sessions is written after init`
}

type stats struct {
	byPath map[string]int
	total  int
}

var st = &stats{byPath: map[string]int{}}

func Record(path string) {
	st.byPath[path]++ // want `package-level map st.byPath is incremented after init`
	st.total++        // want `package-level counter st.total is incremented after init`
}

func Reset() {
	st = &stats{} // want `package-level struct st is written after init`
}

var handler = func() {
	hits-- // want `package-level counter hits is incremented`
}

// Negatives: setup, reads, constants and values that are not state.

var (
	codes = map[string]int{"ok": 200, "missing": 404} // a lookup table only read
	slug  = regexp.MustCompile(`^[a-z0-9-]+$`)
	names []string
)

const limit = 10

var registry = map[string]func() int{}

func init() {
	registry["one"] = func() int { return 1 }
	names = append(names, "init")
	sort.Strings(names)
}

// Register is called from other packages' init functions.
func Register(name string, f func() int) { registry[name] = f }

func Code(s string) int {
	if !slug.MatchString(s) {
		return codes["missing"]
	}
	n := len(registry) + limit
	local := map[string]int{}
	local[s] = n // request-scoped
	return local[s]
}

type client struct{ conns map[string]int }

var (
	once sync.Once
	cli  *client
)

func Client() *client {
	once.Do(func() {
		cli = &client{conns: map[string]int{}}
	})
	return cli
}

var getClient = sync.OnceValue(func() *client {
	cli = &client{}
	return cli
})

var (
	mu     sync.RWMutex
	config struct{ Name string }
)

// Reading configuration under a lock changes nothing.
func Name() string {
	mu.RLock()
	defer mu.RUnlock()
	return config.Name
}

var greeting string

// SetGreeting writes a string, which is not a counter or a collection.
func SetGreeting(g string) { greeting = g }
