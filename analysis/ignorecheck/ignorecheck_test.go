package ignorecheck_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/herdhq/herd/analysis/ignorecheck"
)

func Test(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), ignorecheck.Analyzer, "a")
}
