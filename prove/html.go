package prove

import (
	"fmt"
	"html"
	"html/template"
	"io"
	"math"
	"strings"
)

// The HTML report is one self-contained file: styles inline, charts as
// inline SVG drawn here, nothing fetched from anywhere.
var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"lower": strings.ToLower,
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>herd prove: {{.R.Verdict}}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px auto; max-width: 1040px; color: #222; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; }
table { border-collapse: collapse; width: 100%; }
td, th { border-bottom: 1px solid #ddd; padding: 6px 8px; text-align: left; vertical-align: top; }
.pass { color: #157f3b; font-weight: bold; } .fail { color: #b3261e; font-weight: bold; } .skip { color: #777; font-weight: bold; }
.figures { margin: 0; padding-left: 16px; } .errors { color: #b3261e; margin: 4px 0 0; padding-left: 16px; }
.meta { color: #555; }
svg { display: block; margin: 8px 0 16px; }
svg text { font: 11px system-ui, sans-serif; fill: #444; }
</style>
</head>
<body>
<h1>herd prove: <span class="{{lower (printf "%s" .R.Verdict)}}">{{.R.Verdict}}</span></h1>
<p class="meta">Target {{.R.Target}}{{if .R.Replicas}}, {{len .R.Replicas}} replicas addressed directly{{end}}{{if .R.Controlled}}, cluster driven by herd prove{{end}}.
Started {{.R.Started.Format "2006-01-02 15:04:05 MST"}}, took {{.Took}}.
Load: {{.R.Settings.Rate}} requests/s by {{.R.Settings.LoadWorkers}} workers.</p>

<h2>Scenarios</h2>
<table>
<tr><th>Scenario</th><th>Verdict</th><th>Figures</th></tr>
{{range .R.Scenarios}}<tr>
<td>{{.Name}}</td>
<td class="{{lower (printf "%s" .Verdict)}}">{{.Verdict}}</td>
<td>{{.Summary}}<ul class="figures">{{range .Figures}}<li>{{.Name}}: {{.Value}}</li>{{end}}</ul>
{{if .Errors}}<ul class="errors">{{range .Errors}}<li>{{.}}</li>{{end}}</ul>{{end}}</td>
</tr>{{end}}
</table>

<h2>Over time</h2>
<p class="meta">One point per second. Shaded bands are scenarios; vertical lines are events.</p>
{{.Throughput}}
{{.Latency}}
{{.Errors}}

<h2>Events</h2>
<table>
<tr><th>At</th><th>Event</th></tr>
{{range .R.Events}}<tr><td>+{{printf "%.1f" .T}} s ({{.Time.Format "15:04:05.000"}})</td><td>{{.Label}}</td></tr>{{end}}
</table>
</body>
</html>
`))

func writeHTML(w io.Writer, r *Report) error {
	var req, errs, p99 []float64
	for _, p := range r.Timeline {
		req = append(req, float64(p.Requests))
		errs = append(errs, float64(p.Errors))
		p99 = append(p99, p.P99ms)
	}
	return reportTemplate.Execute(w, struct {
		R                           *Report
		Took                        string
		Throughput, Latency, Errors template.HTML
	}{
		R:          r,
		Took:       r.Finished.Sub(r.Started).Round(1e8).String(),
		Throughput: chartSVG("Throughput", "requests/s", req, "#1f6feb", r.Events, r.Phases, true),
		Latency:    chartSVG("p99 latency", "ms", p99, "#8250df", r.Events, r.Phases, false),
		Errors:     chartSVG("Errors", "errors/s", errs, "#b3261e", r.Events, r.Phases, false),
	})
}

const (
	chartW, chartH = 1000, 190
	padL, padR     = 56, 16
	padT, padB     = 22, 24
)

// chartSVG draws one time series as an inline SVG line chart, with the
// scenario phases as bands and the events as vertical lines; labelled
// puts the events' names on this chart.
func chartSVG(title, unit string, ys []float64, color string, events []Marker, phases []Phase, labelled bool) template.HTML {
	var b strings.Builder
	span := math.Max(1, float64(len(ys)))
	for _, p := range phases {
		span = math.Max(span, p.End)
	}
	for _, e := range events {
		span = math.Max(span, e.T)
	}
	plotW := float64(chartW - padL - padR)
	x := func(t float64) float64 { return float64(padL) + t/span*plotW }
	labels := groupLabels(events, x)
	top := padT
	if labelled {
		longest := 0
		for _, l := range labels {
			longest = max(longest, len(l.text))
		}
		// Room for the longest label, written upwards.
		top = padT + min(300, 10+longest*6)
	}
	height := chartH + top - padT
	plotH := float64(height - top - padB)
	ymax := niceMax(ys)
	y := func(v float64) float64 { return float64(top) + plotH - v/ymax*plotH }

	fmt.Fprintf(&b, `<svg role="img" aria-label="%s" width="%d" height="%d" viewBox="0 0 %d %d">`, esc(title), chartW, height, chartW, height)
	fmt.Fprintf(&b, `<text x="%d" y="14" font-weight="bold">%s (%s)</text>`, padL, esc(title), esc(unit))
	for i, p := range phases {
		fill := "#f2f5f9"
		if i%2 == 1 {
			fill = "#e8eef6"
		}
		fmt.Fprintf(&b, `<rect class="phase" x="%.1f" y="%d" width="%.1f" height="%.1f" fill="%s"/>`, x(p.Start), top, math.Max(1, x(p.End)-x(p.Start)), plotH, fill)
		if x(p.End)-x(p.Start) > float64(len(p.Name))*6.5 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%d">%s</text>`, x(p.Start)+3, top+12, esc(p.Name))
		}
	}
	for i := 0; i <= 4; i++ {
		v := ymax * float64(i) / 4
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>`, padL, chartW-padR, y(v), y(v))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`, padL-6, y(v)+4, trimFloat(v))
	}
	step := niceStep(span / 10)
	for t := 0.0; t <= span; t += step {
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%ss</text>`, x(t), height-6, trimFloat(t))
	}
	for _, e := range events {
		fmt.Fprintf(&b, `<line class="event" x1="%.1f" x2="%.1f" y1="%d" y2="%.1f" stroke="#555" stroke-dasharray="3,3"/>`, x(e.T), x(e.T), top, float64(top)+plotH)
	}
	if labelled {
		for _, l := range labels {
			fmt.Fprintf(&b, `<text class="event-label" transform="translate(%.1f,%d) rotate(-90)">%s</text>`, l.x+4, top-4, esc(l.text))
		}
	}
	if len(ys) > 0 {
		var pts []string
		for i, v := range ys {
			// Each point stands for the second that starts at i.
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(float64(i)+0.5), y(v)))
		}
		fmt.Fprintf(&b, `<polyline class="series" fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`, color, strings.Join(pts, " "))
	}
	fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#999"/>`, padL, chartW-padR, float64(top)+plotH, float64(top)+plotH)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

type label struct {
	x    float64
	text string
	last string // the last event's own label
}

// cutSubject splits "replica 1 exited" into "replica 1" and "exited".
func cutSubject(l string) (subject, rest string, ok bool) {
	f := strings.Fields(l)
	if len(f) < 3 || f[0] != "replica" {
		return "", "", false
	}
	return f[0] + " " + f[1], strings.Join(f[2:], " "), true
}

// groupLabels joins the labels of events that would be drawn on top of
// each other into one.
func groupLabels(events []Marker, x func(float64) float64) []label {
	const minGap = 14 // pixels
	var out []label
	for _, e := range events {
		if n := len(out); n > 0 && x(e.T)-out[n-1].x < minGap {
			// "replica 1 SIGKILL, replica 1 exited" reads as
			// "replica 1 SIGKILL, exited".
			text := e.Label
			if subject, rest, ok := cutSubject(e.Label); ok && strings.HasPrefix(out[n-1].last, subject+" ") {
				text = rest
			}
			out[n-1].text += ", " + text
			out[n-1].last = e.Label
			continue
		}
		out = append(out, label{x: x(e.T), text: e.Label, last: e.Label})
	}
	return out
}

func esc(s string) string { return html.EscapeString(s) }

// niceMax is a round number at or above the largest y, so the axis reads
// well; an all-zero series (no errors) gets an axis up to 4, so the
// ticks stay whole numbers.
func niceMax(ys []float64) float64 {
	m := 0.0
	for _, v := range ys {
		m = math.Max(m, v)
	}
	if m <= 0 {
		return 4
	}
	return niceStep(m/4) * 4
}

// niceStep rounds v up to 1, 2 or 5 times a power of ten.
func niceStep(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func trimFloat(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}
