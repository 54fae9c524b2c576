package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/gofab/gofab/internal/base/event"
	"github.com/gofab/gofab/internal/data/runstate"
	"github.com/gofab/gofab/internal/run/executor"
	"github.com/gofab/gofab/luart"
)

// mainAction runs gofab's main command: it loads the fabfile, answers
// -l and -d, or sets up the executor and runs.
func mainAction(c *cli.Context, env environ, adhoc []string) error {
	cfg, err := readConfig(c)
	if err != nil {
		return err
	}
	prog, err := loadProgram(c.Context, cfg, env, len(adhoc) == 0)
	if err != nil {
		return err
	}
	if err := applyFabricEnv(&cfg, prog); err != nil {
		return usageErr("%v", err)
	}
	if err := checkNumbers(cfg); err != nil {
		return err
	}
	if cfg.List || cfg.Shortlist {
		return listAction(cfg, env, prog)
	}
	if name := cfg.Display; name != "" {
		return displayTask(env.stdout, prog, name)
	}
	calls, err := taskCalls(c, env, prog, len(adhoc) > 0)
	if err != nil {
		return err
	}
	if err := checkLevels(cfg); err != nil {
		return err
	}
	if prog != nil {
		if err := prog.LoadSecrets(); err != nil {
			return usageErr("%v", err)
		}
	}
	runProg, err := orEmptyProgram(prog, env)
	if err != nil {
		return err
	}
	ex, err := newExecutor(c.Context, cfg, env, runProg)
	if err != nil {
		return err
	}
	// Deferred calls run last first: the report is written after the
	// state, the printer and the connections are closed, from events
	// that were all out before mainAction returned.
	finishTaps, err := startTaps(cfg, env, ex)
	if err != nil {
		return err
	}
	defer finishTaps()
	defer ex.Close()
	defer warnOn(env, ex.Printer.Close)
	start := event.RunStart{Fabfile: runProg.Path, Tasks: callNames(calls), Version: version, Command: strings.Join(adhoc, " ")}
	if ex.Shard.On() {
		start.Shard = ex.Shard.String()
	}
	ex.Printer.Event(start)
	var state *runstate.File
	if prog != nil {
		if state, err = openState(cfg, env, ex.Shard); err != nil {
			return err
		}
		state.Redact = env.secrets.Redact.Bytes
		defer warnOn(env, state.Save)
	}
	sel := executor.Selection{
		CLIHosts:   splitList(cfg.Hosts),
		CLIRoles:   splitList(cfg.Roles),
		CLIExclude: splitList(cfg.ExcludeHosts),
	}
	if err := checkHosts(c.Context, ex, calls, sel, len(adhoc) > 0); err != nil {
		return err
	}
	return runAll(c.Context, cfg, env, ex, state, calls, sel, adhoc)
}

// runAll runs the ad-hoc command, then the tasks named, and prints the recap;
// it returns the exit status the run earned.
func runAll(ctx context.Context, cfg Config, env environ, ex *executor.Executor, state *runstate.File, calls []taskCall, sel executor.Selection, adhoc []string) error {
	if len(adhoc) > 0 {
		// The command lets each host go as soon as it is done with it.
		if _, err := ex.RunCommand(ctx, strings.Join(adhoc, " "), sel, executor.Call{Release: true}); err != nil {
			return usageErr("%v", err)
		}
	}
	notRun, stopped, err := runCalls(ctx, cfg, env, ex, state, calls, sel)
	if err != nil {
		return err
	}
	if n := env.secrets.Decryptions(); n > 0 {
		ex.Printer.Event(event.Secrets{Decrypted: n})
	}
	summary := ex.Summary()
	if len(summary) > 1 || ex.Printer.JSON() {
		executor.PrintSummary(ex.Printer, summary)
	}
	if len(notRun) > 0 {
		ex.Printer.Event(event.TasksNotRun{Tasks: notRun, After: stopped})
		ex.Printer.Printf("Not run: %s (%s failed; --keep-going runs every task named)", strings.Join(notRun, ", "), stopped)
	}
	return exitStatus(ctx, summary)
}

// warnOn runs fn and prints its error as a warning: for clean-ups that
// must not change the exit status.
func warnOn(env environ, fn func() error) {
	if err := fn(); err != nil {
		fmt.Fprintf(env.stderr, "gofab: %v\n", err)
	}
}

