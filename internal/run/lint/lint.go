// Package lint checks fabfiles without running them: syntax errors, reads
// of globals that exist nowhere (a typo such as rnu), execute() of tasks
// that do not exist, unknown option names in the options tables of
// gofab's functions, and locals or globals that shadow gofab's globals.
// What gofab offers comes from its function registry, so the checks and
// the functions cannot drift apart.
package lint

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/yuin/gopher-lua/ast"
	"github.com/yuin/gopher-lua/parse"

	"github.com/gofab/gofab/internal/base/fuzzy"
	"github.com/gofab/gofab/luart"
)

// Finding is one problem, at file:line:col.
type Finding struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Col     int    `json:"col"`
	Message string `json:"message"`
	// Warning is legal code that is likely a mistake (a local named like
	// one of gofab's globals): shown, but not a failed check.
	Warning bool `json:"warning,omitempty"`
}

// String formats the finding as file:line:col: message (a warning's
// message starts with "warning: ").
func (f Finding) String() string {
	if f.Warning {
		return fmt.Sprintf("%s:%d:%d: warning: %s", f.File, f.Line, f.Col, f.Message)
	}
	return fmt.Sprintf("%s:%d:%d: %s", f.File, f.Line, f.Col, f.Message)
}

// Failed reports whether findings hold an error (not only warnings).
func Failed(findings []Finding) bool {
	return slices.ContainsFunc(findings, func(f Finding) bool { return !f.Warning })
}

// Options say what the checked code may use.
type Options struct {
	// Modules are gofab's: globals (Name "") and require()able modules.
	Modules []luart.Module
	// SearchPath is where require() finds the fabfile's own modules.
	SearchPath []string
	// Finder resolves the names of recipe modules (gofab.mod) first.
	Finder luart.ModuleFinder
	// Tasks are the declared task names and aliases, when known; execute()
	// of another name is reported.
	Tasks []string
}

// luaGlobals are the globals Lua itself (5.1, as gopher-lua offers it)
// provides.
var luaGlobals = strings.Fields(`_G _VERSION _GOPHER_LUA_VERSION assert collectgarbage dofile error getfenv
getmetatable ipairs load loadfile loadstring module next pairs pcall print rawequal rawget rawset require
select setfenv setmetatable tonumber tostring type unpack xpcall newproxy coroutine string table math io os
package debug env host tasks`)

// file is one parsed source file.
type file struct {
	path  string
	lines []string
	stmts []ast.Stmt
}

// checker holds what a run has learned so far.
type checker struct {
	o        Options
	globals  map[string]*luart.Func            // gofab's global functions
	modules  map[string]map[string]*luart.Func // gofab's modules
	defined  map[string]bool                   // globals the checked files assign
	files    []*file
	seen     map[string]bool
	findings []Finding
}

