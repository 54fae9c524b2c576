// Package recipetest runs recipe unit tests (gofab test): it finds
// *_test.lua files, runs each case of each file in a fresh Lua state
// against fake hosts, with the fabfile's tasks run by the real executor,
// and reports like go test.
package recipetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gofab/gofab/internal/base/host"
	"github.com/gofab/gofab/internal/compose"
	"github.com/gofab/gofab/internal/data/secrets"
	"github.com/gofab/gofab/internal/run/executor"
	"github.com/gofab/gofab/internal/testdouble/fakehost"
	"github.com/gofab/gofab/internal/ui/output"
	"github.com/gofab/gofab/luart"
	"github.com/gofab/gofab/stdlib/fabtest"
)

// Options say what to test and how to report it.
type Options struct {
	// Paths are test files and directories searched for *_test.lua
	// (default ".").
	Paths []string
	// Fabfile is the fabfile under test; empty means the fabfile.lua
	// nearest each test file (its directory or a parent).
	Fabfile string
	// SearchPath extends require()'s search (--include, GOFAB_PATH).
	Include []string
	// Run selects cases by name; nil runs all.
	Run *regexp.Regexp
	// Verbose lists every case and every command it issued.
	Verbose bool
	// Out receives the report.
	Out io.Writer
	// GofabPath and Home are GOFAB_PATH and $HOME, for require().
	GofabPath, Home string
	// Modules loads the recipe modules (gofab.mod) of a fabfile's
	// project; nil, or a nil finder, means none.
	Modules func(fabfile string) (luart.ModuleFinder, error)
}

// ErrNoTests is returned when no test file was found.
var ErrNoTests = errors.New("no *_test.lua files")

// Run runs the tests and reports whether all passed. An error means the
// tests could not be run (no files, a fabfile or test file that does not
// load is a failure, not an error).
func Run(ctx context.Context, o Options) (bool, error) {
	files, err := find(o.Paths)
	if err != nil {
		return false, err
	}
	if len(files) == 0 {
		return false, fmt.Errorf("%w in %s", ErrNoTests, strings.Join(o.Paths, ", "))
	}
	ok := true
	for _, f := range files {
		if ctx.Err() != nil {
			return false, context.Cause(ctx)
		}
		if !runFile(ctx, o, f) {
			ok = false
		}
	}
	if ok {
		fmt.Fprintln(o.Out, "PASS")
	} else {
		fmt.Fprintln(o.Out, "FAIL")
	}
	return ok, nil
}

