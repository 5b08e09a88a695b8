// The whole file runs only in a local tool, never as a replica.
//
//statelint:ignore this file is a single local supervisor, not a replica
package ignored

var restarts int

func Restart() { restarts++ }
