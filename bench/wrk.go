package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// load is how hard and how long wrk drives a server.
type load struct {
	threads, connections int
	duration             time.Duration
}

// measurement is what one wrk run reports.
type measurement struct {
	Requests   int64   `json:"requests"`
	DurationUS int64   `json:"duration_us"`
	Non2xx     int64   `json:"non2xx"`
	Errors     int64   `json:"errors"`
	P50US      float64 `json:"p50_us"`
	P99US      float64 `json:"p99_us"`
}

func (m measurement) rate() float64 {
	return float64(m.Requests) / (float64(m.DurationUS) / 1e6)
}

func requireWrk() error {
	if _, err := exec.LookPath("wrk"); err != nil {
		return errors.New("wrk is not installed (Debian: apt-get install wrk); the benchmark drives the servers with it")
	}
	return nil
}

// wrkScript renders rt as a wrk Lua script whose done() prints one line of
// JSON, marked, for runWrk to read.
func wrkScript(rt route) string {
	var b strings.Builder
	fmt.Fprintf(&b, "wrk.method = %s\n", luaString(rt.method))
	for k, v := range rt.headers {
		fmt.Fprintf(&b, "wrk.headers[%s] = %s\n", luaString(k), luaString(v))
	}
	if rt.body != "" {
		fmt.Fprintf(&b, "wrk.body = %s\n", luaString(rt.body))
	}
	if rt.rotate > 0 {
		before, after, _ := strings.Cut(rt.path, "%d")
		fmt.Fprintf(&b, `local n = 0
request = function()
	n = n + 1
	return wrk.format(nil, %s .. (n %% %d) .. %s)
end
`, luaString(before), rt.rotate, luaString(after))
	} else {
		fmt.Fprintf(&b, "wrk.path = %s\n", luaString(rt.path))
	}
	b.WriteString(`done = function(summary, latency, requests)
	local e = summary.errors
	io.write(string.format('BENCH {"requests":%d,"duration_us":%d,"non2xx":%d,"errors":%d,"p50_us":%f,"p99_us":%f}\n',
		summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
		latency:percentile(50), latency:percentile(99)))
end
`)
	return b.String()
}

func luaString(s string) string { return strconv.Quote(s) }

// runWrk drives the server at base with rt under l.
func runWrk(ctx context.Context, dir, base string, rt route, l load) (measurement, error) {
	script := filepath.Join(dir, "route.lua")
	if err := os.WriteFile(script, []byte(wrkScript(rt)), 0o600); err != nil {
		return measurement{}, err
	}
	connections := l.connections
	if rt.connections > 0 {
		connections = rt.connections
	}
	threads := min(l.threads, connections)
	cmd := exec.CommandContext(ctx, "wrk",
		"-t", strconv.Itoa(threads), "-c", strconv.Itoa(connections),
		// wrk takes whole seconds.
		"-d", fmt.Sprintf("%ds", max(1, int(l.duration.Round(time.Second).Seconds()))), "--timeout", "5s",
		"-s", script, base)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return measurement{}, fmt.Errorf("wrk: %w: %s", err, stderr.String())
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), "BENCH "); ok {
			var m measurement
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				return measurement{}, fmt.Errorf("wrk summary %q: %w", line, err)
			}
			return m, nil
		}
	}
	return measurement{}, fmt.Errorf("wrk printed no summary:\n%s", out)
}
