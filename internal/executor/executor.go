// Package executor runs tasks and ad-hoc commands across hosts: it resolves
// each task's host list, keeps one connection per host for the whole run,
// runs every host on its own goroutine (with its own Lua state) up to the
// pool size, and records how each host ended.
package executor

import (
	"context"
	"errors"
	"fmt"
	"os/user"
	"strings"
	"sync"
	"time"

	"github.com/gofab/gofab/internal/host"
	"github.com/gofab/gofab/internal/output"
	"github.com/gofab/gofab/internal/remote"
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
)

func (s Status) String() string {
	return [...]string{"ok", "failed", "unreachable"}[s]
}

// HostResult is how one host ended one task.
type HostResult struct {
	Host     string
	Status   Status
	Err      string // one line; empty when OK
	Duration time.Duration
	// Value is the task's return value as plain data.
	Value any
}

// Executor runs tasks over hosts. Create one per gofab run and Close it.
type Executor struct {
	Program *luart.Program // nil for an ad-hoc command with no fabfile
	Dialer  Dialer
	Local   host.Conn
	Printer *output.Printer
	Run     *luart.RunOptions
	// PoolSize caps hosts running at once; 0 means no cap.
	PoolSize int
	// Serial runs one host at a time.
	Serial bool

	mu      sync.Mutex
	conns   map[string]*connEntry
	outs    map[string]*output.Host
	order   []string
	summary map[string]*HostResult
}

type connEntry struct {
	once sync.Once
	conn host.Conn
	err  error
}

func (e *Executor) out(h string) *output.Host {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.outs == nil {
		e.outs = map[string]*output.Host{}
	}
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
	if e.conns == nil {
		e.conns = map[string]*connEntry{}
	}
	c, ok := e.conns[h]
	if !ok {
		c = &connEntry{}
		e.conns[h] = c
	}
	e.mu.Unlock()
	c.once.Do(func() { c.conn, c.err = e.Dialer.Dial(ctx, addr) })
	return c.conn, c.err
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
	e.conns = nil
}

// RunTask runs task name on its hosts and returns each host's result. The
// error is a *UsageError for an unknown task or role.
func (e *Executor) RunTask(ctx context.Context, name string, args luart.Args, sel Selection) ([]HostResult, error) {
	t, ok := e.Program.Task(name)
	if !ok {
		return nil, &UsageError{Msg: UnknownTask(e.Program, name)}
	}
	targets, err := hostsFor(e.Program, t, sel)
	if err != nil {
		return nil, err
	}
	if len(targets) == 0 {
		targets = []target{{host: ""}}
	}
	return e.fanOut(ctx, targets, func(ctx context.Context, tg target, addr host.Addr) (any, error) {
		he := e.hostEnv(tg, addr)
		he.Hosts = len(targets)
		return e.Program.RunTask(ctx, he, t.Name, args)
	}), nil
}

// RunCommand runs an ad-hoc shell command on every selected host.
func (e *Executor) RunCommand(ctx context.Context, command string, sel Selection) ([]HostResult, error) {
	targets, err := hostsFor(e.Program, nil, sel)
	if err != nil {
		return nil, err
	}
	if len(targets) == 0 {
		return nil, &UsageError{Msg: "no hosts: give -H or -R, or set env.hosts in the fabfile"}
	}
	return e.fanOut(ctx, targets, func(ctx context.Context, tg target, addr host.Addr) (any, error) {
		conn, err := e.connect(ctx, tg.host, addr)
		if err != nil {
			return nil, err
		}
		out := e.out(tg.host)
		req := remote.Request{Command: command, Kind: "run", Out: out, Timeout: e.Run.CommandTimeout,
			ShowRunning: !e.hidden("running"), ShowStdout: !e.hidden("stdout"), ShowStderr: !e.hidden("stderr")}
		res, err := remote.Execute(ctx, conn, req)
		if err != nil {
			return nil, err
		}
		if res.Code != 0 {
			msg := fmt.Sprintf("%q exited with code %d", command, res.Code)
			if !e.Run.WarnOnly {
				return nil, errors.New(msg)
			}
			if !e.hidden("warnings") {
				out.Line("warning", msg)
			}
		}
		return nil, nil
	}), nil
}

func (e *Executor) hidden(level string) bool { return luart.LevelHidden(e.Run.Hidden, level) }

