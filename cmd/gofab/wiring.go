package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/gofab/gofab/internal/connect"
	"github.com/gofab/gofab/internal/executor"
	"github.com/gofab/gofab/internal/host"
	"github.com/gofab/gofab/internal/output"
	"github.com/gofab/gofab/internal/sshconfig"
	"github.com/gofab/gofab/luart"
)

// admitFactor times --max-handshakes is how many hosts of a task may have
// started without having connected yet (executor.Executor.Admit): enough
// to keep every handshake slot busy, few enough that a large fleet's
// waiting hosts hold no Lua state.
const admitFactor = 4

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
	return executor.New(executor.Config{
		Shard:        shard,
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
	}, executor.Deps{Program: prog, Dialer: dial, Local: localConn, Printer: printer}), nil
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

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
