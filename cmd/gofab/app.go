package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/gofab/gofab/internal/connect"
	"github.com/gofab/gofab/internal/executor"
	"github.com/gofab/gofab/internal/host"
	"github.com/gofab/gofab/internal/output"
	"github.com/gofab/gofab/internal/runstate"
	"github.com/gofab/gofab/internal/secrets"
	"github.com/gofab/gofab/internal/sshconfig"
	"github.com/gofab/gofab/luart"
	"github.com/gofab/gofab/stdlib"
)

// Exit statuses.
const (
	exitOK          = 0
	exitFailed      = 1 // a task failed on a host, or a host was unreachable
	exitUsage       = 2 // bad flag, unknown task, fabfile missing or not valid Lua
	exitInterrupted = 130
)

const version = "0.2.0"

// DefaultFabfile is the name searched for upward from the working directory.
const DefaultFabfile = "fabfile.lua"

// environ is the process's I/O and environment, injected so tests can run
// the CLI in-process.
type environ struct {
	stdin          *os.File
	stdout, stderr io.Writer
	getenv         func(string) string
	// secrets are the run's decrypted files and the values no output
	// shows (set by run).
	secrets *secrets.Store
}

// exitError carries an exit status out of a cli action.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// interrupted is the cause of a run cancelled by a signal.
type interrupted struct{ sig syscall.Signal }

func (i interrupted) Error() string { return "interrupted by " + i.sig.String() }

// interruptStatus is the exit status of a run cancelled by a signal: 130
// for Ctrl-C, 128 + the signal's number for SIGHUP (129) and SIGTERM
// (143), as a shell reports them.
func interruptStatus(ctx context.Context) int {
	var i interrupted
	if errors.As(context.Cause(ctx), &i) && i.sig != syscall.SIGINT {
		return 128 + int(i.sig)
	}
	return exitInterrupted
}

func usageErr(format string, args ...any) error {
	return &exitError{code: exitUsage, msg: fmt.Sprintf(format, args...)}
}

// run runs gofab with args (args[0] is the program name) and returns the
// exit status.
func run(ctx context.Context, args []string, env environ) int {
	// Everything after "--" is an ad-hoc command, as in fab.
	var adhoc []string
	for i, a := range args {
		if a == "--" {
			args, adhoc = args[:i], args[i+1:]
			if len(adhoc) == 0 {
				fmt.Fprintln(env.stderr, "gofab: nothing after --: give a command to run")
				return exitUsage
			}
			break
		}
	}
	if env.secrets == nil {
		env.secrets = secrets.New(env.getenv, env.getenv("HOME"))
		stderr := env.stderr
		env.secrets.Warn = func(msg string) { fmt.Fprintf(stderr, "warning: %s\n", msg) }
		env.secrets.IDs.Passphrase = func(path string) (string, error) { return askPassphrase(env, path) }
	}
	app := newApp(env, adhoc)
	if len(args) > 1 && args[1] == completeWord {
		printCompletions(app, args[2:], env)
		return exitOK
	}
	norm, err := normalizeArgs(args[1:], app.Flags, commandsByName(app.Commands))
	if err != nil {
		fmt.Fprintf(env.stderr, "gofab: %v\n", err)
		return exitUsage
	}
	err = app.RunContext(ctx, append(args[:1:1], norm...))
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintf(env.stderr, "gofab: %s\n", env.secrets.Redact.String(ee.msg))
		}
		if ctx.Err() != nil && ee.code != exitOK {
			return interruptStatus(ctx) // whatever failed, it failed for the signal
		}
		return ee.code
	}
	// Anything else comes from flag parsing.
	fmt.Fprintf(env.stderr, "gofab: %s\n", env.secrets.Redact.String(err.Error()))
	return exitUsage
}

// admitFactor times --max-handshakes is how many hosts of a task may have
// started without having connected yet (executor.Executor.Admit): enough
// to keep every handshake slot busy, few enough that a large fleet's
// waiting hosts hold no Lua state.
const admitFactor = 4

func newApp(env environ, adhoc []string) *cli.App {
	cli.VersionFlag = &cli.BoolFlag{Name: "version", Aliases: []string{"V"}, Usage: "print the version"}
	return &cli.App{
		Name:      "gofab",
		Usage:     "run fabfile.lua tasks on many SSH hosts at once",
		UsageText: "gofab [flags] task[:arg,k=v] [task ...]\ngofab [flags] -- <command>\ngofab ssh-config HOST",
		Version:   version,
		Writer:    env.stdout,
		ErrWriter: env.stderr,
		// Errors are printed by run, once.
		ExitErrHandler:         func(*cli.Context, error) {},
		HideHelpCommand:        false,
		UseShortOptionHandling: false,
		Flags:                  flags(),
		Action:                 func(c *cli.Context) error { return mainAction(c, env, adhoc) },
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return usageErr("%s (gofab --help lists the flags)", longFlagNames(err.Error(), flags()))
		},
		Commands: append(append(authoringCommands(env), moduleCommands(env)...), hostsCommand(env), reportCommand(env), testCommand(env), secretsCommand(env), &cli.Command{
			Name:      "ssh-config",
			Usage:     "print the ssh configuration gofab resolved for HOST, in ssh -G's format",
			ArgsUsage: "HOST",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "ssh-config", Aliases: []string{"S", "F"}, Usage: "ssh config `FILE` instead of ~/.ssh/config"},
			},
			Action: func(c *cli.Context) error { return sshConfigAction(c, env) },
		}),
	}
}

