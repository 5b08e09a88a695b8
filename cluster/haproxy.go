package cluster

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// HAProxyConfig describes the load balancer in front of the replicas.
type HAProxyConfig struct {
	// Listen is the frontend's address, host:port.
	Listen string
	// StatsSocket is the path of the admin socket; empty leaves it out.
	StatsSocket string
	// Servers are the backend slots, in order. A slot nobody listens on
	// fails its health checks and gets no traffic.
	Servers []HAProxyServer
	// CheckInterval is the health check period (HAProxy's inter). With
	// fall 2, a replica whose readiness turns 503 leaves rotation within
	// about two intervals, which must stay well inside herd's drain delay.
	CheckInterval time.Duration
}

// HAProxyServer is one backend slot.
type HAProxyServer struct {
	Name string
	Addr string
}

// DefaultCheckInterval leaves a draining replica out of rotation after
// about 1 s (fall 2), a fifth of herd's default 5 s drain delay.
const DefaultCheckInterval = 500 * time.Millisecond

// BackendName is the name of the HAProxy backend holding the replicas.
const BackendName = "replicas"

var haproxyTemplate = template.Must(template.New("haproxy.cfg").Parse(`# HAProxy in front of herd replicas, written by herd cluster.
# Reusable as it is: haproxy -f <this file>.
global
    log stdout format raw local0 info
    maxconn 4096
{{- if .StatsSocket}}
    stats socket {{.StatsSocket}} mode 600 level admin
{{- end}}

defaults
    mode http
    log global
    option httplog
    option dontlognull
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout http-request 10s
    timeout http-keep-alive 10s
    timeout queue 5s
    timeout check 1s
    # A request that never reached a replica (connection refused: the
    # replica is gone) or whose replica died before answering anything is
    # tried again on another replica. Re-sending a request that may have
    # been processed is only safe when a replay has no effect, so the
    # backend below turns these retries off for POST and PATCH requests
    # that carry no Idempotency-Key. herd answers a replayed key with the
    # stored response, on any replica.
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response
    unique-id-format %{+X}o%ci%cp%Ts%rt%pid

frontend herd
    bind {{.Listen}}
    default_backend {{.Backend}}

backend {{.Backend}}
    balance roundrobin
    option httpchk GET /health/ready
    http-check expect status 200
    # fall 2 at this interval takes a draining replica out of rotation
    # long before herd's drain delay ends; rise 1 brings a new replica in
    # on its first ready answer.
    default-server inter {{.Inter}} fastinter {{.Inter}} downinter {{.Inter}} fall 2 rise 1
    acl unsafe_method method POST PATCH
    acl has_idempotency_key req.hdr(Idempotency-Key) -m found
    http-request disable-l7-retry if unsafe_method !has_idempotency_key
    # Errors the balancer makes itself follow herd's contract: RFC 9457
    # problem documents.
    http-error status 502 content-type application/problem+json lf-string '{"type":"about:blank","title":"Bad Gateway","status":502,"detail":"the replica gave no valid answer","request_id":"%ID"}'
    http-error status 503 content-type application/problem+json lf-string '{"type":"about:blank","title":"Service Unavailable","status":503,"detail":"no replica is ready","request_id":"%ID"}'
    http-error status 504 content-type application/problem+json lf-string '{"type":"about:blank","title":"Gateway Timeout","status":504,"detail":"the replica did not answer in time","request_id":"%ID"}'
{{- range .Servers}}
    server {{.Name}} {{.Addr}} check
{{- end}}
`))

// Render returns the configuration file's text.
func (c HAProxyConfig) Render() ([]byte, error) {
	if c.Listen == "" {
		return nil, errors.New("haproxy: no listen address")
	}
	if len(c.Servers) == 0 {
		return nil, errors.New("haproxy: no servers")
	}
	inter := c.CheckInterval
	if inter <= 0 {
		inter = DefaultCheckInterval
	}
	var buf bytes.Buffer
	err := haproxyTemplate.Execute(&buf, struct {
		HAProxyConfig
		Backend string
		Inter   string
	}{c, BackendName, fmt.Sprintf("%dms", inter.Milliseconds())})
	return buf.Bytes(), err
}

