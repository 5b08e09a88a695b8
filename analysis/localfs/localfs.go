// Package localfs defines an Analyzer that reports writes to the local
// filesystem from code that serves HTTP requests.
package localfs

import (
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
	"golang.org/x/tools/go/types/typeutil"

	"github.com/herdhq/herd/analysis/internal/ignore"
	"github.com/herdhq/herd/analysis/internal/reach"
)

const Doc = `report writes to the local filesystem from code that serves requests

A file a replica writes while serving a request exists on that replica's
disk only: the next request may land on another replica that cannot see
it, and the file is gone when the replica is replaced.

	func upload(w http.ResponseWriter, r *http.Request) {
		os.WriteFile("uploads/"+name, data, 0o644) // only this replica has it
	}

Reported are os.Create, os.WriteFile, os.OpenFile with a write flag,
os.Mkdir, os.MkdirAll, os.Rename, os.Remove, os.RemoveAll and
ioutil.WriteFile, in handlers and in what they call within the package.
Temporary files are exempt: os.CreateTemp, os.MkdirTemp, and paths built
from their results or from os.TempDir(). Writes made while starting up
(in main, init or a constructor not called by a handler) are not reported.

Suppress a finding with //statelint:ignore <reason> on the line or on the
enclosing function's declaration.`

var Analyzer = &analysis.Analyzer{
	Name:     "localfs",
	Doc:      Doc,
	URL:      "https://pkg.go.dev/github.com/herdhq/herd/analysis/localfs",
	Requires: []*analysis.Analyzer{inspect.Analyzer, reach.Analyzer},
	Run:      run,
}

// writers maps each function that writes to the filesystem to the index of
// the argument naming what it writes (for Rename, the destination).
var writers = map[string]map[string]int{
	"os": {
		"Create": 0, "WriteFile": 0, "OpenFile": 0, "Mkdir": 0, "MkdirAll": 0,
		"Rename": 1, "Remove": 0, "RemoveAll": 0,
	},
	"io/ioutil": {"WriteFile": 0},
}

// temps are the functions whose results are temporary paths or files.
var temps = map[string]map[string]bool{
	"os":        {"TempDir": true, "CreateTemp": true, "MkdirTemp": true},
	"io/ioutil": {"TempDir": true, "TempFile": true},
}

func run(pass *analysis.Pass) (any, error) {
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	res := pass.ResultOf[reach.Analyzer].(*reach.Result)
	if len(res.Handlers) == 0 {
		return nil, nil
	}
	var ignored *ignore.Set

	ins.WithStack([]ast.Node{(*ast.CallExpr)(nil)}, func(n ast.Node, push bool, stack []ast.Node) bool {
		call := n.(*ast.CallExpr)
		if !push || ignore.TestFile(pass.Fset, n.Pos()) {
			return true
		}
		fn, ok := typeutil.Callee(pass.TypesInfo, call).(*types.Func)
		if !ok || fn.Pkg() == nil || fn.Signature().Recv() != nil {
			return true
		}
		arg, ok := writers[fn.Pkg().Path()][fn.Name()]
		if !ok || arg >= len(call.Args) {
			return true
		}
		outer := res.Outermost(stack)
		if outer == nil {
			return true
		}
		if fn.Name() == "OpenFile" && fn.Pkg().Path() == "os" && readOnly(pass.TypesInfo, fn.Pkg(), call) {
			return true
		}
		if temporary(pass.TypesInfo, call.Args[arg], enclosingDecl(stack), nil) {
			return true
		}
		if ignored == nil {
			ignored = ignore.Parse(pass)
		}
		if ignored.Suppressed(call.Pos(), declPos(stack)) {
			return true
		}
		pass.Reportf(call.Pos(), "%s.%s writes to this replica's local disk while serving requests: "+
			"other replicas cannot see the file and it is lost when the replica is replaced; "+
			"store it in object storage (S3, GCS, the blob store) or a database", fn.Pkg().Name(), fn.Name())
		return true
	})
	return nil, nil
}

// readOnly reports whether the flag of an os.OpenFile call is a constant
// without any flag that writes. The flag values come from the os package
// being compiled against, so they are right for the target platform.
func readOnly(info *types.Info, os *types.Package, call *ast.CallExpr) bool {
	if len(call.Args) < 2 {
		return false
	}
	tv, ok := info.Types[call.Args[1]]
	if !ok || tv.Value == nil {
		return false // not a constant: it might write
	}
	flags, ok := constant.Int64Val(tv.Value)
	if !ok {
		return false
	}
	var writes int64
	for _, name := range []string{"O_WRONLY", "O_RDWR", "O_CREATE", "O_APPEND", "O_TRUNC"} {
		if c, ok := os.Scope().Lookup(name).(*types.Const); ok {
			if v, ok := constant.Int64Val(c.Val()); ok {
				writes |= v
			}
		}
	}
	return flags&writes == 0
}

// temporary reports whether e names a temporary file or directory: it calls
// os.TempDir, os.CreateTemp or os.MkdirTemp, or uses a variable of scope
// that was assigned from such an expression.
func temporary(info *types.Info, e ast.Expr, scope ast.Node, seen map[*types.Var]bool) bool {
	if seen == nil {
		seen = make(map[*types.Var]bool)
	}
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		if found {
			return false
		}
		switch n := n.(type) {
		case *ast.CallExpr:
			if fn, ok := typeutil.Callee(info, n).(*types.Func); ok && fn.Pkg() != nil && temps[fn.Pkg().Path()][fn.Name()] {
				found = true
			}
		case *ast.Ident:
			if v, ok := info.Uses[n].(*types.Var); ok && !seen[v] && scope != nil {
				seen[v] = true
				found = assignedTemporary(info, v, scope, seen)
			}
		}
		return !found
	})
	return found
}

// assignedTemporary reports whether some assignment to v within scope
// gives it a temporary path or file.
func assignedTemporary(info *types.Info, v *types.Var, scope ast.Node, seen map[*types.Var]bool) bool {
	found := false
	check := func(lhs []ast.Expr, rhs []ast.Expr) {
		for i, l := range lhs {
			id, ok := l.(*ast.Ident)
			if !ok || (info.Defs[id] != v && info.Uses[id] != v) {
				continue
			}
			// f, err := os.CreateTemp(...) assigns both from one call.
			r := rhs[0]
			if len(rhs) == len(lhs) {
				r = rhs[i]
			}
			if temporary(info, r, scope, seen) {
				found = true
			}
		}
	}
	ast.Inspect(scope, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			check(n.Lhs, n.Rhs)
		case *ast.ValueSpec:
			if len(n.Values) > 0 {
				lhs := make([]ast.Expr, len(n.Names))
				for i, name := range n.Names {
					lhs[i] = name
				}
				check(lhs, n.Values)
			}
		}
		return !found
	})
	return found
}

func enclosingDecl(stack []ast.Node) ast.Node {
	for _, n := range stack {
		if d, ok := n.(*ast.FuncDecl); ok {
			return d
		}
	}
	return nil
}

func declPos(stack []ast.Node) (pos token.Pos) {
	if d := enclosingDecl(stack); d != nil {
		return d.Pos()
	}
	return token.NoPos
}
