// Package handlerstate defines an Analyzer that reports state kept in the
// fields of long-lived values that serve HTTP requests.
package handlerstate

import (
	"go/ast"
	"go/token"
	"go/types"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
	"golang.org/x/tools/go/types/typeutil"

	"github.com/herdhq/herd/analysis/internal/ignore"
	"github.com/herdhq/herd/analysis/internal/reach"
	"github.com/herdhq/herd/analysis/internal/write"
)

const Doc = `report fields of long-lived request-serving values that hold state

A value built once and shared by every request (a server, a service, a
handler) lives as long as the process. When its methods change a map,
slice, sync.Map, atomic or counter field, each replica of the service ends
up with its own version of that data, and a restart loses it:

	type Service struct {
		cache   map[string]any
		counter int
	}

	func (s *Service) Get(w http.ResponseWriter, r *http.Request) {
		s.counter++ // each replica counts separately
	}

Long-lived values are those of types with a ServeHTTP method or another
method taking (http.ResponseWriter, *http.Request), types whose methods are
registered on a mux, values that handlers use but did not create (built in
main or a constructor and captured, or package-level), and the values held
in the fields of all of these. Their methods are checked, along with what
handlers and those methods call within the package; methods called only
while the program starts (from init, main, run or a New constructor) are
not. Variables captured by a handler closure and changed by it are reported
too. Values created while serving a request are request-scoped and fine.

Suppress a finding with //statelint:ignore <reason> on the line, on the
field's declaration, or on the declaration of the type holding the field
(for a value that is one per process by nature, such as a supervisor).`

var Analyzer = &analysis.Analyzer{
	Name:     "handlerstate",
	Doc:      Doc,
	URL:      "https://pkg.go.dev/github.com/herdhq/herd/analysis/handlerstate",
	Requires: []*analysis.Analyzer{inspect.Analyzer, reach.Analyzer},
	Run:      run,
}

func run(pass *analysis.Pass) (any, error) {
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	res := pass.ResultOf[reach.Analyzer].(*reach.Result)
	long := longLived(pass, ins, res)
	if len(long) == 0 && len(res.Handlers) == 0 {
		return nil, nil
	}
	methods := checkedMethods(pass, ins, res, long)
	var ignored *ignore.Set

	filter := []ast.Node{(*ast.AssignStmt)(nil), (*ast.IncDecStmt)(nil), (*ast.CallExpr)(nil)}
	ins.WithStack(filter, func(n ast.Node, push bool, stack []ast.Node) bool {
		if !push || ignore.TestFile(pass.Fset, n.Pos()) {
			return true
		}
		outer := res.Outermost(stack)
		if outer == nil && !inAny(stack, methods) || reach.Once(pass.TypesInfo, stack) {
			return true
		}
		for _, w := range write.Of(pass.TypesInfo, n) {
			path := write.Path(pass.TypesInfo, w.Target)
			if len(path) == 0 || global(path[0].Var) {
				continue // globalstate's business
			}
			what, decl, owner, kind, ok := stateful(pass.Pkg, path, w.Op, outer, long)
			if !ok {
				continue
			}
			if ignored == nil {
				ignored = ignore.Parse(pass)
			}
			if ignored.Suppressed(w.Node.Pos(), decl, owner) {
				continue
			}
			verb := "written"
			if w.Op == write.Count {
				verb = "incremented"
			}
			pass.Reportf(w.Node.Pos(), "%s %s is %s while serving requests: %s",
				kind, what, verb, write.Advice(kind, w.Op))
		}
		return true
	})
	return nil, nil
}

