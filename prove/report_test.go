package prove

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func sampleReport() *Report {
	start := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	rec := newRecorder(start)
	for s := range 10 {
		for i := range 50 {
			rec.sample(start.Add(time.Duration(s)*time.Second+time.Duration(i)*time.Millisecond), time.Duration(i)*time.Millisecond, s == 6 && i < 3)
		}
	}
	rec.event(start.Add(3*time.Second), "replica 2 SIGTERM")
	rec.event(start.Add(6*time.Second), `Redis <stopped> & "gone"`)
	rec.phase("rollout", start.Add(time.Second), start.Add(5*time.Second))
	rec.phase("outage", start.Add(5*time.Second), start.Add(9*time.Second))
	r := &Report{
		Started: start, Finished: start.Add(10 * time.Second), Target: "http://127.0.0.1:8080",
		Settings: Config{Rate: 200, LoadWorkers: 64, Duration: 30 * time.Second},
		Verdict:  Fail,
		Scenarios: []Result{
			{Name: "rollout", Verdict: Pass, Summary: "0 failed", Figures: []Figure{{"requests", 2000}}},
			{Name: "outage", Verdict: Fail, Summary: "slow", Errors: []string{"<script>alert(1)</script>"}},
			{Name: "crash", Verdict: Skip, Summary: "needs --control"},
		},
	}
	r.Timeline, r.Events, r.Phases = rec.timeline()
	return r
}

func TestTimelineBuckets(t *testing.T) {
	r := sampleReport()
	if got, want := len(r.Timeline), 10; got != want {
		t.Fatalf("points: got %d, want %d", got, want)
	}
	p := r.Timeline[6]
	if got, want := p.Requests, 50; got != want {
		t.Errorf("requests at 6 s: got %d, want %d", got, want)
	}
	if got, want := p.Errors, 3; got != want {
		t.Errorf("errors at 6 s: got %d, want %d", got, want)
	}
	// 50 latencies 0..49 ms: the 99th percentile by nearest rank is 49.
	if got, want := p.P99ms, 49.0; got != want {
		t.Errorf("p99 at 6 s: got %v, want %v", got, want)
	}
	if got, want := r.Events[0].Label, "replica 2 SIGTERM"; got != want {
		t.Errorf("first event: got %q, want %q", got, want)
	}
}

func TestPercentile(t *testing.T) {
	for _, c := range []struct {
		xs   []float64
		q    float64
		want float64
	}{
		{nil, 0.99, 0},
		{[]float64{7}, 0.99, 7},
		{[]float64{5, 1, 4, 2, 3}, 0.5, 3},
		{[]float64{5, 1, 4, 2, 3}, 0.99, 5},
	} {
		if got := percentile(c.xs, c.q); got != c.want {
			t.Errorf("percentile(%v, %v): got %v, want %v", c.xs, c.q, got, c.want)
		}
	}
}

func TestHTMLReportIsSelfContained(t *testing.T) {
	r := sampleReport()
	var b strings.Builder
	if err := writeHTML(&b, r); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	if got, want := strings.Count(html, "<svg"), 3; got != want {
		t.Errorf("charts: got %d, want %d (throughput, p99, errors)", got, want)
	}
	// Each event is a line on every chart and labelled on the first.
	if got, want := strings.Count(html, `class="event"`), 3*len(r.Events); got != want {
		t.Errorf("event lines: got %d, want %d", got, want)
	}
	if got, want := strings.Count(html, `class="event-label"`), 2; got != want {
		t.Errorf("event labels: got %d, want %d", got, want)
	}
	if got, want := strings.Count(html, `class="phase"`), 3*len(r.Phases); got != want {
		t.Errorf("phase bands: got %d, want %d", got, want)
	}
	if got, want := strings.Count(html, `class="series"`), 3; got != want {
		t.Errorf("series: got %d, want %d", got, want)
	}
	if !strings.Contains(html, "replica 2 SIGTERM") {
		t.Error("the SIGTERM marker's label is missing")
	}
	if strings.Contains(html, "<script>alert") || strings.Contains(html, "Redis <stopped>") {
		t.Error("text from the run reached the page unescaped")
	}
	// Nothing is fetched: no external resource of any kind.
	if m := regexp.MustCompile(`(?i)(src|href)\s*=|<link|<script|@import|url\(`).FindString(html); m != "" {
		t.Errorf("report refers to an outside resource: %q", m)
	}
	for _, want := range []string{">PASS<", ">FAIL<", ">SKIP<"} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks verdict %s", want)
		}
	}
}

func TestWriteReports(t *testing.T) {
	r := sampleReport()
	dir := t.TempDir()
	jsonPath, htmlPath, err := writeReports(filepath.Join(dir, "out"), r)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Verdict   Verdict        `json:"verdict"`
		Scenarios []Result       `json:"scenarios"`
		Timeline  []Point        `json:"timeline"`
		Events    []Marker       `json:"events"`
		Settings  map[string]any `json:"settings"`
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if got, want := back.Verdict, Fail; got != want {
		t.Errorf("verdict: got %s, want %s", got, want)
	}
	if got, want := len(back.Scenarios), 3; got != want {
		t.Errorf("scenarios: got %d, want %d", got, want)
	}
	if got, want := len(back.Events), 2; got != want {
		t.Errorf("events: got %d, want %d", got, want)
	}
	if got, want := back.Settings["duration"], "30s"; got != want {
		t.Errorf("settings duration: got %v, want %v", got, want)
	}
	if _, err := os.Stat(htmlPath); err != nil {
		t.Fatal(err)
	}
}

func TestTable(t *testing.T) {
	var b bytes.Buffer
	writeTable(&b, sampleReport())
	out := b.String()
	for _, want := range []string{"SCENARIO", "rollout   PASS", "requests: 2000", "outage FAILED:", "crash skipped: needs --control", "herd prove: FAIL (1 of 3 scenarios failed)"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestGroupLabelsJoinsNearEvents(t *testing.T) {
	events := []Marker{
		{T: 1, Label: "replica 1 SIGKILL"}, {T: 1.01, Label: "replica 1 exited"}, {T: 1.02, Label: "redis stopped"},
		{T: 5, Label: "replica 0 exited"}, {T: 5.05, Label: "replica 1 SIGTERM"},
	}
	got := groupLabels(events, func(t float64) float64 { return t * 100 })
	var texts []string
	for _, l := range got {
		texts = append(texts, l.text)
	}
	if got, want := strings.Join(texts, " | "), "replica 1 SIGKILL, exited, redis stopped | replica 0 exited, replica 1 SIGTERM"; got != want {
		t.Fatalf("labels: got %q, want %q", got, want)
	}
}
