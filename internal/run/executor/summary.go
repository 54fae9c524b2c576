package executor

import (
	"fmt"
	"strings"

	"github.com/gofab/gofab/internal/base/event"
	"github.com/gofab/gofab/internal/ui/output"
)

// counts tallies results by status.
func counts(results []HostResult) map[string]int {
	c := map[string]int{}
	for _, r := range results {
		c[r.Status.String()]++
	}
	return c
}

// inlineError is how a host's failure shows in the stream: in full, but
// for an unreachable host of a run with a recap only its last cause (the
// recap has the rest).
func inlineError(r HostResult, recap bool) string {
	msg := oneLine(r.Err)
	if r.Status != Unreachable || !recap {
		return msg
	}
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return "unreachable: " + msg + " (details in the summary)"
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

// PrintSummary prints the recap: per host its status, duration, changes
// and first error line, then the counts, and sends one summary event (a
// JSON printer gets the event alone).
func PrintSummary(p *output.Printer, results []HostResult) {
	c := counts(results)
	hosts := make([]event.SummaryHost, len(results))
	for i, r := range results {
		hosts[i] = event.SummaryHost{Host: r.Host, Status: r.Status.String(), Duration: r.Duration.Seconds(), Changed: r.Changed, Error: oneLine(r.Err)}
	}
	p.Event(event.Summary{Hosts: hosts, Counts: c}) // JSON output, --events, --report
	if p.JSON() {
		return
	}
	width := 4
	for _, r := range results {
		width = max(width, len(r.Host))
	}
	var b strings.Builder
	b.WriteString("\nSummary:\n")
	for _, r := range results {
		status := output.Paint(p.Color(), r.Status.String(), fmt.Sprintf("%-11s", r.Status))
		fmt.Fprintf(&b, "  %-*s  %s  %6.2fs", width, r.Host, status, r.Duration.Seconds())
		if r.Changed > 0 {
			fmt.Fprintf(&b, "  %d changed", r.Changed)
		}
		if r.Err != "" {
			fmt.Fprintf(&b, "  %s", oneLine(r.Err))
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "%d hosts: %d ok, %d failed, %d unreachable", len(results), c["ok"], c["failed"], c["unreachable"])
	for _, extra := range []string{"skipped", "interrupted"} {
		if c[extra] > 0 {
			fmt.Fprintf(&b, ", %d %s", c[extra], extra)
		}
	}
	p.Printf("%s", b.String())
}