func flags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "fabfile", Aliases: []string{"f"}, Usage: "fabfile `PATH`: a file, or a directory with init.lua (default: fabfile.lua or fabfile/, searched upward)"},
		&cli.StringSliceFlag{Name: "include", Usage: "also look for require()d modules in `DIR` (repeatable; GOFAB_PATH too)"},
		modFlag,
		&cli.BoolFlag{Name: "list", Aliases: []string{"l"}, Usage: "list tasks with the first line of their doc"},
		&cli.StringFlag{Name: "display", Aliases: []string{"d"}, Usage: "show the full doc of `TASK`"},
		&cli.StringSliceFlag{Name: "hosts", Aliases: []string{"H"}, Usage: "comma-separated `HOSTS` ([user@]host[:port]; local is this machine)"},
		&cli.StringSliceFlag{Name: "roles", Aliases: []string{"R"}, Usage: "comma-separated `ROLES` from env.roledefs"},
		&cli.StringSliceFlag{Name: "exclude-hosts", Aliases: []string{"x"}, Usage: "comma-separated `HOSTS` to leave out"},
		&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "login `USER` when the host string gives none"},
		&cli.StringSliceFlag{Name: "identity", Aliases: []string{"i"}, Usage: "private key `FILE` (repeatable)"},
		&cli.IntFlag{Name: "port", Usage: "SSH `PORT` when the host string gives none"},
		&cli.StringFlag{Name: "ssh-config", Aliases: []string{"S"}, Usage: "ssh config `FILE` instead of ~/.ssh/config"},
		&cli.BoolFlag{Name: "warn-only", Aliases: []string{"w"}, Usage: "warn instead of failing when a command fails"},
		&cli.BoolFlag{Name: "yes", Aliases: []string{"assume-yes"}, Usage: "answer yes to every confirm()"},
		&cli.Float64Flag{Name: "timeout", Aliases: []string{"t"}, Usage: "connect timeout in `SECONDS` (default: ConnectTimeout or 10)"},
		&cli.Float64Flag{Name: "command-timeout", Aliases: []string{"T"}, Usage: "remote command timeout in `SECONDS`"},
		&cli.IntFlag{Name: "pool-size", Aliases: []string{"z"}, Usage: "run at most `N` hosts at once (default: all)"},
		&cli.BoolFlag{Name: "serial", Usage: "run hosts one at a time"},
		&cli.BoolFlag{Name: "skip-bad-hosts", Usage: "report unreachable hosts as skipped and carry on; they do not fail the run"},
		&cli.BoolFlag{Name: "strict-hosts", Usage: "a host pattern that selects no host (an empty group or intersection) is an error, not a warning"},
		&cli.StringFlag{Name: "output", Value: "text", Usage: "`FORMAT` of what gofab prints: text, or json (one event per line)"},
		&cli.StringFlag{Name: "log-dir", Usage: "also write each host's output to `DIR`/<run time>/<host>.log"},
		&cli.BoolFlag{Name: "rerun-failed", Usage: "run each task only on the hosts that did not succeed at it in the previous run"},
		&cli.BoolFlag{Name: "check", Usage: "change nothing: run read-only probes, report what would change, skip commands not marked check_safe"},
		&cli.BoolFlag{Name: "diff", Usage: "show file changes as unified diffs (content, mode, owner)"},
		&cli.BoolFlag{Name: "dry-run", Usage: "connect nowhere: print per host the commands and transfers that would be attempted"},
		&cli.StringSliceFlag{Name: "set", Usage: "set env `KEY=VALUE` (dotted keys nest: vars.src=/a)"},
		&cli.StringSliceFlag{Name: "hide", Usage: "hide output `LEVELS` (running, stdout, stderr, warnings, user, output, everything…)"},
		&cli.StringSliceFlag{Name: "show", Usage: "show output `LEVELS`"},
		&cli.BoolFlag{Name: "no-color", Usage: "no colours (NO_COLOR is honoured too)"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "hide command echo and output; errors, warnings and the summary remain"},
		&cli.BoolFlag{Name: "initial-password-prompt", Aliases: []string{"I"}, Usage: "ask for the login password once, up front (or set GOFAB_PASSWORD)"},
		&cli.BoolFlag{Name: "sudo-password-prompt", Aliases: []string{"initial-sudo-password-prompt"}, Usage: "ask for the sudo password once, up front (or set GOFAB_SUDO_PASSWORD)"},
		&cli.BoolFlag{Name: "accept-new-host-keys", Usage: "trust and record keys of hosts not in known_hosts (a changed key is still refused)"},
		&cli.StringFlag{Name: "gateway", Aliases: []string{"g"}, Usage: "reach every host through jump `HOST` (ProxyJump syntax; env.gateway too)"},
		&cli.IntFlag{Name: "connection-attempts", Aliases: []string{"n"}, Value: 1, Usage: "try each connection `N` times, with jittered backoff"},
		&cli.Float64Flag{Name: "keepalive", Usage: "send a keepalive every `SECONDS` (overrides ServerAliveInterval)"},
		&cli.IntFlag{Name: "max-output", Value: 64, Usage: "keep at most `MIB` of each command's stdout (and of its stderr) in its result; the rest is shown, not kept"},
		&cli.IntFlag{Name: "max-handshakes", Value: connect.DefaultMaxHandshakes, Usage: "at most `N` SSH handshakes in flight (keeps sshd's MaxStartups happy)"},
		&cli.StringFlag{Name: "shard", EnvVars: []string{"GOFAB_SHARD"}, Usage: "run only shard `I/N` of the selected hosts (by a stable hash of their names; auto/N reads JOB_COMPLETION_INDEX): merge the shards' events with gofab report merge"},
		&cli.StringFlag{Name: "events", Usage: "also write the run's JSON events (as --output json prints them) to `FILE`"},
		&cli.StringFlag{Name: "report", Usage: "also write the run as one self-contained HTML page to `FILE` (timeline, hosts, output, changes)"},
		&cli.BoolFlag{Name: "keep-going", Usage: "run every task named, even after one failed (by default gofab stops there, as fab does)"},
		&cli.BoolFlag{Name: "forward-agent", Aliases: []string{"A"}, Usage: "forward your ssh-agent to the hosts (also env.forward_agent, ForwardAgent in ssh_config)"},
		&cli.BoolFlag{Name: "no-agent", Aliases: []string{"a"}, Usage: "do not use ssh-agent's keys"},
		&cli.BoolFlag{Name: "no-keys", Aliases: []string{"k"}, Usage: "do not load the default ~/.ssh/id_* keys (-i and IdentityFile still count)"},
		&cli.StringFlag{Name: "password", Aliases: []string{"p"}, Usage: "login and sudo `PASSWORD` (visible to other users in ps: prefer -I or GOFAB_PASSWORD)"},
		&cli.BoolFlag{Name: "abort-on-prompts", Usage: "every prompt and confirm fails instead of asking (for unattended runs)"},
		&cli.StringFlag{Name: "list-format", Aliases: []string{"F"}, Usage: "-l's `FORMAT`: normal, short (names only) or nested (by module)"},
		&cli.BoolFlag{Name: "shortlist", Usage: "list task names only, one a line (-l -F short)"},
		&cli.BoolFlag{Name: "parallel", Aliases: []string{"P"}, Usage: "accepted for fab: gofab runs hosts in parallel by default (-z caps them, --serial runs one at a time)"},
		&cli.BoolFlag{Name: "reject-unknown-hosts", Aliases: []string{"r"}, Usage: "accepted for fab: unknown host keys are refused by default (--accept-new-host-keys records them)"},
	}
}

