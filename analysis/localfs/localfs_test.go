package localfs_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/herdhq/herd/analysis/localfs"
)

func Test(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), localfs.Analyzer, "uploads")
}
