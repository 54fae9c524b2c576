// Package executor runs tasks and ad-hoc commands across hosts: it resolves
// each task's host list, keeps one connection per host for the whole run,
// runs every host on its own goroutine (with its own Lua state) up to the
// pool size, and records how each host ended.
package executor

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofab/gofab/internal/base/event"
	"github.com/gofab/gofab/internal/base/host"
	"github.com/gofab/gofab/internal/data/inventory"
	"github.com/gofab/gofab/internal/ui/output"
	"github.com/gofab/gofab/luart"
)

// Dialer opens connections and tells who a host's login user and port are.
type Dialer interface {
	Dial(ctx context.Context, addr host.Addr) (host.Conn, error)
	// Identity returns the login user and port addr resolves to.
	Identity(addr host.Addr) (string, int, error)
}

// Status is how a host ended.
type Status int

// The statuses a host can end with.
const (
	OK Status = iota
	Failed
	Unreachable
	// Skipped hosts were not run: unreachable under --skip-bad-hosts, or
	// not started once max_fail was exceeded.
	Skipped
	// Interrupted hosts were stopped by Ctrl-C, SIGTERM or SIGHUP.
	Interrupted
)

func (s Status) String() string {
	return [...]string{"ok", "failed", "unreachable", "skipped", "interrupted"}[s]
}

// HostResult is how one host ended one task.
type HostResult struct {
	Host     string
	Status   Status
	Err      string // one line; empty when OK
	Duration time.Duration
	// Value is the task's return value as plain data.
	Value any
	// Changed counts what built-in functions changed on the host.
	Changed int
	// cause is the error Err says, for errors.As.
	cause error
}

// Deps are what an Executor runs with.
type Deps struct {
	Program *luart.Program // nil for an ad-hoc command with no fabfile
	Dialer  Dialer
	Local   host.Conn
	Printer *output.Printer
}

// Config is how an Executor runs, for the whole run.
type Config struct {
	Run *luart.RunOptions // nil: the defaults
	// PoolSize caps hosts running at once; 0 means no cap.
	PoolSize int
	// Serial runs one host at a time.
	Serial bool
	// SkipBadHosts reports unreachable hosts as skipped, not failed.
	SkipBadHosts bool
	// StrictHosts makes a host list that selects no host an error (exit
	// 2) instead of a warning and a task run nowhere.
	StrictHosts bool
	// Status keeps a live "N/M hosts done" line under the output (only
	// on a terminal).
	Status bool
	// Admit caps the hosts of a task that may have started (and hold a
	// Lua state) without having connected yet; 0 means no cap. Hosts
	// waiting for a handshake slot then wait before their state is made,
	// so a 10,000-host run holds a few hundred states, not 10,000. A host
	// leaves the count when it connects, waits at a barrier or ends.
	Admit int
	// Shard, when on, runs only the hosts of this shard of the run (see
	// Shard), and only the tasks whose shard option, if any, is its own.
	Shard Shard
}

// Call is how one RunTask or RunCommand runs.
type Call struct {
	// Release closes each host's connection as soon as its part of the
	// call (execute()s inside it included) has ended, instead of at
	// Close: give it for the run's last call, so a large fleet does not
	// hold thousands of idle connections until the slowest host is done.
	// A later call or execute() on the host connects again.
	Release bool
}

// callKey is the context key of the Call a host's run belongs to.
type callKey struct{}

// Executor runs tasks over hosts. Make one per gofab run with New and
// Close it.
type Executor struct {
	Deps
	Config

	shared *store
	admit  chan struct{}
	once   onceTasks
	// sel is the command line's host selection, for execute().
	sel Selection

	mu     sync.Mutex
	conns  map[string]*connEntry
	active map[string]int // tasks running per host
	// connecting counts hosts dialling, for the status line.
	connecting atomic.Int64
	outs       map[string]*output.Host
	order      []string
	summary    map[string]*HostResult
}

// New returns an Executor for one run.
func New(cfg Config, deps Deps) *Executor {
	if cfg.Run == nil {
		cfg.Run = &luart.RunOptions{}
	}
	e := &Executor{Deps: deps, Config: cfg, conns: map[string]*connEntry{}, active: map[string]int{},
		outs: map[string]*output.Host{}, summary: map[string]*HostResult{},
		shared: newStore(), once: onceTasks{runs: map[string]*onceRun{}}}
	if cfg.Admit > 0 {
		e.admit = make(chan struct{}, cfg.Admit)
	}
	return e
}

