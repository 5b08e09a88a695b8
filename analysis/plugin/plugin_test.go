package plugin_test

import (
	"testing"

	"github.com/golangci/plugin-module-register/register"

	_ "github.com/herdhq/herd/analysis/plugin"
	"github.com/herdhq/herd/analysis/statelint"
)

// golangci-lint finds the plugin by name in the registry, so the test goes
// through the registry too.
func newPlugin(t *testing.T, settings any) (register.LinterPlugin, error) {
	t.Helper()
	newFn, err := register.GetPlugin("statelint")
	if err != nil {
		t.Fatal(err)
	}
	return newFn(settings)
}

func TestNew(t *testing.T) {
	p, err := newPlugin(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.GetLoadMode(), register.LoadModeTypesInfo; got != want {
		t.Errorf("load mode %q, want %q", got, want)
	}
	as, err := p.BuildAnalyzers()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(as), len(statelint.Analyzers); got != want {
		t.Errorf("%d analyzers, want %d", got, want)
	}
}

func TestDisable(t *testing.T) {
	p, err := newPlugin(t, map[string]any{"disable": []string{"localfs"}})
	if err != nil {
		t.Fatal(err)
	}
	as, _ := p.BuildAnalyzers()
	for _, a := range as {
		if a.Name == "localfs" {
			t.Error("localfs runs though disabled")
		}
	}
	if got, want := len(as), len(statelint.Analyzers)-1; got != want {
		t.Errorf("%d analyzers, want %d", got, want)
	}
}

func TestBadSettings(t *testing.T) {
	for name, settings := range map[string]any{
		"unknown analyzer": map[string]any{"disable": []string{"nosuch"}},
		"unknown setting":  map[string]any{"enable": []string{"localfs"}},
	} {
		if _, err := newPlugin(t, settings); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
