package tests

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/gofab/gofab/"

// layers are gofab's folders, lowest first, each with the folders its
// packages may import besides their own (README, Layout, draws them). A
// package's rule is its folder's, so a new package is covered wherever it
// is put; a package in no layer fails the test. Programs (cmd, bench), the
// integration tests and the recipes sit on top and may import anything.
var layers = map[string][]string{
	// What everything shares: the events, the host interfaces, fuzzy
	// names, writing files a person names, redaction.
	"internal/base": {},
	// Printing a run: lines, JSON events, the status line, the HTML page.
	"internal/ui": {"internal/base"},
	// What a run reads and keeps: the inventory, secrets files, the rerun state.
	"internal/data": {"internal/base"},
	// How commands and files reach a host: ssh_config, connections, one
	// command line, SFTP.
	"internal/transport": {"internal/base"},
	// Recipe modules: gofab.mod, the cache, fetching, loading.
	"internal/mod": {"internal/base"},
	// The fake host and the simulated fleet.
	"internal/testdouble": {"internal/base"},
	// The Lua runtime: it never knows the executor, the transports or the
	// modules it hosts.
	"luart": {"internal/base", "internal/data"},
	// The Lua-facing modules: on top of the runtime, acting on hosts
	// through the transports.
	"stdlib": {"luart", "internal/base", "internal/data", "internal/transport", "internal/testdouble"},
	// Running tasks across hosts, and checking fabfiles.
	"internal/run": {"luart", "internal/base", "internal/data", "internal/ui"},
	// gofab test's composition: a run on fake hosts.
	"internal/compose": {"luart", "stdlib", "internal/base", "internal/data", "internal/transport", "internal/ui", "internal/testdouble", "internal/run"},
}

// top are the folders above every layer.
var top = []string{"cmd", "bench", "tests", "fabfiles"}

// forbiddenImports are edges inside a layer that the layering rules out.
var forbiddenImports = map[string][]string{
	// The modules share stdlib/hostio, never each other; only stdlib's
	// own list (stdlib.Modules) knows them all.
	"stdlib/ops":     {"stdlib/files", "stdlib/cuisine", "stdlib/fabtest", "stdlib/secrets"},
	"stdlib/files":   {"stdlib/ops", "stdlib/cuisine", "stdlib/fabtest", "stdlib/secrets"},
	"stdlib/cuisine": {"stdlib/ops", "stdlib/files", "stdlib/fabtest", "stdlib/secrets"},
	"stdlib/fabtest": {"stdlib/ops", "stdlib/files", "stdlib/cuisine", "stdlib/secrets"},
	"stdlib/secrets": {"stdlib/ops", "stdlib/files", "stdlib/cuisine", "stdlib/fabtest", "stdlib/hostio"},
	"stdlib/hostio":  {"stdlib/ops", "stdlib/files", "stdlib/cuisine", "stdlib/fabtest", "stdlib/secrets"},
	// A connection, a command line and a file transfer are apart.
	"internal/transport/transfer": {"internal/transport/connect", "internal/transport/shell"},
	"internal/transport/shell":    {"internal/transport/connect", "internal/transport/transfer"},
	"internal/transport/connect":  {"internal/transport/transfer", "internal/transport/shell"},
	// The cache knows nothing of fetching or loading.
	"internal/mod/modcache": {"internal/mod/modload", "internal/mod/modfetch"},
	"internal/mod/modfetch": {"internal/mod/modload"},
}

// allowedImports are, for the packages a rule names this way, the only
// packages of gofab's they may import, stricter than their layer.
var allowedImports = map[string][]string{
	// Leaves: they import nothing of gofab's (the host interfaces the
	// events only).
	"internal/base/event":          {},
	"internal/base/host":           {"internal/base/event"},
	"internal/base/fuzzy":          {},
	"internal/base/outfile":        {},
	"internal/base/redact":         {},
	"internal/data/sops":           {},
	"internal/mod/modfile":         {},
	"internal/transport/sshconfig": {},
	// Lint knows the registry's declarations, never how a run goes.
	"internal/run/lint": {"luart", "internal/base/fuzzy"},
}

// under reports whether package pkg is prefix or inside it.
func under(pkg, prefix string) bool {
	return pkg == prefix || strings.HasPrefix(pkg, prefix+"/")
}

// layerOf returns the layer (a key of layers) package pkg is in, "top"
// for the programs, tests and recipes, or "" for none.
func layerOf(pkg string) string {
	if slices.ContainsFunc(top, func(t string) bool { return under(pkg, t) }) {
		return "top"
	}
	for dir := range layers {
		if under(pkg, dir) {
			return dir
		}
	}
	return ""
}

