package luart

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"

	"github.com/gofab/gofab/internal/base/fuzzy"
	"github.com/gofab/gofab/internal/data/inventory"
	"github.com/gofab/gofab/internal/data/secrets"
)

// Program is a compiled fabfile and what its top level declared. It holds
// only plain Go data after Compile and is shared by all hosts.
type Program struct {
	// Path is the chunk name used in error messages (file:line).
	Path string
	// RealPath is the fabfile's absolute path (env.real_fabfile).
	RealPath string
	proto    *lua.FunctionProto
	modules  []Module

	// Tasks in the order the fabfile declared them.
	Tasks []*Task
	// Env is the plain-data content of the env table after the top level
	// ran: env.hosts, env.roledefs and any other key the fabfile set.
	Env map[string]any
	// Hosts, Roles and ExcludeHosts are env.hosts, env.roles and
	// env.exclude_hosts.
	Hosts, Roles, ExcludeHosts []string
	// Roledefs is env.roledefs.
	Roledefs map[string]Role
	// Set holds the --set values, applied to env before the top level runs.
	Set map[string]any
	// Inventory is every host and group the fabfile declared: hosts(),
	// group(), env.hosts and env.roledefs (as groups). Read-only.
	Inventory *inventory.Inventory

	// Secrets is the run's decrypted files and redaction set.
	Secrets *secrets.Store
	// secretFiles are the files secrets.load named while planning, in
	// order (see LoadSecrets).
	secretFiles []string

	// sources are the inventory sources read while planning, by kind
	// and argument; host states get them from here.
	sources  map[string]*source
	sshHosts func() ([]string, error)
	ctx      context.Context
	// sandboxed: see Options.Sandboxed.
	sandboxed bool

	stdout     io.Writer
	stderr     io.Writer // warnings while planning
	searchPath []string
	finder     ModuleFinder
	modCache   moduleCache
	// all are luart's own modules, then modules; lazy indexes what
	// their states make on first read (see lazy.go).
	all  []Module
	lazy lazyIndexes
}

// SecretFile records a file secrets.load named in the planning state.
func (st *State) SecretFile(path string) {
	if st.planning() && !slices.Contains(st.prog.secretFiles, path) {
		st.prog.secretFiles = append(st.prog.secretFiles, path)
	}
}

// LoadSecrets decrypts the files the fabfile's top level named with
// secrets.load, once each, before a run starts: a file that cannot be
// decrypted stops the run before any host is reached. Listing tasks or
// hosts never calls it, so it never asks for a passphrase.
func (p *Program) LoadSecrets() error {
	for _, f := range p.secretFiles {
		if _, err := p.Secrets.Load(f); err != nil {
			return &LoadError{Msg: fmt.Sprintf("%s: secrets.load(%q): %v", p.Path, p.relative(f), err)}
		}
	}
	return nil
}

// relative names path from the fabfile's directory when it is inside.
func (p *Program) relative(path string) string {
	if rel, err := filepath.Rel(filepath.Dir(p.RealPath), path); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return path
}

// Task is what task() declared: metadata only, never the Lua function,
// which belongs to one state.
type Task struct {
	Name         string
	Doc          string
	Hosts        []string
	Roles        []string
	ExcludeHosts []string
	Aliases      []string
	Default      bool
	// File and Line are where the task was declared.
	File string
	Line int

	// RunsOnce runs the task once per gofab invocation, whatever its hosts;
	// later runs (and execute calls) get the first run's value.
	RunsOnce bool
	// Shard, when set, is the one shard of a --shard run that runs the
	// task; the others skip it.
	Shard *int
	// Serial runs one host at a time; Parallel lifts --serial and -z.
	Serial, Parallel bool
	// PoolSize caps hosts running at once (0: the run's setting).
	PoolSize int
	// Batch lists rolling batch sizes, each "N" or "P%"; the last repeats.
	// A batch starts only when the previous one finished.
	Batch []string
	// MaxFail, "N" or "P%", is how many hosts may fail before gofab stops
	// starting hosts and cancels the running ones ("" for no limit).
	MaxFail string
	// FailFast stops at the first failure (MaxFail 0).
	FailFast bool
	// Private tasks are callable (call, tasks.name, execute) and runnable
	// by name but left out of -l and completion: Fabric's helpers that
	// are not tasks.
	Private bool
}

// Role is an entry of env.roledefs: a list of hosts, or a table with hosts
// and vars. Vars are merged into env for tasks running on those hosts.
type Role struct {
	Hosts []string
	Vars  map[string]any
}

// SyntaxError is a fabfile that does not parse or compile.
type SyntaxError struct {
	Msg string // file:line: message
}

func (e *SyntaxError) Error() string { return e.Msg }

