package executor

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/gofab/gofab/internal/base/event"
	"github.com/gofab/gofab/luart"
)

// barrier lets the hosts of one batch wait for each other. Hosts that end
// leave it, so the rest are never kept waiting for a host that is gone.
type barrier struct {
	mu      sync.Mutex
	members int
	arrived int
	release chan struct{}
}

func newBarrier(members int) *barrier {
	return &barrier{members: members, release: make(chan struct{})}
}

// wait blocks until every member still running has arrived.
func (b *barrier) wait(ctx context.Context) error {
	b.mu.Lock()
	b.arrived++
	ch := b.release
	b.check()
	b.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		b.mu.Lock()
		if ch == b.release {
			b.arrived--
		}
		b.mu.Unlock()
		return context.Cause(ctx)
	}
}

// leave removes a member that ended.
func (b *barrier) leave() {
	b.mu.Lock()
	b.members--
	b.check()
	b.mu.Unlock()
}

// check opens the barrier when everyone is there; b.mu is held.
func (b *barrier) check() {
	if b.arrived > 0 && b.arrived >= b.members {
		close(b.release)
		b.release = make(chan struct{})
		b.arrived = 0
	}
}

// store holds the values hosts publish with shared.set.
type store struct {
	mu     sync.Mutex
	values map[string]any
	ready  map[string]chan struct{}
}

func newStore() *store {
	return &store{values: map[string]any{}, ready: map[string]chan struct{}{}}
}

func (s *store) signal(key string) chan struct{} {
	ch, ok := s.ready[key]
	if !ok {
		ch = make(chan struct{})
		s.ready[key] = ch
	}
	return ch
}

func (s *store) publish(key string, v any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.signal(key)
	_, had := s.values[key]
	s.values[key] = v
	if !had {
		close(ch)
	}
}

func (s *store) lookup(ctx context.Context, key string, wait bool) (any, bool, error) {
	s.mu.Lock()
	ch := s.signal(key)
	v, ok := s.values[key]
	s.mu.Unlock()
	if ok || !wait {
		return v, ok, nil
	}
	select {
	case <-ch:
		return s.lookup(ctx, key, false)
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, false, errors.New("timed out waiting for a value")
		}
		return nil, false, context.Cause(ctx)
	}
}

// hostCoord is one host's luart.Coordinator.
type hostCoord struct {
	e *Executor
	// task and host name the run this coordinates, for events.
	task, host string
	// hosts is how many hosts the run has: with more than one, a recap
	// follows and an unreachable host's error is shortened inline.
	hosts int
	bar   *barrier
	// pause and resume give up and take back the host's pool slot while
	// it waits at a barrier, so hosts not yet started can reach it too.
	pause, resume func(ctx context.Context) error
	// unadmit gives back the host's place among the hosts not yet
	// connected (Executor.Admit), if it holds one.
	unadmit func()
	changed atomic.Int64
}

func (c *hostCoord) Execute(ctx context.Context, task string, sel luart.ExecSelection, args luart.Args) ([]luart.ExecResult, error) {
	return c.e.execute(ctx, task, sel, args)
}

func (c *hostCoord) Barrier(ctx context.Context) error {
	if c.bar == nil {
		return nil
	}
	c.leave()
	if c.pause != nil {
		c.pause(ctx)
		defer c.resume(ctx)
	}
	out := c.e.out(c.host)
	out.Event(event.BarrierWait{Task: c.task})
	err := c.bar.wait(ctx)
	out.Event(event.BarrierPass{Task: c.task})
	return err
}

func (c *hostCoord) Publish(key string, value any) { c.e.shared.publish(key, value) }

func (c *hostCoord) Lookup(ctx context.Context, key string, wait bool) (any, bool, error) {
	if wait {
		c.leave()
	}
	return c.e.shared.lookup(ctx, key, wait)
}

// leave gives back the host's place among the hosts not yet connected,
// if it holds one: it connected, waits for other hosts, or ended.
func (c *hostCoord) leave() {
	if c.unadmit != nil {
		c.unadmit()
	}
}

func (c *hostCoord) Changed(n int) { c.changed.Add(int64(n)) }

// onceTasks remembers the runs of runs_once tasks.
type onceTasks struct {
	mu   sync.Mutex
	runs map[string]*onceRun
}

type onceRun struct {
	done    chan struct{}
	results []HostResult
}

// do runs run the first time name is asked for; every later or concurrent
// call waits for that run and gets its results with fresh false.
func (o *onceTasks) do(ctx context.Context, name string, run func() []HostResult) ([]HostResult, bool, error) {
	o.mu.Lock()
	r, seen := o.runs[name]
	if !seen {
		r = &onceRun{done: make(chan struct{})}
		o.runs[name] = r
	}
	o.mu.Unlock()
	if !seen {
		r.results = run()
		close(r.done)
		return r.results, true, nil
	}
	select {
	case <-r.done:
		return r.results, false, nil
	case <-ctx.Done():
		return nil, false, context.Cause(ctx)
	}
}