// Check parses the fabfile at path (src is its content) and every module
// it requires from the search path, and reports the problems found,
// sorted by file and position.
func Check(path string, src []byte, o Options) []Finding {
	c := &checker{o: o, globals: map[string]*luart.Func{}, modules: map[string]map[string]*luart.Func{},
		defined: map[string]bool{}, seen: map[string]bool{}}
	for _, m := range o.Modules {
		for i := range m.Funcs {
			f := &m.Funcs[i]
			if m.Name == "" {
				c.globals[f.Name] = f
				continue
			}
			if c.modules[m.Name] == nil {
				c.modules[m.Name] = map[string]*luart.Func{}
			}
			c.modules[m.Name][f.Name] = f
		}
	}
	c.load(path, src)
	for _, f := range c.files {
		collectGlobals(f.stmts, newScope(nil), c.defined)
	}
	for _, f := range c.files {
		w := &walker{c: c, f: f}
		w.block(f.stmts, newScope(nil))
	}
	sort.SliceStable(c.findings, func(i, j int) bool {
		a, b := c.findings[i], c.findings[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return c.findings
}

// load parses a file and, recursively, the modules it requires.
func (c *checker) load(path string, src []byte) {
	if c.seen[path] {
		return
	}
	c.seen[path] = true
	stmts, err := parse.Parse(bytes.NewReader(src), path)
	if err != nil {
		f := Finding{File: path, Line: 1, Col: 1, Message: err.Error()}
		if pe, ok := err.(*parse.Error); ok {
			// gopher-lua gives the column after the token, and line -1 at
			// the end of the input.
			f.Line, f.Col, f.Message = pe.Pos.Line, max(pe.Pos.Column-len(pe.Token)+1, 1), fmt.Sprintf("%s near %q", pe.Message, pe.Token)
			if f.Line < 1 {
				lines := strings.Split(string(src), "\n")
				f.Line, f.Col = len(lines), len(lines[len(lines)-1])+1
				f.Message = fmt.Sprintf("%s: the file ends inside a statement (a missing end or closing bracket?)", pe.Message)
			}
		}
		c.findings = append(c.findings, f)
		return
	}
	f := &file{path: path, lines: strings.Split(string(src), "\n"), stmts: stmts}
	c.files = append(c.files, f)
	for _, name := range requires(stmts) {
		if _, builtin := c.modules[name]; builtin {
			continue
		}
		if p := c.findModule(name); p != "" {
			if data, err := os.ReadFile(p); err == nil {
				c.load(luart.DisplayPath(p), data)
			}
		}
	}
}

// findModule is the file of module name: a recipe module's, else the
// search path's, else "".
func (c *checker) findModule(name string) string {
	if c.o.Finder != nil {
		if file, _, _, ok, _ := c.o.Finder.Find(name); ok {
			return file
		}
	}
	return luart.FindModule(c.o.SearchPath, name)
}

// Requires lists the literal module names of the require("...") calls in
// a Lua file; name is used in a syntax error.
func Requires(name string, src []byte) ([]string, error) {
	stmts, err := parse.Parse(bytes.NewReader(src), name)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	return requires(stmts), nil
}

// requires lists the literal module names of require("...") calls.
func requires(stmts []ast.Stmt) []string {
	var names []string
	walkCalls(stmts, func(call *ast.FuncCallExpr) {
		if id, ok := call.Func.(*ast.IdentExpr); ok && id.Value == "require" && len(call.Args) == 1 {
			if s, ok := call.Args[0].(*ast.StringExpr); ok {
				names = append(names, s.Value)
			}
		}
	})
	return names
}

// walker walks one file's statements in scope order.
type walker struct {
	c       *checker
	f       *file
	collect map[string]bool // set when only collecting global assignments
}

func (w *walker) report(line int, word, format string, args ...any) {
	w.add(false, line, word, format, args...)
}

// warn reports legal code that is likely a mistake.
func (w *walker) warn(line int, word, format string, args ...any) {
	w.add(true, line, word, format, args...)
}

func (w *walker) add(warning bool, line int, word, format string, args ...any) {
	if w.collect != nil {
		return
	}
	w.c.findings = append(w.c.findings, Finding{File: w.f.path, Line: line, Col: w.col(line, word),
		Message: fmt.Sprintf(format, args...), Warning: warning})
}

// col finds word's column on a line (1 when it cannot be found): the AST
// keeps lines only.
func (w *walker) col(line int, word string) int {
	if line < 1 || line > len(w.f.lines) || word == "" {
		return 1
	}
	re := regexp.MustCompile(`(^|[^\w])` + regexp.QuoteMeta(word) + `($|[^\w])`)
	if loc := re.FindStringIndex(w.f.lines[line-1]); loc != nil {
		if loc[0] > 0 || !strings.HasPrefix(w.f.lines[line-1], word) {
			return loc[0] + 2
		}
		return 1
	}
	return 1
}

func (w *walker) block(stmts []ast.Stmt, sc *scope) {
	for _, s := range stmts {
		w.stmt(s, sc)
	}
}

func (w *walker) declare(sc *scope, line int, name, module string) {
	shadows := w.c != nil && w.c.globals[name] != nil
	if shadows {
		w.warn(line, name, "local %s shadows gofab's global %s() (fine unless you call %s() where it is in scope)", name, name, name)
	}
	sc.names[name] = module
	sc.shadows[name] = shadows
}

func (w *walker) assignGlobal(line int, name string, sc *scope) {
	if _, local := sc.lookup(name); local {
		return
	}
	if w.collect != nil {
		w.collect[name] = true
		return
	}
	if w.c.globals[name] != nil {
		w.warn(line, name, "assignment replaces gofab's global %s()", name)
	}
}

func (w *walker) stmt(s ast.Stmt, sc *scope) {
	switch s := s.(type) {
	case *ast.AssignStmt:
		w.assign(s, sc)
	case *ast.LocalAssignStmt:
		w.localAssign(s, sc)
	case *ast.FuncCallStmt:
		w.expr(s.Expr, sc)
	case *ast.DoBlockStmt:
		w.block(s.Stmts, newScope(sc))
	case *ast.WhileStmt:
		w.expr(s.Condition, sc)
		w.block(s.Stmts, newScope(sc))
	case *ast.RepeatStmt:
		inner := newScope(sc)
		w.block(s.Stmts, inner)
		w.expr(s.Condition, inner)
	case *ast.IfStmt:
		w.expr(s.Condition, sc)
		w.block(s.Then, newScope(sc))
		w.block(s.Else, newScope(sc))
	case *ast.NumberForStmt:
		for _, e := range []ast.Expr{s.Init, s.Limit, s.Step} {
			if e != nil {
				w.expr(e, sc)
			}
		}
		inner := newScope(sc)
		w.declare(inner, s.Line(), s.Name, "")
		w.block(s.Stmts, inner)
	case *ast.GenericForStmt:
		for _, e := range s.Exprs {
			w.expr(e, sc)
		}
		inner := newScope(sc)
		for _, n := range s.Names {
			w.declare(inner, s.Line(), n, "")
		}
		w.block(s.Stmts, inner)
	case *ast.FuncDefStmt:
		w.funcDef(s, sc)
	case *ast.ReturnStmt:
		for _, e := range s.Exprs {
			w.expr(e, sc)
		}
	}
}

// assign checks an assignment: a global it makes must not replace one of
// gofab's.
func (w *walker) assign(s *ast.AssignStmt, sc *scope) {
	for _, e := range s.Rhs {
		w.expr(e, sc)
	}
	for _, l := range s.Lhs {
		if id, ok := l.(*ast.IdentExpr); ok {
			w.assignGlobal(s.Line(), id.Value, sc)
			continue
		}
		w.expr(l, sc)
	}
}

// localAssign declares locals, noting those that hold a require()d module.
func (w *walker) localAssign(s *ast.LocalAssignStmt, sc *scope) {
	if len(s.Names) == 1 && len(s.Exprs) == 1 {
		if _, isFn := s.Exprs[0].(*ast.FunctionExpr); isFn {
			w.declare(sc, s.Line(), s.Names[0], "") // local function f: f is visible inside
		}
	}
	for _, e := range s.Exprs {
		w.expr(e, sc)
	}
	for i, n := range s.Names {
		module := ""
		if i < len(s.Exprs) {
			module = requiredModule(s.Exprs[i])
			if call, ok := s.Exprs[i].(*ast.FuncCallExpr); ok && module == "" && w.c != nil {
				if name, _ := w.target(call, sc); name == "secrets.load" {
					module = secretsMark
				}
			}
		}
		w.declare(sc, s.Line(), n, module)
	}
}

// funcDef checks function f() / function t.f() / function t:m().
func (w *walker) funcDef(s *ast.FuncDefStmt, sc *scope) {
	if id, ok := s.Name.Func.(*ast.IdentExpr); ok && s.Name.Receiver == nil {
		w.assignGlobal(s.Line(), id.Value, sc)
	} else if s.Name.Receiver != nil {
		w.expr(s.Name.Receiver, sc)
	} else {
		w.expr(s.Name.Func, sc)
	}
	inner := newScope(sc)
	if s.Name.Method != "" {
		inner.names["self"] = ""
	}
	w.function(s.Func, inner)
}

func (w *walker) function(f *ast.FunctionExpr, sc *scope) {
	if f.ParList != nil {
		for _, n := range f.ParList.Names {
			w.declare(sc, f.Line(), n, "")
		}
	}
	w.block(f.Stmts, sc)
}

// requiredModule returns "mod" for the expression require("mod").
func requiredModule(e ast.Expr) string {
	call, ok := e.(*ast.FuncCallExpr)
	if !ok || len(call.Args) != 1 {
		return ""
	}
	id, ok := call.Func.(*ast.IdentExpr)
	s, isStr := call.Args[0].(*ast.StringExpr)
	if !ok || !isStr || id.Value != "require" {
		return ""
	}
	return s.Value
}

func (w *walker) expr(e ast.Expr, sc *scope) {
	switch e := e.(type) {
	case *ast.IdentExpr:
		w.read(e, sc)
	case *ast.AttrGetExpr:
		w.expr(e.Object, sc)
		w.expr(e.Key, sc)
		w.moduleField(e, sc)
	case *ast.TableExpr:
		for _, f := range e.Fields {
			if f.Key != nil {
				w.expr(f.Key, sc)
			}
			w.expr(f.Value, sc)
		}
	case *ast.FuncCallExpr:
		if id, ok := e.Func.(*ast.IdentExpr); ok && w.collect == nil && sc.shadowing(id.Value) {
			w.report(e.Line(), id.Value, "%s(...) calls the local %s, not gofab's %s(): rename the local", id.Value, id.Value, id.Value)
		}
		if e.Func != nil {
			w.expr(e.Func, sc)
		}
		if e.Receiver != nil {
			w.expr(e.Receiver, sc)
		}
		for _, a := range e.Args {
			w.expr(a, sc)
		}
		w.call(e, sc)
	case *ast.LogicalOpExpr:
		w.expr(e.Lhs, sc)
		w.expr(e.Rhs, sc)
	case *ast.RelationalOpExpr:
		w.expr(e.Lhs, sc)
		w.expr(e.Rhs, sc)
	case *ast.StringConcatOpExpr:
		w.expr(e.Lhs, sc)
		w.expr(e.Rhs, sc)
	case *ast.ArithmeticOpExpr:
		w.expr(e.Lhs, sc)
		w.expr(e.Rhs, sc)
	case *ast.UnaryMinusOpExpr:
		w.expr(e.Expr, sc)
	case *ast.UnaryNotOpExpr:
		w.expr(e.Expr, sc)
	case *ast.UnaryLenOpExpr:
		w.expr(e.Expr, sc)
	case *ast.FunctionExpr:
		w.function(e, newScope(sc))
	}
}

// read checks a read of a name that is not a local.
func (w *walker) read(id *ast.IdentExpr, sc *scope) {
	if w.collect != nil {
		return
	}
	name := id.Value
	if _, local := sc.lookup(name); local || w.c.globals[name] != nil || w.c.defined[name] || slices.Contains(luaGlobals, name) {
		return
	}
	msg := fmt.Sprintf("unknown global %s", name)
	if best := w.closest(name); best != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", best)
	}
	w.report(id.Line(), name, "%s", msg)
}

// closest suggests a known global close to name.
func (w *walker) closest(name string) string {
	names := make([]string, 0, len(w.c.globals))
	for g := range w.c.globals {
		names = append(names, g)
	}
	sort.Strings(names)
	return fuzzy.Closest(name, names, 2)
}

// moduleField checks files.wirte-style reads on a local that holds one of
// gofab's modules.
func (w *walker) moduleField(e *ast.AttrGetExpr, sc *scope) {
	obj, ok := e.Object.(*ast.IdentExpr)
	key, isStr := e.Key.(*ast.StringExpr)
	if !ok || !isStr || w.collect != nil {
		return
	}
	module, _ := sc.lookup(obj.Value)
	if funcs := w.c.modules[module]; funcs != nil && funcs[key.Value] == nil {
		w.report(e.Line(), key.Value, "module %s has no function %s", module, key.Value)
	}
}

// target returns the gofab function a call calls, if it is one.
func (w *walker) target(call *ast.FuncCallExpr, sc *scope) (string, *luart.Func) {
	switch f := call.Func.(type) {
	case *ast.IdentExpr:
		if _, local := sc.lookup(f.Value); !local {
			return f.Value, w.c.globals[f.Value]
		}
	case *ast.AttrGetExpr:
		obj, ok := f.Object.(*ast.IdentExpr)
		key, isStr := f.Key.(*ast.StringExpr)
		if ok && isStr {
			if module, _ := sc.lookup(obj.Value); module != "" {
				return module + "." + key.Value, w.c.modules[module][key.Value]
			}
		}
	}
	return "", nil
}

// call checks the options table and, for execute, the task name.
func (w *walker) call(call *ast.FuncCallExpr, sc *scope) {
	if w.collect != nil {
		return
	}
	name, fn := w.target(call, sc)
	if fn == nil {
		return
	}
	if commandFuncs[name] && len(call.Args) > 0 {
		if secret := secretIn(call.Args[0], sc); secret != "" {
			w.warn(call.Line(), name, "%s's command line holds the secret %s: other users of the host can read it in ps while it runs; give it on the command's input with {stdin = %s}, or write it to a file with files.write", name, secret, secret)
		}
	}
	if idx, opts := fn.OptionsArg(); idx > 0 && idx <= len(call.Args) {
		if t, ok := call.Args[idx-1].(*ast.TableExpr); ok {
			for _, field := range t.Fields {
				key, isStr := field.Key.(*ast.StringExpr)
				if isStr && !opts.Has(key.Value) {
					w.report(field.Value.Line(), key.Value, "%s", opts.Unknown(name, key.Value))
				}
			}
		}
	}
	if name == "execute" && w.c.o.Tasks != nil && len(call.Args) > 0 {
		if s, ok := call.Args[0].(*ast.StringExpr); ok && !slices.Contains(w.c.o.Tasks, s.Value) {
			w.report(call.Line(), s.Value, "execute: no task %q", s.Value)
		}
	}
}

// walkCalls calls fn for every function call in the statements.
func walkCalls(stmts []ast.Stmt, fn func(*ast.FuncCallExpr)) {
	var expr func(e ast.Expr)
	var block func(stmts []ast.Stmt)
	expr = func(e ast.Expr) {
		switch e := e.(type) {
		case *ast.FuncCallExpr:
			fn(e)
			if e.Func != nil {
				expr(e.Func)
			}
			for _, a := range e.Args {
				expr(a)
			}
		case *ast.FunctionExpr:
			block(e.Stmts)
		case *ast.TableExpr:
			for _, f := range e.Fields {
				expr(f.Value)
			}
		case *ast.LogicalOpExpr:
			expr(e.Lhs)
			expr(e.Rhs)
		}
	}
	block = func(stmts []ast.Stmt) {
		for _, s := range stmts {
			switch s := s.(type) {
			case *ast.FuncCallStmt:
				expr(s.Expr)
			case *ast.LocalAssignStmt:
				for _, e := range s.Exprs {
					expr(e)
				}
			case *ast.AssignStmt:
				for _, e := range s.Rhs {
					expr(e)
				}
			case *ast.DoBlockStmt:
				block(s.Stmts)
			case *ast.IfStmt:
				block(s.Then)
				block(s.Else)
			case *ast.FuncDefStmt:
				block(s.Func.Stmts)
			case *ast.ReturnStmt:
				for _, e := range s.Exprs {
					expr(e)
				}
			}
		}
	}
	block(stmts)
}
