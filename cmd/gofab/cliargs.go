package main

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/urfave/cli/v2"
)

// fabOnlyFlags explains, in one line each, the fab flags gofab does not
// have: what to use instead.
var fabOnlyFlags = map[string]string{
	"c":                         "gofab reads no rc file: set values with --set KEY=VALUE or in the fabfile's env",
	"config":                    "gofab reads no rc file: set values with --set KEY=VALUE or in the fabfile's env",
	"colorize-errors":           "gofab colours errors and warnings on a terminal already (--no-color turns colours off)",
	"D":                         "gofab always checks host keys against known_hosts; --accept-new-host-keys records new ones",
	"disable-known-hosts":       "gofab always checks host keys against known_hosts; --accept-new-host-keys records new ones",
	"e":                         "gofab keeps one connection per host for the whole run and closes it at the end",
	"eagerly-disconnect":        "gofab keeps one connection per host for the whole run and closes it at the end",
	"gss-auth":                  "gofab has no Kerberos/GSS-API authentication; use keys, the agent or a password",
	"gss-deleg":                 "gofab has no Kerberos/GSS-API authentication; use keys, the agent or a password",
	"gss-kex":                   "gofab has no Kerberos/GSS-API authentication; use keys, the agent or a password",
	"linewise":                  "gofab's output is always line by line, prefixed with the host",
	"no-pty":                    "gofab runs commands without a pty unless a call passes {pty = true}",
	"s":                         "gofab runs commands in the login shell, as ssh does; wrap a command yourself for another shell",
	"shell":                     "gofab runs commands in the login shell, as ssh does; wrap a command yourself for another shell",
	"skip-unknown-tasks":        "an unknown task is an error before anything runs (gofab -l lists the tasks)",
	"ssh-config-path":           "use -S FILE (--ssh-config FILE)",
	"sudo-password":             "a password in argv is visible to every user of the machine: set GOFAB_SUDO_PASSWORD or use --sudo-password-prompt",
	"system-known-hosts":        "gofab reads /etc/ssh/ssh_known_hosts after your known_hosts files already",
	"list-agent-keys":           "use ssh-add -l",
	"prompt-for-passphrase":     "gofab asks for a key's passphrase on the terminal when it needs it",
	"connect-timeout":           "use -t SECONDS (--timeout SECONDS)",
	"prompt-for-sudo-password":  "use --sudo-password-prompt",
	"prompt-for-login-password": "use -I (--initial-password-prompt)",
}

// flagInfo is what normalizeArgs needs to know of a flag.
type flagInfo struct {
	long      string // the flag's long name
	takesArgs bool
}

// flagTable maps every name and alias of fl to its flagInfo.
func flagTable(fl []cli.Flag) map[string]flagInfo {
	t := map[string]flagInfo{}
	for _, f := range fl {
		_, isBool := f.(*cli.BoolFlag)
		names := f.Names()
		long := names[0]
		for _, n := range names {
			if len(n) > len(long) {
				long = n
			}
		}
		for _, n := range names {
			t[n] = flagInfo{long: long, takesArgs: !isBool}
		}
	}
	// The flags urfave/cli adds by itself.
	t["help"], t["h"] = flagInfo{long: "help"}, flagInfo{long: "help"}
	t["version"], t["V"] = flagInfo{long: "version"}, flagInfo{long: "version"}
	return t
}