// LoadError is a fabfile whose top level failed while planning.
type LoadError struct {
	Msg string // file:line: message
}

func (e *LoadError) Error() string { return e.Msg }

// Options configure a Program.
type Options struct {
	// Modules are the Lua modules every state offers (stdlib.Modules()).
	Modules []Module
	// Set holds --set values (dotted keys already nested), applied to env
	// before the top level runs.
	Set map[string]any
	// Stdout receives what the top level prints while planning.
	Stdout io.Writer
	// Stderr receives the planning's warnings (default: Stdout).
	Stderr io.Writer
	// SearchPath lists the directories require() looks in (see
	// SearchPath); empty means the fabfile's directory and its lib/.
	SearchPath []string
	// Finder resolves require() names of recipe modules (gofab.mod)
	// before the search path; nil means there are none.
	Finder ModuleFinder
	// SSHHosts lists the Host entries of the ssh config, for
	// inventory.ssh_config.
	SSHHosts func() ([]string, error)
	// Context bounds what planning runs (inventory commands); nil means
	// context.Background.
	Context context.Context
	// Sandboxed is gofab test's: Lua's io and os reach files only through
	// a run's LocalFS (the disk is read, never written; see sandbox.go)
	// and inventory commands are refused.
	Sandboxed bool
	// Secrets is the run's decrypted files and redaction set; nil gives
	// the program a store of its own (identities from the environment).
	Secrets *secrets.Store
}

// Compile parses and compiles a fabfile once and runs its top level in a
// planning state to collect tasks, env and roles.
func Compile(path string, src []byte, opts Options) (*Program, error) {
	proto, err := compile(bytes.NewReader(src), path)
	if err != nil {
		return nil, &SyntaxError{Msg: syntaxMessage(path, src, err)}
	}
	if opts.Stdout == nil {
		opts.Stdout = io.Discard
	}
	if opts.Stderr == nil {
		opts.Stderr = opts.Stdout
	}
	p := &Program{Path: path, proto: proto, modules: opts.Modules, Set: opts.Set, stdout: opts.Stdout, stderr: opts.Stderr, searchPath: opts.SearchPath, finder: opts.Finder,
		sshHosts: opts.SSHHosts, ctx: opts.Context, sandboxed: opts.Sandboxed, Secrets: opts.Secrets}
	if p.Secrets == nil {
		p.Secrets = secrets.New(nil, "")
	}
	p.all = append(Builtins(), p.modules...)
	p.lazy = newLazyIndexes(p.all)
	if p.ctx == nil {
		p.ctx = context.Background()
	}
	if len(p.searchPath) == 0 {
		p.searchPath = SearchPath(path, nil, "", "")
	}
	if abs, err := filepath.Abs(path); err == nil {
		p.RealPath = abs
	}
	if err := p.plan(); err != nil {
		return nil, err
	}
	return p, nil
}

// syntaxMessage turns gopher-lua's parse errors into "file:line: message".
func syntaxMessage(path string, src []byte, err error) string {
	if pe, ok := err.(*parse.Error); ok {
		if pe.Pos.Line < 1 { // gopher-lua's position of the end of input
			return fmt.Sprintf("%s:%d: %s: the file ends inside a statement (a missing end or closing bracket?)",
				path, bytes.Count(src, []byte("\n"))+1, pe.Message)
		}
		return fmt.Sprintf("%s:%d: %s near %q", path, pe.Pos.Line, pe.Message, pe.Token)
	}
	if ce, ok := err.(*lua.CompileError); ok {
		return fmt.Sprintf("%s:%d: %s", path, ce.Line, ce.Message)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, path) {
		msg = path + ": " + msg
	}
	return msg
}

// plan runs the top level in a throwaway state and keeps what it declared.
func (p *Program) plan() error {
	// A runaway top level (while true do end) stops at the first signal.
	st, err := p.NewScript(p.ctx)
	if err != nil {
		return err
	}
	defer st.close()
	p.Tasks = st.tasks
	env, err := st.envPlain()
	if err != nil {
		return &LoadError{Msg: fmt.Sprintf("%s: env: %v", p.Path, err)}
	}
	p.Env = env
	if p.Hosts, err = stringList(env["hosts"]); err != nil {
		return &LoadError{Msg: fmt.Sprintf("%s: env.hosts: %v", p.Path, err)}
	}
	if p.Roles, err = stringList(env["roles"]); err != nil {
		return &LoadError{Msg: fmt.Sprintf("%s: env.roles: %v", p.Path, err)}
	}
	if p.ExcludeHosts, err = stringList(env["exclude_hosts"]); err != nil {
		return &LoadError{Msg: fmt.Sprintf("%s: env.exclude_hosts: %v", p.Path, err)}
	}
	if p.Roledefs, err = roledefs(env["roledefs"]); err != nil {
		return &LoadError{Msg: fmt.Sprintf("%s: env.roledefs: %v", p.Path, err)}
	}
	p.Inventory = st.declared(len(p.Hosts) > 0 || len(p.Roledefs) > 0)
	for _, h := range p.Hosts {
		if !p.Inventory.HasGroup(h) && !strings.ContainsAny(h, "*?[&!@") {
			p.Inventory.AddHost(inventory.Host{Name: h})
		}
	}
	for name, r := range p.Roledefs {
		p.Inventory.AddGroup(inventory.Group{Name: name, Hosts: r.Hosts, Role: true})
	}
	if err := p.Inventory.Finish(); err != nil {
		return &LoadError{Msg: fmt.Sprintf("%s: inventory: %v", p.Path, err)}
	}
	return nil
}

