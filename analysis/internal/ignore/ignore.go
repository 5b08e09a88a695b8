// Package ignore decides which code statelint leaves alone: lines and
// declarations marked //statelint:ignore <reason>, and test files, which
// never run inside a replica.
//
// A directive applies to the line it ends (a trailing comment) or, when it
// stands on its own line, to the next line of code. A diagnostic is
// suppressed when a directive with a reason applies to the line of the
// offending statement, to the line that declares what it writes, or to the
// file's package clause, which covers the whole file (for code that never
// runs as a replica, such as a local supervisor). A
// directive without a reason suppresses nothing: the ignorecheck analyzer
// reports it, so every exception in the code says why it is safe.
package ignore

import (
	"go/ast"
	"go/token"
	"strings"

	"golang.org/x/tools/go/analysis"
)

// Prefix starts every statelint directive.
const Prefix = "//statelint:ignore"

// Directive is one //statelint:ignore comment.
type Directive struct {
	Pos    token.Pos // the comment
	Reason string    // empty when the author gave none
	line   int       // the line of code it applies to
}

// Set holds the directives of one package, by file and line of code.
type Set struct {
	fset  *token.FileSet
	lines map[*token.File]map[int]Directive
	pkg   map[*token.File]int // the line of each file's package clause
	all   []Directive
}

// Parse collects the directives of the package being analyzed.
func Parse(pass *analysis.Pass) *Set {
	s := &Set{
		fset:  pass.Fset,
		lines: make(map[*token.File]map[int]Directive),
		pkg:   make(map[*token.File]int),
	}
	for _, f := range pass.Files {
		tf := pass.Fset.File(f.Pos())
		if tf == nil {
			continue
		}
		s.pkg[tf] = tf.Line(f.Package)
		var code map[int]bool // lines holding something other than comments; built on first need
		for _, group := range f.Comments {
			for _, c := range group.List {
				reason, ok := parse(c.Text)
				if !ok {
					continue
				}
				if code == nil {
					code = codeLines(tf, f)
				}
				line := tf.Line(c.Pos())
				if !code[line] {
					// On its own line: it speaks for the first line of code
					// after its comment group.
					line = tf.Line(group.End()) + 1
				}
				d := Directive{Pos: c.Pos(), Reason: reason, line: line}
				if s.lines[tf] == nil {
					s.lines[tf] = make(map[int]Directive)
				}
				if old, dup := s.lines[tf][line]; !dup || old.Reason == "" {
					s.lines[tf][line] = d
				}
				s.all = append(s.all, d)
			}
		}
	}
	return s
}

// parse reports whether text is a statelint directive and returns its reason.
func parse(text string) (reason string, ok bool) {
	rest, found := strings.CutPrefix(text, Prefix)
	if !found {
		return "", false
	}
	if rest != "" && rest[0] != ' ' && rest[0] != '\t' {
		return "", false // e.g. //statelint:ignoreme is some other directive
	}
	// A second comment after the directive is not its reason.
	rest, _, _ = strings.Cut(rest, "//")
	return strings.TrimSpace(rest), true
}

// codeLines returns the lines of f on which some syntax other than a comment
// starts or ends, so that trailing comments can be told from comment lines.
func codeLines(tf *token.File, f *ast.File) map[int]bool {
	lines := make(map[int]bool)
	ast.Inspect(f, func(n ast.Node) bool {
		switch n.(type) {
		case nil:
			return false
		case *ast.CommentGroup, *ast.Comment:
			return false
		}
		lines[tf.Line(n.Pos())] = true
		if end := n.End(); end.IsValid() && end > n.Pos() {
			lines[tf.Line(end-1)] = true
		}
		return true
	})
	return lines
}

// Suppressed reports whether a directive with a reason applies to the line of
// any of the given positions: typically the offending statement and the
// declaration of what it writes. Invalid positions are skipped.
func (s *Set) Suppressed(positions ...token.Pos) bool {
	for _, pos := range positions {
		if !pos.IsValid() {
			continue
		}
		tf := s.fset.File(pos)
		if tf == nil {
			continue
		}
		for _, line := range []int{tf.Line(pos), s.pkg[tf]} {
			if d, ok := s.lines[tf][line]; ok && d.Reason != "" {
				return true
			}
		}
	}
	return false
}

// All returns every directive in the package, in file order.
func (s *Set) All() []Directive { return s.all }

// TestFile reports whether pos lies in a _test.go file. Tests run on a
// developer's machine, not in a replica, so their state cannot split.
func TestFile(fset *token.FileSet, pos token.Pos) bool {
	tf := fset.File(pos)
	return tf != nil && strings.HasSuffix(tf.Name(), "_test.go")
}