// taskCalls parses the task names and arguments on the command line; with
// none (and no ad-hoc command) the default task.
func taskCalls(c *cli.Context, env environ, prog *luart.Program, adhoc bool) ([]taskCall, error) {
	var calls []taskCall
	for _, a := range c.Args().Slice() {
		tc, err := parseTaskCall(a)
		if err != nil {
			return nil, usageErr("%v", err)
		}
		if _, ok := prog.Task(tc.name); !ok {
			return nil, usageErr("%s", prog.UnknownTask(tc.name))
		}
		calls = append(calls, tc)
	}
	if !adhoc && len(calls) == 0 {
		t, ok := prog.DefaultTask()
		if !ok {
			listTasks(env.stdout, prog)
			return nil, usageErr("no task given")
		}
		calls = append(calls, taskCall{name: t.Name})
	}
	return calls, nil
}

func callNames(calls []taskCall) []string {
	names := make([]string, len(calls))
	for i, tc := range calls {
		names[i] = tc.name
	}
	return names
}

// openState loads the rerun state; a file that cannot be read only
// matters to --rerun-failed.
func openState(cfg Config, env environ, shard executor.Shard) (*runstate.File, error) {
	path := runstate.Path(env.getenv)
	if shard.On() {
		// Shards on one machine must not overwrite each other's state.
		path = strings.TrimSuffix(path, ".json") + fmt.Sprintf(".shard-%d-of-%d.json", shard.Index, shard.Count)
	}
	state, err := runstate.Load(path)
	if err != nil {
		if cfg.RerunFailed {
			return nil, usageErr("%v", err)
		}
		fmt.Fprintf(env.stderr, "gofab: warning: %v (starting a new one)\n", err)
	}
	return state, nil
}

// withArgs is the selection of one task call: its own hosts= and roles=
// arguments over the command line's.
func withArgs(sel executor.Selection, tc taskCall) executor.Selection {
	sel.ArgHosts, sel.ArgRoles, sel.ArgExclude = tc.sel.ArgHosts, tc.sel.ArgRoles, tc.sel.ArgExclude
	return sel
}

// checkHosts resolves and checks every host of every task call (and of the
// ad-hoc command) before anything connects.
func checkHosts(ctx context.Context, ex *executor.Executor, calls []taskCall, sel executor.Selection, adhoc bool) error {
	for _, tc := range calls {
		if err := ex.CheckHosts(ctx, tc.name, withArgs(sel, tc)); err != nil {
			return usageErr("%v", err)
		}
	}
	if adhoc {
		if err := ex.CheckHosts(ctx, "", sel); err != nil {
			return usageErr("%v", err)
		}
	}
	return nil
}

// runCalls runs the task calls in order, recording each in the rerun
// state. As fab does, a task that failed on a host stops the ones after
// it (unless --keep-going): they are returned as not run.
func runCalls(ctx context.Context, cfg Config, env environ, ex *executor.Executor, state *runstate.File,
	calls []taskCall, sel executor.Selection) (notRun []string, stopped string, err error) {
	prog := ex.Program
	for i, tc := range calls {
		if ctx.Err() != nil {
			break
		}
		if stopped != "" {
			notRun = append(notRun, tc.name)
			continue
		}
		t, _ := prog.Task(tc.name)
		s := withArgs(sel, tc)
		if cfg.RerunFailed {
			failed, ok := state.Failed(prog.RealPath, t.Name)
			if !ok || len(failed) == 0 {
				fmt.Fprintf(env.stderr, "gofab: %s: no host failed in its previous run (in %s); nothing to rerun\n", t.Name, runstate.Path(env.getenv))
				continue
			}
			s = executor.Selection{ArgHosts: failed}
		}
		// The last task lets each host go as soon as it is done with it.
		results, err := ex.RunTask(ctx, tc.name, tc.args, s, executor.Call{Release: i == len(calls)-1})
		if err != nil {
			return nil, "", usageErr("%v", err)
		}
		var failed []string
		status := map[string]string{}
		for _, r := range results {
			if r.Status != executor.OK {
				failed = append(failed, r.Host)
				status[r.Host] = r.Status.String()
			}
			if (r.Status == executor.Failed || r.Status == executor.Unreachable) && !cfg.KeepGoing {
				stopped = t.Name
			}
		}
		state.Record(prog.RealPath, t.Name, failed, status)
	}
	return notRun, stopped, nil
}

// exitStatus is the run's exit: interrupted, a host failed, or success.
func exitStatus(ctx context.Context, summary []executor.HostResult) error {
	if ctx.Err() != nil {
		return &exitError{code: interruptStatus(ctx)}
	}
	for _, r := range summary {
		if r.Status == executor.Failed || r.Status == executor.Unreachable {
			return &exitError{code: exitFailed}
		}
	}
	return nil
}