// findFabfile returns the fabfile to load: -f as given (a directory means
// its init.lua), else fabfile.lua or fabfile/init.lua in the working
// directory or the nearest parent that has one.
func findFabfile(flag string) (string, error) {
	if flag != "" {
		fi, err := os.Stat(flag)
		if err != nil {
			return "", usageErr("fabfile not found: %s", flag)
		}
		if fi.IsDir() {
			init := filepath.Join(flag, "init.lua")
			if _, err := os.Stat(init); err != nil {
				return "", usageErr("fabfile directory %s has no init.lua", flag)
			}
			return init, nil
		}
		return flag, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", usageErr("fabfile not found: %v", err)
	}
	p := luart.FindFabfile(wd)
	if rel, err := filepath.Rel(wd, p); err == nil && p != "" {
		return rel, nil
	}
	return p, nil
}

func loadProgram(c *cli.Context, env environ, required bool) (*luart.Program, error) {
	path, err := findFabfile(flagString(c, "fabfile"))
	if err != nil {
		return nil, err
	}
	if path == "" {
		if required {
			return nil, usageErr("fabfile not found: no %s here or in any parent directory (use -f)", DefaultFabfile)
		}
		return nil, nil
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, usageErr("fabfile: %v", err)
	}
	set, err := parseSet(flagStrings(c, "set"))
	if err != nil {
		return nil, usageErr("%v", err)
	}
	search := luart.SearchPath(path, flagStrings(c, "include"), env.getenv("GOFAB_PATH"), env.getenv("HOME"))
	sshHosts, err := sshHostLister(c)
	if err != nil {
		return nil, err
	}
	finder, err := loadModules(c, env, path)
	if err != nil {
		return nil, err
	}
	// Secrets files encrypted to an SSH key open with the keys the run
	// logs in with too (-i, ssh_config's IdentityFile for Host *).
	if env.secrets == nil { // an environ made for one purpose (completion)
		env.secrets = secrets.New(env.getenv, env.getenv("HOME"))
	}
	env.secrets.IDs.SSHKeys = append(env.secrets.IDs.SSHKeys, sshIdentityFiles(c, env)...)
	prog, err := luart.Compile(path, src, luart.Options{Modules: stdlib.Modules(), Set: set, Stdout: env.stdout, Stderr: env.stderr, SearchPath: search,
		Finder: finder, SSHHosts: sshHosts, Context: c.Context, Secrets: env.secrets})
	if c.Context.Err() != nil {
		return nil, &exitError{code: interruptStatus(c.Context), msg: "interrupted while reading the fabfile"}
	}
	if err != nil {
		return nil, usageErr("%v", err)
	}
	return prog, nil
}

