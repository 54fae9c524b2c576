package executor

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofab/gofab/internal/base/event"
	"github.com/gofab/gofab/luart"
)

// policy is how a task's hosts are scheduled.
type policy struct {
	// limit caps hosts running at once; 0 means no cap.
	limit int
	// batches are rolling batch sizes ("N" or "P%"); the last repeats.
	batches []string
	// maxFail is how many failures are tolerated ("N" or "P%"; "" none).
	maxFail string
}

// policyFor combines the run's settings with the task's options.
func (e *Executor) policyFor(t *luart.Task) policy {
	p := policy{limit: e.PoolSize}
	if e.Serial {
		p.limit = 1
	}
	if t == nil {
		return p
	}
	switch {
	case t.Serial:
		p.limit = 1
	case t.Parallel:
		p.limit = 0
	case t.PoolSize > 0:
		p.limit = t.PoolSize
	}
	p.batches, p.maxFail = t.Batch, t.MaxFail
	if t.FailFast {
		p.maxFail = "0"
	}
	return p
}

// count turns "N" or "P%" of total into a number of hosts; percentages
// round up when roundUp is set, down otherwise.
func count(amount string, total int, roundUp bool) int {
	if pct, ok := strings.CutSuffix(amount, "%"); ok {
		f, _ := strconv.ParseFloat(pct, 64)
		n := f * float64(total) / 100
		if roundUp {
			return int(math.Ceil(n))
		}
		return int(math.Floor(n))
	}
	n, _ := strconv.Atoi(amount)
	return n
}

// batchSizes splits total hosts into rolling batches.
func (p policy) batchSizes(total int) []int {
	if len(p.batches) == 0 {
		return []int{total}
	}
	var sizes []int
	for left, i := total, 0; left > 0; i++ {
		spec := p.batches[min(i, len(p.batches)-1)]
		n := min(max(count(spec, total, true), 1), left)
		sizes = append(sizes, n)
		left -= n
	}
	return sizes
}

// tolerated returns how many failures are allowed, or -1 for no limit.
func (p policy) tolerated(total int) int {
	if p.maxFail == "" {
		return -1
	}
	return count(p.maxFail, total, false)
}

// errMaxFail cancels the hosts still running when too many failed.
var errMaxFail = errors.New("cancelled: too many hosts failed (max_fail)")

// slot is one host's place in the pool.
type slot struct {
	sem  chan struct{}
	held bool
}

func (s *slot) acquire(ctx context.Context) error {
	if s.sem == nil {
		return nil
	}
	select {
	case s.sem <- struct{}{}:
		s.held = true
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func (s *slot) release(context.Context) error {
	if s.held {
		<-s.sem
		s.held = false
	}
	return nil
}

type hostFunc func(ctx context.Context, tg target, hc *hostCoord) (any, error)

// fanOut runs fn for every target on its own goroutine, batch after
// batch, at most pol.limit at once, and stops starting hosts (cancelling
// the running ones) once more than the tolerated number failed. With
// showStatus it keeps the live status line up to date.
func (e *Executor) fanOut(ctx context.Context, task string, targets []target, pol policy, showStatus bool, fn hostFunc) []HostResult {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	results := make([]HostResult, len(targets))
	tolerated := pol.tolerated(len(targets))
	var mu sync.Mutex
	failed, done, started := 0, 0, 0
	status := showStatus && len(targets) > 1
	// showLine redraws the status line; call it with mu held.
	showLine := func() {
		connecting := int(e.connecting.Load())
		e.Printer.SetStatus(fmt.Sprintf("%d/%d done · %d connecting · %d running · %d failed",
			done, len(targets), connecting, max(started-done-connecting, 0), failed))
	}
	if status {
		showLine()
		stop := e.statusTicker(&mu, showLine)
		defer e.Printer.SetStatus("")
		defer stop()
	}
	var sem chan struct{}
	if pol.limit > 0 {
		sem = make(chan struct{}, pol.limit)
	}
	start := 0
	for batch, size := range pol.batchSizes(len(targets)) {
		end := start + size
		bar := newBarrier(size)
		var wg sync.WaitGroup
		e.Printer.Event(event.BatchStart{Task: task, Batch: batch + 1, Size: size})
		for i := start; i < end; i++ {
			tg := targets[i]
			name := tg.name()
			s := &slot{sem: sem}
			if err := s.acquire(ctx); err != nil || ctx.Err() != nil {
				results[i] = notStarted(ctx, name)
				bar.leave()
				continue
			}
			mu.Lock()
			started++
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer s.release(ctx)
				defer bar.leave()
				hc := &hostCoord{e: e, task: task, host: name, hosts: len(targets), bar: bar, pause: s.release, resume: s.acquire}
				r := e.runOne(ctx, task, tg, hc, fn)
				results[i] = r
				mu.Lock()
				defer mu.Unlock()
				done++
				if r.Status == Failed || r.Status == Unreachable {
					failed++
					if tolerated >= 0 && failed > tolerated {
						cancel(fmt.Errorf("%w: %d of %d failed", errMaxFail, failed, len(targets)))
					}
				}
				if status {
					showLine()
				}
			}()
		}
		wg.Wait()
		e.Printer.Event(event.BatchEnd{Task: task, Batch: batch + 1})
		start = end
	}
	return results
}

// statusTicker redraws the status line every 200 ms (hosts move from
// connecting to running without finishing) until stop is called.
func (e *Executor) statusTicker(mu *sync.Mutex, show func()) (stop func()) {
	done, exited := make(chan struct{}), make(chan struct{})
	t := time.NewTicker(200 * time.Millisecond)
	go func() {
		defer close(exited)
		for {
			select {
			case <-done:
				return
			case <-t.C:
				mu.Lock()
				show()
				mu.Unlock()
			}
		}
	}()
	return func() { t.Stop(); close(done); <-exited }
}

// notStarted is the result of a host that was never started.
func notStarted(ctx context.Context, name string) HostResult {
	cause := context.Cause(ctx)
	if errors.Is(cause, errMaxFail) {
		return HostResult{Host: name, Status: Skipped, Err: "not started: " + cause.Error()}
	}
	return HostResult{Host: name, Status: Interrupted, Err: "not started: interrupted"}
}