// normalizeArgs rewrites a fab-style command line into one urfave/cli
// parses: flags may follow task names (gofab deploy -H web1), short flags
// may be glued to their value (-Hweb1) or to each other (-wq). Flags come
// first, then the task names. From a subcommand on, arguments are left to
// it. An unknown flag is an error of one line, saying what to use instead
// when fab had it.
func normalizeArgs(args []string, fl []cli.Flag, subcommands map[string]*cli.Command) ([]string, error) {
	table := flagTable(fl)
	var flags, positional []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-" || !strings.HasPrefix(a, "-"):
			if sub, ok := subcommands[a]; ok && len(positional) == 0 {
				// The subcommand's own flags may follow its arguments too.
				var subFlags []cli.Flag
				var nested map[string]*cli.Command
				if sub != nil {
					subFlags, nested = sub.Flags, commandsByName(sub.Subcommands)
				}
				rest, err := normalizeArgs(args[i+1:], subFlags, nested)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", a, err)
				}
				return append(append(flags, a), rest...), nil
			}
			positional = append(positional, a)
		case strings.HasPrefix(a, "--"):
			name, _, hasValue := strings.Cut(a[2:], "=")
			info, ok := table[name]
			if !ok {
				return nil, unknownFlag(name)
			}
			flags = append(flags, a)
			if info.takesArgs && !hasValue {
				if i+1 >= len(args) {
					return nil, fmt.Errorf("--%s needs a value", info.long)
				}
				i++
				flags = append(flags, args[i])
			}
		default:
			expanded, consumed, err := shortFlags(a, args[i+1:], table)
			if err != nil {
				return nil, err
			}
			flags = append(flags, expanded...)
			i += consumed
		}
	}
	return append(flags, positional...), nil
}

// commandsByName indexes commands by each of their names ("help" and "h"
// too, with no flags).
func commandsByName(cmds []*cli.Command) map[string]*cli.Command {
	out := map[string]*cli.Command{"help": nil, "h": nil}
	for _, c := range cmds {
		for _, n := range c.Names() {
			out[n] = c
		}
	}
	return out
}

// shortFlags expands one single-dash argument: -H web1, -Hweb1, -wq, or a
// long name written with one dash (-hosts, as Go's flag package allows).
// It returns the arguments to pass on and how many of rest it used.
func shortFlags(a string, rest []string, table map[string]flagInfo) ([]string, int, error) {
	body, _, hasValue := strings.Cut(a[1:], "=")
	if info, ok := table[body]; ok {
		if !info.takesArgs || hasValue {
			return []string{a}, 0, nil
		}
		if len(rest) == 0 {
			return nil, 0, fmt.Errorf("--%s needs a value", info.long)
		}
		return []string{a, rest[0]}, 1, nil
	}
	var out []string
	for j := 0; j < len(body); j++ {
		name := body[j : j+1]
		info, ok := table[name]
		if !ok {
			if j == 0 {
				return nil, 0, unknownFlag(body)
			}
			return nil, 0, fmt.Errorf("unknown flag -%s in %s (gofab --help lists the flags)", name, a)
		}
		if info.takesArgs {
			if v := a[1+j+1:]; v != "" {
				return append(out, "-"+name, strings.TrimPrefix(v, "=")), 0, nil
			}
			if len(rest) == 0 {
				return nil, 0, fmt.Errorf("--%s needs a value", info.long)
			}
			return append(out, "-"+name, rest[0]), 1, nil
		}
		out = append(out, "-"+name)
	}
	return out, 0, nil
}

// flagInMessage is how Go's flag package names a flag in its errors.
var flagInMessage = regexp.MustCompile(`flag -{1,2}([\w-]+)`)

// longFlagNames rewrites a flag parsing error to name the flag as --long,
// whichever form was typed.
func longFlagNames(msg string, fl []cli.Flag) string {
	table := flagTable(fl)
	return flagInMessage.ReplaceAllStringFunc(msg, func(m string) string {
		name := flagInMessage.FindStringSubmatch(m)[1]
		if info, ok := table[name]; ok {
			return "--" + info.long
		}
		return m
	})
}

func unknownFlag(name string) error {
	dashes := "--"
	if len(name) == 1 {
		dashes = "-"
	}
	if why, ok := fabOnlyFlags[name]; ok {
		return fmt.Errorf("%s%s: %s", dashes, name, why)
	}
	return fmt.Errorf("unknown flag %s%s (gofab --help lists the flags)", dashes, name)
}

func init() {
	// Help shows a flag's default once: not when the usage text already
	// says it, nor when it is only the zero value.
	base := cli.FlagStringer
	cli.FlagStringer = func(f cli.Flag) string {
		s := base(f)
		i := strings.LastIndex(s, " (default: ")
		if i < 0 {
			return s
		}
		switch tail := s[i:]; {
		case strings.Count(s, "(default: ") > 1, tail == " (default: false)", tail == " (default: 0)", tail == ` (default: "")`:
			return s[:i]
		}
		return s
	}
}