// FindHAProxy returns the path of the haproxy binary, or an error that
// says how to install it.
func FindHAProxy(bin string) (string, error) {
	if bin == "" {
		bin = "haproxy"
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		return "", fmt.Errorf("%s not found: herd cluster puts HAProxy in front of the replicas; install it with `apt-get install haproxy` (Debian/Ubuntu), `brew install haproxy` (macOS), or pass --haproxy PATH", bin)
	}
	return path, nil
}

// CheckHAProxyConfig runs haproxy -c on the file at path.
func CheckHAProxyConfig(ctx context.Context, bin, path string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-c", "-q", "-f", path).CombinedOutput()
	if err != nil {
		return fmt.Errorf("haproxy -c %s: %v: %s", path, err, bytes.TrimSpace(out))
	}
	return nil
}

// ServerState is one row of HAProxy's view of its servers.
type ServerState struct {
	Backend string
	Server  string
	// Status is HAProxy's word: UP, DOWN, "UP 1/2" (going down), NOLB, MAINT...
	Status string
}

// QueryServers asks HAProxy's admin socket for the state of every server.
func QueryServers(ctx context.Context, socket string) ([]ServerState, error) {
	out, err := haproxyCommand(ctx, socket, "show stat")
	if err != nil {
		return nil, err
	}
	return parseShowStat(out)
}

// BackendCounters are HAProxy's running totals for the replicas backend.
type BackendCounters struct {
	// Retries counts requests HAProxy sent again after a failed attempt;
	// Redispatches those it sent to another replica.
	Retries, Redispatches int
	// Responses5xx counts 5xx answers, the balancer's own included.
	Responses5xx int
}

// QueryBackend asks HAProxy's admin socket for the replicas backend's
// counters.
func QueryBackend(ctx context.Context, socket string) (BackendCounters, error) {
	var c BackendCounters
	out, err := haproxyCommand(ctx, socket, "show stat")
	if err != nil {
		return c, err
	}
	rows, col, err := readShowStat(out)
	if err != nil {
		return c, err
	}
	for _, row := range rows {
		if row[col["pxname"]] != BackendName || row[col["svname"]] != "BACKEND" {
			continue
		}
		num := func(name string) int {
			i, ok := col[name]
			if !ok || i >= len(row) {
				return 0
			}
			n, _ := strconv.Atoi(row[i])
			return n
		}
		return BackendCounters{Retries: num("wretr"), Redispatches: num("wredis"), Responses5xx: num("hrsp_5xx")}, nil
	}
	return c, fmt.Errorf("haproxy show stat: no backend %q", BackendName)
}

func haproxyCommand(ctx context.Context, socket, command string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", socket)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	if _, err := io.WriteString(conn, command+"\n"); err != nil {
		return nil, err
	}
	return io.ReadAll(bufio.NewReader(conn))
}

// parseShowStat reads the servers' states from the CSV of "show stat".
func parseShowStat(out []byte) ([]ServerState, error) {
	rows, col, err := readShowStat(out)
	if err != nil {
		return nil, err
	}
	px, sv, st := col["pxname"], col["svname"], col["status"]
	var states []ServerState
	for _, row := range rows {
		if len(row) <= st || row[sv] == "FRONTEND" || row[sv] == "BACKEND" {
			continue
		}
		states = append(states, ServerState{Backend: row[px], Server: row[sv], Status: row[st]})
	}
	return states, nil
}

// readShowStat splits the CSV of "show stat", whose header line starts
// with "# ", into rows and a column index by name.
func readShowStat(out []byte) ([][]string, map[string]int, error) {
	text := strings.TrimPrefix(string(out), "# ")
	r := csv.NewReader(strings.NewReader(text))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		return nil, nil, fmt.Errorf("haproxy show stat: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil, errors.New("haproxy show stat: empty answer")
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	for _, name := range []string{"pxname", "svname", "status"} {
		if _, ok := col[name]; !ok {
			return nil, nil, fmt.Errorf("haproxy show stat: no %s column", name)
		}
	}
	return rows[1:], col, nil
}
