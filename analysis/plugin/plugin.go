// Package plugin registers statelint as a golangci-lint module plugin.
//
// Name it in .custom-gcl.yml to build a golangci-lint binary that holds
// statelint, then enable the linter "statelint" in .golangci.yml. Its
// settings may disable analyzers by name:
//
//	settings:
//	  disable: [localfs]
package plugin

import (
	"fmt"
	"slices"

	"github.com/golangci/plugin-module-register/register"
	"golang.org/x/tools/go/analysis"

	"github.com/herdhq/herd/analysis/statelint"
)

func init() {
	register.Plugin("statelint", New)
}

// Settings are the plugin's settings in .golangci.yml.
type Settings struct {
	// Disable names analyzers not to run.
	Disable []string `json:"disable"`
}

type plugin struct {
	analyzers []*analysis.Analyzer
}

// New builds the plugin from its settings; golangci-lint calls it.
func New(settings any) (register.LinterPlugin, error) {
	s, err := register.DecodeSettings[Settings](settings)
	if err != nil {
		return nil, fmt.Errorf("statelint settings: %w", err)
	}
	var p plugin
	for _, a := range statelint.Analyzers {
		if !slices.Contains(s.Disable, a.Name) {
			p.analyzers = append(p.analyzers, a)
		}
	}
	for _, name := range s.Disable {
		if !slices.ContainsFunc(statelint.Analyzers, func(a *analysis.Analyzer) bool { return a.Name == name }) {
			return nil, fmt.Errorf("statelint settings: no analyzer named %q to disable", name)
		}
	}
	return &p, nil
}

func (p *plugin) BuildAnalyzers() ([]*analysis.Analyzer, error) { return p.analyzers, nil }

// GetLoadMode asks for type information: every analyzer needs it.
func (p *plugin) GetLoadMode() string { return register.LoadModeTypesInfo }