type connEntry struct {
	once sync.Once
	conn host.Conn
	err  error
}

func (e *Executor) out(h string) *output.Host {
	e.mu.Lock()
	defer e.mu.Unlock()
	o, ok := e.outs[h]
	if !ok {
		o = e.Printer.Host(h)
		e.outs[h] = o
	}
	return o
}

// connect returns the run's connection to h, dialling it once; a failure is
// remembered for the rest of the run.
func (e *Executor) connect(ctx context.Context, h string, addr host.Addr) (host.Conn, error) {
	e.mu.Lock()
	c, ok := e.conns[h]
	if !ok {
		c = &connEntry{}
		e.conns[h] = c
	}
	e.mu.Unlock()
	c.once.Do(func() {
		e.connecting.Add(1)
		defer e.connecting.Add(-1)
		c.conn, c.err = e.Dialer.Dial(ctx, addr)
	})
	return c.conn, c.err
}

// reconnect closes h's connection and dials a new one for the rest of the
// run; on failure the old connection is left as it was.
func (e *Executor) reconnect(ctx context.Context, h string, addr host.Addr) (host.Conn, error) {
	conn, err := e.Dialer.Dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	old := e.conns[h]
	c := &connEntry{conn: conn}
	c.once.Do(func() {})
	e.conns[h] = c
	e.mu.Unlock()
	if old != nil && old.conn != nil {
		old.conn.Close()
	}
	return conn, nil
}

// using notes that a task runs on h until the returned function is
// called; then, when ctx's Call releases and nothing else runs on h (an
// execute() from another host's task may), h's connection is closed.
func (e *Executor) using(ctx context.Context, h string) (done func()) {
	call, _ := ctx.Value(callKey{}).(Call)
	e.mu.Lock()
	e.active[h]++
	e.mu.Unlock()
	return func() {
		e.mu.Lock()
		e.active[h]--
		var c *connEntry
		if e.active[h] == 0 {
			delete(e.active, h)
			if call.Release {
				c = e.conns[h]
				delete(e.conns, h)
			}
		}
		e.mu.Unlock()
		if c != nil {
			c.once.Do(func() {}) // a dial in progress has finished
			if c.conn != nil {
				c.conn.Close()
			}
		}
	}
}

// Close closes every connection of the run.
func (e *Executor) Close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, c := range e.conns {
		if c.conn != nil {
			c.conn.Close()
		}
	}
	clear(e.conns)
	if d, ok := e.Dialer.(interface{ Close() }); ok {
		d.Close() // jump host connections
	}
}

// RunTask runs task name on its hosts and returns each host's result. The
// error is a *UsageError for an unknown task or role.
func (e *Executor) RunTask(ctx context.Context, name string, args luart.Args, sel Selection, call Call) ([]HostResult, error) {
	ctx = context.WithValue(ctx, callKey{}, call)
	t, ok := e.Program.Task(name)
	if !ok {
		return nil, &UsageError{Msg: e.Program.UnknownTask(name)}
	}
	e.sel = Selection{CLIHosts: sel.CLIHosts, CLIRoles: sel.CLIRoles, CLIExclude: sel.CLIExclude}
	start := time.Now()
	e.Printer.Event(event.TaskStart{Task: t.Name})
	results, fresh, err := e.runTask(withTask(ctx, t.Name), t, args, sel, e.Status)
	if fresh {
		e.record(results)
	}
	end := event.TaskEnd{Task: t.Name, Duration: time.Since(start).Seconds(), Counts: counts(results)}
	if err != nil {
		end.Error = err.Error()
	}
	e.Printer.Event(end)
	return results, err
}

