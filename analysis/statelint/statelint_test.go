package statelint_test

import (
	"testing"

	"golang.org/x/tools/go/analysis"

	"github.com/herdhq/herd/analysis/statelint"
)

// The drivers take the list as it is, so it must hold valid analyzers with
// the documentation every x/tools pass has.
func TestAnalyzers(t *testing.T) {
	if err := analysis.Validate(statelint.Analyzers); err != nil {
		t.Fatal(err)
	}
	seen := make(map[string]bool)
	for _, a := range statelint.Analyzers {
		if a.Doc == "" || a.URL == "" {
			t.Errorf("%s: Doc and URL must be set", a.Name)
		}
		if seen[a.Name] {
			t.Errorf("%s listed twice", a.Name)
		}
		seen[a.Name] = true
	}
	for _, name := range []string{"globalstate", "handlerstate", "localfs", "memstore", "ignorecheck"} {
		if !seen[name] {
			t.Errorf("%s is missing", name)
		}
	}
}