// stateful finds the step of path that holds request-spanning state: a
// variable captured from outside the handler, or a field of a long-lived
// type. It returns how to name it, where it is declared and, for a field,
// where the type holding it is declared.
func stateful(pkg *types.Package, path []write.Step, op write.Op, outer ast.Node, long map[*types.TypeName]bool) (what string, decl, owner token.Pos, kind write.Kind, ok bool) {
	root := path[0].Var
	if outer != nil && (root.Pos() < outer.Pos() || root.Pos() >= outer.End()) {
		for i, step := range path {
			if kind, ok := write.Stateful(step, op, pkg); ok {
				if tn := local(step.Owner, pkg); tn != nil && long[tn] {
					return "field " + tn.Name() + "." + step.Var.Name(), step.Var.Pos(), tn.Pos(), kind, true
				}
				return "variable " + spell(path[:i+1]) + " captured by a handler", root.Pos(), token.NoPos, kind, true
			}
		}
		return "", 0, 0, 0, false
	}
	for _, step := range path[1:] {
		tn := local(step.Owner, pkg)
		if tn == nil || !long[tn] {
			continue
		}
		if kind, ok := write.Stateful(step, op, pkg); ok {
			return "field " + tn.Name() + "." + step.Var.Name(), step.Var.Pos(), tn.Pos(), kind, true
		}
	}
	return "", 0, 0, 0, false
}

func spell(path []write.Step) string {
	names := make([]string, len(path))
	for i, s := range path {
		names[i] = s.Var.Name()
	}
	return strings.Join(names, ".")
}

func global(v *types.Var) bool {
	return v.Pkg() != nil && v.Parent() == v.Pkg().Scope()
}

// local returns the type name of t, or of what t points to, when it is a
// struct declared in pkg.
func local(t types.Type, pkg *types.Package) *types.TypeName {
	if t == nil {
		return nil
	}
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		t = p.Elem()
	}
	named, ok := types.Unalias(t).(*types.Named)
	if !ok || named.Obj().Pkg() != pkg {
		return nil
	}
	if _, ok := named.Underlying().(*types.Struct); !ok {
		return nil
	}
	return named.Origin().Obj()
}

// registrations are the methods of muxes and routers (net/http, chi and
// their kin) that keep a handler for the life of the process.
var registrations = map[string]bool{
	"Handle": true, "HandleFunc": true, "Mount": true, "Method": true, "MethodFunc": true,
	"Get": true, "Post": true, "Put": true, "Patch": true, "Delete": true, "Head": true,
	"Options": true, "Connect": true, "Trace": true, "Any": true, "NotFound": true,
	"MethodNotAllowed": true,
}

// longLived finds the struct types of the package whose values outlive a
// request.
func longLived(pass *analysis.Pass, ins *inspector.Inspector, res *reach.Result) map[*types.TypeName]bool {
	info := pass.TypesInfo
	long := make(map[*types.TypeName]bool)
	mark := func(t types.Type) {
		if tn := local(t, pass.Pkg); tn != nil {
			long[tn] = true
		}
	}

	// Types with handler methods, ServeHTTP among them.
	for fn := range res.Decls {
		if recv := fn.Signature().Recv(); recv != nil && reach.IsHandler(fn.Signature()) {
			mark(recv.Type())
		}
	}

	filter := []ast.Node{(*ast.CallExpr)(nil), (*ast.SelectorExpr)(nil)}
	ins.WithStack(filter, func(n ast.Node, push bool, stack []ast.Node) bool {
		if !push {
			return true
		}
		switch n := n.(type) {
		case *ast.CallExpr:
			// Method values registered on a mux: mux.HandleFunc("/", s.list).
			fn, ok := typeutil.Callee(info, n).(*types.Func)
			if !ok || !registrations[fn.Name()] {
				return true
			}
			for _, arg := range n.Args {
				if sel, ok := ast.Unparen(arg).(*ast.SelectorExpr); ok {
					if s := info.Selections[sel]; s != nil && s.Kind() == types.MethodVal {
						mark(s.Recv())
					}
				}
			}
		case *ast.SelectorExpr:
			// Values a handler uses but did not create: captured from
			// main or a constructor, or package-level.
			outer := res.Outermost(stack)
			s := info.Selections[n]
			if outer == nil || s == nil {
				return true
			}
			if root := rootVar(info, n.X); root != nil && (root.Pos() < outer.Pos() || root.Pos() >= outer.End()) {
				mark(s.Recv())
			}
		}
		return true
	})

	// What long-lived values hold lives as long.
	for changed := true; changed; {
		changed = false
		for tn := range long {
			st := tn.Type().Underlying().(*types.Struct)
			for f := range st.Fields() {
				if t := local(f.Type(), pass.Pkg); t != nil && !long[t] {
					long[t], changed = true, true
				}
			}
		}
	}
	return long
}

