// Package reach finds the code of a package that runs while serving a
// request: HTTP handlers and what they call within the package.
//
// Handlers are functions, methods and function literals with the signature
// (http.ResponseWriter, *http.Request), which takes in ServeHTTP methods,
// handler funcs passed to a mux (net/http or chi-style) and the closures
// that handler makers return. From them the static call graph of the
// package's own functions is walked to a fixpoint. A call through an
// interface reaches every method of the package with that name, since any of
// them may be the one behind it.
//
// The walk stops at the package boundary: a handler in one package calling
// a store in another reaches nothing in the store's package.
package reach

import (
	"go/ast"
	"go/types"
	"reflect"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
	"golang.org/x/tools/go/types/typeutil"

	"github.com/herdhq/herd/analysis/internal/ignore"
)

// Analyzer computes a *Result for each package. It reports nothing itself.
var Analyzer = &analysis.Analyzer{
	Name:       "statelintreach",
	Doc:        "find the functions of a package that run while serving an HTTP request",
	URL:        "https://pkg.go.dev/github.com/herdhq/herd/analysis/internal/reach",
	Requires:   []*analysis.Analyzer{inspect.Analyzer},
	Run:        run,
	ResultType: reflect.TypeFor[*Result](),
}

// Result is the request-serving code of one package.
type Result struct {
	// Decls maps each function and method declared in the package to its
	// declaration.
	Decls map[*types.Func]*ast.FuncDecl
	// Handlers are the roots: the *ast.FuncDecl and *ast.FuncLit nodes
	// with a handler signature.
	Handlers []ast.Node
	reached  map[ast.Node]bool
	byName   map[string][]*ast.FuncDecl // methods, for calls through interfaces
}

// Reached reports whether fn (an *ast.FuncDecl or *ast.FuncLit) runs while
// serving a request.
func (r *Result) Reached(fn ast.Node) bool { return r.reached[fn] }

// Outermost returns the outermost function in stack that runs while
// serving a request, or nil when the innermost node of stack is not in such
// code. Function literals inside reached functions are reached with them.
func (r *Result) Outermost(stack []ast.Node) ast.Node {
	for _, n := range stack {
		if r.reached[n] {
			return n
		}
	}
	return nil
}

// From returns roots and the functions of the package they reach through
// calls, method values and functions passed as values.
func (r *Result) From(info *types.Info, roots []ast.Node) map[ast.Node]bool {
	seen := make(map[ast.Node]bool)
	work := append([]ast.Node(nil), roots...)
	for _, n := range work {
		seen[n] = true
	}
	add := func(d *ast.FuncDecl) {
		if d != nil && !seen[d] {
			seen[d] = true
			work = append(work, d)
		}
	}
	for len(work) > 0 {
		n := work[len(work)-1]
		work = work[:len(work)-1]
		ast.Inspect(n, func(n ast.Node) bool {
			id, ok := n.(*ast.Ident)
			if !ok {
				return true
			}
			fn, ok := info.Uses[id].(*types.Func)
			if !ok {
				return true
			}
			fn = fn.Origin()
			add(r.Decls[fn])
			if recv := fn.Signature().Recv(); recv != nil && types.IsInterface(recv.Type()) {
				for _, d := range r.byName[fn.Name()] {
					add(d)
				}
			}
			return true
		})
	}
	return seen
}

func run(pass *analysis.Pass) (any, error) {
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	res := &Result{
		Decls:   make(map[*types.Func]*ast.FuncDecl),
		reached: make(map[ast.Node]bool),
	}
	byName := make(map[string][]*ast.FuncDecl)

	ins.Preorder([]ast.Node{(*ast.FuncDecl)(nil), (*ast.FuncLit)(nil)}, func(n ast.Node) {
		var sig *types.Signature
		switch n := n.(type) {
		case *ast.FuncDecl:
			fn, ok := pass.TypesInfo.Defs[n.Name].(*types.Func)
			if !ok {
				return
			}
			res.Decls[fn] = n
			if n.Recv != nil {
				byName[fn.Name()] = append(byName[fn.Name()], n)
			}
			sig = fn.Signature()
		case *ast.FuncLit:
			sig, _ = pass.TypesInfo.TypeOf(n).(*types.Signature)
		}
		// Handlers in tests serve test requests only.
		if sig != nil && IsHandler(sig) && !ignore.TestFile(pass.Fset, n.Pos()) {
			res.Handlers = append(res.Handlers, n)
		}
	})

	res.byName = byName
	res.reached = res.From(pass.TypesInfo, res.Handlers)
	return res, nil
}

// IsHandler reports whether sig is func(http.ResponseWriter, *http.Request),
// with or without a receiver.
func IsHandler(sig *types.Signature) bool {
	params := sig.Params()
	if params.Len() != 2 || sig.Results().Len() != 0 {
		return false
	}
	if !isNetHTTP(params.At(0).Type(), "ResponseWriter") {
		return false
	}
	ptr, ok := types.Unalias(params.At(1).Type()).(*types.Pointer)
	return ok && isNetHTTP(ptr.Elem(), "Request")
}

func isNetHTTP(t types.Type, name string) bool {
	named, ok := types.Unalias(t).(*types.Named)
	if !ok {
		return false
	}
	obj := named.Obj()
	return obj.Pkg() != nil && obj.Pkg().Path() == "net/http" && obj.Name() == name
}

// Once reports whether the innermost function around the node at the end of
// stack is a function literal handed to sync.Once.Do, sync.OnceFunc,
// sync.OnceValue or sync.OnceValues: it runs once per process, so what it
// writes is initialisation, however late it happens.
func Once(info *types.Info, stack []ast.Node) bool {
	for i := len(stack) - 1; i > 0; i-- {
		switch stack[i].(type) {
		case *ast.FuncDecl:
			return false
		case *ast.FuncLit:
			call, ok := stack[i-1].(*ast.CallExpr)
			return ok && onceCall(info, call) && isArg(call, stack[i])
		}
	}
	return false
}

func onceCall(info *types.Info, call *ast.CallExpr) bool {
	fn, ok := typeutil.Callee(info, call).(*types.Func)
	if !ok || fn.Pkg() == nil || fn.Pkg().Path() != "sync" {
		return false
	}
	if recv := fn.Signature().Recv(); recv != nil {
		t := recv.Type()
		if p, ok := types.Unalias(t).(*types.Pointer); ok {
			t = p.Elem()
		}
		named, ok := types.Unalias(t).(*types.Named)
		return ok && named.Obj().Name() == "Once"
	}
	return strings.HasPrefix(fn.Name(), "Once")
}

func isArg(call *ast.CallExpr, n ast.Node) bool {
	for _, arg := range call.Args {
		if arg == n {
			return true
		}
	}
	return false
}
