// Package write finds the statements that change a variable or a field and
// tells whether what they change is state that splits between replicas:
// maps, slices, sync.Map, atomics, integers used as counters, and structs of
// the package that hold them.
//
// globalstate and handlerstate share it so that both agree on what a write
// is; they differ only in whose state they look at.
package write

import (
	"go/ast"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/types/typeutil"
)

// Kind is the kind of a variable or field, as far as replicas are concerned.
type Kind int

const (
	None    Kind = iota // nothing that can drift between replicas
	Map                 // map
	Slice               // slice
	SyncMap             // sync.Map
	Atomic              // a sync/atomic type
	Integer             // an integer, state only when used as a counter
	Struct              // a struct (or pointer to one) of this package holding any of the above
)

func (k Kind) String() string {
	switch k {
	case Map:
		return "map"
	case Slice:
		return "slice"
	case SyncMap:
		return "sync.Map"
	case Atomic:
		return "atomic"
	case Integer:
		return "counter"
	case Struct:
		return "struct"
	}
	return "value"
}

// KindOf classifies t. Structs count only when declared in pkg: a struct
// from another package (a *sql.DB, a logger, a client) manages its own
// state, and its authors decided where that state lives.
func KindOf(t types.Type, pkg *types.Package) Kind {
	return kindOf(t, pkg, 0)
}

func kindOf(t types.Type, pkg *types.Package, depth int) Kind {
	if k, ok := syncKind(t); ok {
		return k
	}
	switch u := t.Underlying().(type) {
	case *types.Map:
		return Map
	case *types.Slice:
		return Slice
	case *types.Basic:
		if u.Info()&types.IsInteger != 0 {
			return Integer
		}
	case *types.Pointer:
		if k, ok := syncKind(u.Elem()); ok {
			return k
		}
		if depth == 0 && localStruct(u.Elem(), pkg) && holdsState(u.Elem(), pkg, depth) {
			return Struct
		}
	case *types.Struct:
		if localStruct(t, pkg) && holdsState(t, pkg, depth) {
			return Struct
		}
	}
	return None
}

// syncKind classifies the types of packages sync and sync/atomic, whose
// underlying structs say nothing about what they are for.
func syncKind(t types.Type) (Kind, bool) {
	named, ok := types.Unalias(t).(*types.Named)
	if !ok || named.Obj().Pkg() == nil {
		return None, false
	}
	switch named.Obj().Pkg().Path() {
	case "sync":
		if named.Obj().Name() == "Map" {
			return SyncMap, true
		}
		return None, true // mutexes, Once, pools: not data
	case "sync/atomic":
		return Atomic, true
	}
	return None, false
}

func localStruct(t types.Type, pkg *types.Package) bool {
	named, ok := types.Unalias(t).(*types.Named)
	if !ok || named.Obj().Pkg() != pkg {
		return false
	}
	_, ok = named.Underlying().(*types.Struct)
	return ok
}

func holdsState(t types.Type, pkg *types.Package, depth int) bool {
	if depth > 3 {
		return false // deep enough to have seen any real service struct
	}
	st := t.Underlying().(*types.Struct)
	for f := range st.Fields() {
		if kindOf(f.Type(), pkg, depth+1) != None {
			return true
		}
	}
	return false
}

// Op is how a statement writes.
type Op int

const (
	Assign Op = iota // x = v
	Count            // x++, x += n, x = x + n, atomic.AddInt64(&x, n)
	Remove           // delete(x, k), clear(x)
	Call             // x.Store(k, v) on a sync.Map, x.Add(1) on an atomic
)

// Write is one thing a statement writes.
type Write struct {
	Node   ast.Node // the statement or call, where a diagnostic goes
	Target ast.Expr // the expression written to
	Op     Op
}

// Of returns what n writes. n is an *ast.AssignStmt, *ast.IncDecStmt or
// *ast.CallExpr; anything else writes nothing. Short variable declarations
// write nothing here: they can only create or reassign locals of the
// enclosing function.
func Of(info *types.Info, n ast.Node) []Write {
	switch n := n.(type) {
	case *ast.AssignStmt:
		if n.Tok == token.DEFINE {
			return nil
		}
		var ws []Write
		for i, lhs := range n.Lhs {
			if id, ok := ast.Unparen(lhs).(*ast.Ident); ok && id.Name == "_" {
				continue
			}
			op := Assign
			switch n.Tok {
			case token.ADD_ASSIGN, token.SUB_ASSIGN:
				op = Count
			case token.ASSIGN:
				if len(n.Lhs) == len(n.Rhs) && selfArith(lhs, n.Rhs[i]) {
					op = Count
				}
			}
			ws = append(ws, Write{Node: n, Target: lhs, Op: op})
		}
		return ws
	case *ast.IncDecStmt:
		return []Write{{Node: n, Target: n.X, Op: Count}}
	case *ast.CallExpr:
		return ofCall(info, n)
	}
	return nil
}

