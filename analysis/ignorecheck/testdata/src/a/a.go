package a

//statelint:ignore // want `//statelint:ignore needs a reason: say why this state is safe with several replicas`
var hits int

var (
	//statelint:ignore per-replica debug counter
	polls int
)

func Tick() {
	hits++  //statelint:ignore // want `needs a reason`
	polls++ //statelint:ignore per-replica debug counter // a note, not part of the reason
	//statelint:ignoreall is some other tool's directive
	polls++
}