// rootVar returns the variable at the start of a chain of selectors,
// indexes and dereferences.
func rootVar(info *types.Info, e ast.Expr) *types.Var {
	for {
		switch x := e.(type) {
		case *ast.ParenExpr:
			e = x.X
		case *ast.StarExpr:
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.SelectorExpr:
			if info.Selections[x] == nil {
				v, _ := info.Uses[x.Sel].(*types.Var)
				return v
			}
			e = x.X
		case *ast.Ident:
			v, _ := info.Uses[x].(*types.Var)
			return v
		default:
			return nil
		}
	}
}

// checkedMethods returns the methods of long-lived types, and what they
// call in the package, leaving out those called only while the program
// starts.
func checkedMethods(pass *analysis.Pass, ins *inspector.Inspector, res *reach.Result, long map[*types.TypeName]bool) map[ast.Node]bool {
	// For each function of the package, the functions that refer to it;
	// nil stands for a function literal or a package-level initialiser.
	refs := make(map[*ast.FuncDecl][]*ast.FuncDecl)
	ins.WithStack([]ast.Node{(*ast.Ident)(nil)}, func(n ast.Node, push bool, stack []ast.Node) bool {
		fn, ok := pass.TypesInfo.Uses[n.(*ast.Ident)].(*types.Func)
		if !push || !ok {
			return true
		}
		d := res.Decls[fn.Origin()]
		if d == nil {
			return true
		}
		var from *ast.FuncDecl
		for i := len(stack) - 1; i >= 0; i-- {
			if _, ok := stack[i].(*ast.FuncLit); ok {
				break
			}
			if fd, ok := stack[i].(*ast.FuncDecl); ok {
				from = fd
				break
			}
		}
		refs[d] = append(refs[d], from)
		return true
	})

	startup := make(map[*ast.FuncDecl]bool)
	for changed := true; changed; {
		changed = false
		for d, from := range refs {
			if startup[d] || res.Reached(d) {
				continue
			}
			all := true
			for _, f := range from {
				if f == nil || !(startupName(pass.Pkg, f) || startup[f]) {
					all = false
					break
				}
			}
			if all {
				startup[d], changed = true, true
			}
		}
	}

	var roots []ast.Node
	for fn, d := range res.Decls {
		recv := fn.Signature().Recv()
		if recv != nil && !startup[d] {
			if tn := local(recv.Type(), pass.Pkg); tn != nil && long[tn] {
				roots = append(roots, d)
			}
		}
	}
	checked := res.From(pass.TypesInfo, roots)
	for n := range checked {
		if d, ok := n.(*ast.FuncDecl); ok && startup[d] {
			delete(checked, n)
		}
	}
	return checked
}

// startupName reports whether d is a function that, by its name, runs while
// the program starts: init, main, run, or a constructor.
func startupName(pkg *types.Package, d *ast.FuncDecl) bool {
	if d.Recv != nil {
		return false
	}
	name := d.Name.Name
	return name == "init" || name == "run" || name == "main" && pkg.Name() == "main" ||
		strings.HasPrefix(name, "New") || strings.HasPrefix(name, "new") ||
		strings.HasPrefix(name, "Must") || strings.HasPrefix(name, "must")
}

func inAny(stack []ast.Node, set map[ast.Node]bool) bool {
	for _, n := range stack {
		if set[n] {
			return true
		}
	}
	return false
}