// hostEnv builds what a host's Lua state gets to know about it.
func (e *Executor) hostEnv(tg target, addr host.Addr) *luart.HostEnv {
	he := &luart.HostEnv{
		Addr: addr, HostString: tg.host, Roles: tg.roles, Vars: roleVars(e.Program, tg.roles),
		Local: e.Local, Run: e.Run,
	}
	if tg.host == "" {
		he.HostString = host.Local
		he.Out = e.out(host.Local)
		he.Connect = func(context.Context) (host.Conn, error) {
			return nil, errors.New("this task has no hosts: set env.hosts, the task's hosts or roles option, or pass -H/-R (use -H local for this machine)")
		}
		he.User = localUser()
		return he
	}
	he.Out = e.out(tg.host)
	he.Connect = func(ctx context.Context) (host.Conn, error) { return e.connect(ctx, tg.host, addr) }
	if addr.IsLocal() {
		he.User = localUser()
	} else if u, p, err := e.Dialer.Identity(addr); err == nil {
		he.User, he.Port = u, p
	}
	return he
}

func localUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}

type hostFunc func(ctx context.Context, tg target, addr host.Addr) (any, error)

// fanOut runs fn for every target on its own goroutine, at most PoolSize at
// once (one with Serial), and records the results in the run's summary.
func (e *Executor) fanOut(ctx context.Context, targets []target, fn hostFunc) []HostResult {
	limit := e.PoolSize
	if e.Serial {
		limit = 1
	}
	if limit <= 0 || limit > len(targets) {
		limit = len(targets)
	}
	sem := make(chan struct{}, limit)
	results := make([]HostResult, len(targets))
	var wg sync.WaitGroup
	for i, tg := range targets {
		name := tg.host
		if name == "" {
			name = host.Local
		}
		results[i].Host = name
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			results[i] = HostResult{Host: name, Status: Failed, Err: "not started: interrupted"}
			continue
		}
		wg.Add(1)
		go func(i int, tg target) {
			defer wg.Done()
			defer func() { <-sem }()
			results[i] = e.runOne(ctx, tg, name, fn)
		}(i, tg)
	}
	wg.Wait()
	e.record(results)
	return results
}

func (e *Executor) runOne(ctx context.Context, tg target, name string, fn hostFunc) HostResult {
	start := time.Now()
	res := HostResult{Host: name}
	var addr host.Addr
	var err error
	if tg.host != "" {
		addr, err = host.Parse(tg.host)
	}
	var value any
	if err == nil {
		value, err = fn(ctx, tg, addr)
	}
	res.Duration = time.Since(start)
	res.Value = value
	if err == nil {
		return res
	}
	res.Status, res.Err = Failed, err.Error()
	var te *luart.TaskError
	if host.IsConnectError(err) || (errors.As(err, &te) && te.Unreachable) {
		res.Status = Unreachable
	}
	if !e.hidden("aborts") {
		e.out(name).Line("error", oneLine(res.Err))
	}
	return res
}

func oneLine(s string) string {
	first, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return first
}

// record folds a task's results into the run's per-host summary: a host's
// first failure is the one reported.
func (e *Executor) record(results []HostResult) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.summary == nil {
		e.summary = map[string]*HostResult{}
	}
	for _, r := range results {
		s, ok := e.summary[r.Host]
		if !ok {
			c := r
			e.summary[r.Host] = &c
			e.order = append(e.order, r.Host)
			continue
		}
		s.Duration += r.Duration
		if s.Status == OK && r.Status != OK {
			s.Status, s.Err = r.Status, r.Err
		}
	}
}

// Summary returns every host's overall result in first-seen order.
func (e *Executor) Summary() []HostResult {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]HostResult, 0, len(e.order))
	for _, h := range e.order {
		out = append(out, *e.summary[h])
	}
	return out
}

// PrintSummary prints one line per host and a count line.
func PrintSummary(p *output.Printer, results []HostResult) {
	width := 4
	for _, r := range results {
		width = max(width, len(r.Host))
	}
	var b strings.Builder
	counts := map[Status]int{}
	b.WriteString("\nSummary:\n")
	for _, r := range results {
		counts[r.Status]++
		fmt.Fprintf(&b, "  %-*s  %-11s  %6.2fs", width, r.Host, r.Status, r.Duration.Seconds())
		if r.Err != "" {
			fmt.Fprintf(&b, "  %s", oneLine(r.Err))
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "%d hosts: %d ok, %d failed, %d unreachable", len(results), counts[OK], counts[Failed], counts[Unreachable])
	p.Printf("%s", b.String())
}

// UnknownTask says a task does not exist, suggesting the closest name.
func UnknownTask(p *luart.Program, name string) string {
	msg := fmt.Sprintf("unknown task %q", name)
	best, bestD := "", 1<<30
	for _, t := range p.Tasks {
		for _, n := range append([]string{t.Name}, t.Aliases...) {
			if d := distance(name, n); d < bestD {
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

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
