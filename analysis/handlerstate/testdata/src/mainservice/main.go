// A service struct built in main and shared by handler closures.
package main

import (
	"fmt"
	"log"
	"net/http"
	"sync"
	"sync/atomic"
)

type counterService struct {
	counts map[string]int
	total  int64
	byUser sync.Map
}

func (c *counterService) incr(key, user string) int {
	c.counts[key]++              // want `map field counterService.counts is incremented while serving requests`
	atomic.AddInt64(&c.total, 1) // want `counter field counterService.total is incremented while serving requests`
	c.byUser.Store(user, key)    // want `sync.Map field counterService.byUser is written while serving requests`
	return c.counts[key]
}

type settings struct {
	greeting string
	allowed  []string
}

func main() {
	svc := &counterService{counts: map[string]int{}}
	cfg := settings{greeting: "hello"}
	cfg.allowed = append(cfg.allowed, "/count") // setup in main
	var mu sync.Mutex                           // guards cfg, only read by handlers

	http.HandleFunc("/count", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		greeting := cfg.greeting
		mu.Unlock()
		fmt.Fprintln(w, greeting, svc.incr(r.URL.Path, r.Header.Get("X-User")))
	})
	http.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		visits := 0 // request-scoped
		visits++
		fmt.Fprintln(w, cfg.greeting, visits)
	})
	log.Fatal(http.ListenAndServe(":8080", nil))
}
