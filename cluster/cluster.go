// Package cluster runs herd as a small local fleet: N identical `herd
// serve` replicas behind HAProxy, supervised by one foreground process.
//
// The supervisor restarts a replica that exits unexpectedly, replaces
// replicas one at a time on request (a rolling restart with maxSurge 1 and
// maxUnavailable 0), and answers other invocations of `herd cluster` over
// a unix socket in its state directory. Optionally it runs throwaway
// Redis and PostgreSQL servers of its own, which it can stop and start
// again to rehearse a dependency outage without touching shared ones.
package cluster

import (
	"fmt"
	"time"
)

// Defaults of herd serve, which the supervisor needs to know how long a
// replica takes to drain and stop.
const (
	DefaultDrainDelay      = 5 * time.Second
	DefaultShutdownTimeout = 20 * time.Second
)

// Options configure a cluster.
type Options struct {
	// Dir holds the state file, the control socket, the HAProxy
	// configuration, the logs and, by default, the shared data directory.
	Dir      string
	Replicas int
	// BasePort is the first replica port. Replicas use 2N consecutive
	// ports: a rollout starts replica I's successor on the port of slot
	// I+N (or back on slot I), so old and new overlap.
	BasePort int
	// Listen is HAProxy's frontend address.
	Listen string
	// HerdBin is the herd binary run as `HerdBin serve`.
	HerdBin string
	// HAProxyBin is the haproxy binary (looked up in PATH).
	HAProxyBin string
	// DataDir is HERD_DATA_DIR for every replica, so that on the embedded
	// default they share one SQLite database and blob folder.
	DataDir string
	// OwnBackends starts a private Redis and PostgreSQL for the cluster.
	OwnBackends bool
	// SkipMigrate leaves out the `HerdBin migrate` run before the
	// replicas start.
	SkipMigrate bool
	// Env is the environment every replica starts from.
	Env []string
	// CheckInterval is HAProxy's health check interval.
	CheckInterval time.Duration
	// DrainDelay and ShutdownTimeout are the replicas' settings.
	DrainDelay, ShutdownTimeout time.Duration
	// ReadyTimeout bounds the wait for a new replica's readiness.
	ReadyTimeout time.Duration
}

func (o Options) slots() int { return 2 * o.Replicas }

func (o Options) slotPort(slot int) int { return o.BasePort + slot }

// exitGrace is how long a replica may take from SIGTERM to exit.
func (o Options) exitGrace() time.Duration {
	return o.DrainDelay + o.ShutdownTimeout + 5*time.Second
}

// Status is the supervisor's account of the cluster.
type Status struct {
	Dir   string `json:"dir"`
	Ready bool   `json:"ready"`
	// URL is the load balancer's.
	URL           string          `json:"url"`
	SupervisorPID int             `json:"supervisor_pid"`
	HAProxy       HAProxyStatus   `json:"haproxy"`
	Replicas      []ReplicaStatus `json:"replicas"`
	Backends      []BackendStatus `json:"backends,omitempty"`
	CheckInterval Duration        `json:"check_interval"`
	DrainDelay    Duration        `json:"drain_delay"`
	Events        []Event         `json:"events"`
}

// HAProxyStatus describes the load balancer process.
type HAProxyStatus struct {
	PID         int    `json:"pid"`
	Config      string `json:"config"`
	StatsSocket string `json:"stats_socket"`
	Log         string `json:"log"`
}

// ReplicaStatus describes one replica.
type ReplicaStatus struct {
	Index      int    `json:"index"`
	PID        int    `json:"pid"`
	Port       int    `json:"port"`
	URL        string `json:"url"`
	InstanceID string `json:"instance_id"`
	// Restarts counts restarts after unexpected exits (not rollouts).
	Restarts int    `json:"restarts"`
	Gen      int    `json:"generation"`
	Log      string `json:"log"`
	// LB is HAProxy's view of the replica's slot: UP, DOWN, ...
	LB string `json:"lb,omitempty"`
}

// BackendStatus describes a dependency the cluster runs itself.
type BackendStatus struct {
	Name    string `json:"name"`
	URL     string `json:"url"`
	PID     int    `json:"pid,omitempty"`
	Running bool   `json:"running"`
}

// Event is one step the supervisor took, for progress lines and for
// markers on herd prove's charts.
type Event struct {
	Time time.Time `json:"time"`
	// Kind is one of migrate, start, ready, rotation, sigterm, sigkill, exit, restart,
	// rollout, backend-stop, backend-start, down.
	Kind    string `json:"kind"`
	Replica int    `json:"replica"` // -1 when the event concerns no replica
	Message string `json:"message"`
}

func (e Event) String() string {
	return fmt.Sprintf("%s %s", e.Time.Format("15:04:05.000"), e.Message)
}

// Duration is a time.Duration that reads and writes JSON as "500ms".
type Duration time.Duration

func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	*d = Duration(v)
	return err
}