// abortPrompter refuses every prompt (--abort-on-prompts).
type abortPrompter struct{}

func (abortPrompter) Prompt(msg string, _ bool) (string, error) {
	return "", fmt.Errorf("would prompt for %q, but --abort-on-prompts is set", strings.TrimSpace(msg))
}

// envString returns a string the fabfile set in env.
func envString(prog *luart.Program, key string) (string, bool) {
	if prog == nil {
		return "", false
	}
	v, ok := prog.Env[key].(string)
	return v, ok && v != ""
}

// sshFiles returns the ssh config files: -S FILE, or ~/.ssh/config and
// /etc/ssh/ssh_config.
func sshFiles(c *cli.Context) ([]string, error) {
	if f := flagString(c, "ssh-config"); f != "" {
		if _, err := os.Stat(f); err != nil {
			return nil, usageErr("ssh config: %v", err)
		}
		return []string{f}, nil
	}
	return sshconfig.DefaultFiles(sshconfig.CurrentLocal().Home), nil
}

// sshHostLister lists the Host entries of the ssh config files in use,
// for inventory.ssh_config.
func sshHostLister(c *cli.Context) (func() ([]string, error), error) {
	files, err := sshFiles(c)
	if err != nil {
		return nil, err
	}
	return sshconfig.NewLoader(sshconfig.CurrentLocal(), files...).HostAliases, nil
}

// hostOverrides returns the inventory's per-host connection settings that
// ssh_config cannot know: address, key file and gateway. A key file that
// does not exist (as with -i) and a loop of gateways are errors.
func hostOverrides(prog *luart.Program) (map[string]sshconfig.Overrides, error) {
	if prog == nil || prog.Inventory == nil {
		return nil, nil
	}
	out := map[string]sshconfig.Overrides{}
	for _, n := range prog.Inventory.HostNames() {
		r, ok := prog.Inventory.Lookup(n)
		forward, _ := r.Vars["forward_agent"].(bool)
		if !ok || r.Address == "" && r.Identity == "" && r.Gateway == "" && !forward {
			continue
		}
		a, err := host.Parse(n)
		if err != nil {
			continue
		}
		if r.Identity != "" {
			path := r.Identity
			if strings.HasPrefix(path, "~") { // as ssh expands key files
				path, _ = (host.OS{}).Abs(path)
			}
			if _, err := os.Stat(path); err != nil {
				return nil, fmt.Errorf("host %s: identity file: %w", n, err)
			}
		}
		out[a.Host] = sshconfig.Overrides{HostName: r.Address, IdentityFile: r.Identity, ProxyJump: r.Gateway, ForwardAgent: forward}
	}
	return out, connect.CheckGateways(out)
}

// checkNumbers refuses numeric flags out of their range, before anything
// connects.
func checkNumbers(c *cli.Context) error {
	positive := []string{"timeout", "connection-attempts", "max-handshakes", "max-output"}
	notNegative := []string{"command-timeout", "pool-size", "keepalive"}
	for _, name := range append(positive, notNegative...) {
		if !c.IsSet(name) {
			continue
		}
		v := c.Float64(name)
		if f, ok := c.Value(name).(int); ok {
			v = float64(f)
		}
		if math.IsNaN(v) || math.IsInf(v, 1) { // -Inf is refused below, as a negative number
			return usageErr("--%s %v: must be a finite number", name, c.Value(name))
		}
		if v < 0 || v == 0 && slices.Contains(positive, name) {
			want := "a number of 0 or more"
			if slices.Contains(positive, name) {
				want = "a number above 0"
			}
			return usageErr("--%s %v: must be %s", name, c.Value(name), want)
		}
	}
	if c.IsSet("port") {
		if p := c.Int("port"); p < 1 || p > 65535 {
			return usageErr("--port %d: must be a port from 1 to 65535", p)
		}
	}
	return nil
}

