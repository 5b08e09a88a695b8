// Package memstore defines an Analyzer that reports in-process caches,
// session stores and rate limiters from well-known libraries.
package memstore

import (
	"go/ast"
	"go/token"
	"go/types"
	"regexp"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
	"golang.org/x/tools/go/types/typeutil"

	"github.com/herdhq/herd/analysis/internal/ignore"
)

const Doc = `report in-process caches, session stores and rate limiters

Libraries that keep caches, sessions or rate-limit counts in the memory (or
on the disk) of one process work on one replica and fail quietly on
several: each replica has its own cache, a session exists only where it was
created, and a client gets the rate limit once per replica.

	sessions := sessions.NewFilesystemStore("", key) // only this replica knows the session

Recognised by import path (any major version) and constructor:
patrickmn/go-cache, hashicorp/golang-lru (v1, v2, simplelru, expirable,
arc), dgraph-io/ristretto, allegro/bigcache, coocood/freecache;
gorilla/sessions FilesystemStore, alexedwards/scs memstore (and scs.New
when its Store is never set), gin-contrib/sessions memstore; the
ulule/limiter memory store, didip/tollbooth; and golang.org/x/time/rate
limiters kept in maps or sync.Maps, one per client.

Suppress a finding with //statelint:ignore <reason> on the line.`

var Analyzer = &analysis.Analyzer{
	Name:     "memstore",
	Doc:      Doc,
	URL:      "https://pkg.go.dev/github.com/herdhq/herd/analysis/memstore",
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      run,
}

type kind int

const (
	cache kind = iota
	session
	limiter
)

func (k kind) advice() string {
	switch k {
	case session:
		return "keeps sessions in this process: a session exists only on the replica that created it, " +
			"so users lose it when the load balancer sends them to another one; " +
			"use an external session store (Redis, PostgreSQL) or signed tokens"
	case limiter:
		return "counts requests in this process: with N replicas a client gets N times the limit " +
			"and a restart resets the count; use a shared limiter backed by Redis"
	}
	return "keeps the cache in this process: each replica has its own copy, so replicas serve " +
		"different or stale entries and a restart empties it; use a shared cache (Redis, memcached)"
}

type store struct {
	kind  kind
	funcs []string // constructors; empty means every function named New...
}

// stores maps import paths, with major-version elements removed, to what
// their constructors build.
var stores = map[string]store{
	"github.com/patrickmn/go-cache":                 {cache, []string{"New", "NewFrom"}},
	"github.com/hashicorp/golang-lru":               {cache, nil},
	"github.com/hashicorp/golang-lru/simplelru":     {cache, nil},
	"github.com/hashicorp/golang-lru/expirable":     {cache, nil},
	"github.com/hashicorp/golang-lru/arc":           {cache, nil},
	"github.com/dgraph-io/ristretto":                {cache, []string{"NewCache"}},
	"github.com/allegro/bigcache":                   {cache, []string{"New", "NewBigCache"}},
	"github.com/coocood/freecache":                  {cache, []string{"NewCache", "NewCacheCustomTimer"}},
	"github.com/gorilla/sessions":                   {session, []string{"NewFilesystemStore"}},
	"github.com/alexedwards/scs/memstore":           {session, nil},
	"github.com/gin-contrib/sessions/memstore":      {session, []string{"NewStore"}},
	"github.com/ulule/limiter/drivers/store/memory": {limiter, nil},
	"github.com/didip/tollbooth":                    {limiter, []string{"NewLimiter"}},
	"github.com/didip/tollbooth/limiter":            {limiter, []string{"New"}},
}

var majorVersion = regexp.MustCompile(`/v[0-9]+(/|$)`)

// normalize removes major-version elements: github.com/alexedwards/scs/v2/memstore
// becomes github.com/alexedwards/scs/memstore.
func normalize(path string) string {
	for {
		next := majorVersion.ReplaceAllString(path, "$1")
		if next == path {
			return strings.TrimSuffix(path, "/")
		}
		path = next
	}
}

func (s store) builds(name string) bool {
	if len(s.funcs) == 0 {
		return strings.HasPrefix(name, "New")
	}
	for _, f := range s.funcs {
		if f == name {
			return true
		}
	}
	return false
}