// find lists the test files of paths, sorted.
func find(paths []string) ([]string, error) {
	if len(paths) == 0 {
		paths = []string{"."}
	}
	var files []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("test path: %w", err)
		}
		if !fi.IsDir() {
			files = append(files, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && path != p && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			if !d.IsDir() && strings.HasSuffix(d.Name(), "_test.lua") {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	slices.Sort(files)
	return slices.Compact(files), nil
}

// fabfileFor returns the fabfile a test file tests.
func fabfileFor(o Options, test string) (string, error) {
	if o.Fabfile != "" {
		return o.Fabfile, nil
	}
	abs, err := filepath.Abs(test)
	if err != nil {
		return "", err
	}
	p := luart.FindFabfile(filepath.Dir(abs))
	if p == "" {
		return "", fmt.Errorf("no fabfile.lua next to %s or above it (name one with -f)", test)
	}
	return luart.DisplayPath(p), nil
}

// suite is one test file and the fabfile it tests.
type suite struct {
	o       Options
	fabfile string
	finder  luart.ModuleFinder
	// prog is the fabfile compiled once, for every run_task that sets no
	// env values.
	prog *luart.Program
	test *luart.Program
	out  bytes.Buffer
	// secrets decrypt fixtures with the test identity only (never the
	// user's keys) and hold what run_task output must not show.
	secrets *secrets.Store
}

// runFile runs one test file's cases and reports them.
func runFile(ctx context.Context, o Options, file string) bool {
	start := time.Now()
	s := &suite{o: o, secrets: secrets.NewTest()}
	ok := s.run(ctx, file)
	status := "ok  "
	if !ok {
		status = "FAIL"
	}
	o.Out.Write(s.out.Bytes())
	fmt.Fprintf(o.Out, "%s\t%s\t%.3fs\n", status, luart.DisplayPath(file), time.Since(start).Seconds())
	return ok
}

func (s *suite) run(ctx context.Context, file string) bool {
	fail := func(format string, a ...any) bool {
		fmt.Fprintf(&s.out, "    "+format+"\n", a...)
		return false
	}
	fabfile, err := fabfileFor(s.o, file)
	if err != nil {
		return fail("%v", err)
	}
	s.fabfile = fabfile
	if s.o.Modules != nil {
		if s.finder, err = s.o.Modules(fabfile); err != nil {
			return fail("%v", err)
		}
	}
	// The fabfile must load on its own before any case runs.
	if s.prog, err = s.compileFabfile(ctx, nil); err != nil {
		return fail("%v", err)
	}
	src, err := os.ReadFile(file)
	if err != nil {
		return fail("%v", err)
	}
	name := luart.DisplayPath(file)
	search := append([]string{filepath.Dir(file)}, luart.SearchPath(fabfile, s.o.Include, s.o.GofabPath, s.o.Home)...)
	s.test, err = compose.Compile(name, src, luart.Options{SearchPath: search, Finder: s.finder, Context: ctx, Sandboxed: true, Secrets: s.secrets}, fabtest.Module(s))
	if err != nil {
		return fail("%v", err)
	}
	st, err := s.test.NewScript(ctx)
	if err != nil {
		return fail("%v", err)
	}
	var names []string
	for _, c := range fabtest.Cases(st) {
		names = append(names, c.Name)
	}
	st.Close()
	if len(names) == 0 {
		return fail("%s declares no testing.case", name)
	}
	ok := true
	for i, n := range names {
		if s.o.Run != nil && !s.o.Run.MatchString(n) {
			continue
		}
		if !s.runCase(ctx, i) {
			ok = false
		}
	}
	return ok
}

// runCase runs case i in a state of its own and reports it.
func (s *suite) runCase(ctx context.Context, i int) bool {
	st, err := s.test.NewScript(ctx)
	if err != nil {
		fmt.Fprintf(&s.out, "    %v\n", err)
		return false
	}
	defer st.Close()
	name := fabtest.Cases(st)[i].Name
	if s.o.Verbose {
		fmt.Fprintf(&s.out, "=== RUN   %s\n", name)
	}
	start := time.Now()
	dir, _ := filepath.Abs(filepath.Dir(s.fabfile))
	c, err := fabtest.RunCase(st, i, dir)
	took := time.Since(start).Seconds()
	if err != nil {
		fmt.Fprintf(&s.out, "--- FAIL: %s (%.3fs)\n", name, took)
		fmt.Fprintf(&s.out, "    %s\n", err)
	} else if s.o.Verbose {
		fmt.Fprintf(&s.out, "--- PASS: %s (%.3fs)\n", name, took)
	}
	if s.o.Verbose {
		for _, h := range c.AllHosts() {
			if cmds := h.Commands(false); len(cmds) > 0 {
				fmt.Fprintf(&s.out, "    commands on %s:\n%s\n", h.Name, fabtest.Listing(h))
			}
		}
	}
	return err == nil
}

// compileFabfile compiles the fabfile with env values set.
func (s *suite) compileFabfile(ctx context.Context, set map[string]string) (*luart.Program, error) {
	src, err := os.ReadFile(s.fabfile)
	if err != nil {
		return nil, err
	}
	var setAny map[string]any
	if len(set) > 0 {
		setAny = map[string]any{}
		for k, v := range set {
			setAny[k] = v
		}
	}
	return compose.Compile(s.fabfile, src, luart.Options{Set: setAny, Context: ctx, Sandboxed: true, Secrets: s.secrets,
		SearchPath: luart.SearchPath(s.fabfile, s.o.Include, s.o.GofabPath, s.o.Home), Finder: s.finder})
}

// RunTask runs a task on a case's hosts with the real executor.
func (s *suite) RunTask(ctx context.Context, c *fabtest.Case, task string, args luart.Args, o fabtest.RunOptions) (*fabtest.Run, error) {
	prog := s.prog
	if len(o.Set) > 0 {
		var err error
		if prog, err = s.compileFabfile(ctx, o.Set); err != nil {
			return nil, err
		}
	}
	var buf bytes.Buffer
	ex := compose.Executor(executor.Config{Run: &luart.RunOptions{Check: o.Check, DryRun: o.DryRun, Diff: o.Diff,
		LocalDir: filepath.Dir(prog.RealPath), LocalFS: fakehost.NewOverlay(c.Local.FS, host.OS{})}},
		executor.Deps{Program: prog, Dialer: c.Fleet, Local: c.Local.Conn(true), Printer: output.NewWith(&buf, output.Options{Redact: s.secrets.Redact})})
	defer ex.Close()
	// The case's hosts are given as -H gives them: a task that names its
	// own hosts runs there (fake hosts made on demand).
	results, err := ex.RunTask(ctx, task, args, executor.Selection{CLIHosts: c.Hosts}, executor.Call{})
	if err != nil {
		return nil, err
	}
	run := &fabtest.Run{Output: buf.String()}
	for _, r := range results {
		run.Results = append(run.Results, fabtest.Result{Host: r.Host, Status: r.Status.String(), Error: r.Err, Changed: r.Changed, Value: r.Value})
	}
	return run, nil
}