// mainAction runs gofab's main command: it loads the fabfile, answers
// -l and -d, or sets up the executor and runs.
func mainAction(c *cli.Context, env environ, adhoc []string) error {
	prog, err := loadProgram(c, env, len(adhoc) == 0)
	if err != nil {
		return err
	}
	if err := applyFabricEnv(c, prog); err != nil {
		return usageErr("%v", err)
	}
	if err := checkNumbers(c); err != nil {
		return err
	}
	if c.Bool("list") || c.Bool("shortlist") {
		return listAction(c, env, prog)
	}
	if name := c.String("display"); name != "" {
		return displayTask(env.stdout, prog, name)
	}
	calls, err := taskCalls(c, env, prog, len(adhoc) > 0)
	if err != nil {
		return err
	}
	if err := checkLevels(c); err != nil {
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
	ex, err := newExecutor(c, env, runProg)
	if err != nil {
		return err
	}
	// Deferred calls run last first: the report is written after the
	// state, the printer and the connections are closed, from events
	// that were all out before mainAction returned.
	finishTaps, err := startTaps(c, env, ex)
	if err != nil {
		return err
	}
	defer finishTaps()
	defer ex.Close()
	defer warnOn(env, ex.Printer.Close)
	start := map[string]any{"fabfile": runProg.Path, "tasks": callNames(calls), "version": version}
	if ex.Shard.On() {
		start["shard"] = ex.Shard.String()
	}
	if len(adhoc) > 0 {
		start["command"] = strings.Join(adhoc, " ")
	}
	ex.Printer.Event("run_start", start)
	var state *runstate.File
	if prog != nil {
		if state, err = openState(c, env, ex.Shard); err != nil {
			return err
		}
		state.Redact = env.secrets.Redact.Bytes
		defer warnOn(env, state.Save)
	}
	sel := executor.Selection{
		CLIHosts:   splitList(c.StringSlice("hosts")),
		CLIRoles:   splitList(c.StringSlice("roles")),
		CLIExclude: splitList(c.StringSlice("exclude-hosts")),
	}
	if err := checkHosts(c.Context, ex, calls, sel, len(adhoc) > 0); err != nil {
		return err
	}
	return runAll(c, env, ex, state, calls, sel, adhoc)
}

// runAll runs the ad-hoc command, then the tasks named, and prints the recap;
// it returns the exit status the run earned.
func runAll(c *cli.Context, env environ, ex *executor.Executor, state *runstate.File, calls []taskCall, sel executor.Selection, adhoc []string) error {
	ctx := c.Context
	if len(adhoc) > 0 {
		ex.Release = true
		if _, err := ex.RunCommand(ctx, strings.Join(adhoc, " "), sel); err != nil {
			return usageErr("%v", err)
		}
	}
	notRun, stopped, err := runCalls(ctx, c, env, ex, state, calls, sel)
	if err != nil {
		return err
	}
	if n := env.secrets.Decryptions(); n > 0 {
		ex.Printer.Event("secrets", map[string]any{"decrypted": n})
	}
	summary := ex.Summary()
	if len(summary) > 1 || ex.Printer.JSON() {
		executor.PrintSummary(ex.Printer, summary)
	}
	if len(notRun) > 0 {
		ex.Printer.Event("tasks_not_run", map[string]any{"tasks": notRun, "after": stopped})
		ex.Printer.Printf("Not run: %s (%s failed; --keep-going runs every task named)", strings.Join(notRun, ", "), stopped)
	}
	return exitStatus(ctx, summary)
}

// orEmptyProgram returns prog, or for an ad-hoc command without a
// fabfile an empty program: the synthetic task's run() is then the same
// as any task's.
func orEmptyProgram(prog *luart.Program, env environ) (*luart.Program, error) {
	if prog != nil {
		return prog, nil
	}
	return luart.Compile("gofab", nil, luart.Options{Modules: stdlib.Modules(), Stdout: env.stdout})
}

// warnOn runs fn and prints its error as a warning: for clean-ups that
// must not change the exit status.
func warnOn(env environ, fn func() error) {
	if err := fn(); err != nil {
		fmt.Fprintf(env.stderr, "gofab: %v\n", err)
	}
}

// listAction prints the task list in the -F format (--shortlist is short).
func listAction(c *cli.Context, env environ, prog *luart.Program) error {
	format := c.String("list-format")
	if c.Bool("shortlist") {
		format = "short"
	}
	switch format {
	case "", "normal":
		listTasks(env.stdout, prog)
	case "short":
		for _, n := range prog.TaskNames() {
			fmt.Fprintln(env.stdout, n)
		}
	case "nested":
		listNested(env.stdout, prog)
	default:
		return usageErr("--list-format %q: give normal, short or nested", format)
	}
	return nil
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

// checkLevels refuses unknown --hide and --show levels.
func checkLevels(c *cli.Context) error {
	for _, lvl := range splitList(append(c.StringSlice("hide"), c.StringSlice("show")...)) {
		if !luart.ValidLevel(lvl) {
			return usageErr("unknown output level %q", lvl)
		}
	}
	return nil
}

// openState loads the rerun state; a file that cannot be read only
// matters to --rerun-failed.
func openState(c *cli.Context, env environ, shard executor.Shard) (*runstate.File, error) {
	path := runstate.Path(env.getenv)
	if shard.On() {
		// Shards on one machine must not overwrite each other's state.
		path = strings.TrimSuffix(path, ".json") + fmt.Sprintf(".shard-%d-of-%d.json", shard.Index, shard.Count)
	}
	state, err := runstate.Load(path)
	if err != nil {
		if c.Bool("rerun-failed") {
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
func runCalls(ctx context.Context, c *cli.Context, env environ, ex *executor.Executor, state *runstate.File,
	calls []taskCall, sel executor.Selection) (notRun []string, stopped string, err error) {
	prog := ex.Program
	for i, tc := range calls {
		if ctx.Err() != nil {
			break
		}
		// The last task lets each host go as soon as it is done with it.
		ex.Release = i == len(calls)-1
		if stopped != "" {
			notRun = append(notRun, tc.name)
			continue
		}
		t, _ := prog.Task(tc.name)
		s := withArgs(sel, tc)
		if c.Bool("rerun-failed") {
			failed, ok := state.Failed(prog.RealPath, t.Name)
			if !ok || len(failed) == 0 {
				fmt.Fprintf(env.stderr, "gofab: %s: no host failed in its previous run (in %s); nothing to rerun\n", t.Name, runstate.Path(env.getenv))
				continue
			}
			s = executor.Selection{ArgHosts: failed}
		}
		results, err := ex.RunTask(ctx, tc.name, tc.args, s)
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
			if (r.Status == executor.Failed || r.Status == executor.Unreachable) && !c.Bool("keep-going") {
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

func newExecutor(c *cli.Context, env environ, prog *luart.Program) (*executor.Executor, error) {
	tio := terminalIO(c, env)
	password, sudoPassword, err := passwords(c, env, prog, tio.prompter)
	if err != nil {
		return nil, err
	}
	dialer, err := newDialer(c, env, prog, password, tio.console)
	if err != nil {
		return nil, err
	}
	printer, status, err := newPrinter(c, env, tio)
	if err != nil {
		return nil, err
	}
	var dial executor.Dialer = dialer
	var localConn host.Conn = connect.Local{}
	if c.Bool("dry-run") {
		dial, localConn = connect.DryDialer{Dialer: dialer}, connect.DryRun{}
	}
	shard, err := shardFlag(c, env)
	if err != nil {
		return nil, err
	}
	return &executor.Executor{
		Shard:        shard,
		Program:      prog,
		Dialer:       dial,
		Local:        localConn,
		Printer:      printer,
		Status:       status,
		PoolSize:     c.Int("pool-size"),
		Serial:       c.Bool("serial"),
		SkipBadHosts: c.Bool("skip-bad-hosts"),
		StrictHosts:  c.Bool("strict-hosts"),
		Admit:        admitFactor * max(c.Int("max-handshakes"), 1),
		Run: &luart.RunOptions{
			WarnOnly:       c.Bool("warn-only"),
			CommandTimeout: seconds(c.Float64("command-timeout")),
			MaxOutput:      c.Int("max-output") << 20,
			Hidden:         hiddenLevels(c),
			SudoPassword:   sudoPassword,
			Prompter:       tio.prompter,
			Terminal:       tio.terminal,
			Check:          c.Bool("check"),
			Diff:           c.Bool("diff"),
			DryRun:         c.Bool("dry-run"),
			Color:          printer.Color(),
			AssumeYes:      c.Bool("yes"),
		},
	}, nil
}

// termIO is what gofab knows of the person's terminal.
type termIO struct {
	prompter host.Prompter // the terminal, or lines of a piped stdin
	// console is the terminal's prompter alone (nil without one): key
	// passphrases are asked there, never read from a pipe.
	console  host.Prompter
	terminal host.Terminal // nil unless stdin and stdout are one
	// stdout and stderr are the writers for the output; paused says when
	// a command has the terminal (the status line waits).
	stdout, stderr io.Writer
	paused         func() bool
}

func terminalIO(c *cli.Context, env environ) termIO {
	tio := termIO{stdout: env.stdout, stderr: env.stderr, paused: func() bool { return false }}
	if term.IsTerminal(int(env.stdin.Fd())) {
		con := newConsole(env.stdin, env.stderr, env.stdout, env.getenv("TERM"))
		tio.prompter, tio.console = con, con
		if isTerminal(env.stdout) && !c.Bool("abort-on-prompts") {
			tio.terminal = con
			// Lines printed while a command has the terminal in raw mode
			// need their carriage return; the status line waits.
			tio.stdout, tio.stderr, tio.paused = con.Wrap(env.stdout), con.Wrap(env.stderr), con.Lent
		}
	}
	if tio.prompter == nil {
		tio.prompter = newLinePrompter(c.Context, env.stdin, env.stderr)
	}
	if c.Bool("abort-on-prompts") {
		tio.prompter, tio.console = abortPrompter{}, abortPrompter{}
	}
	return tio
}

// passwords returns the login and sudo passwords: -p, the environment,
// the fabfile's env.password/env.sudo_password, or asked up front (-I,
// --sudo-password-prompt). The sudo password defaults to the login one.
func passwords(c *cli.Context, env environ, prog *luart.Program, prompter host.Prompter) (login, sudo string, err error) {
	ask := func(what string) (string, error) {
		if prompter == nil {
			return "", usageErr("%s: cannot ask for a password: %v (use the environment variable instead)", what, host.ErrNoTerminal)
		}
		pw, err := prompter.Prompt(what+": ", true)
		if err != nil {
			return "", usageErr("%s: %v", what, err)
		}
		return pw, nil
	}
	login = env.getenv("GOFAB_PASSWORD")
	if p := c.String("password"); p != "" {
		login = p
	} else if p, ok := envString(prog, "password"); ok && login == "" {
		login = p // Fabric's env.password
	}
	if c.Bool("initial-password-prompt") {
		if login, err = ask("Login password"); err != nil {
			return "", "", err
		}
	}
	sudo = env.getenv("GOFAB_SUDO_PASSWORD")
	if p, ok := envString(prog, "sudo_password"); ok && sudo == "" {
		sudo = p
	}
	if c.Bool("sudo-password-prompt") {
		if sudo, err = ask("Sudo password"); err != nil {
			return "", "", err
		}
	}
	if sudo == "" {
		sudo = login
	}
	env.secrets.Add("the login password", login)
	env.secrets.Add("the sudo password", sudo)
	if strings.ContainsAny(sudo, "\n\r\x00") {
		// sudo reads its password up to the first newline: the rest would
		// be the command's input, and a retry could succeed on it.
		return "", "", usageErr("the sudo password contains a newline, carriage return or NUL character, which sudo cannot take: refusing it before connecting")
	}
	return login, sudo, nil
}

// newDialer builds the SSH dialer from the flags, the ssh config and the
// inventory's per-host settings.
func newDialer(c *cli.Context, env environ, prog *luart.Program, password string, prompter host.Prompter) (*connect.Dialer, error) {
	files, err := sshFiles(c)
	if err != nil {
		return nil, err
	}
	for _, f := range c.StringSlice("identity") {
		if _, err := os.Stat(f); err != nil {
			return nil, usageErr("identity file: %v", err)
		}
	}
	overrides, err := hostOverrides(prog)
	if err != nil {
		return nil, usageErr("%v", err)
	}
	return connect.NewDialer(connect.Options{
		Config:             sshconfig.NewLoader(sshconfig.CurrentLocal(), files...),
		User:               c.String("user"),
		Port:               c.Int("port"),
		IdentityFiles:      c.StringSlice("identity"),
		Password:           password,
		AgentSocket:        env.getenv("SSH_AUTH_SOCK"),
		NoAgentKeys:        c.Bool("no-agent"),
		NoDefaultKeys:      c.Bool("no-keys"),
		ForwardAgent:       c.Bool("forward-agent"),
		ConnectTimeout:     seconds(c.Float64("timeout")),
		AcceptNewHostKeys:  c.Bool("accept-new-host-keys"),
		Prompter:           prompter,
		Gateway:            c.String("gateway"),
		ConnectionAttempts: c.Int("connection-attempts"),
		Keepalive:          seconds(c.Float64("keepalive")),
		MaxHandshakes:      c.Int("max-handshakes"),
		Hosts:              overrides,
	}), nil
}

// hiddenLevels are the output levels hidden from the start: --hide and -q,
// less --show.
func hiddenLevels(c *cli.Context) []string {
	hidden := splitList(c.StringSlice("hide"))
	if c.Bool("quiet") {
		hidden = append(hidden, "running", "stdout", "stderr")
	}
	shown := splitList(c.StringSlice("show"))
	var keep []string
	for _, h := range hidden {
		if !slices.Contains(shown, h) {
			keep = append(keep, h)
		}
	}
	return keep
}

// newPrinter makes the output printer (--output, --log-dir, colours) and
// says whether a live status line is wanted.
func newPrinter(c *cli.Context, env environ, tio termIO) (*output.Printer, bool, error) {
	format := c.String("output")
	if format != "text" && format != "json" {
		return nil, false, usageErr("--output must be text or json, not %q", format)
	}
	logDir := c.String("log-dir")
	if logDir != "" {
		logDir = filepath.Join(logDir, time.Now().Format("20060102-150405"))
		if err := os.MkdirAll(logDir, 0o700); err != nil {
			return nil, false, usageErr("--log-dir: %v", err)
		}
	}
	tty := isTerminal(env.stdout)
	color := env.getenv("NO_COLOR") == "" && !c.Bool("no-color") && tty
	p := output.NewWith(tio.stdout, output.Options{Color: color, JSON: format == "json", LogDir: logDir, Err: tio.stderr, Paused: tio.paused,
		Redact: env.secrets.Redact})
	return p, tty && format == "text", nil
}

// seconds is a flag's number of seconds (checked by checkNumbers).
func seconds(f float64) time.Duration {
	d, _ := host.Seconds(f)
	return d
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// listTasks prints the tasks with the first line of their docs: the
// fabfile's own first, then each module's under its namespace.
func listTasks(w io.Writer, prog *luart.Program) {
	var b strings.Builder
	b.WriteString("Available tasks:\n\n")
	width := 0
	groups := map[string][]*luart.Task{}
	for _, t := range prog.Listed() {
		width = max(width, len(t.Name))
		ns := ""
		if i := strings.LastIndex(t.Name, "."); i >= 0 {
			ns = t.Name[:i]
		}
		groups[ns] = append(groups[ns], t)
	}
	names := make([]string, 0, len(groups))
	for ns := range groups {
		names = append(names, ns)
	}
	sort.Strings(names) // "" (the fabfile's own tasks) first
	for i, ns := range names {
		if ns != "" {
			if i > 0 {
				b.WriteByte('\n')
			}
			fmt.Fprintf(&b, "  %s:\n", ns)
		}
		tasks := groups[ns]
		sort.SliceStable(tasks, func(i, j int) bool { return tasks[i].Name < tasks[j].Name })
		for _, t := range tasks {
			first, _, _ := strings.Cut(strings.TrimSpace(t.Doc), "\n")
			fmt.Fprintf(&b, "    %-*s  %s\n", width, t.Name, first)
		}
	}
	io.WriteString(w, b.String())
}

// listNested prints the tasks as a tree of modules, each task by its
// short name, as fab -F nested does.
func listNested(w io.Writer, prog *luart.Program) {
	var b strings.Builder
	b.WriteString("Available tasks:\n\n")
	printed := map[string]bool{}
	for _, name := range prog.TaskNames() {
		parts := strings.Split(name, ".")
		for i := range parts[:len(parts)-1] {
			ns := strings.Join(parts[:i+1], ".")
			if !printed[ns] {
				printed[ns] = true
				fmt.Fprintf(&b, "    %s%s:\n", strings.Repeat("    ", i), parts[i])
			}
		}
		t, _ := prog.Task(name)
		first, _, _ := strings.Cut(strings.TrimSpace(t.Doc), "\n")
		fmt.Fprintf(&b, "    %s%s", strings.Repeat("    ", len(parts)-1), parts[len(parts)-1])
		if first != "" {
			b.WriteString("  " + first)
		}
		b.WriteByte('\n')
	}
	io.WriteString(w, b.String())
}

func displayTask(w io.Writer, prog *luart.Program, name string) error {
	t, ok := prog.Task(name)
	if !ok {
		return usageErr("%s", prog.UnknownTask(name))
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "Displaying detailed information for task '%s':\n\n", t.Name)
	doc := strings.TrimSpace(t.Doc)
	if doc == "" {
		doc = "No docstring provided"
	}
	for _, line := range strings.Split(doc, "\n") {
		fmt.Fprintf(&b, "    %s\n", line)
	}
	b.WriteByte('\n')
	for _, f := range []struct {
		label string
		vals  []string
	}{{"Hosts", t.Hosts}, {"Roles", t.Roles}, {"Excluded hosts", t.ExcludeHosts}, {"Aliases", t.Aliases}} {
		if len(f.vals) > 0 {
			fmt.Fprintf(&b, "    %s: %s\n", f.label, strings.Join(f.vals, ", "))
		}
	}
	if t.Default {
		b.WriteString("    Default task\n")
	}
	fmt.Fprintf(&b, "    Declared at %s:%d\n", t.File, t.Line)
	_, err := w.Write(b.Bytes())
	return err
}

func sshConfigAction(c *cli.Context, env environ) error {
	if c.NArg() != 1 {
		return usageErr("ssh-config takes one HOST")
	}
	addr, err := host.Parse(c.Args().First())
	if err != nil {
		return usageErr("%v", err)
	}
	local := sshconfig.CurrentLocal()
	files := sshconfig.DefaultFiles(local.Home)
	if f := flagString(c, "ssh-config"); f != "" {
		files = []string{f}
	}
	// The inventory's address, user, port, key and gateway apply as in a
	// run (the dialer's Resolve).
	prog, err := loadProgram(c, env, false)
	if err != nil {
		if c.Context.Err() != nil {
			return err
		}
		fmt.Fprintf(env.stderr, "gofab: warning: %v: showing what ssh_config alone says\n", err)
		prog = nil
	}
	overrides, err := hostOverrides(prog)
	if err != nil {
		return usageErr("%v", err)
	}
	ov := overrides[addr.Host]
	ov.User, ov.Port = c.String("user"), c.Int("port")
	if prog != nil && prog.Inventory != nil {
		if r, ok := lookupHost(prog.Inventory, addr.String(), true); ok {
			addr.User, addr.Port = r.User, r.Port
		}
	}
	if addr.User != "" {
		ov.User = addr.User
	}
	if addr.Port != 0 {
		ov.Port = addr.Port
	}
	cfg, err := sshconfig.NewLoader(local, files...).Resolve(addr.Host, ov)
	if err != nil {
		return usageErr("%v", err)
	}
	var b bytes.Buffer
	cfg.WriteG(&b)
	_, err = env.stdout.Write(b.Bytes())
	return err
}
