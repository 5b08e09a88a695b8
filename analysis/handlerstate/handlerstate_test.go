package handlerstate_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/herdhq/herd/analysis/handlerstate"
)

func Test(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), handlerstate.Analyzer,
		"stateful", "netapp", "chiapp", "mainservice")
}
