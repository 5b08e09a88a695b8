package prove

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/herdhq/herd/cluster"
)

// Verdict is a scenario's outcome.
type Verdict string

const (
	Pass Verdict = "PASS"
	Fail Verdict = "FAIL"
	Skip Verdict = "SKIP"
)

// Result is what one scenario found.
type Result struct {
	Name    string    `json:"name"`
	Verdict Verdict   `json:"verdict"`
	Summary string    `json:"summary"`
	Figures []Figure  `json:"figures"`
	Errors  []string  `json:"errors,omitempty"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
}

// Figure is one named number or fact a scenario measured.
type Figure struct {
	Name  string `json:"name"`
	Value any    `json:"value"`
}

// maxErrors bounds the errors a result lists; the count is in a figure.
const maxErrors = 20

func (r *Result) figure(name string, value any) { r.Figures = append(r.Figures, Figure{name, value}) }

// fail records a failed check; the scenario fails.
func (r *Result) fail(format string, args ...any) {
	r.Verdict = Fail
	if len(r.Errors) < maxErrors {
		r.Errors = append(r.Errors, fmt.Sprintf(format, args...))
	}
}

// env is what scenarios work with.
type env struct {
	cfg      Config
	lb       *api
	replicas []*api // direct, when known
	control  *cluster.Client
	// clusterInProcess is set when herd prove started the cluster, whose
	// supervisor then prints its own progress to the same output.
	clusterInProcess bool
	rec              *recorder
	log              io.Writer
	run              string // unique per run, prefixes names
}

func (e *env) logf(format string, args ...any) {
	fmt.Fprintf(e.log, "%s %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
}

// endpoints are the replicas when known, else the load balancer alone.
func (e *env) endpoints() []*api {
	if len(e.replicas) > 0 {
		return e.replicas
	}
	return []*api{e.lb}
}

// scenario runs one check and fills in res; it returns early with
// res.Verdict Skip when the setup cannot support it.
type scenario struct {
	name string
	what string
	run  func(ctx context.Context, e *env, res *Result)
}

var scenarios = []scenario{
	{"any-replica", "a token, a session, a logout, a file and an item's freshness, each checked across replicas", anyReplica},
	{"exactness", "W workers × K increments with Idempotency-Key: none lost, none doubled; 100 parallel session updates", exactness},
	{"rollout", "rolling restart of every replica under constant load: zero failed requests", rollout},
	{"crash", "SIGKILL one replica under load: only requests in flight fail, each retried to success; nothing lost", crash},
	{"outage", "stop Redis, then PostgreSQL, and bring each back: 503 problem documents, no hangs, recovery within 5 s", outage},
	{"soak", "constant load through the load balancer for --duration: zero failed requests", soak},
}

// scenarioNames lists the known scenarios in run order.
func scenarioNames() []string {
	var names []string
	for _, s := range scenarios {
		names = append(names, s.name)
	}
	return names
}

func runScenario(ctx context.Context, e *env, s scenario) Result {
	res := Result{Name: s.name, Verdict: Pass, Start: time.Now()}
	e.logf("scenario %s: %s", s.name, s.what)
	s.run(ctx, e, &res)
	res.End = time.Now()
	if res.Verdict != Skip {
		e.rec.phase(s.name, res.Start, res.End)
	}
	if res.Summary == "" && len(res.Errors) > 0 {
		res.Summary = res.Errors[0]
	}
	e.logf("scenario %s: %s %s", s.name, res.Verdict, res.Summary)
	return res
}

// markClusterEvents copies the supervisor's events between from and to
// onto the charts.
func (e *env) markClusterEvents(ctx context.Context, from, to time.Time) {
	if e.control == nil {
		return
	}
	st, err := e.control.Status(ctx)
	if err != nil {
		return
	}
	for _, ev := range st.Events {
		if ev.Time.Before(from) || ev.Time.After(to) {
			continue
		}
		if label := markerLabel(ev); label != "" {
			e.rec.event(ev.Time, label)
		}
	}
}

// markerLabel is the chart label of a supervisor event, or "" for steps
// too fine to mark: a new replica's readiness is implied by the SIGTERM
// of the one it replaces, which follows at once.
func markerLabel(ev cluster.Event) string {
	switch ev.Kind {
	case "sigterm":
		return fmt.Sprintf("replica %d SIGTERM", ev.Replica)
	case "sigkill":
		return fmt.Sprintf("replica %d SIGKILL", ev.Replica)
	case "restart":
		return fmt.Sprintf("replica %d restarted", ev.Replica)
	case "exit":
		if ev.Replica >= 0 {
			return fmt.Sprintf("replica %d exited", ev.Replica)
		}
		return "haproxy exited"
	case "backend-stop", "backend-start":
		return ev.Message
	}
	return ""
}

// needControl skips res unless herd prove drives the cluster.
func needControl(e *env, res *Result) bool {
	if e.control == nil {
		res.Verdict = Skip
		res.Summary = "needs --control: herd prove must drive the cluster"
		return false
	}
	return true
}

// checkCounter compares the counter's final value with the acknowledged
// increments and the values they returned: each acknowledged increment
// must have returned a distinct value, and the final value must equal
// their count, so none was lost and none applied twice.
func checkCounter(ctx context.Context, e *env, res *Result, name string, acked int, values []int64, token string) {
	ans, err := e.lb.expect(ctx, request{path: "/counters/" + name, token: token}, http.StatusOK)
	if err != nil {
		res.fail("read counter: %v", err)
		return
	}
	var c counterValue
	if err := decodeInto(ans, &c); err != nil {
		res.fail("read counter: %v", err)
		return
	}
	distinct := len(slices.Compact(slices.Sorted(slices.Values(values))))
	res.figure("acknowledged increments", acked)
	res.figure("final counter value", c.Value)
	if lost := int64(acked) - c.Value; lost > 0 {
		res.figure("lost increments", lost)
		res.fail("counter %s is %d after %d acknowledged increments: %d lost", name, c.Value, acked, lost)
	}
	if doubled := c.Value - int64(acked); doubled > 0 {
		res.figure("doubled increments", doubled)
		res.fail("counter %s is %d after %d acknowledged increments: %d applied twice", name, c.Value, acked, doubled)
	}
	if distinct != len(values) {
		res.fail("acknowledged increments returned %d distinct values for %d increments", distinct, len(values))
	}
}
