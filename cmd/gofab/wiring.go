package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/gofab/gofab/internal/base/host"
	"github.com/gofab/gofab/internal/compose"
	"github.com/gofab/gofab/internal/run/executor"
	"github.com/gofab/gofab/internal/transport/connect"
	"github.com/gofab/gofab/internal/transport/sshconfig"
	"github.com/gofab/gofab/internal/ui/output"
	"github.com/gofab/gofab/luart"
)

// admitFactor times --max-handshakes is how many hosts of a task may have
// started without having connected yet (executor.Executor.Admit): enough
// to keep every handshake slot busy, few enough that a large fleet's
// waiting hosts hold no Lua state.
const admitFactor = 4

// newExecutor assembles the run's executor from cfg: the terminal, the
// passwords, the dialer and the printer.
func newExecutor(ctx context.Context, cfg Config, env environ, prog *luart.Program) (*executor.Executor, error) {
	tio := terminalIO(ctx, cfg, env)
	password, sudoPassword, err := passwords(cfg, env, prog, tio.prompter)
	if err != nil {
		return nil, err
	}
	dialer, err := newDialer(cfg, env, prog, password, tio.console)
	if err != nil {
		return nil, err
	}
	printer, status, err := newPrinter(cfg, env, tio)
	if err != nil {
		return nil, err
	}
	shard, err := parseShard(cfg.Shard, env)
	if err != nil {
		return nil, err
	}
	return compose.Executor(executor.Config{
		Shard:        shard,
		Status:       status,
		PoolSize:     cfg.PoolSize,
		Serial:       cfg.Serial,
		SkipBadHosts: cfg.SkipBadHosts,
		StrictHosts:  cfg.StrictHosts,
		Admit:        admitFactor * max(cfg.MaxHandshakes, 1),
		Run: &luart.RunOptions{
			WarnOnly:       cfg.WarnOnly,
			CommandTimeout: seconds(cfg.CommandTimeout),
			MaxOutput:      cfg.MaxOutput << 20,
			Hidden:         hiddenLevels(cfg),
			SudoPassword:   sudoPassword,
			Prompter:       tio.prompter,
			Terminal:       tio.terminal,
			Check:          cfg.Check,
			Diff:           cfg.Diff,
			DryRun:         cfg.DryRun,
			Color:          printer.Color(),
			AssumeYes:      cfg.Yes,
		},
	}, executor.Deps{Program: prog, Dialer: dialer, Local: connect.Local{}, Printer: printer}), nil
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

// terminalIO finds out what gofab can do with the person's terminal.
func terminalIO(ctx context.Context, cfg Config, env environ) termIO {
	tio := termIO{stdout: env.stdout, stderr: env.stderr, paused: func() bool { return false }}
	if term.IsTerminal(int(env.stdin.Fd())) {
		con := newConsole(env.stdin, env.stderr, env.stdout, env.getenv("TERM"))
		tio.prompter, tio.console = con, con
		if isTerminal(env.stdout) && !cfg.AbortOnPrompts {
			tio.terminal = con
			// Lines printed while a command has the terminal in raw mode
			// need their carriage return; the status line waits.
			tio.stdout, tio.stderr, tio.paused = con.Wrap(env.stdout), con.Wrap(env.stderr), con.Lent
		}
	}
	if tio.prompter == nil {
		tio.prompter = newLinePrompter(ctx, env.stdin, env.stderr)
	}
	if cfg.AbortOnPrompts {
		tio.prompter, tio.console = abortPrompter{}, abortPrompter{}
	}
	return tio
}

// passwords returns the login and sudo passwords: -p, the environment,
// the fabfile's env.password/env.sudo_password, or asked up front (-I,
// --sudo-password-prompt). The sudo password defaults to the login one.
func passwords(cfg Config, env environ, prog *luart.Program, prompter host.Prompter) (login, sudo string, err error) {
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
	if p := cfg.Password; p != "" {
		login = p
	} else if p, ok := envString(prog, "password"); ok && login == "" {
		login = p // Fabric's env.password
	}
	if cfg.InitialPasswordPrompt {
		if login, err = ask("Login password"); err != nil {
			return "", "", err
		}
	}
	sudo = env.getenv("GOFAB_SUDO_PASSWORD")
	if p, ok := envString(prog, "sudo_password"); ok && sudo == "" {
		sudo = p
	}
	if cfg.SudoPasswordPrompt {
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
func newDialer(cfg Config, env environ, prog *luart.Program, password string, prompter host.Prompter) (*connect.Dialer, error) {
	files, err := sshFiles(cfg)
	if err != nil {
		return nil, err
	}
	for _, f := range cfg.Identity {
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
		User:               cfg.User,
		Port:               cfg.Port,
		IdentityFiles:      cfg.Identity,
		Password:           password,
		AgentSocket:        env.getenv("SSH_AUTH_SOCK"),
		NoAgentKeys:        cfg.NoAgent,
		NoDefaultKeys:      cfg.NoKeys,
		ForwardAgent:       cfg.ForwardAgent,
		ConnectTimeout:     seconds(cfg.Timeout),
		AcceptNewHostKeys:  cfg.AcceptNewHostKeys,
		Prompter:           prompter,
		Gateway:            cfg.Gateway,
		ConnectionAttempts: cfg.ConnectionAttempts,
		Keepalive:          seconds(cfg.Keepalive),
		MaxHandshakes:      cfg.MaxHandshakes,
		Hosts:              overrides,
	}), nil
}

// newPrinter makes the output printer (--output, --log-dir, colours) and
// says whether a live status line is wanted.
func newPrinter(cfg Config, env environ, tio termIO) (*output.Printer, bool, error) {
	format := cfg.Output
	if format != "text" && format != "json" {
		return nil, false, usageErr("--output must be text or json, not %q", format)
	}
	logDir := cfg.LogDir
	if logDir != "" {
		logDir = filepath.Join(logDir, time.Now().Format("20060102-150405"))
		if err := os.MkdirAll(logDir, 0o700); err != nil {
			return nil, false, usageErr("--log-dir: %v", err)
		}
	}
	tty := isTerminal(env.stdout)
	color := env.getenv("NO_COLOR") == "" && !cfg.NoColor && tty
	p := output.NewWith(tio.stdout, output.Options{Color: color, JSON: format == "json", LogDir: logDir, Err: tio.stderr, Paused: tio.paused,
		Redact: env.secrets.Redact})
	return p, tty && format == "text", nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
