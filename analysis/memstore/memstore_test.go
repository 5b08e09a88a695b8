package memstore_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/herdhq/herd/analysis/memstore"
)

func Test(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), memstore.Analyzer, "caches", "sessionapp", "limits")
}