// checkImport reports an import of target by pkg that a rule forbids.
func checkImport(t *testing.T, rel, pkg, target string) {
	t.Helper()
	own, theirs := layerOf(pkg), layerOf(target)
	switch {
	case own == "top" || own == "": // "": said once, as a package in no layer
		return
	case theirs == "top":
		t.Errorf("%s imports %s: only the programs and tests are above every layer", rel, target)
	case theirs != own && !slices.Contains(layers[own], theirs):
		t.Errorf("%s imports %s: a package of %s may import only %v and its own folder", rel, target, own, layers[own])
	}
	for _, b := range forbiddenImports[pkg] {
		if under(target, b) {
			t.Errorf("%s imports %s: against the layering", rel, target)
		}
	}
	if allowed, ok := allowedImports[pkg]; ok && !slices.ContainsFunc(allowed, func(a string) bool { return under(target, a) }) {
		t.Errorf("%s imports %s: %s may import only %v of gofab's packages", rel, target, pkg, allowed)
	}
}

// maxFileLines is the longest a Go file may be, generated files aside:
// a longer one holds more than one concern, split it by concern.
const maxFileLines = 600

// generated is Go's marker of a generated file ("Code generated … DO
// NOT EDIT.").
var generated = regexp.MustCompile(`(?m)^// Code generated .* DO NOT EDIT\.$`)

// maxFuncLines is the longest a function may be, table-driven data aside.
const maxFuncLines = 80

// funcBody returns the body of a function declaration or literal, or nil.
func funcBody(n ast.Node) *ast.BlockStmt {
	switch f := n.(type) {
	case *ast.FuncDecl:
		return f.Body
	case *ast.FuncLit:
		return f.Body
	}
	return nil
}

// isData reports whether a function body only returns a composite literal
// (a module's table of functions, a list of cases).
func isData(body *ast.BlockStmt) bool {
	if len(body.List) != 1 {
		return false
	}
	ret, ok := body.List[0].(*ast.ReturnStmt)
	if !ok || len(ret.Results) != 1 {
		return false
	}
	_, ok = ret.Results[0].(*ast.CompositeLit)
	return ok
}

// processOnly are what only cmd may use: the process's exit and its
// standard streams.
var processOnly = []string{"Exit", "Stdout", "Stderr", "Stdin"}

// TestLayering fails when a package has no layering rule or imports
// against one, a package outside cmd (and the standalone bench programs)
// exits the process or writes to its standard streams, a command is run
// other than through the one command path (stdlib/hostio.Run), a
// function is longer than maxFuncLines or a file than maxFileLines.
func TestLayering(t *testing.T) {
	fset := token.NewFileSet()
	unruled := map[string]bool{}
	err := filepath.WalkDir(repoRoot, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(repoRoot, path)
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if n := bytes.Count(src, []byte("\n")); n > maxFileLines && !generated.Match(src) {
			t.Errorf("%s: %d lines (at most %d): split it by concern", rel, n, maxFileLines)
		}
		if strings.HasSuffix(path, "_test.go") {
			return nil
		}
		pkg := filepath.ToSlash(filepath.Dir(rel))
		f, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		if layerOf(pkg) == "" && !unruled[pkg] {
			unruled[pkg] = true
			t.Errorf("package %s is in no layer: put it in one of the folders of layers", pkg)
		}
		for _, imp := range f.Imports {
			if target, ok := strings.CutPrefix(strings.Trim(imp.Path.Value, `"`), module); ok {
				checkImport(t, rel, pkg, target)
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if body := funcBody(n); body != nil {
				lines := fset.Position(body.End()).Line - fset.Position(body.Pos()).Line + 1
				if lines > maxFuncLines && !isData(body) {
					t.Errorf("%s: a function of %d lines (at most %d): split it into named steps", fset.Position(n.Pos()), lines, maxFuncLines)
				}
			}
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == "shell" && sel.Sel.Name == "Run" && pkg != "stdlib/hostio" {
				t.Errorf("%s: shell.Run outside stdlib/hostio: commands take the one command path (hostio.Run)", fset.Position(sel.Pos()))
			}
			if strings.HasPrefix(pkg, "cmd/") || strings.HasPrefix(pkg, "bench/") {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == "os" {
				for _, name := range processOnly {
					if sel.Sel.Name == name {
						t.Errorf("%s: os.%s outside cmd", fset.Position(sel.Pos()), name)
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
