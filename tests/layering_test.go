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

// forbiddenImports are the edges the layering (README, Layout) rules out:
// only cmd touches the process and wires the layers; the runtime never
// knows the executor, the transports or the modules it hosts; the host
// interfaces know nothing of gofab.
var forbiddenImports = map[string][]string{
	"":       {"cmd/gofab"}, // every package
	"luart":  {"internal/executor", "internal/connect", "internal/transfer", "internal/shell", "internal/output", "stdlib", "internal/lint", "internal/report"},
	"stdlib": {"internal/executor", "internal/connect", "internal/lint", "internal/report", "internal/output"},
	// The modules share stdlib/target, never each other; only stdlib's
	// own list (stdlib.Modules) knows them all.
	"stdlib/ops":     {"stdlib/files", "stdlib/cuisine", "stdlib/fabtest", "stdlib/secrets"},
	"stdlib/files":   {"stdlib/ops", "stdlib/cuisine", "stdlib/fabtest", "stdlib/secrets"},
	"stdlib/cuisine": {"stdlib/ops", "stdlib/files", "stdlib/fabtest", "stdlib/secrets"},
	"stdlib/fabtest": {"stdlib/ops", "stdlib/files", "stdlib/cuisine", "stdlib/secrets"},
	"stdlib/secrets": {"stdlib/ops", "stdlib/files", "stdlib/cuisine", "stdlib/fabtest", "stdlib/target"},
	"stdlib/target":  {"stdlib/ops", "stdlib/files", "stdlib/cuisine", "stdlib/fabtest", "stdlib/secrets"},
	// Secrets: the file format and redaction know nothing of gofab; the
	// run's store knows only them.
	"internal/sops":      {""},
	"internal/redact":    {""},
	"internal/secrets":   {"luart", "stdlib", "internal/executor", "internal/connect", "internal/transfer", "internal/shell", "internal/output", "internal/inventory"},
	"internal/outfile":   {""},
	"internal/connect":   {"luart", "stdlib", "internal/executor", "internal/transfer", "internal/output"},
	"internal/transfer":  {"luart", "stdlib", "internal/executor", "internal/connect", "internal/shell", "internal/output"},
	"internal/shell":     {"luart", "stdlib", "internal/executor", "internal/connect", "internal/transfer", "internal/output"},
	"internal/executor":  {"stdlib", "internal/connect"},
	"internal/inventory": {"luart", "stdlib", "internal/executor", "internal/connect"},
	"internal/output":    {"luart", "stdlib", "internal/executor"},
	"internal/report":    {"luart", "stdlib", "internal/executor", "internal/connect"},
	// Recipe modules: files and hashes below, fetching and loading above;
	// none knows the runtime, the executor or the hosts' transports.
	"internal/modfile":  {""},
	"internal/modcache": {"luart", "stdlib", "internal/executor", "internal/connect", "internal/modload", "internal/modfetch"},
	"internal/modfetch": {"luart", "stdlib", "internal/executor", "internal/connect", "internal/modload"},
	"internal/modload":  {"luart", "stdlib", "internal/executor", "internal/connect", "internal/transfer", "internal/shell"},
	"internal/fakehost": {"luart", "stdlib", "internal/executor", "internal/connect", "internal/transfer", "internal/shell", "internal/output"},
}

// allowedImports are, for the packages a rule names this way, the only
// packages of gofab's they may import (a package below them, by prefix).
var allowedImports = map[string][]string{
	// The events and the host interfaces everything shares: leaves.
	"internal/event":     {},
	"internal/host":      {"internal/event"},
	"internal/fuzzy":     {},
	"internal/sshconfig": {},
	"internal/runstate":  {"internal/outfile"},
	// Lint knows the registry's declarations, never how a run goes.
	"internal/lint": {"luart", "internal/fuzzy"},
	// The simulated fleet serves fake hosts over SSH: a test double.
	"internal/simfleet": {"internal/fakehost", "internal/host"},
	// gofab test's composition: a run on fake hosts, never real SSH
	// dialing beyond the local and dry-run hosts connect gives.
	"internal/recipetest": {"internal/connect", "internal/executor", "internal/fakehost", "internal/host", "internal/output", "internal/secrets", "luart", "stdlib"},
}

// under reports whether package pkg is prefix or inside it.
func under(pkg, prefix string) bool {
	return pkg == prefix || strings.HasPrefix(pkg, prefix+"/")
}

// ruled reports whether a rule covers package pkg: a key of
// forbiddenImports that is pkg or one of its parents, or of
// allowedImports that is pkg. Programs (cmd, bench), the integration
// tests and the recipes need none.
func ruled(pkg string) bool {
	for _, top := range []string{"cmd/", "bench", "tests", "fabfiles"} {
		if strings.HasPrefix(pkg, top) {
			return true
		}
	}
	if _, ok := allowedImports[pkg]; ok {
		return true
	}
	for prefix := range forbiddenImports {
		if prefix != "" && under(pkg, prefix) {
			return true
		}
	}
	return false
}

// checkImport reports an import of target by pkg that a rule forbids.
func checkImport(t *testing.T, rel, pkg, target string) {
	t.Helper()
	for prefix, banned := range forbiddenImports {
		if prefix != "" && !under(pkg, prefix) {
			continue
		}
		for _, b := range banned {
			if b == "" || under(target, b) {
				t.Errorf("%s imports %s: against the layering", rel, target)
			}
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
// other than through the one command path (stdlib/target.Run), a
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
		if !ruled(pkg) && !unruled[pkg] {
			unruled[pkg] = true
			t.Errorf("package %s has no layering rule: give it one in forbiddenImports or allowedImports", pkg)
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
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == "shell" && sel.Sel.Name == "Run" && pkg != "stdlib/target" {
				t.Errorf("%s: shell.Run outside stdlib/target: commands take the one command path (target.Run)", fset.Position(sel.Pos()))
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