// runTask runs t on the hosts sel picks; a runs_once task runs on the
// first only, once per gofab run, and later calls get that run's results
// (fresh is false then).
// Only a top-level run shows the status line (status).
func (e *Executor) runTask(ctx context.Context, t *luart.Task, args luart.Args, sel Selection, status bool) (results []HostResult, fresh bool, err error) {
	if e.Shard.On() && t.Shard != nil && *t.Shard != e.Shard.Index {
		e.Printer.Printf("%s: runs in shard %d only (its shard option); this is shard %s", t.Name, *t.Shard, e.Shard)
		return nil, false, nil
	}
	targets, empty, err := e.selectTargets(ctx, t, sel)
	if err != nil {
		return nil, false, err
	}
	if empty != nil {
		e.Printer.Printf("warning: %s: %s", t.Name, empty.Error())
		return nil, false, nil
	}
	if len(targets) == 0 {
		targets = []target{{host: ""}}
	}
	topLevel := len(taskStack(ctx)) == 1 // not an execute() inside a task
	if targets = e.shardOf(t, targets, topLevel); len(targets) == 0 {
		return nil, false, nil
	}
	run := func() []HostResult {
		return e.fanOut(ctx, t.Name, targets, e.policyFor(t), status, func(ctx context.Context, tg target, hc *hostCoord) (any, error) {
			addr, err := tg.addr(e.inventory())
			if err != nil {
				return nil, err
			}
			he := e.hostEnv(tg, addr)
			he.Hosts = len(targets)
			he.Coord = hc
			if topLevel {
				if err := e.admitted(ctx, he, hc); err != nil {
					return nil, err
				}
				defer hc.leave()
			}
			defer e.using(ctx, tg.host)()
			return e.Program.RunTask(ctx, he, t.Name, args)
		})
	}
	if !t.RunsOnce {
		return run(), true, nil
	}
	targets = targets[:1]
	return e.once.do(ctx, t.Name, run)
}