func run(pass *analysis.Pass) (any, error) {
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	var ignored *ignore.Set
	report := func(pos token.Pos, what string, k kind) {
		if ignored == nil {
			ignored = ignore.Parse(pass)
		}
		if !ignored.Suppressed(pos) {
			pass.Reportf(pos, "%s %s", what, k.advice())
		}
	}

	filter := []ast.Node{(*ast.CallExpr)(nil), (*ast.ValueSpec)(nil), (*ast.AssignStmt)(nil), (*ast.Field)(nil)}
	ins.WithStack(filter, func(n ast.Node, push bool, stack []ast.Node) bool {
		if !push || ignore.TestFile(pass.Fset, n.Pos()) {
			return true
		}
		switch n := n.(type) {
		case *ast.CallExpr:
			fn, ok := typeutil.Callee(pass.TypesInfo, n).(*types.Func)
			if !ok || fn.Pkg() == nil {
				return true
			}
			if fn.Signature().Recv() == nil {
				path := fn.Pkg().Path()
				if s, ok := stores[normalize(path)]; ok && s.builds(fn.Name()) {
					report(n.Pos(), fn.Pkg().Name()+"."+fn.Name()+" ("+short(path)+")", s.kind)
				} else if normalize(path) == "github.com/alexedwards/scs" && fn.Name() == "New" && !storeSet(pass.TypesInfo, stack) {
					report(n.Pos(), "scs.New without a Store (alexedwards/scs uses its memstore)", session)
				}
				return true
			}
			// A sync.Map of limiters, one per client.
			if (fn.Name() == "Store" || fn.Name() == "LoadOrStore") && len(n.Args) == 2 && syncMap(fn) &&
				holdsLimiter(pass.TypesInfo.TypeOf(n.Args[1])) {
				report(n.Pos(), "a sync.Map of rate.Limiter (golang.org/x/time/rate)", limiter)
			}
		case *ast.ValueSpec:
			for _, name := range n.Names {
				checkVar(pass, name, report)
			}
		case *ast.AssignStmt:
			if n.Tok == token.DEFINE {
				for _, lhs := range n.Lhs {
					if id, ok := lhs.(*ast.Ident); ok {
						checkVar(pass, id, report)
					}
				}
			}
		case *ast.Field:
			// Struct fields only: parameters and results are not stores.
			if len(stack) > 2 {
				if _, ok := stack[len(stack)-3].(*ast.StructType); ok {
					for _, name := range n.Names {
						checkVar(pass, name, report)
					}
				}
			}
		}
		return true
	})
	return nil, nil
}

// checkVar reports a variable or field declared as a map of rate limiters.
func checkVar(pass *analysis.Pass, id *ast.Ident, report func(token.Pos, string, kind)) {
	obj := pass.TypesInfo.Defs[id]
	if obj == nil {
		return
	}
	if m, ok := obj.Type().Underlying().(*types.Map); ok && holdsLimiter(m.Elem()) {
		report(id.Pos(), "map "+id.Name+" of rate.Limiter (golang.org/x/time/rate)", limiter)
	}
}

// holdsLimiter reports whether t is a rate.Limiter, a pointer to one, or a
// struct (or pointer to a struct) with such a field: the usual per-client
// visitor record.
func holdsLimiter(t types.Type) bool {
	if t == nil {
		return false
	}
	if isLimiter(t) {
		return true
	}
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		t = p.Elem()
	}
	st, ok := t.Underlying().(*types.Struct)
	if !ok {
		return false
	}
	for f := range st.Fields() {
		if isLimiter(f.Type()) {
			return true
		}
	}
	return false
}

func isLimiter(t types.Type) bool {
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		t = p.Elem()
	}
	named, ok := types.Unalias(t).(*types.Named)
	return ok && named.Obj().Pkg() != nil && named.Obj().Pkg().Path() == "golang.org/x/time/rate" &&
		named.Obj().Name() == "Limiter"
}

func syncMap(fn *types.Func) bool {
	t := fn.Signature().Recv().Type()
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		t = p.Elem()
	}
	named, ok := types.Unalias(t).(*types.Named)
	return ok && named.Obj().Pkg() != nil && named.Obj().Pkg().Path() == "sync" && named.Obj().Name() == "Map"
}

// storeSet reports whether the function around a call to scs.New sets the
// Store field of a session manager, replacing the in-memory default.
func storeSet(info *types.Info, stack []ast.Node) bool {
	var fn ast.Node
	for i := len(stack) - 1; i >= 0 && fn == nil; i-- {
		switch stack[i].(type) {
		case *ast.FuncDecl, *ast.FuncLit:
			fn = stack[i]
		}
	}
	if fn == nil {
		return false
	}
	set := false
	ast.Inspect(fn, func(n ast.Node) bool {
		if as, ok := n.(*ast.AssignStmt); ok {
			for _, lhs := range as.Lhs {
				if sel, ok := lhs.(*ast.SelectorExpr); ok && sel.Sel.Name == "Store" {
					if v, ok := info.Uses[sel.Sel].(*types.Var); ok && v.IsField() && v.Pkg() != nil &&
						normalize(v.Pkg().Path()) == "github.com/alexedwards/scs" {
						set = true
					}
				}
			}
		}
		return !set
	})
	return set
}

// short turns an import path into the owner/repository people know it by.
func short(path string) string {
	parts := strings.Split(path, "/")
	if len(parts) >= 3 && strings.Contains(parts[0], ".") {
		return parts[1] + "/" + parts[2]
	}
	return path
}
