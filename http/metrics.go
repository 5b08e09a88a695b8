package http

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are one replica's Prometheus collectors. They are process-local
// by design: Prometheus scrapes each replica and sums across them.
type Metrics struct {
	registry  *prometheus.Registry
	requests  *prometheus.CounterVec
	durations *prometheus.HistogramVec
	inFlight  prometheus.Gauge
	storeOps  *prometheus.HistogramVec
}

// NewMetrics makes the collectors on a registry of their own, with the Go
// runtime and process collectors.
func NewMetrics() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herd_http_requests_total", Help: "HTTP requests by route pattern and status.",
		}, []string{"route", "status"}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "herd_http_request_duration_seconds", Help: "HTTP request duration by route pattern and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "status"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "herd_http_requests_in_flight", Help: "HTTP requests being served.",
		}),
		storeOps: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "herd_store_operation_duration_seconds", Help: "Store operation duration by operation and outcome.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"op", "outcome"}),
	}
	m.registry.MustRegister(m.requests, m.durations, m.inFlight, m.storeOps,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

func (m *Metrics) observeRequest(route string, status int, d time.Duration) {
	code := statusLabel(status)
	m.requests.WithLabelValues(route, code).Inc()
	m.durations.WithLabelValues(route, code).Observe(d.Seconds())
}

// observeStore records one store operation's duration since start.
func (m *Metrics) observeStore(op string, start time.Time, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	m.storeOps.WithLabelValues(op, outcome).Observe(time.Since(start).Seconds())
}
