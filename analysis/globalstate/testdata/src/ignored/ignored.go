package ignored

// A replica's own readiness is per process by nature.
var ready int32

//statelint:ignore counts this replica's in-flight requests for its own shutdown
var inflight int

var (
	//statelint:ignore each replica reports its own uptime ticks
	ticks int
	polls int
)

func Tick() {
	inflight++
	ticks++
	ready++ //statelint:ignore readiness belongs to this replica
	//statelint:ignore per-replica poll count for the debug page
	polls++
	polls++ // want `package-level counter polls is incremented`
	//statelint:ignore
	polls++ // want `package-level counter polls is incremented`
}