// selfArith reports whether rhs is lhs plus or minus something: x = x + 1.
func selfArith(lhs, rhs ast.Expr) bool {
	bin, ok := ast.Unparen(rhs).(*ast.BinaryExpr)
	if !ok || (bin.Op != token.ADD && bin.Op != token.SUB) {
		return false
	}
	l := types.ExprString(lhs)
	return types.ExprString(bin.X) == l || types.ExprString(bin.Y) == l
}

// syncMapWrites are the sync.Map methods that change it.
var syncMapWrites = map[string]bool{
	"Store": true, "LoadOrStore": true, "LoadAndDelete": true, "Delete": true,
	"Swap": true, "CompareAndSwap": true, "CompareAndDelete": true, "Clear": true,
}

// atomicWrites are the methods of the sync/atomic types that change them.
var atomicWrites = map[string]bool{
	"Add": true, "Store": true, "Swap": true, "CompareAndSwap": true, "And": true, "Or": true,
}

func ofCall(info *types.Info, call *ast.CallExpr) []Write {
	switch fn := typeutil.Callee(info, call).(type) {
	case *types.Builtin:
		if (fn.Name() == "delete" || fn.Name() == "clear") && len(call.Args) > 0 {
			return []Write{{Node: call, Target: call.Args[0], Op: Remove}}
		}
	case *types.Func:
		if fn.Pkg() == nil {
			return nil
		}
		recv := fn.Signature().Recv()
		if recv == nil {
			// sync/atomic functions take the address of what they change.
			if fn.Pkg().Path() == "sync/atomic" && len(call.Args) > 0 && !isLoad(fn.Name()) {
				if u, ok := ast.Unparen(call.Args[0]).(*ast.UnaryExpr); ok && u.Op == token.AND {
					return []Write{{Node: call, Target: u.X, Op: Count}}
				}
			}
			return nil
		}
		sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr)
		if !ok {
			return nil
		}
		switch KindOf(info.TypeOf(sel.X), nil) {
		case SyncMap:
			if syncMapWrites[fn.Name()] {
				return []Write{{Node: call, Target: sel.X, Op: Call}}
			}
		case Atomic:
			if atomicWrites[fn.Name()] {
				op := Call
				if fn.Name() == "Add" {
					op = Count
				}
				return []Write{{Node: call, Target: sel.X, Op: op}}
			}
		}
	}
	return nil
}

func isLoad(name string) bool { return len(name) >= 4 && name[:4] == "Load" }

// Step is one variable or field on the way from a root variable to what a
// statement writes: in s.cache[k] = v the steps are s and s.cache.
type Step struct {
	Var   *types.Var // the variable (first step) or field
	Owner types.Type // for a field, the type it was selected from; nil for the root
	Final bool       // the write lands on this step itself, not inside it
}

// Path returns the variables and fields target is reached through, root
// first. It returns nil when target does not start at a variable (a call
// result, a composite literal).
func Path(info *types.Info, target ast.Expr) []Step {
	var rev []Step
	final := true
	for e := target; ; {
		switch x := e.(type) {
		case *ast.ParenExpr:
			e = x.X
		case *ast.StarExpr:
			e, final = x.X, false
		case *ast.IndexExpr:
			e, final = x.X, false
		case *ast.IndexListExpr:
			e, final = x.X, false
		case *ast.SelectorExpr:
			s := info.Selections[x]
			if s == nil { // a qualified identifier: pkg.Var
				v, ok := info.Uses[x.Sel].(*types.Var)
				if !ok {
					return nil
				}
				rev = append(rev, Step{Var: v, Final: final})
				return reverse(rev)
			}
			if s.Kind() != types.FieldVal {
				return nil
			}
			rev = append(rev, Step{Var: s.Obj().(*types.Var), Owner: s.Recv(), Final: final})
			e, final = x.X, false
		case *ast.Ident:
			v, ok := info.Uses[x].(*types.Var)
			if !ok {
				return nil
			}
			rev = append(rev, Step{Var: v, Final: final})
			return reverse(rev)
		default:
			return nil
		}
	}
}

func reverse(s []Step) []Step {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
	return s
}

// Stateful reports whether writing with op through step changes state that
// splits between replicas, and of what kind. Maps, slices, sync.Map and
// atomics are state whatever the write; an integer is state when it counts;
// a struct of the package holding such fields is state when replaced whole.
func Stateful(step Step, op Op, pkg *types.Package) (Kind, bool) {
	k := KindOf(step.Var.Type(), pkg)
	switch k {
	case Map, Slice, SyncMap, Atomic:
		return k, true
	case Integer:
		return k, step.Final && op == Count
	case Struct:
		return k, step.Final && op == Assign
	}
	return k, false
}

// Advice says what goes wrong with several replicas and what to use instead.
func Advice(k Kind, op Op) string {
	switch {
	case k == Integer || op == Count:
		return "each replica keeps its own count and a restart resets it; " +
			"use a database counter (UPDATE ... SET n = n + 1) or Redis INCR"
	case k == Atomic:
		return "each replica holds its own value and a restart loses it; " +
			"keep it in a shared store (database or Redis)"
	default:
		return "each replica keeps its own copy, so replicas answer differently and a restart loses it; " +
			"use a shared cache or a database (Redis, PostgreSQL)"
	}
}
