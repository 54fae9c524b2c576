package luart

import (
	"io"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/ast"
	"github.com/yuin/gopher-lua/parse"
)

// compile parses and compiles Lua source as gofab runs it: every fabfile,
// module and REPL line goes through here, so each gets fixGenericFor.
// Errors are gopher-lua's (*parse.Error or *lua.CompileError).
func compile(src io.Reader, name string) (*lua.FunctionProto, error) {
	chunk, err := parse.Parse(src, name)
	if err != nil {
		return nil, err
	}
	fixGenericFor(chunk)
	return lua.Compile(chunk, name)
}

// forIterators names the hidden locals fixGenericFor declares: no fabfile
// can write a name with parentheses, and gopher-lua's own hidden names
// ("(for state)"…) differ, or the loop would read its own registers.
var forIterators = []string{"(gofab for f)", "(gofab for s)", "(gofab for c)"}

// fixGenericFor works around a gopher-lua (1.1.2) compiler bug: in
// `for x in EXPRS do`, it reserves the loop's three registers before it
// compiles EXPRS, so a call nested inside them is thought to need no
// register and its result is overwritten: `for line in
// run(cmd).stdout:gmatch(p)` raised "attempt to index a non-table
// object(nil) with key 'gmatch'". Every such loop, in every function,
// becomes
//
//	do local (gofab for f), (gofab for s), (gofab for c) = EXPRS
//	  for x in (gofab for f), (gofab for s), (gofab for c) do … end end
//
// which the compiler gets right (a local statement compiles its values
// before it declares its names), as Lua 5.1 itself compiles the loop.
func fixGenericFor(stmts []ast.Stmt) {
	for i, s := range stmts {
		stmts[i] = fixStmt(s)
	}
}

func fixStmt(s ast.Stmt) ast.Stmt {
	switch s := s.(type) {
	case *ast.AssignStmt:
		fixExprs(s.Lhs)
		fixExprs(s.Rhs)
	case *ast.LocalAssignStmt:
		fixExprs(s.Exprs)
	case *ast.FuncCallStmt:
		fixExpr(s.Expr)
	case *ast.DoBlockStmt:
		fixGenericFor(s.Stmts)
	case *ast.WhileStmt:
		fixExpr(s.Condition)
		fixGenericFor(s.Stmts)
	case *ast.RepeatStmt:
		fixExpr(s.Condition)
		fixGenericFor(s.Stmts)
	case *ast.IfStmt:
		fixExpr(s.Condition)
		fixGenericFor(s.Then)
		fixGenericFor(s.Else)
	case *ast.NumberForStmt:
		fixExprs([]ast.Expr{s.Init, s.Limit, s.Step})
		fixGenericFor(s.Stmts)
	case *ast.FuncDefStmt:
		fixExpr(s.Func)
	case *ast.ReturnStmt:
		fixExprs(s.Exprs)
	case *ast.GenericForStmt:
		fixExprs(s.Exprs)
		fixGenericFor(s.Stmts)
		return hoistIterators(s)
	}
	return s
}

// hoistIterators rewrites one loop as fixGenericFor shows.
func hoistIterators(s *ast.GenericForStmt) ast.Stmt {
	local := &ast.LocalAssignStmt{Names: forIterators, Exprs: s.Exprs}
	refs := make([]ast.Expr, len(forIterators))
	for i, name := range forIterators {
		ref := &ast.IdentExpr{Value: name}
		ref.SetLine(s.Line())
		ref.SetLastLine(s.Line())
		refs[i] = ref
	}
	loop := &ast.GenericForStmt{Names: s.Names, Exprs: refs, Stmts: s.Stmts}
	block := &ast.DoBlockStmt{Stmts: []ast.Stmt{local, loop}}
	for _, n := range []ast.Stmt{local, loop, block} {
		n.SetLine(s.Line())
		n.SetLastLine(s.LastLine())
	}
	return block
}

func fixExprs(es []ast.Expr) {
	for _, e := range es {
		fixExpr(e)
	}
}

func fixExpr(e ast.Expr) {
	switch e := e.(type) {
	case *ast.FunctionExpr:
		fixGenericFor(e.Stmts)
	case *ast.AttrGetExpr:
		fixExprs([]ast.Expr{e.Object, e.Key})
	case *ast.TableExpr:
		for _, f := range e.Fields {
			fixExprs([]ast.Expr{f.Key, f.Value})
		}
	case *ast.FuncCallExpr:
		fixExprs([]ast.Expr{e.Func, e.Receiver})
		fixExprs(e.Args)
	case *ast.LogicalOpExpr:
		fixExprs([]ast.Expr{e.Lhs, e.Rhs})
	case *ast.RelationalOpExpr:
		fixExprs([]ast.Expr{e.Lhs, e.Rhs})
	case *ast.StringConcatOpExpr:
		fixExprs([]ast.Expr{e.Lhs, e.Rhs})
	case *ast.ArithmeticOpExpr:
		fixExprs([]ast.Expr{e.Lhs, e.Rhs})
	case *ast.UnaryMinusOpExpr:
		fixExpr(e.Expr)
	case *ast.UnaryNotOpExpr:
		fixExpr(e.Expr)
	case *ast.UnaryLenOpExpr:
		fixExpr(e.Expr)
	}
}
