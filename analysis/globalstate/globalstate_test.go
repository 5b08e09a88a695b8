package globalstate_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/herdhq/herd/analysis/globalstate"
)

func Test(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), globalstate.Analyzer, "globals", "netapp", "ignored")
}