// Task returns the task named name or having it as an alias.
func (p *Program) Task(name string) (*Task, bool) {
	for _, t := range p.Tasks {
		if t.Name == name {
			return t, true
		}
	}
	for _, t := range p.Tasks {
		for _, a := range t.Aliases {
			if a == name {
				return t, true
			}
		}
	}
	return nil, false
}

// DefaultTask returns the task marked default, if any.
func (p *Program) DefaultTask() (*Task, bool) {
	for _, t := range p.Tasks {
		if t.Default {
			return t, true
		}
	}
	return nil, false
}

// Modules returns the modules the program's states offer.
func (p *Program) Modules() []Module { return p.modules }

func roledefs(v any) (map[string]Role, error) {
	if v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		if l, isList := v.([]any); isList && len(l) == 0 {
			return nil, nil
		}
		return nil, fmt.Errorf("must be a table of role = hosts")
	}
	out := make(map[string]Role, len(m))
	for name, def := range m {
		var r Role
		switch d := def.(type) {
		case []any:
			hosts, err := stringList(d)
			if err != nil {
				return nil, fmt.Errorf("role %s: %v", name, err)
			}
			r.Hosts = hosts
		case map[string]any:
			hosts, err := stringList(d["hosts"])
			if err != nil {
				return nil, fmt.Errorf("role %s: hosts: %v", name, err)
			}
			r.Hosts = hosts
			r.Vars = map[string]any{}
			if vars, ok := d["vars"].(map[string]any); ok {
				for k, v := range vars {
					r.Vars[k] = v
				}
			} else if d["vars"] != nil {
				return nil, fmt.Errorf("role %s: vars must be a table", name)
			}
			// Fabric 1 style: other keys next to hosts are vars too.
			for k, v := range d {
				if k != "hosts" && k != "vars" {
					r.Vars[k] = v
				}
			}
		default:
			return nil, fmt.Errorf("role %s: must be a list of hosts or a table with hosts and vars", name)
		}
		out[name] = r
	}
	return out, nil
}

// stringList accepts nil, a string (comma-separated) or a list of strings.
func stringList(v any) ([]string, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		var out []string
		for _, s := range strings.Split(x, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out, nil
	case []any:
		out := make([]string, 0, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("element %d is %T, not a string", i+1, e)
			}
			out = append(out, s)
		}
		return out, nil
	case map[string]any:
		if len(x) == 0 {
			return nil, nil
		}
	}
	return nil, fmt.Errorf("must be a list of strings")
}

// TaskNames returns the names of the listed tasks (Listed), sorted.
func (p *Program) TaskNames() []string {
	names := make([]string, 0, len(p.Tasks))
	for _, t := range p.Listed() {
		names = append(names, t.Name)
	}
	sort.Strings(names)
	return names
}

// Listed are the tasks -l lists and completion offers: all but private
// ones.
func (p *Program) Listed() []*Task {
	out := make([]*Task, 0, len(p.Tasks))
	for _, t := range p.Tasks {
		if !t.Private {
			out = append(out, t)
		}
	}
	return out
}

// UnknownTask says a task does not exist, suggesting the closest name.
func (p *Program) UnknownTask(name string) string {
	msg := fmt.Sprintf("unknown task %q", name)
	best, bestD := "", 1<<30
	for _, t := range p.Tasks {
		for _, n := range append([]string{t.Name}, t.Aliases...) {
			if d := fuzzy.Distance(name, n); d < bestD {
				best, bestD = n, d
			}
		}
	}
	if best != "" && bestD <= max(2, len(name)/3) {
		msg += fmt.Sprintf(", did you mean %q?", best)
	} else if len(p.Tasks) > 0 {
		msg += " (gofab -l lists the tasks)"
	}
	return msg
}
