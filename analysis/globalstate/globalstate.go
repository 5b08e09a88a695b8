// Package globalstate defines an Analyzer that reports package-level
// variables holding state that functions change after initialisation.
package globalstate

import (
	"go/ast"
	"go/types"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"

	"github.com/herdhq/herd/analysis/internal/ignore"
	"github.com/herdhq/herd/analysis/internal/reach"
	"github.com/herdhq/herd/analysis/internal/write"
)

const Doc = `report package-level variables whose state is changed after init

A service run as several identical replicas must keep its state outside the
process. A package-level map, slice, sync.Map, atomic or counter that
functions change while the program runs holds data that differs from one
replica to the next and disappears on restart:

	var hits = map[string]int{}

	func count(path string) { hits[path]++ } // each replica counts its own hits

Writes are reported at the statement, naming the variable. A write is setup,
not state, when it happens in init, in main, in a Register function, in a
package-level initialiser or inside a sync.Once: globals built once and only
read afterwards, such as lookup tables and compiled regexps, are fine.
Structs declared in other packages (clients, pools, loggers, metrics) are
not looked into.

Suppress a finding with //statelint:ignore <reason> on the line or on the
variable's declaration.`

var Analyzer = &analysis.Analyzer{
	Name:     "globalstate",
	Doc:      Doc,
	URL:      "https://pkg.go.dev/github.com/herdhq/herd/analysis/globalstate",
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      run,
}

func run(pass *analysis.Pass) (any, error) {
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	var ignored *ignore.Set // parsed on the first finding

	filter := []ast.Node{(*ast.AssignStmt)(nil), (*ast.IncDecStmt)(nil), (*ast.CallExpr)(nil)}
	ins.WithStack(filter, func(n ast.Node, push bool, stack []ast.Node) bool {
		if !push || ignore.TestFile(pass.Fset, n.Pos()) {
			return true
		}
		for _, w := range write.Of(pass.TypesInfo, n) {
			path := write.Path(pass.TypesInfo, w.Target)
			if len(path) == 0 || !global(path[0].Var) {
				continue
			}
			kind, found, at := write.Kind(0), false, 0
			for i, step := range path {
				if kind, found = write.Stateful(step, w.Op, pass.Pkg); found {
					at = i
					break
				}
			}
			if !found || setup(pass.TypesInfo, pass.Pkg, stack) {
				continue
			}
			if ignored == nil {
				ignored = ignore.Parse(pass)
			}
			v := path[0].Var
			if ignored.Suppressed(w.Node.Pos(), v.Pos()) {
				continue
			}
			pass.Reportf(w.Node.Pos(), "package-level %s %s is %s after init: %s",
				kind, name(pass.Pkg, path[:at+1]), verb(w.Op), write.Advice(kind, w.Op))
		}
		return true
	})
	return nil, nil
}

// global reports whether v is a package-level variable.
func global(v *types.Var) bool {
	return v.Pkg() != nil && v.Parent() == v.Pkg().Scope()
}

// name spells the variable and fields a write goes through, up to the
// stateful one: st.byPath.
func name(pkg *types.Package, path []write.Step) string {
	var b strings.Builder
	if v := path[0].Var; v.Pkg() != pkg {
		b.WriteString(v.Pkg().Name() + ".")
	}
	for i, step := range path {
		if i > 0 {
			b.WriteString(".")
		}
		b.WriteString(step.Var.Name())
	}
	return b.String()
}

func verb(op write.Op) string {
	if op == write.Count {
		return "incremented"
	}
	return "written"
}

// setup reports whether the innermost function around the node at the end
// of stack runs once while the program starts rather than while it serves:
// init, main, a Register function, a package-level initialiser, or a
// function literal handed to sync.Once.Do, sync.OnceFunc or sync.OnceValue.
func setup(info *types.Info, pkg *types.Package, stack []ast.Node) bool {
	for i := len(stack) - 1; i >= 0; i-- {
		switch fn := stack[i].(type) {
		case *ast.FuncLit:
			return reach.Once(info, stack)
		case *ast.FuncDecl:
			name := fn.Name.Name
			if fn.Recv == nil && (name == "init" || name == "main" && pkg.Name() == "main") {
				return true
			}
			// By convention Register functions are called from init, as
			// database/sql drivers and image formats do.
			return strings.HasPrefix(name, "Register") || strings.HasPrefix(name, "MustRegister")
		}
	}
	return true // a package-level initialiser
}
