package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/gofab/gofab/internal/base/outfile"
	"github.com/gofab/gofab/internal/data/runstate"
	"github.com/gofab/gofab/internal/run/executor"
	"github.com/gofab/gofab/internal/ui/report"
)

// startReport sends the run's events to a temporary file (in the system's
// temporary directory: path may be a device such as /dev/stdout).
func startReport(ex *executor.Executor, path string) (*os.File, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("report: %s is a directory", path)
	} else if err != nil {
		if _, derr := os.Stat(filepath.Dir(path)); derr != nil {
			return nil, fmt.Errorf("report: %w", derr)
		}
	}
	f, err := os.CreateTemp("", ".gofab-events-*.jsonl")
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	ex.Printer.SetTap(f)
	return f, nil
}

// startTaps sends the run's events to --events and --report; the
// function returned closes the first and writes the page.
func startTaps(cfg Config, env environ, ex *executor.Executor) (func(), error) {
	var done []func()
	finish := func() {
		for i := len(done) - 1; i >= 0; i-- {
			done[i]()
		}
	}
	if path := cfg.Events; path != "" {
		f, err := startEvents(ex, path)
		if err != nil {
			return nil, usageErr("%v", err)
		}
		done = append(done, func() { f.Close() })
	}
	if path := cfg.Report; path != "" {
		events, err := startReport(ex, path)
		if err != nil {
			finish()
			return nil, usageErr("%v", err)
		}
		done = append(done, func() { warnOn(env, func() error { return finishReport(events, path) }) })
	}
	return finish, nil
}

// startEvents copies every event of the run, as a line of JSON, to path
// (--events), whatever the output mode. A tap taken by --report is kept:
// both get every event.
func startEvents(ex *executor.Executor, path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("--events: %w", err)
	}
	ex.Printer.SetTap(f)
	return f, nil
}

// finishReport writes the page from the events collected and removes
// them.
func finishReport(events *os.File, path string) error {
	defer os.Remove(events.Name())
	defer events.Close()
	if _, err := events.Seek(0, 0); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return writeReport(events, path)
}

// writeReport builds the page from events and writes it to path (see
// outfile.Write: a regular file atomically, a device or fifo through).
func writeReport(events *os.File, path string) error {
	rep, err := report.Build(events)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := outfile.Write(path, 0o644, rep.Write); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// reportCommand is "gofab report EVENTS -o FILE": the page of a run saved
// with --output json.
func reportCommand(env environ) *cli.Command {
	return &cli.Command{
		Name:      "report",
		Usage:     "write the HTML page of a run saved with --output json (events.jsonl) to -o FILE",
		ArgsUsage: "EVENTS",
		Flags:     []cli.Flag{&cli.StringFlag{Name: "o", Usage: "the page's `FILE` (required)"}},
		Subcommands: []*cli.Command{{
			Name:      "merge",
			Usage:     "merge the events of the shards of one run (--shard, each with --output json or --events) into one run: its page (-o), its events (--output json) and its recap; --state writes the run state --rerun-failed reads",
			ArgsUsage: "EVENTS...",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "o", Usage: "write the merged run's page to `FILE`"},
				&cli.StringFlag{Name: "output", Usage: "`json`: print the merged events, one stream"},
				&cli.BoolFlag{Name: "state", Usage: "record each task's failed and not-run hosts in the run state (runs.json), as one run would"},
				&cli.StringFlag{Name: "fabfile", Aliases: []string{"f"}, Usage: "the fabfile `PATH` the state is for (default: the events' own, from here)"},
			},
			Action: func(c *cli.Context) error { return mergeAction(c, env) },
		}},
		Action: func(c *cli.Context) error {
			f, err := flagsOf[struct {
				Page string `flag:"o"`
			}](c)
			if err != nil {
				return err
			}
			if c.NArg() != 1 || f.Page == "" {
				return usageErr("report takes one EVENTS file (what gofab --output json printed) and -o FILE")
			}
			in, err := os.Open(c.Args().First())
			if err != nil {
				return usageErr("%v", err)
			}
			defer in.Close()
			if err := writeReport(in, f.Page); err != nil {
				return usageErr("%v", err)
			}
			return nil
		},
	}
}

