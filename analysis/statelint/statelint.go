// Package statelint lists the analyzers that find in-process state in Go
// services, for drivers that run them together: cmd/statelint, go vet and
// the golangci-lint plugin.
package statelint

import (
	"golang.org/x/tools/go/analysis"

	"github.com/herdhq/herd/analysis/globalstate"
	"github.com/herdhq/herd/analysis/handlerstate"
	"github.com/herdhq/herd/analysis/ignorecheck"
	"github.com/herdhq/herd/analysis/localfs"
	"github.com/herdhq/herd/analysis/memstore"
)

// Analyzers are all of statelint's analyzers.
var Analyzers = []*analysis.Analyzer{
	globalstate.Analyzer,
	handlerstate.Analyzer,
	localfs.Analyzer,
	memstore.Analyzer,
	ignorecheck.Analyzer,
}
