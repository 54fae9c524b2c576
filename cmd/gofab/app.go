package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/gofab/gofab/internal/data/secrets"
)

// Exit statuses.
const (
	exitOK          = 0
	exitFailed      = 1   // a task failed on a host, or a host was unreachable
	exitUsage       = 2   // bad flag, unknown task, fabfile missing or not valid Lua
	exitInterrupted = 130 // 128 + SIGINT: Ctrl-C (signalStatus)
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
	if errors.As(context.Cause(ctx), &i) {
		return signalStatus(i.sig)
	}
	return exitInterrupted
}

// signalStatus is the exit status of a command ended by sig, as a shell
// reports it: 128 + the signal's number (130 for Ctrl-C).
func signalStatus(sig syscall.Signal) int { return 128 + int(sig) }

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
