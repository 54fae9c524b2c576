package executor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gofab/gofab/luart"
)

// MaxExecuteDepth bounds execute() nesting: a task that executes itself
// stops there with one clear error instead of growing without end.
const MaxExecuteDepth = 16

// DepthError is execute() nested past MaxExecuteDepth: every frame of
// the chain fails with it.
type DepthError struct {
	Chain []string // the task names from the top-level task down
}

func (e *DepthError) Error() string {
	return fmt.Sprintf("execute() nested deeper than %d tasks (%s -> …): does a task execute itself?", MaxExecuteDepth, strings.Join(e.Chain[:min(3, len(e.Chain))], " -> "))
}

// stackKey is the context key of the execute() chain: the task names from
// the top-level task down.
type stackKey struct{}

func taskStack(ctx context.Context) []string {
	s, _ := ctx.Value(stackKey{}).([]string)
	return s
}

func withTask(ctx context.Context, name string) context.Context {
	stack := taskStack(ctx)
	return context.WithValue(ctx, stackKey{}, append(stack[:len(stack):len(stack)], name))
}

// execute runs a task for execute() inside another task. Its results go
// back to the caller rather than into the run's summary.
func (e *Executor) execute(ctx context.Context, name string, es luart.ExecSelection, args luart.Args) ([]luart.ExecResult, error) {
	t, ok := e.Program.Task(name)
	if !ok {
		return nil, fmt.Errorf("no task %q", name)
	}
	stack := taskStack(ctx)
	if t.RunsOnce && slices.Contains(stack, t.Name) {
		return nil, fmt.Errorf("runs_once task %q calls execute() on itself (%s)", t.Name, strings.Join(append(stack, t.Name), " -> "))
	}
	if len(stack) >= MaxExecuteDepth {
		return nil, &DepthError{Chain: stack}
	}
	sel := e.sel
	sel.ArgHosts, sel.ArgRoles, sel.ArgExclude = es.Hosts, es.Roles, es.Exclude
	results, _, err := e.runTask(withTask(ctx, t.Name), t, args, sel, false)
	if err != nil {
		return nil, err
	}
	for _, r := range results {
		var deep *DepthError
		if errors.As(r.cause, &deep) {
			return nil, deep // every frame fails with the innermost's one error
		}
	}
	out := make([]luart.ExecResult, len(results))
	for i, r := range results {
		out[i] = luart.ExecResult{Host: r.Host, Value: r.Value, Skipped: r.Status == Skipped}
		if r.Status != OK {
			out[i].Err = r.Err
			if out[i].Err == "" {
				out[i].Err = r.Status.String()
			}
		}
	}
	return out, nil
}