// admitted waits for one of the Admit places of a top-level task's
// hosts, and gives it back (hc.leave) when the host has connected, waits
// at a barrier or ends. Hosts of execute() inside a task need no place:
// the task's host may hold one while it waits for them.
func (e *Executor) admitted(ctx context.Context, he *luart.HostEnv, hc *hostCoord) error {
	if e.Admit <= 0 {
		return nil
	}
	admit := e.admit
	select {
	case admit <- struct{}{}:
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	var once sync.Once
	hc.unadmit = func() { once.Do(func() { <-admit }) }
	connect := he.Connect
	he.Connect = func(ctx context.Context) (host.Conn, error) {
		defer hc.leave()
		return connect(ctx)
	}
	return nil
}

// selectTargets is hostsFor with a selection of no host decided: an
// error under StrictHosts, else no targets and the empty selection, which
// the caller says in one line before running nowhere.
func (e *Executor) selectTargets(ctx context.Context, t *luart.Task, sel Selection) ([]target, *EmptySelection, error) {
	targets, err := hostsFor(ctx, e.Program, t, sel)
	var empty *EmptySelection
	if !errors.As(err, &empty) {
		return targets, nil, err
	}
	if e.StrictHosts {
		return nil, nil, &UsageError{Msg: empty.Error() + " (--strict-hosts)"}
	}
	return nil, empty, nil
}

// CheckHosts resolves the hosts task name ("" for an ad-hoc command)
// would run on and checks every host string, without connecting.
func (e *Executor) CheckHosts(ctx context.Context, name string, sel Selection) error {
	var t *luart.Task
	if name != "" {
		var ok bool
		if t, ok = e.Program.Task(name); !ok {
			return &UsageError{Msg: e.Program.UnknownTask(name)}
		}
	}
	_, _, err := e.selectTargets(ctx, t, sel) // an empty selection is said when the task runs
	return err
}

// RunCommand runs an ad-hoc shell command on every selected host.
func (e *Executor) RunCommand(ctx context.Context, command string, sel Selection, call Call) ([]HostResult, error) {
	ctx = context.WithValue(ctx, callKey{}, call)
	targets, empty, err := e.selectTargets(ctx, nil, sel)
	if err != nil {
		return nil, err
	}
	if empty != nil {
		e.Printer.Printf("warning: command: %s", empty.Error())
		return nil, nil
	}
	if len(targets) == 0 {
		return nil, &UsageError{Msg: "no hosts: give -H or -R, or set env.hosts in the fabfile"}
	}
	if targets = e.shardOf(nil, targets, true); len(targets) == 0 {
		return nil, nil
	}
	results := e.fanOut(ctx, "", targets, e.policyFor(nil), e.Status, func(ctx context.Context, tg target, _ *hostCoord) (any, error) {
		addr, err := tg.addr(e.inventory())
		if err != nil {
			return nil, err
		}
		defer e.using(ctx, tg.host)()
		return nil, e.adhoc(ctx, tg, addr, command)
	})
	e.record(results)
	return results, nil
}

// Session opens an interactive Lua session on one host (gofab repl).
func (e *Executor) Session(ctx context.Context, hostString string) (*luart.Session, error) {
	addr, err := host.Parse(hostString)
	if err != nil {
		return nil, err
	}
	he := e.hostEnv(target{host: hostString}, addr)
	he.Hosts = 1
	he.Coord = &hostCoord{e: e}
	return e.Program.NewSession(ctx, he)
}

// adhoc runs the ad-hoc command on one host, as a task calling run().
// The command needs the connection, so it is made before the host's Lua
// state: hosts waiting for a handshake slot hold no state.
func (e *Executor) adhoc(ctx context.Context, tg target, addr host.Addr, command string) error {
	if !addr.IsLocal() {
		if _, err := e.connect(ctx, tg.host, addr); err != nil {
			return err
		}
	}
	he := e.hostEnv(tg, addr)
	he.Hosts = 1
	he.Coord = &hostCoord{e: e}
	return e.Program.RunCommand(ctx, he, command)
}

func (e *Executor) hidden(level string) bool { return luart.LevelHidden(e.Run.Hidden, level) }

// inventory returns the fabfile's inventory, or nil.
func (e *Executor) inventory() *inventory.Inventory {
	if e.Program == nil {
		return nil
	}
	return e.Program.Inventory
}

// hostEnv builds what a host's Lua state gets to know about it.
func (e *Executor) hostEnv(tg target, addr host.Addr) *luart.HostEnv {
	r, _ := lookup(e.inventory(), tg.host)
	he := &luart.HostEnv{
		Addr: addr, HostString: tg.host, Roles: tg.roles, Vars: hostVars(e.Program, r, tg.roles),
		Local: e.Local, Run: e.Run,
	}
	if r != nil {
		he.Groups = r.Groups
	}
	if tg.host == "" {
		he.HostString = host.Local
		he.Out = e.out(host.Local)
		he.Connect = func(context.Context) (host.Conn, error) {
			return nil, errors.New("this task has no hosts: set env.hosts, the task's hosts or roles option, or pass -H/-R (use -H local for this machine)")
		}
		he.User = luart.LocalUser()
		return he
	}
	he.Out = e.out(tg.host)
	he.Connect = func(ctx context.Context) (host.Conn, error) { return e.connect(ctx, tg.host, addr) }
	he.Reconnect = func(ctx context.Context) (host.Conn, error) { return e.reconnect(ctx, tg.host, addr) }
	if addr.IsLocal() {
		he.User = luart.LocalUser()
	} else if u, p, err := e.Dialer.Identity(addr); err == nil {
		he.User, he.Port = u, p
	}
	return he
}

// runOne runs fn for one host and says how it ended.
func (e *Executor) runOne(ctx context.Context, task string, tg target, hc *hostCoord, fn hostFunc) (res HostResult) {
	start := time.Now()
	name := tg.name()
	out := e.out(name)
	out.Event(event.HostStart{Task: task})
	defer func() {
		out.Event(event.HostEnd{Task: task, Status: res.Status.String(), Duration: res.Duration.Seconds(), Changed: res.Changed, Error: res.Err})
	}()
	value, err := fn(ctx, tg, hc)
	res = HostResult{Host: name, Duration: time.Since(start), Value: value, Changed: int(hc.changed.Load())}
	if err == nil {
		return res
	}
	res.Status, res.Err, res.cause = Failed, err.Error(), err
	var te *luart.TaskError
	if host.IsConnectError(err) || (errors.As(err, &te) && te.Unreachable) {
		res.Status = Unreachable
		if e.SkipBadHosts {
			res.Status = Skipped
		}
	}
	if cause := context.Cause(ctx); errors.Is(cause, errMaxFail) && ctx.Err() != nil {
		res.Err = cause.Error()
	} else if ctx.Err() != nil {
		res.Status = Interrupted
	}
	// An interrupt is reported once per host, by the top-level task, not
	// again by every execute() frame it went through.
	nested := len(taskStack(ctx)) > 1
	quiet := nested && (ctx.Err() != nil || errors.As(err, new(*DepthError)))
	if !e.hidden("aborts") && !quiet {
		out.Line("error", inlineError(res, hc.hosts > 1))
	}
	return res
}
