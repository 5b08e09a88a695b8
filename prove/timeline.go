package prove

import (
	"math"
	"slices"
	"sort"
	"sync"
	"time"
)

// recorder collects every request's outcome into one-second buckets and
// the events and scenario phases that the charts mark.
type recorder struct {
	start time.Time

	mu      sync.Mutex
	buckets map[int]*bucket
	events  []Marker
	phases  []Phase
}

type bucket struct {
	requests  int
	errors    int
	latencies []float64 // milliseconds
}

// Point is one second of the run.
type Point struct {
	// T is the second since the run began.
	T        int     `json:"t"`
	Requests int     `json:"requests"`
	Errors   int     `json:"errors"`
	P99ms    float64 `json:"p99_ms"`
}

// Marker is an event drawn as a vertical line on the charts.
type Marker struct {
	T     float64   `json:"t"` // seconds since the run began
	Time  time.Time `json:"time"`
	Label string    `json:"label"`
}

// Phase is the span of one scenario.
type Phase struct {
	Name  string  `json:"name"`
	Start float64 `json:"start"`
	End   float64 `json:"end"`
}

func newRecorder(start time.Time) *recorder {
	return &recorder{start: start, buckets: map[int]*bucket{}}
}

// sample records a request sent at start that took latency; failed means
// it did not get the answer it needed (including no answer at all).
func (r *recorder) sample(start time.Time, latency time.Duration, failed bool) {
	sec := int(start.Sub(r.start) / time.Second)
	if sec < 0 {
		sec = 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	b := r.buckets[sec]
	if b == nil {
		b = &bucket{}
		r.buckets[sec] = b
	}
	b.requests++
	if failed {
		b.errors++
	}
	b.latencies = append(b.latencies, float64(latency)/float64(time.Millisecond))
}

func (r *recorder) event(t time.Time, label string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, Marker{T: t.Sub(r.start).Seconds(), Time: t, Label: label})
}

func (r *recorder) phase(name string, start, end time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.phases = append(r.phases, Phase{Name: name, Start: start.Sub(r.start).Seconds(), End: end.Sub(r.start).Seconds()})
}

// timeline returns every second from the first to the last with data,
// empty seconds included so that a stall shows as a drop to zero.
func (r *recorder) timeline() ([]Point, []Marker, []Phase) {
	r.mu.Lock()
	defer r.mu.Unlock()
	last := -1
	for s := range r.buckets {
		last = max(last, s)
	}
	for _, p := range r.phases {
		last = max(last, int(p.End))
	}
	points := make([]Point, 0, last+1)
	for s := 0; s <= last; s++ {
		p := Point{T: s}
		if b := r.buckets[s]; b != nil {
			p.Requests, p.Errors, p.P99ms = b.requests, b.errors, percentile(b.latencies, 0.99)
		}
		points = append(points, p)
	}
	events := slices.Clone(r.events)
	sort.Slice(events, func(i, j int) bool { return events[i].T < events[j].T })
	return points, events, slices.Clone(r.phases)
}

// percentile returns the q-quantile of xs by the nearest-rank method.
func percentile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}
