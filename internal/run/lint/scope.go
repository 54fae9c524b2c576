package lint

import "github.com/yuin/gopher-lua/ast"

// scope is one level of local names; a local bound to require("mod")
// remembers the module.
type scope struct {
	parent *scope
	names  map[string]string // local name -> gofab module it holds, or ""
	// shadows are the locals named like a gofab global.
	shadows map[string]bool
}

func newScope(parent *scope) *scope {
	return &scope{parent: parent, names: map[string]string{}, shadows: map[string]bool{}}
}

// shadowing reports whether name is a local that shadows a gofab global.
func (s *scope) shadowing(name string) bool {
	for ; s != nil; s = s.parent {
		if _, ok := s.names[name]; ok {
			return s.shadows[name]
		}
	}
	return false
}

func (s *scope) lookup(name string) (string, bool) {
	for ; s != nil; s = s.parent {
		if m, ok := s.names[name]; ok {
			return m, true
		}
	}
	return "", false
}

// collectGlobals records every global the statements assign.
func collectGlobals(stmts []ast.Stmt, sc *scope, out map[string]bool) {
	w := &walker{collect: out}
	w.block(stmts, sc)
}
