// Package ignorecheck defines an Analyzer that reports //statelint:ignore
// directives that give no reason.
package ignorecheck

import (
	"golang.org/x/tools/go/analysis"

	"github.com/herdhq/herd/analysis/internal/ignore"
)

const Doc = `report //statelint:ignore directives without a reason

A suppression is a claim that some in-process state is safe with several
replicas, and the next reader needs to know why:

	//statelint:ignore readiness belongs to this replica alone

A directive without a reason suppresses nothing, and this analyzer reports
it. It lives apart from the other analyzers so that each bare directive is
reported once, however many analyzers look at the line.`

var Analyzer = &analysis.Analyzer{
	Name: "ignorecheck",
	Doc:  Doc,
	URL:  "https://pkg.go.dev/github.com/herdhq/herd/analysis/ignorecheck",
	Run:  run,
}

func run(pass *analysis.Pass) (any, error) {
	for _, d := range ignore.Parse(pass).All() {
		if d.Reason == "" {
			pass.Reportf(d.Pos, "//statelint:ignore needs a reason: say why this state is safe with several replicas")
		}
	}
	return nil, nil
}