// parseShard reads --shard's (or GOFAB_SHARD's) value s.
func parseShard(s string, env environ) (executor.Shard, error) {
	if s == "" {
		return executor.Shard{}, nil
	}
	shard, err := executor.ParseShard(s, env.getenv)
	if err != nil {
		return shard, usageErr("%v", err)
	}
	return shard, nil
}

// mergeFlags are gofab report merge's flags.
type mergeFlags struct {
	Page    string `flag:"o"`
	Output  string `flag:"output"`
	State   bool   `flag:"state"`
	Fabfile string `flag:"fabfile"`
}

// mergeAction is "gofab report merge": the shards' events as one run.
func mergeAction(c *cli.Context, env environ) error {
	fl, err := flagsOf[mergeFlags](c)
	if err != nil {
		return err
	}
	if c.NArg() == 0 {
		return usageErr("report merge: give the events files of the shards")
	}
	var inputs []io.Reader
	for _, name := range c.Args().Slice() {
		f, err := os.Open(name)
		if err != nil {
			return usageErr("%v", err)
		}
		defer f.Close()
		inputs = append(inputs, f)
	}
	merged, err := os.CreateTemp("", ".gofab-merged-*.jsonl")
	if err != nil {
		return err
	}
	defer os.Remove(merged.Name())
	defer merged.Close()
	summary, err := report.Merge(merged, inputs...)
	if err != nil {
		return usageErr("report merge: %v", err)
	}
	if _, err := merged.Seek(0, 0); err != nil {
		return err
	}
	switch fl.Output {
	case "json":
		if _, err := io.Copy(env.stdout, merged); err != nil {
			return err
		}
	case "", "text":
	default:
		return usageErr("--output must be text or json")
	}
	if page, state := fl.Page, fl.State; page != "" || state {
		// One build of the merged run serves the page and the state.
		if _, err := merged.Seek(0, 0); err != nil {
			return err
		}
		rep, err := report.Build(merged)
		if err != nil {
			return usageErr("report merge: %v", err)
		}
		if page != "" {
			if err := outfile.Write(page, 0o644, rep.Write); err != nil {
				return usageErr("report: %v", err)
			}
		}
		if state {
			if err := mergedState(fl.Fabfile, env, rep); err != nil {
				return err
			}
		}
	}
	counts := map[string]int{}
	for _, h := range summary {
		counts[h.Status]++
	}
	fmt.Fprintf(env.stderr, "%d hosts: %d ok, %d failed, %d unreachable", len(summary), counts["ok"], counts["failed"], counts["unreachable"])
	for _, extra := range []string{"skipped", "interrupted", report.NotRun} {
		if counts[extra] > 0 {
			fmt.Fprintf(env.stderr, ", %d %s", counts[extra], extra)
		}
	}
	fmt.Fprintln(env.stderr)
	if len(summary) != counts["ok"]+counts["skipped"] {
		return &exitError{code: exitFailed}
	}
	return nil
}

// mergedState records, for each task of the merged run, the hosts that
// did not succeed at it (failed, unreachable, not run…), as runCalls does
// for one run, so --rerun-failed reruns them.
func mergedState(fabfile string, env environ, rep *report.Report) error {
	if fabfile == "" {
		fabfile = rep.Fabfile
	}
	abs, err := filepath.Abs(fabfile)
	if err != nil {
		return err
	}
	state, err := runstate.Load(runstate.Path(env.getenv))
	if err != nil {
		fmt.Fprintf(env.stderr, "gofab: warning: %v (starting a new one)\n", err)
	}
	for _, task := range rep.Tasks {
		var failed []string
		status := map[string]string{}
		for _, h := range rep.Hosts {
			st := h.Status
			for _, r := range h.Runs {
				if r.Task == task {
					st = r.Status
				}
			}
			if st != "ok" {
				failed = append(failed, h.Name)
				status[h.Name] = st
			}
		}
		state.Record(abs, task, failed, status)
	}
	return state.Save()
}
