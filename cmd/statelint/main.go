// Command statelint finds in-process state in Go services: the maps,
// counters, local files and in-memory stores that break when a service runs
// as several replicas.
//
// Run it on packages, or let go vet drive it:
//
//	statelint ./...
//	go vet -vettool=$(which statelint) ./...
//
// multichecker serves both: given a single *.cfg argument, as go vet passes,
// it speaks go vet's unitchecker protocol.
package main

import (
	"golang.org/x/tools/go/analysis/multichecker"

	"github.com/herdhq/herd/analysis/statelint"
)

func main() { multichecker.Main(statelint.Analyzers...) }
