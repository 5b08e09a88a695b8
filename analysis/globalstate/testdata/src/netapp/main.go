// A net/http app: metrics and configuration live in globals on purpose,
// one counter does not belong there.
package main

import (
	"database/sql"
	"log"
	"net/http"
	"os"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "requests_total"}, []string{"path"})
	errs     = prometheus.NewCounter(prometheus.CounterOpts{Name: "errors_total"})
	logger   = log.New(os.Stderr, "netapp ", log.LstdFlags)
	db       *sql.DB
	port     = 8080
	visits   int
)

func init() {
	prometheus.MustRegister(requests, errs)
}

func handleVisit(w http.ResponseWriter, r *http.Request) {
	requests.WithLabelValues(r.URL.Path).Inc()
	visits++ // want `package-level counter visits is incremented after init`
	var n int
	if err := db.QueryRowContext(r.Context(), "UPDATE visits SET n = n + 1 RETURNING n").Scan(&n); err != nil {
		errs.Inc()
		logger.Printf("visit: %v", err)
	}
	w.Write([]byte(strconv.Itoa(n)))
}

func main() {
	var err error
	db, err = sql.Open("pgx", os.Getenv("DATABASE_URL"))
	if err != nil {
		logger.Fatal(err)
	}
	if p, err := strconv.Atoi(os.Getenv("PORT")); err == nil {
		port = p
	}
	port++ // setup in main, not state
	http.HandleFunc("/visit", handleVisit)
	logger.Fatal(http.ListenAndServe(":"+strconv.Itoa(port), nil))
}
