package lint

import (
	"strings"

	"github.com/yuin/gopher-lua/ast"
)

// secretsMark marks, in a scope, a local holding what secrets.load
// returned.
const secretsMark = "\x00secrets"

// commandFuncs are the functions whose first argument becomes a command
// line on a host.
var commandFuncs = map[string]bool{"run": true, "sudo": true, "run_local": true}

// secretIn returns the first read of a secrets.load table in e ("s.db.password"), or "".
func secretIn(e ast.Expr, sc *scope) string {
	switch e := e.(type) {
	case *ast.AttrGetExpr:
		root, path := e.Object, []string{}
		if k, ok := e.Key.(*ast.StringExpr); ok {
			path = append(path, k.Value)
		}
		for {
			a, ok := root.(*ast.AttrGetExpr)
			if !ok {
				break
			}
			if k, ok := a.Key.(*ast.StringExpr); ok {
				path = append([]string{k.Value}, path...)
			}
			root = a.Object
		}
		if id, ok := root.(*ast.IdentExpr); ok {
			if m, _ := sc.lookup(id.Value); m == secretsMark {
				return strings.Join(append([]string{id.Value}, path...), ".")
			}
		}
	case *ast.StringConcatOpExpr:
		if s := secretIn(e.Lhs, sc); s != "" {
			return s
		}
		return secretIn(e.Rhs, sc)
	case *ast.FuncCallExpr:
		for _, a := range e.Args {
			if s := secretIn(a, sc); s != "" {
				return s
			}
		}
	case *ast.TableExpr:
		for _, f := range e.Fields {
			if s := secretIn(f.Value, sc); s != "" {
				return s
			}
		}
	case *ast.LogicalOpExpr:
		if s := secretIn(e.Lhs, sc); s != "" {
			return s
		}
		return secretIn(e.Rhs, sc)
	}
	return ""
}
