package main

import (
	"math"
	"slices"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/gofab/gofab/internal/base/host"
	"github.com/gofab/gofab/internal/transport/connect"
	"github.com/gofab/gofab/luart"
)

// flags are the main command's flags (README's table lists them: TestREADMEFlags).
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

// checkNumbers refuses numeric settings out of their range, before
// anything connects.
func checkNumbers(cfg Config) error {
	for _, n := range []struct {
		name     string
		v        float64
		positive bool // 0 is refused too
	}{
		{"timeout", cfg.Timeout, true},
		{"connection-attempts", float64(cfg.ConnectionAttempts), true},
		{"max-handshakes", float64(cfg.MaxHandshakes), true},
		{"max-output", float64(cfg.MaxOutput), true},
		{"command-timeout", cfg.CommandTimeout, false},
		{"pool-size", float64(cfg.PoolSize), false},
		{"keepalive", cfg.Keepalive, false},
	} {
		switch {
		case !cfg.given[n.name]:
		case math.IsNaN(n.v) || math.IsInf(n.v, 1): // -Inf is refused below, as a negative number
			return usageErr("--%s %v: must be a finite number", n.name, n.v)
		case n.positive && n.v <= 0:
			return usageErr("--%s %v: must be a number above 0", n.name, n.v)
		case n.v < 0:
			return usageErr("--%s %v: must be a number of 0 or more", n.name, n.v)
		}
	}
	if cfg.given["port"] && (cfg.Port < 1 || cfg.Port > 65535) {
		return usageErr("--port %d: must be a port from 1 to 65535", cfg.Port)
	}
	return nil
}

// checkLevels refuses unknown --hide and --show levels.
func checkLevels(cfg Config) error {
	for _, lvl := range splitList(append(slices.Clip(cfg.Hide), cfg.Show...)) {
		if !luart.ValidLevel(lvl) {
			return usageErr("unknown output level %q", lvl)
		}
	}
	return nil
}

// hiddenLevels are the output levels hidden from the start: --hide and -q,
// less --show.
func hiddenLevels(cfg Config) []string {
	hidden := splitList(cfg.Hide)
	if cfg.Quiet {
		hidden = append(hidden, "running", "stdout", "stderr")
	}
	shown := splitList(cfg.Show)
	var keep []string
	for _, h := range hidden {
		if !slices.Contains(shown, h) {
			keep = append(keep, h)
		}
	}
	return keep
}

// seconds is a flag's number of seconds (checked by checkNumbers).
func seconds(f float64) time.Duration {
	d, _ := host.Seconds(f)
	return d
}
